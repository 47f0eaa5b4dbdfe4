//===- Sampling.h - Choosing the next token -----------------------*- C++
//-*-===//
//
// What transformers' generate() does with a step's logits before it takes a
// token, for the settings tfm-run exposes: the repetition penalty, then
// greedy (the first largest score) or sampling (temperature, top-k, top-p,
// then a draw from the softmax of what is left), as its logits processors
// do, in that order.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_SAMPLING_H
#define TFM_RUNTIME_SAMPLING_H

#include "absl/status/status.h"
#include "absl/types/span.h"

#include <cstdint>
#include <vector>

namespace tfm {

/// transformers' GenerationConfig fields of the same names (its defaults).
struct SamplingParams {
  bool doSample = false;
  double temperature = 1.0;
  /// 0: off.
  int64_t topK = 50;
  /// 1: off.
  double topP = 1.0;
  /// 1: off. A token already in the context has its score divided by it
  /// (multiplied when negative).
  double repetitionPenalty = 1.0;
  /// Each sequence of a batch draws from its own stream, seeded with the
  /// seed and the sequence's index: the same seed gives the same tokens,
  /// whatever the batch's other sequences and the thread count.
  uint64_t seed = 0;

  /// Whether the values are in range (temperature > 0 when sampling,
  /// top_k >= 0, 0 < top_p <= 1, repetition_penalty > 0).
  absl::Status check() const;
  /// Whether choosing a token needs more than the first largest logit.
  bool needsScores() const { return doSample || repetitionPenalty != 1.0; }
};

/// A small, fixed random stream (SplitMix64): the same numbers on every
/// platform and compiler, unlike the standard distributions.
class RandomStream {
public:
  explicit RandomStream(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }

private:
  uint64_t state_;
};

/// Chooses tokens for one sequence.
class TokenSampler {
public:
  TokenSampler(const SamplingParams &params, size_t sequence);

  /// The next token from `logits` [vocab]: `context` (the tokens so far: a
  /// decoder's prompt and generated tokens, an encoder-decoder's decoder
  /// tokens) gets the repetition penalty; tokens in `banned` are never
  /// taken. -1 when every token is banned.
  int64_t choose(absl::Span<const float> logits,
                 absl::Span<const int64_t> context,
                 absl::Span<const int64_t> banned);

  /// The probabilities the draw uses after the processors (0 for a token
  /// that cannot be drawn), for tests: sampling only.
  std::vector<double> probabilities(absl::Span<const float> logits,
                                    absl::Span<const int64_t> context,
                                    absl::Span<const int64_t> banned);

private:
  /// The processed scores into scores_ (-inf: never), then, when sampling,
  /// the probabilities into probs_.
  void process(absl::Span<const float> logits,
               absl::Span<const int64_t> context,
               absl::Span<const int64_t> banned);

  SamplingParams params_;
  RandomStream random_;
  std::vector<double> scores_;
  std::vector<double> probs_;
  std::vector<int64_t> order_;
};

} // namespace tfm

#endif // TFM_RUNTIME_SAMPLING_H
