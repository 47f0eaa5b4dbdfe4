//===- TokenizerImpl.h - The tokenizer families, for Tokenizer.cpp -*- C++ -*-//
//
// Shared by the files that implement Tokenizer (not part of its API).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TOKENIZER_TOKENIZERIMPL_H
#define TFM_RUNTIME_TOKENIZER_TOKENIZERIMPL_H

#include "runtime/tokenizer/Tokenizer.h"

#include "support/Json.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tfm {

/// tokenizer_config.json with special_tokens_map.json behind it.
struct TokenizerConfig {
  TokenizerConfig(std::string dir, json::Value config, json::Value specialMap);

  /// A key of tokenizer_config.json, else of special_tokens_map.json; null
  /// values count as absent.
  const json::Value *find(std::string_view key) const;
  /// A boolean of tokenizer_config.json, or `otherwise`.
  bool flag(std::string_view key, bool otherwise) const;
  /// A special token's content (a string or an AddedToken object): none
  /// when the config sets it to null, `otherwise` when absent.
  absl::StatusOr<std::optional<std::string>>
  token(std::string_view key, std::optional<std::string> otherwise) const;

  std::string dir;
  json::Value config;
  json::Value specialMap;
  std::string configPath;
};

/// Builds each family (a friend of Tokenizer).
class TokenizerLoader {
public:
  /// The special tokens a class has when the config does not say.
  struct Defaults {
    std::vector<std::pair<std::string_view, std::string>> tokens;
    bool cleanUpSpaces = false;
  };
  static absl::Status readSpecials(Tokenizer &tokenizer,
                                   const TokenizerConfig &config,
                                   const Defaults &defaults);

  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  wordPiece(const TokenizerConfig &config);
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  byteLevelBpe(const TokenizerConfig &config);
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  marian(const TokenizerConfig &config);
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  llama(const TokenizerConfig &config);
  /// tokenizer.json, with what transformers' fast class `kind` (or
  /// PreTrainedTokenizerFast: none) changes in it.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  tokenizerJson(const TokenizerConfig &config,
                std::optional<Tokenizer::Kind> kind, std::string className);
  /// The special tokens and space clean-up of each class's __init__.
  static const Defaults &defaultsOf(Tokenizer::Kind kind);

  /// The added tokens' texts and ids.
  struct AddedTokenView {
    std::string_view content;
    int64_t id;
  };
  static std::vector<AddedTokenView> addedTokens(const Tokenizer &tokenizer) {
    std::vector<AddedTokenView> out;
    for (const Tokenizer::AddedToken &token : tokenizer.added_)
      out.push_back({token.content, token.id});
    return out;
  }

  static void setSize(Tokenizer &tokenizer, int64_t size) {
    tokenizer.size_ = std::max(tokenizer.size_, size);
  }
};

/// The id of `token` in `vocab`, else that of `unk` (-1 when neither is
/// there): `_convert_token_to_id` of the vocabulary-file families.
inline int64_t idOrUnk(const std::unordered_map<std::string, int64_t> &vocab,
                       std::string_view token, const std::string &unk) {
  auto it = vocab.find(std::string(token));
  if (it != vocab.end())
    return it->second;
  auto fallback = vocab.find(unk);
  return fallback != vocab.end() ? fallback->second : -1;
}

/// vocab.json: an object of tokens and their ids (0 to 2^31 - 1).
absl::StatusOr<std::unordered_map<std::string, int64_t>>
readVocabJson(const std::string &path);

/// Bytes as Python's bytes.decode("utf-8", errors="replace"): each maximal
/// invalid subsequence becomes U+FFFD.
std::string replaceInvalidUtf8(std::string_view bytes);

/// Python's str.strip() (left and right), lstrip() or rstrip():
/// whitespace as str.isspace().
std::string pythonStrip(std::string_view text, bool left = true,
                        bool right = true);

/// Python's text.split(): runs of str.isspace() characters separate words.
std::vector<std::u32string> splitOnSpaces(std::u32string_view text);

/// transformers' clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...).
std::string cleanUpTokenization(std::string text);

/// GPT-2's pre-tokenization pattern, matched as findall does:
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<std::u32string_view> gpt2Pieces(std::u32string_view text);

/// GPT-2's bytes_to_unicode: each byte as a printable character, and back.
struct ByteLevelTable {
  ByteLevelTable();
  std::array<std::string, 256> byteChar;
  std::unordered_map<char32_t, int> charByte;
};
const ByteLevelTable &byteLevelTable();

/// Greedy longest-match-first WordPiece (transformers' WordpieceTokenizer,
/// the tokenizers library's WordPiece model) over a byte trie of the
/// vocabulary: each piece is found in one pass over the word's bytes
/// instead of a lookup per candidate length.
class WordPieceTrie {
public:
  /// The tokens of `vocab`; `prefix` starts the pieces after a word's
  /// first ("##").
  void build(const std::unordered_map<std::string, int64_t> &vocab,
             std::string_view prefix);
  /// Appends the ids of `word` (UTF-8): at each point the longest token
  /// (with the prefix after the first). False, with nothing appended, when
  /// a point has none (the caller gives unk for the whole word).
  bool match(std::string_view word, std::vector<int64_t> &ids) const;

private:
  int32_t child(int32_t node, unsigned char byte) const {
    auto it = edges_.find(static_cast<uint64_t>(node) << 8 | byte);
    return it == edges_.end() ? -1 : it->second;
  }
  /// Per node, the id of the token that ends there (-1: none).
  std::vector<int64_t> ids_;
  std::unordered_map<uint64_t, int32_t> edges_;
  /// The node after the prefix (-1: no token starts with it).
  int32_t continuation_ = -1;
};

/// BERT's character classes: CJK ideographs (ranges of transformers'
/// _is_chinese_char, or of the tokenizers library's BertNormalizer with
/// `fast`), punctuation (ASCII punctuation or category P*), control
/// characters (category C* but tab, newline, carriage return).
bool isBertChinese(char32_t c, bool fast = false);
bool isBertPunctuation(char32_t c);
bool isBertControl(char32_t c);

} // namespace tfm

#endif // TFM_RUNTIME_TOKENIZER_TOKENIZERIMPL_H
