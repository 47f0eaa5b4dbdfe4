//===- Generate.h - Running a compiled model on token sequences -*- C++ -*-===//
//
// What tfm-run does with an artifact: pad unpadded sequences into a
// rectangle (padding is defined by length, DESIGN.md), run the encoder once,
// teacher-forced forward passes, incremental decoding with a KV cache
// (DecodeSession), greedy decoding.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_GENERATE_H
#define TFM_RUNTIME_GENERATE_H

#include "runtime/Artifact.h"
#include "runtime/BufferPool.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm {

using Sequences = std::vector<std::vector<int64_t>>;

/// The batch of `tfm-run --inputs`: {"src": [[ids], ...], "tgt": [[ids],
/// ...], "token_type_ids": [[types], ...]} ("tgt" and "token_type_ids"
/// optional), unpadded.
struct BatchInputs {
  Sequences src;
  std::optional<Sequences> tgt, types;
};

/// Parses the text of such a file (strict JSON, no other field, integers
/// only; the model checks the values); errors start with `path`.
absl::StatusOr<BatchInputs> parseBatchInputs(std::string_view text,
                                             const std::string &path);

/// Checks that `batch` is not empty, that no sequence is empty or longer than
/// `maxLen`, and that every id is in [0, vocab). `what` names the batch in
/// messages ("src", "tgt").
absl::Status checkSequences(const Sequences &batch, int64_t vocab,
                            int64_t maxLen, std::string_view what);

/// What a forward pass takes besides the source sequences.
struct ForwardInputs {
  /// Encoder-decoder: the teacher-forced decoder inputs (required).
  const Sequences *tgt = nullptr;
  /// Models with token types (BERT): one type per source token (zeros when
  /// not given).
  const Sequences *types = nullptr;
  /// Where to put the pooled output [batch, d] of a model with a pooler
  /// (BERT's tanh(dense(h[:, 0]))); null: not wanted.
  Tensor *pooled = nullptr;
  /// Where the compiled code's buffers come from: a pool kept across calls
  /// serves the same sizes again from the second call on (no fresh pages to
  /// fault in); it must outlive the results. Null: the system.
  BufferPool *pool = nullptr;
};

/// The forward pass over whole sequences, in the layout of DESIGN.md:
/// encoder-decoder: teacher-forced logits [batch, tgt_len, tgt_vocab];
/// encoder: final hidden states [batch, src_len, d] (masked-LM logits
/// [batch, src_len, vocab] for a model with that head); decoder: logits over
/// the prompts `src` [batch, src_len, tgt_vocab]. Positions past a
/// sequence's length are zero.
absl::StatusOr<Tensor> forward(const Artifact &artifact, const Sequences &src,
                               const ForwardInputs &inputs = {});

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

/// Time spent in a greedy run, for --bench.
struct GenerateStats {
  double encodeSeconds = 0;
  /// One entry per decoder step.
  std::vector<double> stepSeconds;
};

/// Greedy decoding. Encoder-decoder: each output starts from `bos_id`;
/// decoder: each continues its prompt. Each sequence stops at its own
/// `eos_id` (or another of the config's eos ids; not included in the
/// result), after `maxNewTokens` tokens, or when it reaches `max_seq_len`.
/// The config's generation rules apply as transformers applies them: a
/// bad word's last token is never taken after the rest of it, and the last
/// token `maxNewTokens` allows is the forced eos when there is one. Returns
/// the generated tokens only.
///
/// With `useCache`, each step runs the decoder on one new token per running
/// sequence against per-layer KV caches (the `cross_kv`, `prefill` and
/// `step` entries); finished sequences leave the batch. Without, the decoder
/// re-runs over the whole prefix at each step (`decode`): the reference the
/// cached path must agree with token for token.
absl::StatusOr<Sequences> greedy(const Artifact &artifact, const Sequences &src,
                                 int64_t maxNewTokens,
                                 GenerateStats *stats = nullptr,
                                 bool useCache = true);

/// Greedy decoding with the cache on `session` (its buffers reused).
absl::StatusOr<Sequences> greedy(DecodeSession &session, const Sequences &src,
                                 int64_t maxNewTokens,
                                 GenerateStats *stats = nullptr);

/// Beam search with `beams` beams per sequence, on the KV cache. Each step
/// extends every live beam by its 2*beams most likely tokens, keeps the
/// `beams` best continuations by summed log-probability, and sets aside a
/// beam that ends in eos_id (among the `beams` best) as a hypothesis scored
/// sum / length^lengthPenalty (length: generated tokens plus eos). A
/// sequence is done when it has `beams` hypotheses and its best live beam,
/// normalized the same way, does not beat the beams-th best of them; at
/// maxNewTokens or max_seq_len the live beams become hypotheses. The
/// generation rules apply to the log-probabilities as in greedy(). Returns
/// the best hypothesis of each sequence (without eos). Ties go to the
/// earlier beam, then the smaller token id.
absl::StatusOr<Sequences> beamSearch(const Artifact &artifact,
                                     const Sequences &src, int64_t beams,
                                     int64_t maxNewTokens, double lengthPenalty,
                                     GenerateStats *stats = nullptr);

} // namespace tfm

#endif // TFM_RUNTIME_GENERATE_H
