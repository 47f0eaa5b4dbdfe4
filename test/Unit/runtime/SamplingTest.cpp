//===- SamplingTest.cpp - The token choice's processors -------------------===//
//
// TokenSampler's probabilities against the definitions of transformers'
// warpers written out here on their own (softmax of logits / T; below the
// k-th largest out; the least likely tokens up to 1 - top_p of probability
// out), the repetition penalty's arithmetic, and the random streams'
// determinism. The draws' distribution is tested end to end
// (test/e2e/text/sampling.test).
//
//===----------------------------------------------------------------------===//

#include "runtime/Sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using namespace tfm;

namespace {

std::vector<double> reference(const std::vector<float> &logits, double t,
                              int64_t k, double p) {
  size_t n = logits.size();
  std::vector<double> s(n);
  for (size_t i = 0; i < n; ++i)
    s[i] = logits[i] / t;
  if (k > 0 && static_cast<size_t>(k) < n) {
    std::vector<double> sorted = s;
    std::sort(sorted.rbegin(), sorted.rend());
    for (double &v : s)
      if (v < sorted[k - 1])
        v = -std::numeric_limits<double>::infinity();
  }
  double max = *std::max_element(s.begin(), s.end()), sum = 0;
  std::vector<double> q(n);
  for (size_t i = 0; i < n; ++i)
    sum += q[i] = std::exp(s[i] - max);
  for (double &v : q)
    v /= sum;
  if (p < 1) {
    // Remove, least likely first, while the removed mass stays <= 1 - p.
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return s[a] < s[b] || (s[a] == s[b] && a < b);
    });
    double removed = 0;
    for (size_t j = 0; j + 1 < n; ++j) {
      if (removed + q[order[j]] > 1 - p)
        break;
      removed += q[order[j]];
      q[order[j]] = 0;
    }
    double kept = 0;
    for (double v : q)
      kept += v;
    for (double &v : q)
      v /= kept;
  }
  return q;
}

std::vector<float> randomLogits(size_t n, uint64_t seed) {
  RandomStream random(seed);
  std::vector<float> logits(n);
  for (float &v : logits)
    v = static_cast<float>(6 * random.uniform() - 3);
  return logits;
}

TEST(Sampling, ProbabilitiesAreTheWarpersDefinitions) {
  std::vector<float> logits = randomLogits(300, 1);
  struct Case {
    double t;
    int64_t k;
    double p;
  } cases[] = {{1, 0, 1},   {0.5, 0, 1},    {2, 0, 1},   {1, 10, 1},
               {1, 0, 0.5}, {0.7, 50, 0.9}, {1.3, 1, 1}, {1, 300, 0.99}};
  for (const Case &c : cases) {
    SCOPED_TRACE(testing::Message()
                 << "T=" << c.t << " k=" << c.k << " p=" << c.p);
    SamplingParams params;
    params.doSample = true;
    params.temperature = c.t;
    params.topK = c.k;
    params.topP = c.p;
    TokenSampler sampler(params, 0);
    std::vector<double> got = sampler.probabilities(logits, {}, {});
    std::vector<double> want = reference(logits, c.t, c.k, c.p);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], 1e-12) << "token " << i;
      EXPECT_EQ(got[i] == 0, want[i] == 0) << "token " << i;
    }
  }
}

TEST(Sampling, RepetitionPenaltyDividesOrMultiplies) {
  // Scores 2.0 and -0.9 of tokens in the context become 1.0 and -1.8 with
  // penalty 2: token 1 (1.9) is now the largest; token 0 counts once.
  std::vector<float> logits = {2.0f, 1.9f, -1.0f, -0.9f};
  SamplingParams params;
  params.repetitionPenalty = 2;
  TokenSampler sampler(params, 0);
  std::vector<int64_t> context = {0, 3, 0};
  EXPECT_EQ(sampler.choose(logits, context, {}), 1);
  EXPECT_EQ(sampler.choose(logits, {}, {}), 0);
  // Banned tokens are never chosen; all banned: none.
  std::vector<int64_t> banned = {0, 1};
  EXPECT_EQ(sampler.choose(logits, {}, banned), 3);
  std::vector<int64_t> all = {0, 1, 2, 3};
  EXPECT_EQ(sampler.choose(logits, {}, all), -1);
}

TEST(Sampling, SeedsReproduceAndSequencesDiffer) {
  std::vector<float> logits = randomLogits(50, 2);
  SamplingParams params;
  params.doSample = true;
  params.seed = 42;
  auto draws = [&](size_t sequence, uint64_t seed) {
    SamplingParams p = params;
    p.seed = seed;
    TokenSampler sampler(p, sequence);
    std::vector<int64_t> out;
    for (int i = 0; i < 64; ++i)
      out.push_back(sampler.choose(logits, {}, {}));
    return out;
  };
  EXPECT_EQ(draws(0, 42), draws(0, 42));
  EXPECT_NE(draws(0, 42), draws(1, 42));
  EXPECT_NE(draws(0, 42), draws(0, 43));
  // The stream is fixed: these numbers on every platform.
  RandomStream random(0);
  EXPECT_EQ(random.next(), 0xE220A8397B1DCDAFull);
}

TEST(Sampling, ParamsAreChecked) {
  SamplingParams p;
  p.doSample = true;
  EXPECT_TRUE(p.check().ok());
  p.temperature = 0;
  EXPECT_FALSE(p.check().ok());
  p.temperature = 1;
  p.topP = 0;
  EXPECT_FALSE(p.check().ok());
  p.topP = 1;
  p.topK = -1;
  EXPECT_FALSE(p.check().ok());
  p.topK = 0;
  p.repetitionPenalty = 0;
  EXPECT_FALSE(p.check().ok());
}

} // namespace
