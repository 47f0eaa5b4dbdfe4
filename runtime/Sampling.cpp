//===- Sampling.cpp - Choosing the next token -----------------------------===//

#include "runtime/Sampling.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace tfm;

absl::Status SamplingParams::check() const {
  if (!(repetitionPenalty > 0) || !std::isfinite(repetitionPenalty))
    return absl::InvalidArgumentError(
        absl::StrCat("the repetition penalty must be a number > 0, got ",
                     repetitionPenalty));
  if (!doSample)
    return absl::OkStatus();
  if (!(temperature > 0) || !std::isfinite(temperature))
    return absl::InvalidArgumentError(absl::StrCat(
        "the temperature must be a number > 0 to sample, got ", temperature));
  if (topK < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("top-k must be >= 0 (0: off), got ", topK));
  if (!(topP > 0 && topP <= 1))
    return absl::InvalidArgumentError(
        absl::StrCat("top-p must lie in (0, 1] (1: off), got ", topP));
  return absl::OkStatus();
}

uint64_t RandomStream::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TokenSampler::TokenSampler(const SamplingParams &params, size_t sequence)
    : params_(params), random_(RandomStream(params.seed).next() ^
                               (0xD1B54A32D192ED03ull * (sequence + 1))) {}

void TokenSampler::process(absl::Span<const float> logits,
                           absl::Span<const int64_t> context,
                           absl::Span<const int64_t> banned) {
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  int64_t vocab = static_cast<int64_t>(logits.size());
  scores_.assign(logits.begin(), logits.end());
  // RepetitionPenaltyLogitsProcessor: each token of the context once.
  if (params_.repetitionPenalty != 1.0) {
    std::vector<bool> seen(vocab);
    for (int64_t token : context) {
      if (token < 0 || token >= vocab || seen[token])
        continue;
      seen[token] = true;
      double &s = scores_[token];
      s = s < 0 ? s * params_.repetitionPenalty : s / params_.repetitionPenalty;
    }
  }
  for (int64_t token : banned)
    if (token >= 0 && token < vocab)
      scores_[token] = kNegInf;
  if (!params_.doSample)
    return;
  // TemperatureLogitsWarper.
  if (params_.temperature != 1.0)
    for (double &s : scores_)
      s /= params_.temperature;
  // TopKLogitsWarper: below the k-th largest score is out (ties stay).
  if (params_.topK > 0 && params_.topK < vocab) {
    std::vector<double> sorted = scores_;
    std::nth_element(sorted.begin(), sorted.begin() + (params_.topK - 1),
                     sorted.end(), std::greater<double>());
    double kth = sorted[params_.topK - 1];
    for (double &s : scores_)
      if (s < kth)
        s = kNegInf;
  }
  // Softmax of what is left.
  double max = *std::max_element(scores_.begin(), scores_.end());
  probs_.assign(vocab, 0.0);
  if (max == kNegInf)
    return;
  double sum = 0;
  for (int64_t t = 0; t < vocab; ++t)
    sum += probs_[t] = std::exp(scores_[t] - max);
  for (double &p : probs_)
    p /= sum;
  // TopPLogitsWarper: in ascending order of score, the tokens whose
  // cumulative probability is <= 1 - top_p are out; the most likely token
  // always stays.
  if (params_.topP < 1.0) {
    order_.resize(vocab);
    std::iota(order_.begin(), order_.end(), 0);
    // Ascending score, ties in token order (a stable sort, without
    // libstdc++'s deprecated temporary buffer).
    std::sort(order_.begin(), order_.end(), [&](int64_t a, int64_t b) {
      return scores_[a] < scores_[b] || (scores_[a] == scores_[b] && a < b);
    });
    double cumulative = 0;
    for (int64_t i = 0; i + 1 < vocab; ++i) {
      cumulative += probs_[order_[i]];
      if (cumulative > 1.0 - params_.topP)
        break;
      probs_[order_[i]] = 0;
    }
    double kept = 0;
    for (double p : probs_)
      kept += p;
    for (double &p : probs_)
      p /= kept;
  }
}

int64_t TokenSampler::choose(absl::Span<const float> logits,
                             absl::Span<const int64_t> context,
                             absl::Span<const int64_t> banned) {
  process(logits, context, banned);
  int64_t vocab = static_cast<int64_t>(logits.size());
  if (!params_.doSample) {
    int64_t best = -1;
    for (int64_t t = 0; t < vocab; ++t)
      if (scores_[t] != -std::numeric_limits<double>::infinity() &&
          (best < 0 || scores_[t] > scores_[best]))
        best = t;
    return best;
  }
  double u = random_.uniform();
  int64_t last = -1;
  for (int64_t t = 0; t < vocab; ++t) {
    if (probs_[t] <= 0)
      continue;
    last = t;
    if (u < probs_[t])
      return t;
    u -= probs_[t];
  }
  return last; // Rounding left u above the total: the last possible token.
}

std::vector<double>
TokenSampler::probabilities(absl::Span<const float> logits,
                            absl::Span<const int64_t> context,
                            absl::Span<const int64_t> banned) {
  process(logits, context, banned);
  return probs_;
}
