//===- Forward.cpp - Forward passes over whole sequences ------------------===//

#include "runtime/Forward.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

using namespace tfm;

absl::StatusOr<Tensor>
tfm::singleResult(absl::StatusOr<std::vector<Tensor>> r) {
  if (!r.ok())
    return r.status();
  if (r->size() != 1)
    return absl::InternalError("an entry returned more than one result");
  return std::move(r->front());
}

absl::StatusOr<Tensor> tfm::runEncoder(const Artifact &artifact,
                                       const PaddedBatch &src,
                                       const Tensor *types) {
  NamedInputs inputs{{"src_ids", &src.ids}, {"src_lengths", &src.lengths}};
  Tensor zeros;
  if (artifact.config().typeVocabSize > 0) {
    if (!types) {
      TFM_ASSIGN_OR_RETURN(auto allocated,
                           Tensor::allocate(DType::I32, src.ids.shape()));
      zeros = std::move(allocated);
      types = &zeros;
    }
    inputs.push_back({"src_types", types});
  }
  return singleResult(artifact.call("encode", inputs));
}

/// Checks that `types` has one type in [0, typeVocabSize) per token of
/// `src`.
static absl::Status checkTypes(const Sequences &types, const Sequences &src,
                               int64_t typeVocabSize) {
  if (typeVocabSize == 0)
    return absl::InvalidArgumentError(
        "\"token_type_ids\" given, but the model has no token types");
  if (types.size() != src.size())
    return absl::InvalidArgumentError(absl::StrCat("\"src\" has ", src.size(),
                                                   " sequences, "
                                                   "\"token_type_ids\" ",
                                                   types.size()));
  for (size_t b = 0; b < src.size(); ++b) {
    if (types[b].size() != src[b].size())
      return absl::InvalidArgumentError(
          absl::StrCat("token_type_ids sequence ", b, " has ", types[b].size(),
                       " types for ", src[b].size(), " tokens"));
    for (size_t t = 0; t < types[b].size(); ++t)
      if (types[b][t] < 0 || types[b][t] >= typeVocabSize)
        return absl::InvalidArgumentError(absl::StrCat(
            "token_type_ids sequence ", b, " token ", t, ": type ", types[b][t],
            " is out of range [0, ", typeVocabSize, ")"));
  }
  return absl::OkStatus();
}

/// The forward pass over one chunk of the batch.
static absl::StatusOr<Tensor> forwardChunk(const Artifact &artifact,
                                           const Sequences &src,
                                           const ForwardInputs &in) {
  const ArtifactConfig &c = artifact.config();
  bool encoderSide = c.architecture != ModelArchitecture::Decoder;
  TFM_RETURN_IF_ERROR(checkSequences(
      src, encoderSide ? c.srcVocabSize : c.tgtVocabSize, c.maxSeqLen, "src"));
  if (in.tgt && c.architecture != ModelArchitecture::EncoderDecoder)
    return absl::InvalidArgumentError(absl::StrCat(
        "\"tgt\" is for an encoder-decoder model; this one is ",
        c.architecture == ModelArchitecture::Encoder ? "encoder-only"
                                                     : "decoder-only"));
  if (in.pooled && !artifact.hasEntry("pool"))
    return absl::InvalidArgumentError(
        "the model has no pooler (only a BertModel saved with its pooler "
        "has one)");
  std::optional<PaddedBatch> types;
  if (in.types) {
    TFM_RETURN_IF_ERROR(checkTypes(*in.types, src, c.typeVocabSize));
    TFM_ASSIGN_OR_RETURN(auto padded, padBatch(*in.types, 0));
    types = std::move(padded);
  }
  TFM_ASSIGN_OR_RETURN(auto srcPadded, padBatch(src, c.padId));

  std::optional<BufferPoolScope> scope;
  if (in.pool)
    scope.emplace(in.pool);
  absl::StatusOr<Tensor> out;
  const Sequences *outLengths = &src;
  switch (c.architecture) {
  case ModelArchitecture::Encoder:
    out = runEncoder(artifact, srcPadded, types ? &types->ids : nullptr);
    if (out.ok() && in.pooled) {
      TFM_ASSIGN_OR_RETURN(auto pooled, singleResult(artifact.call(
                                            "pool", {{"hidden", &*out}})));
      *in.pooled = std::move(pooled);
    }
    break;
  case ModelArchitecture::Decoder:
    out = singleResult(
        artifact.call("decode", {{"tgt_ids", &srcPadded.ids},
                                 {"tgt_lengths", &srcPadded.lengths}}));
    break;
  case ModelArchitecture::EncoderDecoder: {
    const Sequences *tgt = in.tgt;
    if (!tgt)
      return absl::InvalidArgumentError(
          "an encoder-decoder model needs \"tgt\" for a forward pass");
    if (tgt->size() != src.size())
      return absl::InvalidArgumentError(absl::StrCat(
          "\"src\" has ", src.size(), " sequences, \"tgt\" ", tgt->size()));
    TFM_RETURN_IF_ERROR(
        checkSequences(*tgt, c.tgtVocabSize, c.maxSeqLen, "tgt"));
    TFM_ASSIGN_OR_RETURN(auto tgtPadded, padBatch(*tgt, c.padId));
    TFM_ASSIGN_OR_RETURN(auto memory, runEncoder(artifact, srcPadded));
    out = singleResult(
        artifact.call("decode", {{"tgt_ids", &tgtPadded.ids},
                                 {"tgt_lengths", &tgtPadded.lengths},
                                 {"memory", &memory},
                                 {"src_lengths", &srcPadded.lengths}}));
    outLengths = tgt;
    break;
  }
  }
  if (!out.ok())
    return out.status();
  zeroPastLengths(*out, *outLengths);
  return out;
}

