//===- SentencePieceModel.h - libsentencepiece behind a plain API -*- C++ -*-=//
//
// The SentencePiece models Marian and Llama checkpoints ship, run by
// libsentencepiece. Its header defines `absl::string_view` as an alias of
// std::string_view, which Debian's Abseil (a class of its own; see
// support/StringViews.h) contradicts, so only SentencePieceModel.cpp
// includes it and this API speaks the standard library alone.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H
#define TFM_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

class SentencePieceModel {
public:
  /// Loads a serialized model (the bytes of a .spm / tokenizer.model file).
  /// With `noDummyPrefix`, the normalizer's add_dummy_prefix is switched off
  /// first, as transformers does for a non-legacy Llama tokenizer. Returns
  /// null and sets `error` on a malformed model.
  static std::unique_ptr<SentencePieceModel>
  load(std::string_view bytes, bool noDummyPrefix, std::string &error);

  ~SentencePieceModel();

  /// The pieces of `text` (valid UTF-8), as `sp.encode(text, out_type=str)`.
  std::vector<std::string> encode(std::string_view text) const;
  /// The ids of those pieces, as `sp.encode(text)`.
  std::vector<int> encodeIds(std::string_view text) const;
  /// `sp.decode(pieces)`.
  std::string decode(const std::vector<std::string> &pieces) const;

  int size() const;
  /// The id of `piece`, or the unk id.
  int pieceToId(std::string_view piece) const;
  std::string idToPiece(int id) const;
  bool isUnknown(int id) const;
  bool isControl(int id) const;
  int unkId() const;

private:
  SentencePieceModel();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Rewrites a serialized SentencePiece ModelProto so that its
/// normalizer_spec has add_dummy_prefix = false (the proto's field 3 of
/// field 3). False on bytes that are not a well-formed protobuf message.
bool clearAddDummyPrefix(std::string_view model, std::string &out);

} // namespace tfm

#endif // TFM_RUNTIME_TOKENIZER_SENTENCEPIECEMODEL_H
