//===- DecodeSession.cpp - Incremental decoding with KV caches ------------===//

#include "runtime/DecodeSession.h"
#include "runtime/Forward.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>
#include <limits>

using namespace tfm;

//===----------------------------------------------------------------------===//
// Decoding with a KV cache
//===----------------------------------------------------------------------===//

/// A tensor's first `batch` rows (dimension 0), as a view that owns nothing.
static Tensor rows(Tensor &t, int64_t batch) {
  std::vector<int64_t> shape = t.shape();
  shape[0] = batch;
  return Tensor::adopt(t.dtype(), std::move(shape), nullptr, t.rawData(), 0);
}

absl::Status DecodeSession::allocate(size_t batch, size_t capacity,
                                     int64_t tokens) {
  running_ = batch;
  capacity = std::max(batch, capacity);
  slotSequence_.resize(capacity);
  length_.assign(capacity, 0);
  for (size_t i = 0; i < batch; ++i)
    slotSequence_[i] = i;
  if (capacity <= capacity_ && tokens == tokens_) {
    // Stale rows past each sequence's length are never attended to.
    return absl::OkStatus();
  }
  selfScratch_.clear();
  crossScratch_.clear();
  batch = capacity;
  const ArtifactConfig &c = artifact_.config();
  auto stepInputs = artifact_.runtimeInputs("step");
  if (stepInputs.empty())
    return absl::FailedPreconditionError(
        "the artifact has no 'step' entry (compiled by an older tfmc?); "
        "recompile it, or decode with --no-cache");
  vocab_ = c.tgtVocabSize;
  int64_t b = batch;
  selfCaches_.clear();
  // Up front: caches that cannot fit in this machine's memory are one error
  // naming their size, not minutes of paging before the allocator fails.
  uint64_t cacheBytes = 0;
  for (const auto &[name, spec] : stepInputs) {
    if (!spec.inout)
      continue;
    if (spec.dims.size() != 4 || spec.dims[1] < 0 || spec.dims[3] < 0)
      return absl::InternalError(
          absl::StrCat("step input '", name,
                       "' is not a [batch, heads, ?, head_dim] cache"));
    auto count =
        checkedNumElements(DType::F32, {b, spec.dims[1], tokens, spec.dims[3]});
    if (!count.ok() ||
        __builtin_add_overflow(cacheBytes, uint64_t(*count) * 4, &cacheBytes))
      cacheBytes = UINT64_MAX;
  }
  uint64_t memory = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  if (cacheBytes > memory)
    return absl::ResourceExhaustedError(absl::StrCat(
        "the KV cache of ", b, " sequences of up to ", tokens,
        " tokens would take ",
        cacheBytes == UINT64_MAX ? std::string("more than 2^64 bytes")
                                 : absl::StrCat(cacheBytes >> 20, " MiB"),
        ", more than this machine's memory (", memory >> 20, " MiB)"));
  for (const auto &[name, spec] : stepInputs) {
    if (!spec.inout)
      continue;
    // Zero-filled: every page is touched once, here, not during a step.
    TFM_ASSIGN_OR_RETURN(
        auto cache,
        Tensor::allocate(DType::F32, {b, spec.dims[1], tokens, spec.dims[3]}));
    selfCaches_.push_back({name, std::move(cache)});
  }
  for (Tensor *t : {&ids_, &positions_, &cacheLengths_, &srcLengths_}) {
    std::vector<int64_t> shape{b};
    if (t == &ids_)
      shape.push_back(1);
    TFM_ASSIGN_OR_RETURN(auto allocated, Tensor::allocate(DType::I32, shape));
    *t = std::move(allocated);
  }
  capacity_ = batch;
  tokens_ = tokens;
  return absl::OkStatus();
}

absl::Status tfm::checkDecodable(const ArtifactConfig &c,
                                 const Sequences &src) {
  if (c.architecture == ModelArchitecture::Encoder)
    return absl::InvalidArgumentError(
        "an encoder-only model does not generate; use --logits for its "
        "hidden states");
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  return checkSequences(src, withEncoder ? c.srcVocabSize : c.tgtVocabSize,
                        c.maxSeqLen, "src");
}

