//===- WordPiece.cpp - BERT's tokenizer -----------------------------------===//
//
// transformers' BertTokenizer: BasicTokenizer (clean-up, CJK characters
// apart, NFC, lower-casing and accent stripping, punctuation apart), then
// greedy longest-match-first WordPiece with "##" continuations.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/TokenizerImpl.h"
#include "runtime/tokenizer/Unicode.h"

#include "support/MappedFile.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace tfm {

std::vector<std::u32string> splitOnSpaces(std::u32string_view text) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && unicode::isPythonSpace(text[i]))
      ++i;
    size_t start = i;
    while (i < text.size() && !unicode::isPythonSpace(text[i]))
      ++i;
    if (i > start)
      words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

bool isBertChinese(char32_t c, bool fast) {
  // The tokenizers library starts the last extension-E range at U+2B920
  // where transformers has U+2B820.
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) ||
         (c >= (fast ? 0x2B920u : 0x2B820u) && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool isBertPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  return unicode::category(c)[0] == 'P';
}

bool isBertControl(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r')
    return false;
  return unicode::category(c)[0] == 'C';
}

namespace {

bool isBertSpace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' ||
         std::strcmp(unicode::category(c), "Zs") == 0;
}

class WordPiece final : public Tokenizer {
public:
  WordPiece() : Tokenizer(Kind::WordPiece) {}

  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::string> tokens; // By id.
  std::unordered_set<std::string> neverSplit;
  bool doLowerCase = true;
  bool doBasicTokenize = true;
  bool tokenizeChineseChars = true;
  bool splitOnPunctuation = true;
  /// strip_accents: null (follow do_lower_case), false, true.
  std::optional<bool> stripAccents;
  std::string unkToken = "[UNK]";
  /// The longest token of the vocabulary, in characters.
  size_t maxTokenChars = 0;
  int64_t clsId = -1, sepId = -1;
  static constexpr size_t kMaxCharsPerWord = 100;

  bool lowerCasesAddedTokenGaps() const override { return doLowerCase; }

  /// BasicTokenizer.tokenize.
  std::vector<std::u32string> basicTokenize(std::string_view text) const {
    std::u32string cleaned;
    for (char32_t c : unicode::decode(text)) {
      if (c == 0 || c == 0xFFFD || isBertControl(c))
        continue;
      if (isBertSpace(c)) {
        cleaned.push_back(U' ');
      } else if (tokenizeChineseChars && isBertChinese(c)) {
        cleaned.push_back(U' ');
        cleaned.push_back(c);
        cleaned.push_back(U' ');
      } else {
        cleaned.push_back(c);
      }
    }
    // Below U+0300 (where combining marks start) text is already NFC.
    std::u32string normalized =
        std::all_of(cleaned.begin(), cleaned.end(),
                    [](char32_t c) { return c < 0x300; })
            ? std::move(cleaned)
            : unicode::nfc(cleaned);
    std::u32string joined;
    for (std::u32string &word : splitOnSpaces(normalized)) {
      bool keep = neverSplit.count(unicode::encode(word)) != 0;
      if (!keep) {
        bool strip = doLowerCase ? stripAccents.value_or(true)
                                 : stripAccents.value_or(false);
        if (doLowerCase)
          word = unicode::lower(word);
        // Below U+00C0 nothing decomposes: no accent to strip.
        if (strip && !std::all_of(word.begin(), word.end(),
                                  [](char32_t c) { return c < 0xC0; })) {
          std::u32string stripped;
          for (char32_t c : unicode::nfd(word))
            if (std::strcmp(unicode::category(c), "Mn") != 0)
              stripped.push_back(c);
          word = std::move(stripped);
        }
      }
      if (keep || !splitOnPunctuation) {
        joined += word;
        joined.push_back(U' ');
        continue;
      }
      for (char32_t c : word) {
        if (isBertPunctuation(c)) {
          joined.push_back(U' ');
          joined.push_back(c);
          joined.push_back(U' ');
        } else {
          joined.push_back(c);
        }
      }
      joined.push_back(U' ');
    }
    return splitOnSpaces(joined);
  }

