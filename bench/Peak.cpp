//===- Peak.cpp - FP32 FMA peak of one core, memory bandwidth -------------===//
//
// BM_FmaPeak: 16 independent accumulators cover two FMA pipes of latency 4
// with room to spare; the loop is long enough that its overhead is noise.
// BM_Bf16Peak: the same with vdpbf16ps (AVX512-BF16; skipped without it),
// 4 flops per lane per instruction.
// BM_Triad/T: STREAM's triad over 256 MB (far past the caches) on T threads.
//
//===----------------------------------------------------------------------===//

#include "bench/Peak.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {
[[noreturn]] void fail(const std::string &message) {
  // glibc's name of the running program (matmul_bench, machine_bench, ...).
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
               message.c_str());
  std::exit(1);
}

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

/// 16 independent chains of vdpbf16ps (AVX512-BF16): per instruction 16
/// lanes x 2 products x 2 flops (multiply, add).
__attribute__((target("avx512f,avx512bf16"), noinline)) float
dpbf16Loop(int64_t iters, float seed) {
  __m512 a[16];
  for (int i = 0; i < 16; ++i)
    a[i] = _mm512_set1_ps(seed + i);
  const __m512bh x =
      _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      a[i] = _mm512_dpbf16_ps(a[i], x, x);
  }
  __m512 s = a[0];
  for (int i = 1; i < 16; ++i)
    s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

void BM_Bf16Peak(benchmark::State &state) {
  if (!__builtin_cpu_supports("avx512bf16")) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  const int64_t iters = 1 << 20;
  float seed = 1.0f;
  for (auto _ : state) {
    benchmark::DoNotOptimize(seed);
    benchmark::DoNotOptimize(dpbf16Loop(iters, seed));
  }
  // 16 accumulators x 16 lanes x 2 products x 2 flops per iteration.
  state.counters["GFLOPS"] =
      benchmark::Counter(double(iters) * 16 * 16 * 4 / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

/// STREAM's triad a = b + s * c over [begin, end).
__attribute__((target("avx512f"), noinline)) void
triad(float *a, const float *b, const float *c, float s, int64_t begin,
      int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    a[i] = b[i] + s * c[i];
}

/// Runs body(begin, end) over [0, n) split in `threads` parts, part 0 on the
/// calling thread.
template <typename Body>
void parallelFor(int64_t n, int threads, const Body &body) {
  std::vector<std::thread> workers;
  auto part = [&](int t) { return n * t / threads / 16 * 16; };
  for (int t = 1; t < threads; ++t)
    workers.emplace_back(
        [&, t] { body(part(t), t + 1 == threads ? n : part(t + 1)); });
  body(0, threads == 1 ? n : part(1));
  for (std::thread &w : workers)
    w.join();
}

/// STREAM triad over three arrays totalling 256 MB; GB/s counts the three
/// arrays once per pass, as STREAM does (the write-allocate read of `a` is
/// not counted). range(0) threads, each on its own contiguous part.
void BM_Triad(benchmark::State &state) {
  const int threads = int(state.range(0));
  const int64_t n = (int64_t(256) << 20) / (3 * sizeof(float)) / 64 * 64;
  static float *a, *b, *c;
  if (!a) {
    a = static_cast<float *>(std::aligned_alloc(64, n * sizeof(float)));
    b = static_cast<float *>(std::aligned_alloc(64, n * sizeof(float)));
    c = static_cast<float *>(std::aligned_alloc(64, n * sizeof(float)));
    if (!a || !b || !c)
      fail("out of memory for the triad");
    // First touch, off the clock.
    parallelFor(n, threads, [](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
      }
    });
  }
  float s = 3.0f;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s);
    parallelFor(n, threads, [s](int64_t begin, int64_t end) {
      triad(a, b, c, s, begin, end);
    });
    benchmark::ClobberMemory();
  }
  if (a[n - 1] != 1.0f + s * 2.0f)
    fail("triad computed a wrong value");
  state.counters["GB/s"] =
      benchmark::Counter(3.0 * n * sizeof(float) / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}
} // namespace

void tfm::bench::registerPeakBenchmarks() {
  benchmark::RegisterBenchmark("BM_FmaPeak", BM_FmaPeak)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_Bf16Peak", BM_Bf16Peak)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

void tfm::bench::registerTriadBenchmarks() {
  benchmark::RegisterBenchmark("BM_Triad", BM_Triad)
      ->Arg(1)
      ->Arg(2)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}