absl::Status DecodeSession::start(const Sequences &src, size_t capacity,
                                  int64_t maxNewTokens) {
  const ArtifactConfig &c = artifact_.config();
  TFM_RETURN_IF_ERROR(checkDecodable(c, src));
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  size_t batch = src.size();
  // The cache holds the decoder's tokens: bos_id or the prompt, then one per
  // step; no more than the request can reach, never more than max_seq_len.
  int64_t tokens = c.maxSeqLen;
  if (maxNewTokens >= 0) {
    int64_t prefix = 1;
    if (!withEncoder)
      for (const std::vector<int64_t> &prompt : src)
        prefix = std::max<int64_t>(prefix, prompt.size());
    tokens = std::min<int64_t>(c.maxSeqLen,
                               prefix + std::min(maxNewTokens, c.maxSeqLen));
  }
  TFM_RETURN_IF_ERROR(allocate(batch, capacity, tokens));
  BufferPoolScope scope(&pool_);
  TFM_ASSIGN_OR_RETURN(auto srcPadded, padBatch(src, c.padId));
  crossKV_.clear();
  crossScratch_.clear();
  if (withEncoder) {
    TFM_ASSIGN_OR_RETURN(auto memory, runEncoder(artifact_, srcPadded));
    TFM_ASSIGN_OR_RETURN(auto kv,
                         artifact_.call("cross_kv", {{"memory", &memory}}));
    for (size_t i = 0; i < kv.size(); ++i)
      crossKV_.push_back({absl::StrCat(i % 2 ? "cross_v." : "cross_k.", i / 2),
                          std::move(kv[i])});
    std::memcpy(srcLengths_.data<int32_t>(), srcPadded.lengths.data<int32_t>(),
                batch * sizeof(int32_t));
    TFM_RETURN_IF_ERROR(prepareStep());
    // The decoder starts from bos_id at position 0.
    std::vector<int64_t> bos(batch, c.bosId);
    return step(bos);
  }
  // The prompts in one pass, their keys and values written from position 0;
  // the logits of each prompt's last position ([batch, 1, vocab]) predict
  // its next token.
  std::memset(positions_.data<int32_t>(), 0, batch * sizeof(int32_t));
  std::vector<Tensor> views;
  views.reserve(1 + selfCaches_.size());
  views.push_back(rows(positions_, batch));
  NamedInputs inputs{{"tgt_ids", &srcPadded.ids},
                     {"tgt_lengths", &srcPadded.lengths},
                     {"positions", &views.back()}};
  for (auto &[name, cache] : selfCaches_) {
    views.push_back(rows(cache, batch));
    inputs.push_back({name, &views.back()});
  }
  TFM_ASSIGN_OR_RETURN(auto logits,
                       singleResult(artifact_.call("prefill", inputs)));
  if (logits.shape() !=
      std::vector<int64_t>{static_cast<int64_t>(batch), 1, vocab_})
    return absl::InternalError(absl::StrCat(
        "the 'prefill' entry returned ", logits.typeString(),
        ", not the last position's logits [", batch, ", 1, ", vocab_,
        "] (compiled by an older tfmc?); recompile the model"));
  for (size_t b = 0; b < batch; ++b)
    length_[b] = src[b].size();
  prefillLogits_ = std::move(logits);
  logits_ = prefillLogits_.data<float>();
  return prepareStep();
}

absl::Status DecodeSession::prepareStep() {
  NamedInputs inputs{{"tgt_ids", &ids_},
                     {"positions", &positions_},
                     {"cache_lengths", &cacheLengths_}};
  if (!crossKV_.empty())
    inputs.push_back({"src_lengths", &srcLengths_});
  for (auto &[name, kv] : crossKV_)
    inputs.push_back({name, &kv});
  for (auto &[name, cache] : selfCaches_)
    inputs.push_back({name, &cache});
  std::vector<std::string> batched;
  for (const auto &[name, tensor] : inputs)
    batched.push_back(name);
  TFM_ASSIGN_OR_RETURN(auto call, artifact_.prepare("step", inputs, batched));
  stepCall_ = std::move(call);
  return absl::OkStatus();
}

