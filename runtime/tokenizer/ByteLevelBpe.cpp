//===- ByteLevelBpe.cpp - GPT-2's tokenizer -------------------------------===//
//
// transformers' GPT2Tokenizer: GPT-2's pre-tokenization pattern, each piece's
// UTF-8 bytes as printable characters (bytes_to_unicode), then the BPE
// merges by rank.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/TokenizerImpl.h"
#include "runtime/tokenizer/Unicode.h"

#include "support/MappedFile.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <array>
#include <climits>
#include <map>
#include <mutex>
#include <unordered_map>

namespace tfm {

// Each alternative is tried in order at each position; every character
// matches one of them, so the pieces cover the text.
std::vector<std::u32string_view> gpt2Pieces(std::u32string_view text) {
  std::vector<std::u32string_view> pieces;
  auto isOther = [](char32_t c) {
    return !unicode::isRegexSpace(c) && !unicode::isLetter(c) &&
           !unicode::isNumber(c);
  };
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    size_t end = i;
    // Contractions.
    if (text[i] == U'\'' && i + 1 < n) {
      static const std::u32string_view kContractions[] = {
          U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"};
      for (std::u32string_view c : kContractions)
        if (text.substr(i + 1, c.size()) == c) {
          end = i + 1 + c.size();
          break;
        }
    }
    if (end == i) {
      size_t j = i + (text[i] == U' ' ? 1 : 0);
      auto run = [&](auto predicate) {
        size_t k = j;
        while (k < n && predicate(text[k]))
          ++k;
        return k > j ? k : i;
      };
      end = run(unicode::isLetter);
      if (end == i)
        end = run(unicode::isNumber);
      if (end == i)
        end = run(isOther);
    }
    if (end == i) { // Whitespace: \s+(?!\S), else \s+.
      size_t k = i;
      while (k < n && unicode::isRegexSpace(text[k]))
        ++k;
      end = k == n || k - i < 2 ? k : k - 1;
    }
    pieces.push_back(text.substr(i, end - i));
    i = end;
  }
  return pieces;
}

ByteLevelTable::ByteLevelTable() {
  // Printable bytes stand for themselves, the others for 256 + n in order.
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    char32_t c = printable ? static_cast<char32_t>(b) : 256 + next++;
    unicode::append(byteChar[b], c);
    charByte[c] = b;
  }
}

const ByteLevelTable &byteLevelTable() {
  static const ByteLevelTable table;
  return table;
}

namespace {

class ByteLevelBpe final : public Tokenizer {
public:
  ByteLevelBpe() : Tokenizer(Kind::ByteLevelBpe) {}

  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::string> tokens; // By id.
  std::map<std::pair<std::string, std::string>, int> ranks;
  const std::array<std::string, 256> &byteChar = byteLevelTable().byteChar;
  const std::unordered_map<char32_t, int> &charByte = byteLevelTable().charByte;
  std::string unkToken = "<|endoftext|>";
  bool addPrefixSpace = false;
  bool addBosToken = false;
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache;

  /// bpe(): merge the lowest-ranked adjacent pair, all its occurrences,
  /// until no pair has a rank.
  std::vector<std::string> bpe(const std::string &word) const {
    {
      std::lock_guard<std::mutex> lock(cacheMutex);
      auto it = cache.find(word);
      if (it != cache.end())
        return it->second;
    }
    std::vector<std::string> symbols;
    for (size_t pos = 0; pos < word.size();) {
      size_t start = pos;
      unicode::next(word, pos);
      symbols.push_back(word.substr(start, pos - start));
    }
    while (symbols.size() > 1) {
      int best = INT_MAX;
      const std::pair<std::string, std::string> *bestPair = nullptr;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        auto it = ranks.find({symbols[i], symbols[i + 1]});
        if (it != ranks.end() && it->second < best) {
          best = it->second;
          bestPair = &it->first;
        }
      }
      if (!bestPair)
        break;
      std::vector<std::string> merged;
      for (size_t i = 0; i < symbols.size();) {
        if (i + 1 < symbols.size() && symbols[i] == bestPair->first &&
            symbols[i + 1] == bestPair->second) {
          merged.push_back(symbols[i] + symbols[i + 1]);
          i += 2;
        } else {
          merged.push_back(symbols[i++]);
        }
      }
      symbols = std::move(merged);
    }
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (cache.size() < 100000)
      cache.emplace(word, symbols);
    return symbols;
  }

