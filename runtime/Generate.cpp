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

/// Greedy decoding that re-runs the decoder over the whole prefix at each
/// step (the `decode` entry): the reference for the cached path.
static absl::StatusOr<Sequences> greedyRecompute(const Artifact &artifact,
                                                 const Sequences &src,
                                                 int64_t maxNewTokens,
                                                 GenerateStats *stats) {
  const ArtifactConfig &c = artifact.config();
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
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

//===----------------------------------------------------------------------===//
// Decoding with a KV cache
//===----------------------------------------------------------------------===//

namespace {

/// A tensor's first `batch` rows (dimension 0), as a view that owns nothing.
Tensor rows(Tensor &t, int64_t batch) {
  std::vector<int64_t> shape = t.shape();
  shape[0] = batch;
  return Tensor::adopt(t.dtype(), std::move(shape), nullptr, t.rawData(), 0);
}

/// The state of a cached greedy run, allocated once: the self-attention
/// caches of every decoder layer ([batch, heads, max_seq_len, head_dim]),
/// the cross-attention keys and values, and the small per-sequence inputs of
/// a step. The sequences still running occupy the first `active` batch
/// slots: one that finishes hands its slot to the last running one, so that
/// finished sequences cost no work.
class CachedGreedy {
public:
  CachedGreedy(const Artifact &artifact, int64_t maxNewTokens)
      : artifact(artifact), c(artifact.config()), maxNewTokens(maxNewTokens) {}

  absl::StatusOr<Sequences> run(const Sequences &src, GenerateStats *stats);

private:
  absl::Status allocate(size_t batch);
  absl::Status start(const Sequences &src);
  absl::Status step();
  /// Takes sequence `seq`'s next token from its logits row.
  void advance(size_t seq, const float *logits);
  /// Moves the sequences that finished out of the active slots.
  void compact();
  void moveSlot(size_t from, size_t to);

  const Artifact &artifact;
  const ArtifactConfig &c;
  int64_t maxNewTokens;

  Sequences seqs;
  std::vector<size_t> promptLength;
  std::vector<bool> done;
  /// slotSeq[slot]: the sequence in batch slot `slot`.
  std::vector<size_t> slotSeq;
  size_t active = 0;

  std::vector<std::pair<std::string, Tensor>> selfCaches;
  std::vector<std::pair<std::string, Tensor>> crossKV;
  Tensor ids, positions, cacheLengths, srcLengths;
};

} // namespace

absl::Status CachedGreedy::allocate(size_t batch) {
  auto stepInputs = artifact.runtimeInputs("step");
  if (stepInputs.empty())
    return absl::FailedPreconditionError(
        "the artifact has no 'step' entry (compiled by an older tfmc?); "
        "recompile it, or decode with --no-cache");
  int64_t b = batch;
  for (const auto &[name, spec] : stepInputs) {
    if (!spec.inout)
      continue;
    if (spec.dims.size() != 4 || spec.dims[1] < 0 || spec.dims[3] < 0)
      return absl::InternalError(
          absl::StrCat("step input '", name,
                       "' is not a [batch, heads, ?, head_dim] cache"));
    auto cache = Tensor::allocate(DType::F32,
                                  {b, spec.dims[1], c.maxSeqLen, spec.dims[3]});
    if (!cache.ok())
      return cache.status();
    selfCaches.push_back({name, std::move(*cache)});
  }
  for (Tensor *t : {&ids, &positions, &cacheLengths, &srcLengths}) {
    std::vector<int64_t> shape{b};
    if (t == &ids)
      shape.push_back(1);
    auto allocated = Tensor::allocate(DType::I32, shape);
    if (!allocated.ok())
      return allocated.status();
    *t = std::move(*allocated);
  }
  slotSeq.resize(batch);
  for (size_t i = 0; i < batch; ++i)
    slotSeq[i] = i;
  active = batch;
  return absl::OkStatus();
}

void CachedGreedy::advance(size_t seq, const float *logits) {
  if (done[seq])
    return;
  int64_t next = std::max_element(logits, logits + c.tgtVocabSize) - logits;
  if (next == c.eosId) {
    done[seq] = true;
    return;
  }
  seqs[seq].push_back(next);
  int64_t generated = seqs[seq].size() - promptLength[seq];
  done[seq] = generated >= maxNewTokens ||
              static_cast<int64_t>(seqs[seq].size()) >= c.maxSeqLen;
}

void CachedGreedy::moveSlot(size_t from, size_t to) {
  // The cache rows written so far (at most the sequence's length).
  size_t seq = slotSeq[from];
  int64_t written = std::min<int64_t>(seqs[seq].size(), c.maxSeqLen);
  for (auto &[name, cache] : selfCaches) {
    int64_t heads = cache.dim(1), capacity = cache.dim(2), dim = cache.dim(3);
    float *base = cache.data<float>();
    for (int64_t h = 0; h < heads; ++h)
      std::memcpy(base + ((to * heads + h) * capacity) * dim,
                  base + ((from * heads + h) * capacity) * dim,
                  written * dim * sizeof(float));
  }
  for (auto &[name, kv] : crossKV) {
    size_t row = kv.numElements() / kv.dim(0);
    float *base = kv.data<float>();
    std::memcpy(base + to * row, base + from * row, row * sizeof(float));
  }
  int32_t *lengths = srcLengths.data<int32_t>();
  lengths[to] = lengths[from];
  slotSeq[to] = seq;
}

void CachedGreedy::compact() {
  // From the back: every slot after `slot` is running when it is visited.
  for (size_t slot = active; slot-- > 0;) {
    if (!done[slotSeq[slot]])
      continue;
    if (slot != active - 1)
      moveSlot(active - 1, slot);
    --active;
  }
}

absl::Status CachedGreedy::start(const Sequences &src) {
  size_t batch = src.size();
  auto srcPadded = pad(src, c.padId);
  if (!srcPadded.ok())
    return srcPadded.status();
  if (c.architecture == ModelArchitecture::EncoderDecoder) {
    auto memory = encode(artifact, *srcPadded);
    if (!memory.ok())
      return memory.status();
    auto kv = artifact.call("cross_kv", {{"memory", &*memory}});
    if (!kv.ok())
      return kv.status();
    for (size_t i = 0; i < kv->size(); ++i)
      crossKV.push_back({absl::StrCat(i % 2 ? "cross_v." : "cross_k.", i / 2),
                         std::move((*kv)[i])});
    std::memcpy(srcLengths.data<int32_t>(), srcPadded->lengths.data<int32_t>(),
                batch * sizeof(int32_t));
    seqs.assign(batch, {c.bosId});
  } else {
    // The prompts in one pass, their keys and values written from position
    // 0; the next token of each from its last prompt position.
    seqs = src;
    std::memset(positions.data<int32_t>(), 0, batch * sizeof(int32_t));
    NamedInputs inputs{{"tgt_ids", &srcPadded->ids},
                       {"tgt_lengths", &srcPadded->lengths},
                       {"positions", &positions}};
    for (auto &[name, cache] : selfCaches)
      inputs.push_back({name, &cache});
    auto logits = single(artifact.call("prefill", inputs));
    if (!logits.ok())
      return logits.status();
    promptLength.resize(batch);
    done.assign(batch, false);
    for (size_t b = 0; b < batch; ++b) {
      promptLength[b] = seqs[b].size();
      done[b] = static_cast<int64_t>(seqs[b].size()) >= c.maxSeqLen ||
                maxNewTokens <= 0;
      advance(b,
              logits->data<float>() +
                  (b * srcPadded->width + seqs[b].size() - 1) * c.tgtVocabSize);
    }
    return absl::OkStatus();
  }
  promptLength.assign(batch, 1);
  done.assign(batch, maxNewTokens <= 0);
  return absl::OkStatus();
}

absl::Status CachedGreedy::step() {
  int32_t *id = ids.data<int32_t>(), *pos = positions.data<int32_t>(),
          *len = cacheLengths.data<int32_t>();
  for (size_t slot = 0; slot < active; ++slot) {
    const std::vector<int64_t> &seq = seqs[slotSeq[slot]];
    // The last token goes in at its position; the cache then holds the
    // whole sequence.
    id[slot] = static_cast<int32_t>(seq.back());
    pos[slot] = static_cast<int32_t>(seq.size() - 1);
    len[slot] = static_cast<int32_t>(seq.size());
  }
  int64_t b = active;
  std::vector<Tensor> views;
  views.reserve(4 + selfCaches.size() + crossKV.size());
  NamedInputs inputs;
  auto add = [&](const std::string &name, Tensor &t) {
    views.push_back(rows(t, b));
    inputs.push_back({name, &views.back()});
  };
  add("tgt_ids", ids);
  add("positions", positions);
  add("cache_lengths", cacheLengths);
  if (!crossKV.empty())
    add("src_lengths", srcLengths);
  for (auto &[name, kv] : crossKV)
    add(name, kv);
  for (auto &[name, cache] : selfCaches)
    add(name, cache);
  auto logits = single(artifact.call("step", inputs));
  if (!logits.ok())
    return logits.status();
  for (size_t slot = 0; slot < active; ++slot)
    advance(slotSeq[slot], logits->data<float>() + slot * c.tgtVocabSize);
  return absl::OkStatus();
}

absl::StatusOr<Sequences> CachedGreedy::run(const Sequences &src,
                                            GenerateStats *stats) {
  if (absl::Status s = allocate(src.size()); !s.ok())
    return s;
  auto begin = std::chrono::steady_clock::now();
  if (absl::Status s = start(src); !s.ok())
    return s;
  if (stats)
    stats->encodeSeconds = secondsSince(begin);
  compact();
  while (active > 0) {
    auto stepStart = std::chrono::steady_clock::now();
    if (absl::Status s = step(); !s.ok())
      return s;
    compact();
    if (stats)
      stats->stepSeconds.push_back(secondsSince(stepStart));
  }
  Sequences generated(seqs.size());
  for (size_t b = 0; b < seqs.size(); ++b)
    generated[b].assign(seqs[b].begin() + promptLength[b], seqs[b].end());
  return generated;
}

absl::StatusOr<Sequences> tfm::greedy(const Artifact &artifact,
                                      const Sequences &src,
                                      int64_t maxNewTokens,
                                      GenerateStats *stats, bool useCache) {
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
  if (!useCache)
    return greedyRecompute(artifact, src, maxNewTokens, stats);
  return CachedGreedy(artifact, maxNewTokens).run(src, stats);
}
