//===- Peak.cpp - FP32 FMA peak of one core -------------------------------===//
//
// 16 independent accumulators cover two FMA pipes of latency 4 with room to
// spare; the loop is long enough that its overhead is noise.
//
//===----------------------------------------------------------------------===//

#include "bench/Peak.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

namespace {
__attribute__((target("avx512f"), noinline)) float fmaLoop(int64_t iters,
                                                           float seed) {
  __m512 a[16];
  for (int i = 0; i < 16; ++i)
    a[i] = _mm512_set1_ps(seed + i);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      a[i] = _mm512_fmadd_ps(a[i], x, y);
  }
  __m512 s = a[0];
  for (int i = 1; i < 16; ++i)
    s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

void BM_FmaPeak(benchmark::State &state) {
  const int64_t iters = 1 << 20;
  float seed = 1.0f;
  for (auto _ : state) {
    // An opaque argument each time: the loop has no side effects, so with a
    // constant one the call would be hoisted out of the timing loop.
    benchmark::DoNotOptimize(seed);
    benchmark::DoNotOptimize(fmaLoop(iters, seed));
  }
  // 16 accumulators x 16 lanes x 2 flops per iteration.
  state.counters["GFLOPS"] =
      benchmark::Counter(double(iters) * 16 * 16 * 2 / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}
} // namespace

void tfm::bench::registerPeakBenchmarks() {
  benchmark::RegisterBenchmark("BM_FmaPeak", BM_FmaPeak)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}