  /// WordpieceTokenizer.tokenize of one word: the longest piece of the
  /// vocabulary at each point ("##" after the first), or unk for the whole
  /// word when a point has none.
  void wordPiece(const std::u32string &word,
                 std::vector<std::string> &out) const {
    if (word.size() > kMaxCharsPerWord) {
      out.push_back(unkToken);
      return;
    }
    // The word's UTF-8 once, and where each character starts in it.
    std::string utf8;
    std::vector<size_t> at;
    at.reserve(word.size() + 1);
    for (char32_t c : word) {
      at.push_back(utf8.size());
      unicode::append(utf8, c);
    }
    at.push_back(utf8.size());
    size_t first = out.size();
    std::string piece;
    for (size_t start = 0; start < word.size();) {
      // No piece is longer than the vocabulary's longest token.
      size_t end = std::min(word.size(), start + maxTokenChars);
      bool found = false;
      for (; start < end; --end) {
        piece.assign(start > 0 ? "##" : "");
        piece.append(utf8, at[start], at[end] - at[start]);
        if (vocab.count(piece)) {
          out.push_back(piece);
          found = true;
          break;
        }
      }
      if (!found) {
        out.resize(first);
        out.push_back(unkToken);
        return;
      }
      start = end;
    }
  }

  void tokenizeText(std::string_view text, bool,
                    std::vector<std::string> &out) const override {
    if (!doBasicTokenize) {
      for (const std::u32string &word : splitOnSpaces(unicode::decode(text)))
        wordPiece(word, out);
      return;
    }
    for (const std::u32string &word : basicTokenize(text)) {
      std::string utf8 = unicode::encode(word);
      if (neverSplit.count(utf8))
        out.push_back(std::move(utf8));
      else
        wordPiece(word, out);
    }
  }

  int64_t tokenId(std::string_view token, bool) const override {
    return idOrUnk(vocab, token, unkToken);
  }

  std::string idToken(int64_t id, bool) const override {
    return id >= 0 && static_cast<size_t>(id) < tokens.size() &&
                   !tokens[id].empty()
               ? tokens[id]
               : unkToken;
  }

  std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                  bool) const override {
    ids.insert(ids.begin(), clsId);
    ids.push_back(sepId);
    return ids;
  }

  std::string tokensToText(const std::vector<std::string> &pieces,
                           bool) const override {
    // " ".join(tokens).replace(" ##", "").strip()
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (i)
        joined += ' ';
      joined += pieces[i];
    }
    std::string text;
    for (size_t i = 0; i < joined.size();) {
      if (joined.compare(i, 3, " ##") == 0) {
        i += 3;
        continue;
      }
      text += joined[i++];
    }
    return pythonStrip(text);
  }
};

} // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>>
TokenizerLoader::wordPiece(const TokenizerConfig &config) {
  auto tokenizer = std::make_unique<WordPiece>();
  std::string path = config.dir + "/vocab.txt";
  TFM_ASSIGN_OR_RETURN(std::string text, readFile(path));
  if (!unicode::isValidUtf8(text))
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid UTF-8"));
  // load_vocab: line i (without its newline) is token i; a later line with
  // the same token takes it over.
  int64_t id = 0;
  for (size_t pos = 0; pos < text.size(); ++id) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string token = text.substr(pos, end - pos);
    if (!token.empty() && token.back() == '\r')
      token.pop_back();
    tokenizer->vocab[token] = id;
    tokenizer->maxTokenChars =
        std::max(tokenizer->maxTokenChars, unicode::decode(token).size());
    tokenizer->tokens.push_back(std::move(token));
    pos = end + 1;
  }
  if (id == 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  setSize(*tokenizer, id);
  tokenizer->doLowerCase = config.flag("do_lower_case", true);
  tokenizer->doBasicTokenize = config.flag("do_basic_tokenize", true);
  tokenizer->tokenizeChineseChars = config.flag("tokenize_chinese_chars", true);
  tokenizer->splitOnPunctuation = config.flag("do_split_on_punc", true);
  if (const json::Value *strip = config.config.find("strip_accents");
      strip && strip->isBool())
    tokenizer->stripAccents = strip->asBool();
  if (const json::Value *never = config.config.find("never_split");
      never && never->isArray())
    for (const json::Value &word : never->asArray())
      if (word.isString())
        tokenizer->neverSplit.insert(word.asString());

  TFM_RETURN_IF_ERROR(
      readSpecials(*tokenizer, config, defaultsOf(Tokenizer::Kind::WordPiece)));
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                       config.token("unk_token", "[UNK]"));
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> cls,
                       config.token("cls_token", "[CLS]"));
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> sep,
                       config.token("sep_token", "[SEP]"));
  if (!unk || !cls || !sep)
    return absl::InvalidArgumentError(absl::StrCat(
        config.configPath, ": BertTokenizer needs unk, cls and sep tokens"));
  tokenizer->unkToken = *unk;
  tokenizer->clsId = tokenizer->idOfSpecial(*cls);
  tokenizer->sepId = tokenizer->idOfSpecial(*sep);
  // The special tokens are never split (BertTokenizer passes
  // all_special_tokens to the basic tokenizer).
  for (const std::string &special : tokenizer->specialTokens_)
    tokenizer->neverSplit.insert(special);
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace tfm