absl::Status DecodeSession::step(absl::Span<const int64_t> tokens) {
  const ArtifactConfig &c = artifact_.config();
  if (tokens.size() != running_)
    return absl::InvalidArgumentError(
        absl::StrCat("a step takes one token per running sequence: ", running_,
                     ", got ", tokens.size()));
  int32_t *id = ids_.data<int32_t>(), *pos = positions_.data<int32_t>(),
          *len = cacheLengths_.data<int32_t>();
  for (size_t slot = 0; slot < running_; ++slot) {
    if (tokens[slot] < 0 || tokens[slot] >= c.tgtVocabSize)
      return absl::InvalidArgumentError(absl::StrCat(
          "token ", tokens[slot], " of sequence ", slotSequence_[slot],
          " is out of range [0, ", c.tgtVocabSize, ")"));
    if (length_[slot] >= c.maxSeqLen)
      return absl::OutOfRangeError(
          absl::StrCat("sequence ", slotSequence_[slot],
                       " has reached max_seq_len ", c.maxSeqLen));
    if (length_[slot] >= tokens_)
      return absl::OutOfRangeError(absl::StrCat(
          "sequence ", slotSequence_[slot], " has filled its KV cache (",
          tokens_, " tokens: the start's max_new_tokens)"));
    // The token goes in at the next position; the cache then holds it too.
    id[slot] = static_cast<int32_t>(tokens[slot]);
    pos[slot] = static_cast<int32_t>(length_[slot]);
    len[slot] = static_cast<int32_t>(length_[slot] + 1);
  }
  TFM_RETURN_IF_ERROR(runStep());
  for (size_t slot = 0; slot < running_; ++slot)
    ++length_[slot];
  return absl::OkStatus();
}

absl::Status DecodeSession::runStep() {
  BufferPoolScope scope(&pool_);
  stepCall_.setBatch(running_);
  TFM_RETURN_IF_ERROR(stepCall_.run(stepResults_));
  if (stepResults_.size() != 1)
    return absl::InternalError("the step entry returned more than logits");
  logits_ = stepResults_.front().data<float>();
  return absl::OkStatus();
}

void DecodeSession::moveSlot(size_t from, size_t to) {
  int64_t written = length_[from];
  for (auto &[name, cache] : selfCaches_) {
    int64_t heads = cache.dim(1), capacity = cache.dim(2), dim = cache.dim(3);
    float *base = cache.data<float>();
    for (int64_t h = 0; h < heads; ++h)
      std::memcpy(base + ((to * heads + h) * capacity) * dim,
                  base + ((from * heads + h) * capacity) * dim,
                  written * dim * sizeof(float));
  }
  for (auto &[name, kv] : crossKV_) {
    size_t row = kv.numElements() / kv.dim(0);
    float *base = kv.data<float>();
    std::memcpy(base + to * row, base + from * row, row * sizeof(float));
  }
  int32_t *lengths = srcLengths_.data<int32_t>();
  lengths[to] = lengths[from];
  std::memcpy(logits_ + to * vocab_, logits_ + from * vocab_,
              vocab_ * sizeof(float));
  slotSequence_[to] = slotSequence_[from];
  length_[to] = length_[from];
}

absl::Status DecodeSession::extend(absl::Span<const int64_t> tokens) {
  if (slotSequence_.empty())
    return absl::FailedPreconditionError("extend() before start()");
  if (capacity_ != 1)
    return absl::FailedPreconditionError(
        "extend() continues a session of one sequence");
  running_ = 1;
  const ArtifactConfig &c = artifact_.config();
  // One token, or a model compiled before the extend entry: a step each.
  if (tokens.size() < 2 || !artifact_.hasEntry("extend")) {
    for (int64_t token : tokens)
      TFM_RETURN_IF_ERROR(step(absl::MakeConstSpan(&token, 1)));
    return absl::OkStatus();
  }
  int64_t count = static_cast<int64_t>(tokens.size());
  if (length_[0] + count > c.maxSeqLen)
    return absl::OutOfRangeError(absl::StrCat(
        "sequence 0 would pass max_seq_len ", c.maxSeqLen, ": ", length_[0],
        " tokens, ", count, " more"));
  if (length_[0] + count > tokens_)
    return absl::OutOfRangeError(
        absl::StrCat("sequence 0 would overfill its KV cache (", tokens_,
                     " tokens: the start's max_new_tokens)"));
  BufferPoolScope scope(&pool_);
  TFM_ASSIGN_OR_RETURN(Tensor ids, Tensor::allocate(DType::I32, {1, count}));
  for (int64_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.tgtVocabSize)
      return absl::InvalidArgumentError(
          absl::StrCat("token ", tokens[i], " is out of range [0, ",
                       c.tgtVocabSize, ")"));
    ids.data<int32_t>()[i] = static_cast<int32_t>(tokens[i]);
  }
  TFM_ASSIGN_OR_RETURN(Tensor lengths, Tensor::allocate(DType::I32, {1}));
  TFM_ASSIGN_OR_RETURN(Tensor positions, Tensor::allocate(DType::I32, {1}));
  TFM_ASSIGN_OR_RETURN(Tensor keyLengths, Tensor::allocate(DType::I32, {1}));
  lengths.data<int32_t>()[0] = static_cast<int32_t>(count);
  positions.data<int32_t>()[0] = static_cast<int32_t>(length_[0]);
  keyLengths.data<int32_t>()[0] = static_cast<int32_t>(length_[0] + count);
  std::vector<Tensor> views;
  views.reserve(selfCaches_.size());
  NamedInputs inputs{{"tgt_ids", &ids},
                     {"tgt_lengths", &lengths},
                     {"positions", &positions},
                     {"key_lengths", &keyLengths}};
  for (auto &[name, cache] : selfCaches_) {
    views.push_back(rows(cache, 1));
    inputs.push_back({name, &views.back()});
  }
  TFM_ASSIGN_OR_RETURN(auto logits,
                       singleResult(artifact_.call("extend", inputs)));
  if (logits.shape() != std::vector<int64_t>{1, 1, vocab_})
    return absl::InternalError(absl::StrCat(
        "the 'extend' entry returned ", logits.typeString(),
        ", not the last position's logits [1, 1, ", vocab_, "]"));
  length_[0] += count;
  prefillLogits_ = std::move(logits);
  logits_ = prefillLogits_.data<float>();
  return absl::OkStatus();
}