  void tokenizeAll(std::string_view text, bool target,
                   std::vector<std::string> &out) const override {
    // prepare_for_tokenization: add_prefix_space puts a space first.
    if (addPrefixSpace) {
      std::string spaced = " ";
      spaced += text;
      splitAddedTokens(spaced, target, out);
      return;
    }
    splitAddedTokens(text, target, out);
  }

  void tokenizeText(std::string_view text, bool,
                    std::vector<std::string> &out) const override {
    std::u32string chars = unicode::decode(text);
    for (std::u32string_view piece : gpt2Pieces(chars)) {
      std::string mapped;
      for (unsigned char b : unicode::encode(piece))
        mapped += byteChar[b];
      for (std::string &symbol : bpe(mapped))
        out.push_back(std::move(symbol));
    }
  }

  int64_t tokenId(std::string_view token, bool) const override {
    return idOrUnk(vocab, token, unkToken);
  }

  std::string idToken(int64_t id, bool) const override {
    return id >= 0 && static_cast<size_t>(id) < tokens.size() ? tokens[id]
                                                              : std::string();
  }

  std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                  bool) const override {
    if (addBosToken && bosId_ >= 0)
      ids.insert(ids.begin(), bosId_);
    return ids;
  }

  std::string tokensToText(const std::vector<std::string> &pieces,
                           bool) const override {
    std::string bytes;
    for (const std::string &piece : pieces)
      for (size_t pos = 0; pos < piece.size();) {
        char32_t c = unicode::next(piece, pos);
        auto it = charByte.find(c);
        // Only a token of the vocabulary can hold a character outside the
        // table; transformers raises KeyError there, tfm's load refuses
        // such a vocabulary.
        if (it != charByte.end())
          bytes.push_back(static_cast<char>(it->second));
      }
    return replaceInvalidUtf8(bytes);
  }
};

} // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>>
TokenizerLoader::byteLevelBpe(const TokenizerConfig &config) {
  auto tokenizer = std::make_unique<ByteLevelBpe>();
  std::string vocabPath = config.dir + "/vocab.json";
  TFM_ASSIGN_OR_RETURN(tokenizer->vocab, readVocabJson(vocabPath));
  // The ids number the tokens: 0 to N - 1, each once.
  int64_t size = static_cast<int64_t>(tokenizer->vocab.size());
  tokenizer->tokens.resize(size);
  for (const auto &[token, id] : tokenizer->vocab) {
    if (token.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(vocabPath, ": a token is the empty string"));
    if (id >= size)
      return absl::InvalidArgumentError(
          absl::StrCat(vocabPath, ": id ", id, " of token \"", token,
                       "\" is not below the number of tokens (", size, ")"));
    for (size_t pos = 0; pos < token.size();)
      if (!tokenizer->charByte.count(unicode::next(token, pos)))
        return absl::InvalidArgumentError(
            absl::StrCat(vocabPath, ": token \"", token,
                         "\" is not made of byte-level characters"));
    if (!tokenizer->tokens[id].empty())
      return absl::InvalidArgumentError(
          absl::StrCat(vocabPath, ": id ", id, " is given to two tokens"));
    tokenizer->tokens[id] = token;
  }
  setSize(*tokenizer, size);

  // merges.txt: transformers drops the first line (the "#version" header)
  // and the last (empty after the final newline); each other line is a
  // pair, its rank its order.
  std::string mergesPath = config.dir + "/merges.txt";
  TFM_ASSIGN_OR_RETURN(std::string merges, readFile(mergesPath));
  if (!unicode::isValidUtf8(merges))
    return absl::InvalidArgumentError(
        absl::StrCat(mergesPath, ": not valid UTF-8"));
  std::vector<std::string_view> lines;
  for (size_t pos = 0;;) {
    size_t end = merges.find('\n', pos);
    lines.push_back(std::string_view(merges).substr(
        pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    std::u32string line = unicode::decode(lines[i]);
    std::vector<std::u32string> parts = splitOnSpaces(line);
    if (parts.size() != 2)
      return absl::InvalidArgumentError(
          absl::StrCat(mergesPath, ": line ", i + 1, " is not a pair"));
    tokenizer->ranks.emplace(
        std::make_pair(unicode::encode(parts[0]), unicode::encode(parts[1])),
        static_cast<int>(i - 1));
  }
  tokenizer->addPrefixSpace = config.flag("add_prefix_space", false);
  tokenizer->addBosToken = config.flag("add_bos_token", false);
  TFM_RETURN_IF_ERROR(readSpecials(*tokenizer, config,
                                   defaultsOf(Tokenizer::Kind::ByteLevelBpe)));
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                       config.token("unk_token", "<|endoftext|>"));
  if (unk)
    tokenizer->unkToken = *unk;
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace tfm
