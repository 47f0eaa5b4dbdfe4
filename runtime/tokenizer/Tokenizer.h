//===- Tokenizer.h - The tokenizer of a checkpoint directory ----*- C++ -*-===//
//
// Text to token ids and back, exactly as Hugging Face transformers' slow
// tokenizers do it for the families tfm compiles, read from the files a
// checkpoint directory ships (tokenizer_config.json, special_tokens_map.json
// and the vocabulary files):
//
//   WordPiece            BertTokenizer      vocab.txt
//   byte-level BPE       GPT2Tokenizer      vocab.json + merges.txt
//   SentencePiece        MarianTokenizer    source.spm + target.spm +
//   vocab.json SentencePiece        LlamaTokenizer     tokenizer.model
//
// SentencePiece models run on libsentencepiece (the library transformers
// calls through python3-sentencepiece), the other two are written here.
// What transformers does around the model is here too: added tokens split
// out of the text before tokenization, special tokens added per family,
// decoding with special tokens skipped or kept and its space clean-up.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TOKENIZER_TOKENIZER_H
#define TFM_RUNTIME_TOKENIZER_TOKENIZER_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm {

class Tokenizer {
public:
  /// TokenizerJson: a fast tokenizer's tokenizer.json (the `tokenizers`
  /// library's pipeline), read where a checkpoint ships no slow files.
  enum class Kind { WordPiece, ByteLevelBpe, Marian, Llama, TokenizerJson };

  /// The files of a tokenizer in checkpoint directory `dir` that tfm reads
  /// (names relative to `dir`), tokenizer_config.json first; empty when
  /// `dir` has none (no tokenizer_config.json). An error when it has one
  /// whose files are missing, or that names a class tfm does not read.
  static absl::StatusOr<std::vector<std::string>>
  filesIn(const std::string &dir);

  /// Reads the tokenizer in `dir`. Every inconsistency (a missing file, a
  /// malformed vocabulary, a special token not in it, an id twice) is one
  /// error naming the file.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  load(const std::string &dir);

  virtual ~Tokenizer();

  Kind kind() const { return kind_; }
  /// transformers' class name ("BertTokenizer", ...).
  std::string_view className() const;

  /// Ids are below this.
  int64_t size() const { return size_; }

  /// `tokenizer(text)["input_ids"]` (the source side for Marian), or with
  /// `add_special_tokens=False`. `text` must be valid UTF-8 (an error
  /// otherwise). Never truncates.
  absl::StatusOr<std::vector<int64_t>>
  encode(std::string_view text, bool addSpecialTokens = true) const;

  /// Marian's target side (`tokenizer(text_target=text)`); encode() for the
  /// others.
  absl::StatusOr<std::vector<int64_t>>
  encodeTarget(std::string_view text, bool addSpecialTokens = true) const;

  /// The tokens encode() maps to ids, as `tokenizer.tokenize(text)`.
  absl::StatusOr<std::vector<std::string>>
  tokenize(std::string_view text) const;

  /// `tokenizer.decode(ids, skip_special_tokens=...)` (Marian: the target
  /// side). Ids outside [0, size()) are an error. Bytes that do not make
  /// UTF-8 (a byte-level token cut inside a character) become U+FFFD, as
  /// Python's errors="replace".
  virtual absl::StatusOr<std::string>
  decode(absl::Span<const int64_t> ids, bool skipSpecialTokens = true) const;

  /// The special token ids (-1: none).
  int64_t bosId() const { return bosId_; }
  int64_t eosId() const { return eosId_; }
  int64_t padId() const { return padId_; }
  int64_t unkId() const { return unkId_; }
  bool isSpecial(int64_t id) const;
  /// Whether decode() applies transformers' clean_up_tokenization.
  bool cleansUpSpaces() const { return cleanUpSpaces_; }
  /// Whether ids after `id` can change the text decode() gives for the
  /// ids up to it (tokenizer.json's ByteFallback decodes a run of byte
  /// tokens as a whole: one U+FFFD per byte when the run is not UTF-8;
  /// TextStream then waits for the next id).
  virtual bool textMayChangeAfter(int64_t /*id*/) const { return false; }

protected:
  explicit Tokenizer(Kind kind) : kind_(kind) {}

  /// An added token (`added_tokens_decoder`): split out of the text before
  /// the model's tokenization and mapped to its id directly.
  struct AddedToken {
    std::string content;
    int64_t id = -1;
    bool lstrip = false, rstrip = false, singleWord = false;
    bool special = false;
    /// tokenizer.json: matched in the normalized text, not the raw one.
    bool normalized = false;
  };

