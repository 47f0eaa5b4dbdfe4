//===- attention_bench.cpp - Attention alone, fused vs unfused ------------===//
//
// Batch 1, 8 heads, head dim 64, seq 128..2048; no mask, causal, half the keys
// padded; tfm's fused kernel against tfm's own unfused lowering (tfmc
// --no-fuse), both compiled from bench/attention.mlir. GFLOPS count
// 4 * S * S * D per head for every kind (so skipped work shows as speed).
// The first call of each configuration is reported apart (first_ms).
//
//   attention_bench [benchmark flags]
//   attention_bench --peak-memory S    peak memory of one fused call at S
//
//===----------------------------------------------------------------------===//

#include "bench/Peak.h"
#include "runtime/Module.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <sys/resource.h>

using namespace tfm;

namespace {
constexpr int64_t kHeads = 8, kDim = 64;

std::unique_ptr<CompiledModule> load(const char *path) {
  auto m = CompiledModule::load(path);
  if (!m.ok()) {
    std::fprintf(stderr, "attention_bench: %s\n",
                 std::string(m.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*m);
}

Tensor randomTensor(int64_t s, uint32_t seed) {
  Tensor t = *Tensor::allocateUninitialized(DType::F32, {1, kHeads, s, kDim});
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  float *p = t.data<float>();
  for (int64_t i = 0; i < t.numElements(); ++i)
    p[i] = dist(rng);
  return t;
}

struct Inputs {
  Tensor q, k, v, halfLengths;
};

Inputs makeInputs(int64_t s) {
  Inputs in{randomTensor(s, 1), randomTensor(s, 2), randomTensor(s, 3),
            *Tensor::allocate(DType::I32, {1})};
  in.halfLengths.data<int32_t>()[0] = static_cast<int32_t>(s / 2);
  return in;
}

const Inputs &inputs(int64_t s) {
  static std::map<int64_t, Inputs> cache;
  auto it = cache.find(s);
  if (it == cache.end())
    it = cache.emplace(s, makeInputs(s)).first;
  return it->second;
}

void call(const CompiledModule &m, const std::string &entry,
          const std::vector<const Tensor *> &args) {
  auto r = m.call(entry, args);
  if (!r.ok()) {
    std::fprintf(stderr, "attention_bench: %s\n",
                 std::string(r.status().message()).c_str());
    std::exit(1);
  }
  benchmark::DoNotOptimize(r->front().rawData());
}

void runAttention(benchmark::State &state, const CompiledModule *module,
                  std::string kind) {
  int64_t s = state.range(0);
  const Inputs &in = inputs(s);
  std::vector<const Tensor *> args{&in.q, &in.k, &in.v};
  std::string entry = "attention";
  if (kind == "causal")
    entry = "attention_causal";
  if (kind == "padded") {
    entry = "attention_padded";
    args.push_back(&in.halfLengths);
  }
  auto start = std::chrono::steady_clock::now();
  call(*module, entry, args);
  double firstMs = std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  for (auto _ : state)
    call(*module, entry, args);
  state.counters["GFLOPS"] =
      benchmark::Counter(4.0 * s * s * kDim * kHeads / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["first_ms"] = firstMs;
}

int peakMemory(int64_t s, const CompiledModule &fused) {
  const Inputs &in = inputs(s);
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  call(fused, "attention", {&in.q, &in.k, &in.v});
  getrusage(RUSAGE_SELF, &after);
  double inputMb = 3.0 * in.q.byteSize() / (1 << 20);
  double outputMb = in.q.byteSize() / double(1 << 20);
  double growthMb = (after.ru_maxrss - before.ru_maxrss) / 1024.0;
  std::printf("peak memory, fused attention at seq %lld (batch 1, 8 heads, "
              "head dim 64):\n  inputs %.1f MB, output %.1f MB, peak "
              "resident growth during the call %.1f MB -> %.2f MB above "
              "inputs + output\n",
              static_cast<long long>(s), inputMb, outputMb, growthMb,
              growthMb - outputMb);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  // Freed blocks go back to the heap, not to the kernel: a call's buffers
  // reuse pages already touched (first touch costs ~10 us per 4 KiB page
  // here), as a session's memory plan will.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  static auto fused = load(TFM_ATTENTION_FUSED);
  static auto unfused = load(TFM_ATTENTION_UNFUSED);

  if (argc == 3 && std::strcmp(argv[1], "--peak-memory") == 0)
    return peakMemory(std::atoll(argv[2]), *fused);

  tfm::bench::registerPeakBenchmarks();
  for (const char *kind : {"none", "causal", "padded"})
    for (auto [name, module] :
         {std::pair{"fused", fused.get()}, std::pair{"unfused", unfused.get()}})
      benchmark::RegisterBenchmark(
          (std::string("BM_Attention/") + name + "/" + kind).c_str(),
          runAttention, module, std::string(kind))
          ->Arg(128)
          ->Arg(512)
          ->Arg(1024)
          ->Arg(2048)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