/// Sequences [begin, end) of `all`.
static Sequences slice(const Sequences &all, size_t begin, size_t end) {
  return Sequences(all.begin() + begin, all.begin() + end);
}

/// Copies `chunk` [b, l, n] into rows [row, row + b) of `out` [B, L, n]
/// (l <= L; out's positions past l stay as they are).
static void copyRows(const Tensor &chunk, Tensor &out, int64_t row) {
  int64_t b = chunk.dim(0), l = chunk.dim(1), n = chunk.dim(2);
  int64_t width = out.dim(1);
  const float *from = chunk.data<float>();
  float *to = out.data<float>();
  for (int64_t i = 0; i < b; ++i)
    std::memcpy(to + ((row + i) * width) * n, from + i * l * n,
                l * n * sizeof(float));
}

absl::StatusOr<Tensor> tfm::forward(const Artifact &artifact,
                                    const Sequences &src,
                                    const ForwardInputs &in) {
  // A batch of many sequences runs in chunks of about kForwardChunkTokens
  // padded tokens, so that the compiled code's intermediate buffers
  // (activations, scores) stay bounded whatever the batch; only the result
  // grows with it. (100k sequences of 7 tokens took 7.4 GB of memory in one
  // call, 0.2-0.3 GB in chunks of 4096-16384 tokens, and no longer.)
  constexpr int64_t kForwardChunkTokens = 8192;
  const Sequences *tgt = in.tgt;
  auto widest = [](const Sequences &batch) {
    size_t width = 0;
    for (const auto &seq : batch)
      width = std::max(width, seq.size());
    return static_cast<int64_t>(width);
  };
  int64_t width =
      std::max<int64_t>({1, widest(src), tgt ? widest(*tgt) : int64_t(0)});
  size_t rows = std::max<int64_t>(1, kForwardChunkTokens / width);
  bool pairsAgree = (!tgt || tgt->size() == src.size()) &&
                    (!in.types || in.types->size() == src.size());
  if (src.size() <= rows || !pairsAgree)
    return forwardChunk(artifact, src, in); // (which reports a disagreement)

  Tensor out, pooled;
  for (size_t begin = 0; begin < src.size(); begin += rows) {
    size_t end = std::min(src.size(), begin + rows);
    Sequences chunkSrc = slice(src, begin, end), chunkTgt, chunkTypes;
    ForwardInputs chunkIn = in;
    if (tgt) {
      chunkTgt = slice(*tgt, begin, end);
      chunkIn.tgt = &chunkTgt;
    }
    if (in.types) {
      chunkTypes = slice(*in.types, begin, end);
      chunkIn.types = &chunkTypes;
    }
    Tensor chunkPooled;
    if (in.pooled)
      chunkIn.pooled = &chunkPooled;
    TFM_ASSIGN_OR_RETURN(Tensor chunk,
                         forwardChunk(artifact, chunkSrc, chunkIn));
    if (begin == 0) {
      // The whole batch's shape: its widest sequence (of the side the
      // result follows) and the chunk's last dimension.
      int64_t length = widest(tgt ? *tgt : src);
      TFM_ASSIGN_OR_RETURN(
          out, Tensor::allocate(DType::F32, {static_cast<int64_t>(src.size()),
                                             length, chunk.dim(2)}));
      if (in.pooled) {
        TFM_ASSIGN_OR_RETURN(
            pooled,
            Tensor::allocate(DType::F32, {static_cast<int64_t>(src.size()),
                                          chunkPooled.dim(1)}));
      }
    }
    copyRows(chunk, out, begin);
    if (in.pooled)
      std::memcpy(pooled.data<float>() + begin * pooled.dim(1),
                  chunkPooled.data<float>(),
                  chunkPooled.numElements() * sizeof(float));
  }
  if (in.pooled)
    *in.pooled = std::move(pooled);
  return out;
}
