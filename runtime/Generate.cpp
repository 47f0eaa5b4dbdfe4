//===- Generate.cpp - Running a compiled model on token sequences ---------===//

#include "runtime/Generate.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
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

namespace {
/// A batch padded into a rectangle: ids [B, L] (pad_id past each length) and
/// lengths [B].
struct Padded {
  Tensor ids;
  Tensor lengths;
  int64_t width = 0;
};
} // namespace

static absl::StatusOr<Padded> pad(const Sequences &batch, int64_t padId) {
  Padded p;
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

/// Zeroes rows [length, L) of each batch element of a [B, L, N] tensor.
static void zeroPastLengths(Tensor &t, const Sequences &batch) {
  int64_t l = t.dim(1), n = t.dim(2);
  float *data = t.data<float>();
  for (size_t b = 0; b < batch.size(); ++b) {
    int64_t len = batch[b].size();
    std::memset(data + (b * l + len) * n, 0, (l - len) * n * sizeof(float));
  }
}

static absl::StatusOr<Tensor> single(absl::StatusOr<std::vector<Tensor>> r) {
  if (!r.ok())
    return r.status();
  if (r->size() != 1)
    return absl::InternalError("an entry returned more than one result");
  return std::move(r->front());
}

static absl::StatusOr<Tensor> encode(const Artifact &artifact,
                                     const Padded &src) {
  return single(artifact.call(
      "encode", {{"src_ids", &src.ids}, {"src_lengths", &src.lengths}}));
}

absl::StatusOr<Tensor> tfm::forward(const Artifact &artifact,
                                    const Sequences &src,
                                    const Sequences *tgt) {
  const ArtifactConfig &c = artifact.config();
  bool encoderSide = c.architecture != ModelArchitecture::Decoder;
  if (absl::Status s =
          checkSequences(src, encoderSide ? c.srcVocabSize : c.tgtVocabSize,
                         c.maxSeqLen, "src");
      !s.ok())
    return s;
  auto srcPadded = pad(src, c.padId);
  if (!srcPadded.ok())
    return srcPadded.status();

  absl::StatusOr<Tensor> out;
  const Sequences *outLengths = &src;
  switch (c.architecture) {
  case ModelArchitecture::Encoder:
    out = encode(artifact, *srcPadded);
    break;
  case ModelArchitecture::Decoder:
    out =
        single(artifact.call("decode", {{"tgt_ids", &srcPadded->ids},
                                        {"tgt_lengths", &srcPadded->lengths}}));
    break;
  case ModelArchitecture::EncoderDecoder: {
    if (!tgt)
      return absl::InvalidArgumentError(
          "an encoder-decoder model needs \"tgt\" for a forward pass");
    if (tgt->size() != src.size())
      return absl::InvalidArgumentError(absl::StrCat(
          "\"src\" has ", src.size(), " sequences, \"tgt\" ", tgt->size()));
    if (absl::Status s =
            checkSequences(*tgt, c.tgtVocabSize, c.maxSeqLen, "tgt");
        !s.ok())
      return s;
    auto tgtPadded = pad(*tgt, c.padId);
    if (!tgtPadded.ok())
      return tgtPadded.status();
    auto memory = encode(artifact, *srcPadded);
    if (!memory.ok())
      return memory.status();
    out =
        single(artifact.call("decode", {{"tgt_ids", &tgtPadded->ids},
                                        {"tgt_lengths", &tgtPadded->lengths},
                                        {"memory", &*memory},
                                        {"src_lengths", &srcPadded->lengths}}));
    outLengths = tgt;
    break;
  }
  }
  if (!out.ok())
    return out.status();
  zeroPastLengths(*out, *outLengths);
  return out;
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

absl::StatusOr<Sequences> tfm::greedy(const Artifact &artifact,
                                      const Sequences &src,
                                      int64_t maxNewTokens,
                                      GenerateStats *stats) {
  const ArtifactConfig &c = artifact.config();
  if (c.architecture == ModelArchitecture::Encoder)
    return absl::InvalidArgumentError(
        "an encoder-only model does not generate; use --logits for its "
        "hidden states");
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  if (absl::Status s =
          checkSequences(src, withEncoder ? c.srcVocabSize : c.tgtVocabSize,
                         c.maxSeqLen, "src");
      !s.ok())
    return s;

  absl::StatusOr<Padded> srcPadded = pad(src, c.padId);
  if (!srcPadded.ok())
    return srcPadded.status();
  Tensor memory;
  Sequences seqs;
  if (withEncoder) {
    auto start = std::chrono::steady_clock::now();
    auto encoded = encode(artifact, *srcPadded);
    if (!encoded.ok())
      return encoded.status();
    memory = std::move(*encoded);
    if (stats)
      stats->encodeSeconds = secondsSince(start);
    seqs.assign(src.size(), {c.bosId});
  } else {
    seqs = src;
  }

  size_t batch = src.size();
  std::vector<size_t> promptLength(batch);
  std::vector<bool> done(batch, false);
  for (size_t b = 0; b < batch; ++b) {
    promptLength[b] = seqs[b].size();
    done[b] = static_cast<int64_t>(seqs[b].size()) >= c.maxSeqLen ||
              maxNewTokens <= 0;
  }
  int64_t vocab = c.tgtVocabSize;
  while (std::find(done.begin(), done.end(), false) != done.end()) {
    auto start = std::chrono::steady_clock::now();
    auto tgt = pad(seqs, c.padId);
    if (!tgt.ok())
      return tgt.status();
    NamedInputs inputs{{"tgt_ids", &tgt->ids}, {"tgt_lengths", &tgt->lengths}};
    if (withEncoder) {
      inputs.push_back({"memory", &memory});
      inputs.push_back({"src_lengths", &srcPadded->lengths});
    }
    auto logits = single(artifact.call("decode", inputs));
    if (!logits.ok())
      return logits.status();
    const float *l = logits->data<float>();
    for (size_t b = 0; b < batch; ++b) {
      if (done[b])
        continue;
      // The next token of sequence b: the first maximum at its last position.
      const float *row = l + (b * tgt->width + seqs[b].size() - 1) * vocab;
      int64_t next = std::max_element(row, row + vocab) - row;
      if (next == c.eosId) {
        done[b] = true;
        continue;
      }
      seqs[b].push_back(next);
      int64_t generated = seqs[b].size() - promptLength[b];
      done[b] = generated >= maxNewTokens ||
                static_cast<int64_t>(seqs[b].size()) >= c.maxSeqLen;
    }
    if (stats)
      stats->stepSeconds.push_back(secondsSince(start));
  }
  Sequences generated(batch);
  for (size_t b = 0; b < batch; ++b)
    generated[b].assign(seqs[b].begin() + promptLength[b], seqs[b].end());
  return generated;
}
