//===- Batch.cpp - Batches of token sequences -----------------------------===//

#include "runtime/Batch.h"
#include "support/Json.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

using namespace tfm;

absl::Status tfm::checkSequences(const Sequences &batch, int64_t vocab,
                                 int64_t maxLen, std::string_view what) {
  std::string name(what);
  if (batch.empty())
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty batch"));
  for (size_t b = 0; b < batch.size(); ++b) {
    const std::vector<int64_t> &seq = batch[b];
    if (seq.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(name, " sequence ", b, " is empty"));
    if (static_cast<int64_t>(seq.size()) > maxLen)
      return absl::InvalidArgumentError(
          absl::StrCat(name, " sequence ", b, " has ", seq.size(),
                       " tokens, more than max_seq_len ", maxLen));
    for (size_t t = 0; t < seq.size(); ++t)
      if (seq[t] < 0 || seq[t] >= vocab)
        return absl::InvalidArgumentError(
            absl::StrCat(name, " sequence ", b, " token ", t, ": id ", seq[t],
                         " is out of range [0, ", vocab, ")"));
  }
  return absl::OkStatus();
}

/// Reads one field of --inputs: an array of arrays of integers.
static absl::StatusOr<Sequences> readSequences(const json::Value &doc,
                                               std::string_view key,
                                               const std::string &path) {
  const json::Value *v = doc.find(key);
  Sequences out;
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": \"", toAbsl(key), "\" ", toAbsl(what)));
  };
  if (!v->isArray())
    return bad("must be an array of sequences (arrays of token ids)");
  for (const json::Value &seq : v->asArray()) {
    if (!seq.isArray())
      return bad("must be an array of sequences (arrays of token ids)");
    std::vector<int64_t> ids;
    for (const json::Value &id : seq.asArray()) {
      if (!id.isInt())
        return bad(absl::StrCat("sequence ", out.size(),
                                " holds a value that is not an integer id"));
      ids.push_back(id.asInt());
    }
    out.push_back(std::move(ids));
  }
  return out;
}

absl::StatusOr<BatchInputs> tfm::parseBatchInputs(std::string_view text,
                                                  const std::string &path) {
  absl::StatusOr<json::Value> doc = json::parse(text);
  if (!doc.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", doc.status().message()));
  if (!doc->isObject() || !doc->find("src"))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object with a \"src\" field"));
  for (const auto &[key, value] : doc->asObject())
    if (key != "src" && key != "tgt" && key != "token_type_ids")
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unknown field \"", key, "\""));
  BatchInputs batch;
  TFM_ASSIGN_OR_RETURN(batch.src, readSequences(*doc, "src", path));
  if (doc->find("tgt")) {
    TFM_ASSIGN_OR_RETURN(batch.tgt, readSequences(*doc, "tgt", path));
  }
  if (doc->find("token_type_ids")) {
    TFM_ASSIGN_OR_RETURN(batch.types,
                         readSequences(*doc, "token_type_ids", path));
  }
  return batch;
}

absl::StatusOr<PaddedBatch> tfm::padBatch(const Sequences &batch,
                                          int64_t padId) {
  PaddedBatch p;
  for (const auto &seq : batch)
    p.width = std::max<int64_t>(p.width, seq.size());
  int64_t b = batch.size();
  auto ids = Tensor::allocateUninitialized(DType::I32, {b, p.width});
  auto lengths = Tensor::allocateUninitialized(DType::I32, {b});
  if (!ids.ok())
    return ids.status();
  if (!lengths.ok())
    return lengths.status();
  int32_t *id = ids->data<int32_t>();
  for (int64_t i = 0; i < b; ++i) {
    const auto &seq = batch[i];
    for (int64_t t = 0; t < p.width; ++t)
      id[i * p.width + t] = static_cast<int32_t>(
          t < static_cast<int64_t>(seq.size()) ? seq[t] : padId);
    lengths->data<int32_t>()[i] = static_cast<int32_t>(seq.size());
  }
  p.ids = std::move(*ids);
  p.lengths = std::move(*lengths);
  return p;
}

void tfm::zeroPastLengths(Tensor &t, const Sequences &batch) {
  int64_t l = t.dim(1), n = t.dim(2);
  float *data = t.data<float>();
  for (size_t b = 0; b < batch.size(); ++b) {
    int64_t len = batch[b].size();
    std::memset(data + (b * l + len) * n, 0, (l - len) * n * sizeof(float));
  }
}