void DecodeSession::retire(const std::vector<bool> &finished) {
  // From the back: every slot after `slot` is running when it is visited.
  for (size_t slot = running_; slot-- > 0;) {
    if (slot >= finished.size() || !finished[slot])
      continue;
    if (slot != running_ - 1)
      moveSlot(running_ - 1, slot);
    --running_;
  }
}

absl::Status DecodeSession::reorder(absl::Span<const size_t> parents) {
  if (parents.size() > capacity_)
    return absl::InvalidArgumentError(absl::StrCat(
        "reorder to ", parents.size(), " slots, the session has ", capacity_));
  for (size_t parent : parents)
    if (parent >= running_)
      return absl::InvalidArgumentError(absl::StrCat(
          "reorder from slot ", parent, " of ", running_, " running"));
  // Built in scratch buffers, then swapped in: a parent's rows may be
  // needed after its own slot has been rewritten.
  auto rebuild = [&](Tensor &current, std::vector<Tensor> &scratch,
                     size_t index, bool writtenOnly) -> absl::Status {
    // Cross-attention rows start as the cross_kv results, one per source:
    // the scratch must hold every slot.
    if (scratch.size() <= index || scratch[index].dim(0) < int64_t(capacity_)) {
      std::vector<int64_t> shape = current.shape();
      shape[0] = capacity_;
      TFM_ASSIGN_OR_RETURN(auto t, Tensor::allocate(current.dtype(), shape));
      if (scratch.size() <= index)
        scratch.push_back(std::move(t));
      else
        scratch[index] = std::move(t);
    }
    Tensor &next = scratch[index];
    int64_t heads = current.dim(1), rows = current.dim(2), dim = current.dim(3);
    const float *from = current.data<float>();
    float *to = next.data<float>();
    for (size_t i = 0; i < parents.size(); ++i) {
      int64_t used = writtenOnly ? length_[parents[i]] : rows;
      for (int64_t h = 0; h < heads; ++h)
        std::memcpy(to + ((i * heads + h) * rows) * dim,
                    from + ((parents[i] * heads + h) * rows) * dim,
                    used * dim * sizeof(float));
    }
    std::swap(current, next);
    return absl::OkStatus();
  };
  for (size_t k = 0; k < selfCaches_.size(); ++k)
    TFM_RETURN_IF_ERROR(rebuild(selfCaches_[k].second, selfScratch_, k,
                                /*writtenOnly=*/true));
  for (size_t k = 0; k < crossKV_.size(); ++k)
    TFM_RETURN_IF_ERROR(rebuild(crossKV_[k].second, crossScratch_, k,
                                /*writtenOnly=*/false));
  std::vector<size_t> sequence(parents.size());
  std::vector<int64_t> length(parents.size());
  std::vector<int32_t> srcLength(parents.size());
  for (size_t i = 0; i < parents.size(); ++i) {
    sequence[i] = slotSequence_[parents[i]];
    length[i] = length_[parents[i]];
    srcLength[i] = srcLengths_.data<int32_t>()[parents[i]];
  }
  std::copy(sequence.begin(), sequence.end(), slotSequence_.begin());
  std::copy(length.begin(), length.end(), length_.begin());
  std::copy(srcLength.begin(), srcLength.end(), srcLengths_.data<int32_t>());
  running_ = parents.size();
  return absl::OkStatus();
}
