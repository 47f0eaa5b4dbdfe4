//===- DecodeSession.h - Incremental decoding with KV caches ----*- C++ -*-===//
//
// One batch decoded token by token: the encoder and the cross-attention
// keys and values once, the prompts in one pass, then a step per token
// against per-layer KV caches, on buffers reused from step to step.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_DECODESESSION_H
#define TFM_RUNTIME_DECODESESSION_H

#include "runtime/Artifact.h"
#include "runtime/Batch.h"
#include "runtime/BufferPool.h"

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>
#include <vector>

namespace tfm {

/// What decoding asks of a model and its sources: a decoder, and source
/// sequences (encoder-decoder) or prompts (decoder-only) in range.
absl::Status checkDecodable(const ArtifactConfig &c, const Sequences &src);

/// Decoding state for one batch. Not thread-safe; sessions are independent
/// (each has its own caches), so many may run at once on one Artifact, each
/// on its own thread.
///
/// The sequences still running occupy the first running() batch slots;
/// retire() removes finished ones (the last running sequence takes the slot
/// of a retired one), so they cost no further work.
class DecodeSession {
public:
  explicit DecodeSession(const Artifact &artifact) : artifact_(artifact) {}
  const Artifact &artifact() const { return artifact_; }

  /// Starts decoding `src` (checked as tfm::greedy checks it): the encoder
  /// once and the cross-attention keys and values once, then the first step
  /// from `bos_id` (encoder-decoder); the prompts in one pass (decoder-only).
  /// Afterwards logits(slot) predicts the next token of every sequence.
  /// `capacity` reserves batch slots for reorder() to grow into (beam
  /// search: sources times beams). `maxNewTokens` >= 0 sizes the KV cache
  /// for what the request can reach (the longest prompt, or bos_id, plus
  /// that many tokens) instead of max_seq_len; a step past it is an error.
  absl::Status start(const Sequences &src, size_t capacity = 0,
                     int64_t maxNewTokens = -1);

  /// Appends tokens[slot] to the sequence in each running slot and computes
  /// its next logits. Fails if a sequence would exceed max_seq_len.
  absl::Status step(absl::Span<const int64_t> tokens);

  /// Continues a session of one sequence, running or finished (retired):
  /// `tokens` go into its cache after what it holds, in one pass (the
  /// `extend` entry; a step each on a model compiled without it), and
  /// then logits(0) predicts the token after them. Nothing already in the
  /// cache is recomputed. Fails past max_seq_len or the cache start() sized.
  absl::Status extend(absl::Span<const int64_t> tokens);

  /// Removes the running sequences whose slot has finished[slot] set.
  void retire(const std::vector<bool> &finished);

  /// Rebuilds the running slots from the current ones: new slot i continues
  /// old slot parents[i] (its cache, source and length; parents may repeat,
  /// up to the capacity given to start()). The logits are those of the next
  /// step() only. Beam search uses it to follow the surviving beams.
  absl::Status reorder(absl::Span<const size_t> parents);

  size_t running() const { return running_; }
  /// The index (in the batch given to start()) of the sequence in `slot`.
  size_t sequence(size_t slot) const { return slotSequence_[slot]; }
  /// Tokens of the sequence in `slot` the cache holds (decoder side: the
  /// prompt or bos_id, then every token stepped).
  int64_t length(size_t slot) const { return length_[slot]; }
  /// The logits over tgt_vocab predicting the next token of `slot`.
  const float *logits(size_t slot) const { return logits_ + slot * vocab_; }
  int64_t vocabSize() const { return vocab_; }
  /// Where the compiled code's buffers come from during this session's
  /// calls (its statistics show that warm steps take nothing new).
  const BufferPool &bufferPool() const { return pool_; }

private:
  absl::Status allocate(size_t batch, size_t capacity, int64_t tokens);
  absl::Status prepareStep();
  absl::Status runStep();
  void moveSlot(size_t from, size_t to);

  const Artifact &artifact_;
  /// The module's buffers during this session's calls; declared before the
  /// tensors that hold its blocks (results), so that it outlives them.
  BufferPool pool_;
  int64_t vocab_ = 0;
  size_t capacity_ = 0; // Batch slots allocated.
  int64_t tokens_ = 0;  // Positions of the allocated caches.
  size_t running_ = 0;
  std::vector<size_t> slotSequence_;
  std::vector<int64_t> length_;

  /// [capacity, heads, tokens_, head_dim] per layer, keys and values.
  std::vector<std::pair<std::string, Tensor>> selfCaches_;
  /// Encoder-decoder: [batch, heads, src_len, head_dim] per layer.
  std::vector<std::pair<std::string, Tensor>> crossKV_;
  /// Where reorder() builds the next caches (allocated on first use).
  std::vector<Tensor> selfScratch_, crossScratch_;
  /// The small inputs of a step, [capacity] ([capacity, 1] for ids).
  Tensor ids_, positions_, cacheLengths_, srcLengths_;
  /// The step entry on this session's buffers, prepared by start(): a step
  /// allocates nothing but what the compiled code takes from the pool.
  PreparedCall stepCall_;
  std::vector<Tensor> stepResults_;
  /// The prompts' last-position logits (decoder-only start).
  Tensor prefillLogits_;
  /// The latest logits, [running, vocab]: a step's result or the above.
  float *logits_ = nullptr;
};

} // namespace tfm

#endif // TFM_RUNTIME_DECODESESSION_H
