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

void WordPieceTrie::build(const std::unordered_map<std::string, int64_t> &vocab,
                          std::string_view prefix) {
  ids_.assign(1, -1);
  edges_.clear();
  auto walk = [&](std::string_view bytes, bool create) {
    int32_t node = 0;
    for (unsigned char b : bytes) {
      int32_t next = child(node, b);
      if (next < 0) {
        if (!create)
          return -1;
        next = static_cast<int32_t>(ids_.size());
        ids_.push_back(-1);
        edges_.emplace(static_cast<uint64_t>(node) << 8 | b, next);
      }
      node = next;
    }
    return node;
  };
  for (const auto &[token, id] : vocab)
    ids_[walk(token, true)] = id;
  continuation_ = walk(prefix, false);
}

bool WordPieceTrie::match(std::string_view word,
                          std::vector<int64_t> &ids) const {
  size_t first = ids.size();
  for (size_t start = 0; start < word.size();) {
    int32_t node = start == 0 ? 0 : continuation_;
    int64_t best = -1;
    size_t bestEnd = start;
    for (size_t i = start; node >= 0 && i < word.size(); ++i) {
      node = child(node, static_cast<unsigned char>(word[i]));
      // A token ends at a character's end (the vocabulary is UTF-8).
      if (node >= 0 && ids_[node] >= 0 &&
          (i + 1 == word.size() ||
           (static_cast<unsigned char>(word[i + 1]) & 0xC0) != 0x80)) {
        best = ids_[node];
        bestEnd = i + 1;
      }
    }
    if (best < 0) {
      ids.resize(first);
      return false;
    }
    ids.push_back(best);
    start = bestEnd;
  }
  return true;
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
  WordPieceTrie trie;
  /// The unk token's id (-1: not in the vocabulary).
  int64_t unkIdInVocab = -1;
  int64_t clsId = -1, sepId = -1;
  static constexpr size_t kMaxCharsPerWord = 100;

  bool lowerCasesAddedTokenGaps() const override { return doLowerCase; }

  /// BasicTokenizer.tokenize.
  std::vector<std::u32string> basicTokenize(std::string_view text) const {
    std::u32string cleaned;
    for (char32_t c : unicode::decode(text)) {
      if (c < 0x80) { // ASCII without the Unicode tables.
        if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r')
          cleaned.push_back(U' ');
        else if (c > 31 && c != 127)
          cleaned.push_back(c);
        continue;
      }
      if (c == 0xFFFD || isBertControl(c))
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

  /// The ids of one word of the basic tokenizer: a never_split word as it
  /// is, else WordpieceTokenizer.tokenize's (the longest piece of the
  /// vocabulary at each point, "##" after the first; unk for the whole
  /// word when a point has none or it is over 100 characters).
  void wordIds(const std::string &utf8, size_t chars,
               std::vector<int64_t> &ids) const {
    if (doBasicTokenize && neverSplit.count(utf8))
      ids.push_back(remap(idOrUnk(vocab, utf8, unkToken)));
    else if (chars > kMaxCharsPerWord || !trie.match(utf8, ids))
      ids.push_back(unkIdInVocab);
    else
      for (size_t i = ids.size(); i-- > 0 && needsRemap();)
        ids[i] = remap(ids[i]);
  }

  /// Where a token of the vocabulary is also an added token of another id,
  /// the added one's (as transformers maps tokens to ids).
  std::unordered_map<int64_t, int64_t> addedIds;
  bool needsRemap() const { return !addedIds.empty(); }
  int64_t remap(int64_t id) const {
    auto it = addedIds.find(id);
    return it == addedIds.end() ? id : it->second;
  }

  template <typename F> void forEachWord(std::string_view text, F &&f) const {
    if (!doBasicTokenize) {
      for (const std::u32string &word : splitOnSpaces(unicode::decode(text)))
        f(unicode::encode(word), word.size());
      return;
    }
    if (std::all_of(text.begin(), text.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x80;
        })) {
      asciiWords(text, f);
      return;
    }
    for (const std::u32string &word : basicTokenize(text))
      f(unicode::encode(word), word.size());
  }

  /// basicTokenize() of ASCII text, on its bytes: nothing to compose,
  /// decompose or strip; control characters dropped, whitespace splits,
  /// A-Z lower-cased with do_lower_case, each punctuation character a word.
  template <typename F> void asciiWords(std::string_view text, F &&f) const {
    std::string word, lowered;
    auto emit = [&] {
      if (word.empty())
        return;
      if (neverSplit.count(word)) {
        f(word, word.size());
        word.clear();
        return;
      }
      lowered = word;
      if (doLowerCase)
        for (char &c : lowered)
          if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
      size_t start = 0;
      for (size_t i = 0; i < lowered.size(); ++i)
        if (splitOnPunctuation &&
            isBertPunctuation(static_cast<unsigned char>(lowered[i]))) {
          if (i > start)
            f(lowered.substr(start, i - start), i - start);
          f(lowered.substr(i, 1), 1);
          start = i + 1;
        }
      if (start < lowered.size())
        f(lowered.substr(start), lowered.size() - start);
      word.clear();
    };
    for (char c : text) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        emit();
      else if (c > 31 && c != 127)
        word.push_back(c);
    }
    emit();
  }

  void textIds(std::string_view text, bool,
               std::vector<int64_t> &ids) const override {
    forEachWord(text, [&](const std::string &word, size_t chars) {
      wordIds(word, chars, ids);
    });
  }

  void tokenizeText(std::string_view text, bool,
                    std::vector<std::string> &out) const override {
    std::vector<int64_t> ids;
    forEachWord(text, [&](const std::string &word, size_t chars) {
      if (doBasicTokenize && neverSplit.count(word)) {
        out.push_back(word);
        return;
      }
      ids.clear();
      if (chars > kMaxCharsPerWord || !trie.match(word, ids)) {
        out.push_back(unkToken);
        return;
      }
      for (int64_t id : ids)
        out.push_back(tokens[id]);
    });
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
  for (const AddedTokenView &added : addedTokens(*tokenizer)) {
    auto it = tokenizer->vocab.find(std::string(added.content));
    if (it != tokenizer->vocab.end() && it->second != added.id)
      tokenizer->addedIds[it->second] = added.id;
  }
  tokenizer->trie.build(tokenizer->vocab, "##");
  tokenizer->unkIdInVocab = tokenizer->remap(
      idOrUnk(tokenizer->vocab, tokenizer->unkToken, tokenizer->unkToken));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace tfm