  /// The model's own tokenization of text without added tokens in it
  /// (transformers' `_tokenize`), into tokens of its vocabulary.
  virtual void tokenizeText(std::string_view text, bool target,
                            std::vector<std::string> &tokens) const = 0;
  /// `_convert_token_to_id` (unknown: the unk id) and back.
  virtual int64_t tokenId(std::string_view token, bool target) const = 0;
  virtual std::string idToken(int64_t id, bool target) const = 0;
  /// `build_inputs_with_special_tokens`.
  virtual std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                          bool target) const = 0;
  /// `convert_tokens_to_string` (Marian: the target side).
  virtual std::string tokensToText(const std::vector<std::string> &tokens,
                                   bool target) const = 0;
  /// Whether `tokenize` lower-cases text outside added tokens first
  /// (tokenizers with a do_lower_case attribute).
  virtual bool lowerCasesAddedTokenGaps() const { return false; }
  /// The whole of `tokenize` (LlamaTokenizer changes the generic one).
  virtual void tokenizeAll(std::string_view text, bool target,
                           std::vector<std::string> &tokens) const;
  /// The generic `tokenize`: added tokens split out, the rest through
  /// tokenizeText().
  void splitAddedTokens(std::string_view text, bool target,
                        std::vector<std::string> &tokens) const;
  /// The same into ids, the rest through textIds().
  void splitAddedTokenIds(std::string_view text, bool target,
                          std::vector<int64_t> &ids) const;
  /// A piece of text between added tokens, or one (`added`).
  struct TextPiece {
    std::string text;
    const AddedToken *added = nullptr;
  };
  /// The text cut at added tokens, with transformers' lower-casing and
  /// lstrip/rstrip/single_word applied; no empty pieces.
  std::vector<TextPiece> splitText(std::string_view text) const;
  /// The ids of tokenizeText()'s tokens (a family that can tell them more
  /// directly overrides it).
  virtual void textIds(std::string_view text, bool target,
                       std::vector<int64_t> &ids) const;
  /// The ids of tokenizeAll()'s tokens.
  virtual void encodeAll(std::string_view text, bool target,
                         std::vector<int64_t> &ids) const;
  const AddedToken *findAdded(std::string_view content) const;
  /// Whether `token` is in all_special_tokens.
  bool isSpecialToken(std::string_view token) const {
    return std::find(specialTokens_.begin(), specialTokens_.end(), token) !=
           specialTokens_.end();
  }
  /// The id of special token `content` (an added token or one of the
  /// model's vocabulary), or -1.
  int64_t idOfSpecial(const std::string &content) const;
  /// Adds `content` to all_special_tokens.
  void addSpecial(const std::string &content, int64_t id);

  absl::StatusOr<std::vector<int64_t>>
  encodeSide(std::string_view text, bool addSpecialTokens, bool target) const;

  Kind kind_;
  int64_t size_ = 0;
  int64_t bosId_ = -1, eosId_ = -1, padId_ = -1, unkId_ = -1;
  std::vector<AddedToken> added_;
  /// `all_special_tokens` and their ids.
  std::vector<std::string> specialTokens_;
  std::vector<int64_t> specialIds_;
  bool cleanUpSpaces_ = false;
  bool spacesBetweenSpecialTokens_ = true;
  /// The class tokenizer_config.json names, for Kind::TokenizerJson.
  std::string className_;

  friend class TokenizerLoader;
};

/// The text of a sequence of ids as it grows, for printing while tokens are
/// generated, at a cost that does not grow with the sequence: each new id
/// is decoded in a window that starts one token before the text not yet
/// given out (decode(window) minus decode(window without the new ids); the
/// window's first token keeps the leading-space rules of the decoders
/// consistent), and the difference is given out unless it ends in U+FFFD
/// (a character whose bytes are still to come: the window then grows). The
/// pieces given out, then finish(), make decode(all ids); with transformers'
/// space clean-up on (which can reach back: " 's" -> "'s"), all comes at
/// finish(). With `stops`, the text ends before the first of them that
/// appears (what could be the start of one is held back meanwhile).
class TextStream {
public:
  explicit TextStream(const Tokenizer &tokenizer,
                      std::vector<std::string> stops = {},
                      bool skipSpecialTokens = true)
      : tokenizer_(tokenizer), skipSpecial_(skipSpecialTokens),
        stops_(std::move(stops)) {}

  /// Adds `id`; returns the text now final (often empty). After a stop
  /// string, ids are ignored.
  absl::StatusOr<std::string> push(int64_t id);
  /// Returns the rest of the text.
  absl::StatusOr<std::string> finish();
  /// Whether a stop string has appeared.
  bool stopped() const { return stopped_; }

private:
  /// decode(ids_[from, to)).
  absl::StatusOr<std::string> window(size_t from, size_t to) const;
  /// Gives out what `text_` holds past `given_` that no stop string can
  /// claim; at a stop string, ends the text there.
  std::string release(bool final);

  const Tokenizer &tokenizer_;
  bool skipSpecial_;
  std::vector<std::string> stops_;
  std::vector<int64_t> ids_;
  /// The window: ids_[prefix_, read_) were decoded into text_ already.
  size_t prefix_ = 0, read_ = 0;
  /// decode(ids_[0, read_)), and how much of it was given out.
  std::string text_;
  size_t given_ = 0;
  bool stopped_ = false;
};

} // namespace tfm

#endif // TFM_RUNTIME_TOKENIZER_TOKENIZER_H
