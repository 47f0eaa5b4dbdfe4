//===- SentencePieceModel.cpp - libsentencepiece behind a plain API -------===//

#include "runtime/tokenizer/SentencePieceModel.h"

#include <sentencepiece_processor.h>

#include <cstdint>

namespace tfm {

struct SentencePieceModel::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

SentencePieceModel::SentencePieceModel() : impl_(std::make_unique<Impl>()) {}
SentencePieceModel::~SentencePieceModel() = default;

std::unique_ptr<SentencePieceModel>
SentencePieceModel::load(std::string_view bytes, bool noDummyPrefix,
                         std::string &error) {
  std::string edited;
  if (noDummyPrefix) {
    if (!clearAddDummyPrefix(bytes, edited)) {
      error = "not a SentencePiece model (malformed protobuf)";
      return nullptr;
    }
    bytes = edited;
  }
  std::unique_ptr<SentencePieceModel> model(new SentencePieceModel());
  auto status = model->impl_->processor.LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return model;
}

std::vector<std::string>
SentencePieceModel::encode(std::string_view text) const {
  std::vector<std::string> pieces;
  // Fails only when the model is not loaded, which load() rules out.
  (void)impl_->processor.Encode(text, &pieces);
  return pieces;
}

std::vector<int> SentencePieceModel::encodeIds(std::string_view text) const {
  std::vector<int> ids;
  (void)impl_->processor.Encode(text, &ids);
  return ids;
}

std::string
SentencePieceModel::decode(const std::vector<std::string> &pieces) const {
  std::string text;
  (void)impl_->processor.Decode(pieces, &text);
  return text;
}

int SentencePieceModel::size() const { return impl_->processor.GetPieceSize(); }
int SentencePieceModel::pieceToId(std::string_view piece) const {
  return impl_->processor.PieceToId(piece);
}
std::string SentencePieceModel::idToPiece(int id) const {
  return impl_->processor.IdToPiece(id);
}
bool SentencePieceModel::isUnknown(int id) const {
  return impl_->processor.IsUnknown(id);
}
bool SentencePieceModel::isControl(int id) const {
  return impl_->processor.IsControl(id);
}
int SentencePieceModel::unkId() const { return impl_->processor.unk_id(); }

//===----------------------------------------------------------------------===//
// The protobuf edit
//===----------------------------------------------------------------------===//

namespace {
/// Reads protobuf wire format: varints, tags and the extent of each field.
struct Wire {
  std::string_view bytes;
  size_t pos = 0;

  bool varint(uint64_t &value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.size())
        return false;
      uint8_t b = static_cast<uint8_t>(bytes[pos++]);
      value |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }

  /// Reads one field: its number, wire type, and for length-delimited
  /// fields the payload; [start, pos) is the whole field.
  bool field(uint64_t &number, int &type, std::string_view &payload) {
    uint64_t tag;
    if (!varint(tag))
      return false;
    number = tag >> 3;
    type = static_cast<int>(tag & 7);
    uint64_t value;
    switch (type) {
    case 0:
      return varint(value);
    case 1:
      return skip(8);
    case 5:
      return skip(4);
    case 2:
      if (!varint(value) || value > bytes.size() - pos)
        return false;
      payload = bytes.substr(pos, value);
      pos += value;
      return true;
    default:
      return false;
    }
  }

  bool skip(size_t n) {
    if (n > bytes.size() - pos)
      return false;
    pos += n;
    return true;
  }
};

void putVarint(std::string &out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
} // namespace

bool clearAddDummyPrefix(std::string_view model, std::string &out) {
  constexpr uint64_t kNormalizerSpec = 3, kAddDummyPrefix = 3;
  out.clear();
  Wire top{model};
  bool sawSpec = false;
  while (top.pos < model.size()) {
    size_t start = top.pos;
    uint64_t number;
    int type;
    std::string_view payload;
    if (!top.field(number, type, payload))
      return false;
    if (number != kNormalizerSpec || type != 2) {
      out.append(model.substr(start, top.pos - start));
      continue;
    }
    // The normalizer spec without its add_dummy_prefix, then = false.
    std::string spec;
    Wire inner{payload};
    while (inner.pos < payload.size()) {
      size_t fieldStart = inner.pos;
      uint64_t innerNumber;
      int innerType;
      std::string_view innerPayload;
      if (!inner.field(innerNumber, innerType, innerPayload))
        return false;
      if (innerNumber != kAddDummyPrefix)
        spec.append(payload.substr(fieldStart, inner.pos - fieldStart));
    }
    putVarint(spec, kAddDummyPrefix << 3);
    putVarint(spec, 0);
    putVarint(out, kNormalizerSpec << 3 | 2);
    putVarint(out, spec.size());
    out += spec;
    sawSpec = true;
  }
  if (!sawSpec) { // An absent spec has the defaults: add one that says false.
    putVarint(out, kNormalizerSpec << 3 | 2);
    putVarint(out, 2);
    putVarint(out, kAddDummyPrefix << 3);
    putVarint(out, 0);
  }
  return true;
}

} // namespace tfm
