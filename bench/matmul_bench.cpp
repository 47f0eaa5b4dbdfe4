//===- matmul_bench.cpp - tfm's linear layer vs OpenBLAS and oneDNN -------===//
//
// y = x * W^T with x [M, K] and W [N, K] (PyTorch's layout), on the shapes of
// issue 5: M=N=K=512, 1024, 2048; the transformer shapes (128, 2048, 512),
// (128, 512, 2048), (128, 1536, 512); the decode shapes (1, 512, 512) and
// (1, 32000, 512). Three implementations, same inputs:
//   BM_Tfm       the entry `linear_NxK` of bench/matmul.mlir (tfmc), called
//                through CompiledModule with x and the weight packed as
//                tfm.pack_weight does ([ceil(N/32)][K][32]);
//   BM_TfmBf16   `linear_bf16_NxK`: the weight rounded to bf16 (nearest,
//                ties to even) in k pairs ([ceil(N/32)][K/2][32][2]),
//                vdpbf16ps (skipped on a CPU without AVX512-BF16);
//   BM_TfmInt8   `linear_int8_NxK`: the weight as int8 with one scale per
//                feature (max |row| / 127), widened to f32 in registers;
//   BM_OpenBLAS  cblas_sgemm(RowMajor, NoTrans, Trans) into a preallocated C;
//   BM_OneDNN    dnnl_sgemm('N', 'T') (row-major) into a preallocated C.
// Benchmark names are BM_<impl>/M/N/K. GFLOPS counts 2*M*N*K per call; the
// M=1 shapes also report GB/s of weight read (N*K*4 bytes per call; as
// stored for bf16 and int8). Each
// implementation is checked once per shape against a double-precision
// reference before it is timed (exit 1 if wrong; for bf16 and int8 the
// reference takes the weights as stored, and for bf16 x rounded to bf16 as
// the kernel rounds it); its first call is reported
// apart (first_ms). In the same suite: BM_FmaPeak and BM_Triad/T, a STREAM
// triad over 256 MB on T threads (both in bench/Peak.cpp), so that
// percentages of peak and of bandwidth come from the same run.
//
// Threads are set from outside: OPENBLAS_NUM_THREADS for OpenBLAS,
// OMP_NUM_THREADS for oneDNN (Debian builds it on GNU OpenMP); the counts the
// libraries report are in the benchmark context. The libraries keep their
// worker threads spinning for a while after a call, so bench/matmul.sh runs
// each implementation in a process of its own (--benchmark_filter).
//
//   matmul_bench [benchmark flags]
//
//===----------------------------------------------------------------------===//

#include "bench/Peak.h"
#include "runtime/Module.h"

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits>
#include <malloc.h>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

// OpenBLAS's own entry points; its cblas.h declares them, Netlib's does not.
extern "C" int openblas_get_num_threads(void);
extern "C" char *openblas_get_corename(void);

using namespace tfm;

namespace {
/// The panel width of tfm.pack_weight.
constexpr int64_t kPanel = 32;

struct Shape {
  int64_t m, n, k;
};
constexpr Shape kShapes[] = {
    // Square.
    {512, 512, 512},
    {1024, 1024, 1024},
    {2048, 2048, 2048},
    // A transformer layer at 128 tokens, d_model 512: feed-forward up and
    // down (d_ff 2048), the fused QKV projection.
    {128, 2048, 512},
    {128, 512, 2048},
    {128, 1536, 512},
    // Decode steps: a projection, the vocabulary (32000) head.
    {1, 512, 512},
    {1, 32000, 512},
};

enum class Impl { Tfm, TfmBf16, TfmInt8, OpenBLAS, OneDNN };

const char *implName(Impl impl) {
  switch (impl) {
  case Impl::Tfm:
    return "tfm";
  case Impl::TfmBf16:
    return "tfm (bf16 weights)";
  case Impl::TfmInt8:
    return "tfm (int8 weights)";
  case Impl::OpenBLAS:
    return "OpenBLAS";
  case Impl::OneDNN:
    return "oneDNN";
  }
  return "?";
}

const char *benchmarkName(Impl impl) {
  switch (impl) {
  case Impl::Tfm:
    return "BM_Tfm";
  case Impl::TfmBf16:
    return "BM_TfmBf16";
  case Impl::TfmInt8:
    return "BM_TfmInt8";
  case Impl::OpenBLAS:
    return "BM_OpenBLAS";
  case Impl::OneDNN:
    return "BM_OneDNN";
  }
  return "?";
}

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "matmul_bench: %s\n", message.c_str());
  std::exit(1);
}

Tensor allocate(std::vector<int64_t> shape) {
  auto t = Tensor::allocateUninitialized(DType::F32, std::move(shape));
  if (!t.ok())
    fail(std::string(t.status().message()));
  return std::move(*t);
}

Tensor randomTensor(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = allocate(std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  float *p = t.data<float>();
  for (int64_t i = 0; i < t.numElements(); ++i)
    p[i] = dist(rng);
  return t;
}

/// tfm.pack_weight's layout: packed[p][k][j] = w[p * 32 + j][k], 0 past N.
Tensor packWeight(const float *w, int64_t n, int64_t k) {
  int64_t panels = (n + kPanel - 1) / kPanel;
  Tensor t = allocate({panels, k, kPanel});
  float *p = t.data<float>();
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t row = q * kPanel + j;
        p[(q * k + kk) * kPanel + j] = row < n ? w[row * k + kk] : 0.0f;
      }
  return t;
}

/// The bits of the bf16 nearest to `v` (finite), ties to even.
uint16_t toBF16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float fromBF16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

Tensor allocateTyped(DType dtype, std::vector<int64_t> shape) {
  auto t = Tensor::allocate(dtype, std::move(shape)); // zeroed
  if (!t.ok())
    fail(std::string(t.status().message()));
  return std::move(*t);
}

/// A weight [N, K], the same weight packed for tfm, and its bf16 and int8
/// forms: packed as the typed entries take them, and as the values they
/// stand for ([N, K] f32, for the references).
struct Weight {
  Tensor w, packed;
  Tensor bf16Pairs, bf16Values;
  Tensor int8, int8Scales, int8Values;
};

/// w in bf16 k pairs: [ceil(N/32)][K/2][32][2] (K even here).
void makeBf16(Weight &w, int64_t n, int64_t k) {
  int64_t panels = (n + kPanel - 1) / kPanel;
  w.bf16Pairs = allocateTyped(DType::BF16, {panels, k / 2, kPanel, 2});
  w.bf16Values = allocate({n, k});
  auto *p = static_cast<uint16_t *>(w.bf16Pairs.rawData());
  const float *src = w.w.data<float>();
  float *values = w.bf16Values.data<float>();
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      uint16_t h = toBF16(src[row * k + col]);
      p[(((row / kPanel) * (k / 2) + col / 2) * kPanel + row % kPanel) * 2 +
        col % 2] = h;
      values[row * k + col] = fromBF16(h);
    }
}

/// w in int8, scale max |row| / 127, in tfm.pack_weight's panels.
void makeInt8(Weight &w, int64_t n, int64_t k) {
  int64_t panels = (n + kPanel - 1) / kPanel;
  w.int8 = allocateTyped(DType::I8, {panels, k, kPanel});
  w.int8Scales = allocate({n});
  w.int8Values = allocate({n, k});
  auto *q = static_cast<int8_t *>(w.int8.rawData());
  const float *src = w.w.data<float>();
  for (int64_t row = 0; row < n; ++row) {
    float max = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      max = std::max(max, std::fabs(src[row * k + col]));
    float scale = max / 127.0f;
    w.int8Scales.data<float>()[row] = scale;
    for (int64_t col = 0; col < k; ++col) {
      float v = scale == 0.0f
                    ? 0.0f
                    : std::clamp(std::nearbyint(src[row * k + col] / scale),
                                 -127.0f, 127.0f);
      q[((row / kPanel) * k + col) * kPanel + row % kPanel] =
          static_cast<int8_t>(v);
      w.int8Values.data<float>()[row * k + col] = v * scale;
    }
  }
}

const Weight &weight(int64_t n, int64_t k) {
  static std::map<std::pair<int64_t, int64_t>, Weight> cache;
  auto key = std::make_pair(n, k);
  auto it = cache.find(key);
  if (it == cache.end()) {
    Weight w{randomTensor({n, k}, uint32_t(7 * n + k)), Tensor()};
    w.packed = packWeight(w.w.data<float>(), n, k);
    makeBf16(w, n, k);
    makeInt8(w, n, k);
    it = cache.emplace(key, std::move(w)).first;
  }
  return it->second;
}

const Tensor &activations(int64_t m, int64_t k) {
  static std::map<std::pair<int64_t, int64_t>, Tensor> cache;
  auto key = std::make_pair(m, k);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, randomTensor({m, k}, uint32_t(13 * m + k))).first;
  return it->second;
}

/// The rows of y the check compares: all of them up to 128, else the first
/// and last 32 and 64 spread between (a full double-precision reference at
/// 2048^3 would take seconds per process).
std::vector<int64_t> checkedRows(int64_t m) {
  std::set<int64_t> rows;
  if (m <= 128) {
    for (int64_t i = 0; i < m; ++i)
      rows.insert(i);
  } else {
    for (int64_t i = 0; i < 32; ++i) {
      rows.insert(i);
      rows.insert(m - 1 - i);
    }
    for (int64_t i = 0; i < 64; ++i)
      rows.insert(32 + i * (m - 64) / 64);
  }
  return {rows.begin(), rows.end()};
}

/// y = x W^T in double on the checked rows, and sum_k |x w| beside each value
/// (the scale its rounding error is measured against).
struct Reference {
  std::vector<int64_t> rows;
  std::vector<double> y, scale;
};

/// The reference of `impl`: the f32 weight, or the values the bf16 (with x
/// rounded to bf16, as the vdpbf16ps kernel rounds it) or int8 weight
/// stands for.
const Reference &reference(Impl impl, const Shape &s) {
  int kind = impl == Impl::TfmBf16 ? 1 : impl == Impl::TfmInt8 ? 2 : 0;
  static std::map<std::tuple<int, int64_t, int64_t, int64_t>, Reference> cache;
  auto key = std::make_tuple(kind, s.m, s.n, s.k);
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  Reference r;
  r.rows = checkedRows(s.m);
  r.y.resize(r.rows.size() * s.n);
  r.scale.resize(r.rows.size() * s.n);
  const float *x = activations(s.m, s.k).data<float>();
  const Weight &weights = weight(s.n, s.k);
  const float *w = kind == 1   ? weights.bf16Values.data<float>()
                   : kind == 2 ? weights.int8Values.data<float>()
                               : weights.w.data<float>();
  std::vector<float> row(s.k);
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const float *xr = x + r.rows[i] * s.k;
    if (kind == 1) {
      for (int64_t k = 0; k < s.k; ++k)
        row[k] = fromBF16(toBF16(xr[k]));
      xr = row.data();
    }
    for (int64_t n = 0; n < s.n; ++n) {
      const float *wr = w + n * s.k;
      double sum = 0, abs = 0;
      for (int64_t k = 0; k < s.k; ++k) {
        double p = double(xr[k]) * double(wr[k]);
        sum += p;
        abs += std::fabs(p);
      }
      r.y[i * s.n + n] = sum;
      r.scale[i * s.n + n] = abs;
    }
  }
  return cache.emplace(key, std::move(r)).first->second;
}

/// Exits unless y [M, N] matches the reference: per element, the error over
/// sum_k |x w| within 2e-7 * K (1e-4 at K=512), which fp32 accumulation in
/// any order stays well inside and a wrong element does not.
void check(Impl impl, const Shape &s, const float *y) {
  const Reference &r = reference(impl, s);
  double tolerance = 2e-7 * double(s.k);
  for (size_t i = 0; i < r.rows.size(); ++i)
    for (int64_t n = 0; n < s.n; ++n) {
      double got = y[r.rows[i] * s.n + n], want = r.y[i * s.n + n];
      double error =
          std::fabs(got - want) / std::max(r.scale[i * s.n + n], 1e-30);
      if (!(error <= tolerance)) // also catches NaN
        fail(std::string(implName(impl)) +
             " is wrong at M=" + std::to_string(s.m) +
             " N=" + std::to_string(s.n) + " K=" + std::to_string(s.k) +
             ": y[" + std::to_string(r.rows[i]) + "][" + std::to_string(n) +
             "] = " + std::to_string(got) + ", expected " +
             std::to_string(want) + " (error " + std::to_string(error) +
             " of sum |x*w|, tolerance " + std::to_string(tolerance) + ")");
    }
}

std::unique_ptr<CompiledModule> &module() {
  static std::unique_ptr<CompiledModule> m;
  return m;
}

std::vector<Tensor> callTfm(const std::string &entry, const Tensor &x,
                            const Tensor &packed,
                            const Tensor *scales = nullptr) {
  auto r = scales ? module()->call(entry, {&x, &packed, scales})
                  : module()->call(entry, {&x, &packed});
  if (!r.ok())
    fail(std::string(r.status().message()));
  return std::move(*r);
}

/// One call of tfm's entry for `impl` (f32, bf16 or int8 weights).
std::vector<Tensor> callTfmImpl(Impl impl, const std::string &shapeName,
                                const Tensor &x, const Weight &w) {
  switch (impl) {
  case Impl::TfmBf16:
    return callTfm("linear_bf16_" + shapeName, x, w.bf16Pairs);
  case Impl::TfmInt8:
    return callTfm("linear_int8_" + shapeName, x, w.int8, &w.int8Scales);
  default:
    return callTfm("linear_" + shapeName, x, w.packed);
  }
}

bool isTfm(Impl impl) {
  return impl == Impl::Tfm || impl == Impl::TfmBf16 || impl == Impl::TfmInt8;
}

void callOpenBLAS(const Shape &s, const float *x, const float *w, float *y) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.m, s.n, s.k, 1.0f, x,
              s.k, w, s.k, 0.0f, y, s.n);
}

void callOneDNN(const Shape &s, const float *x, const float *w, float *y) {
  dnnl_status_t status =
      dnnl_sgemm('N', 'T', s.m, s.n, s.k, 1.0f, x, s.k, w, s.k, 0.0f, y, s.n);
  if (status != dnnl_success)
    fail("dnnl_sgemm failed with status " + std::to_string(int(status)));
}

void runMatmul(benchmark::State &state, Impl impl) {
  const Shape s{state.range(0), state.range(1), state.range(2)};
  const Tensor &x = activations(s.m, s.k);
  const Weight &w = weight(s.n, s.k);
  const std::string shapeName = std::to_string(s.n) + "x" + std::to_string(s.k);
  if (impl == Impl::TfmBf16 && !__builtin_cpu_supports("avx512bf16")) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  // The peers write into C, allocated (and first-touched) once.
  static std::map<std::pair<int64_t, int64_t>, Tensor> outputs;
  auto out = outputs.find({s.m, s.n});
  if (out == outputs.end())
    out = outputs.emplace(std::make_pair(s.m, s.n), allocate({s.m, s.n})).first;
  float *y = out->second.data<float>();

  // The first call of this implementation on this shape: timed apart and
  // checked (C starts as NaN so that a call that writes nothing fails).
  static std::map<std::tuple<Impl, int64_t, int64_t, int64_t>, double> firstMs;
  auto first = firstMs.find({impl, s.m, s.n, s.k});
  if (first == firstMs.end()) {
    std::fill(y, y + s.m * s.n, std::numeric_limits<float>::quiet_NaN());
    auto start = std::chrono::steady_clock::now();
    std::vector<Tensor> result;
    switch (impl) {
    case Impl::Tfm:
    case Impl::TfmBf16:
    case Impl::TfmInt8:
      result = callTfmImpl(impl, shapeName, x, w);
      break;
    case Impl::OpenBLAS:
      callOpenBLAS(s, x.data<float>(), w.w.data<float>(), y);
      break;
    case Impl::OneDNN:
      callOneDNN(s, x.data<float>(), w.w.data<float>(), y);
      break;
    }
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (isTfm(impl)) {
      if (result.size() != 1 || result[0].shape() != std::vector{s.m, s.n})
        fail(std::string(implName(impl)) + ": " + shapeName +
             " returned an unexpected result");
      check(impl, s, result[0].data<float>());
    } else {
      check(impl, s, y);
    }
    first = firstMs.emplace(std::make_tuple(impl, s.m, s.n, s.k), ms).first;
  }

  switch (impl) {
  case Impl::Tfm:
  case Impl::TfmBf16:
  case Impl::TfmInt8:
    for (auto _ : state) {
      // The result is freed here, at the end of each call, as a caller
      // would; mallopt() in main keeps its pages in the heap.
      std::vector<Tensor> r = callTfmImpl(impl, shapeName, x, w);
      benchmark::DoNotOptimize(r.front().rawData());
    }
    break;
  case Impl::OpenBLAS:
    for (auto _ : state) {
      callOpenBLAS(s, x.data<float>(), w.w.data<float>(), y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
    break;
  case Impl::OneDNN:
    for (auto _ : state) {
      callOneDNN(s, x.data<float>(), w.w.data<float>(), y);
      benchmark::DoNotOptimize(y);
      benchmark::ClobberMemory();
    }
    break;
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * s.m * s.n * s.k / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  // The bytes of the weight as stored (int8: and its scales).
  double weightBytes = impl == Impl::TfmBf16   ? 2.0 * s.n * s.k
                       : impl == Impl::TfmInt8 ? 1.0 * s.n * s.k + 4.0 * s.n
                                               : 4.0 * s.n * s.k;
  if (s.m == 1)
    state.counters["GB/s"] = benchmark::Counter(
        weightBytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["first_ms"] = first->second;
}

/// What the libraries report about themselves: their threads, OpenBLAS's
/// kernel (its core type), oneDNN's version, runtime and ISA.
void addLibraryContext() {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), "%d threads, core %s",
                openblas_get_num_threads(), openblas_get_corename());
  benchmark::AddCustomContext("OpenBLAS", buffer);
  // oneDNN (Debian's build) runs on GNU OpenMP; ask libgomp itself, which
  // libdnnl has loaded, for its thread count.
  int ompThreads = -1;
  if (void *gomp = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    if (auto *get =
            reinterpret_cast<int (*)()>(dlsym(gomp, "omp_get_max_threads")))
      ompThreads = get();
    dlclose(gomp);
  }
  const dnnl_version_t *v = dnnl_version();
  std::snprintf(buffer, sizeof(buffer),
                "%d.%d.%d, cpu runtime %s, %d threads (libgomp), isa %s",
                v->major, v->minor, v->patch,
                v->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP"
                : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                                                     : "other",
                ompThreads, dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()));
  benchmark::AddCustomContext("oneDNN", buffer);
}
} // namespace

int main(int argc, char **argv) {
  // Freed blocks go back to the heap, not to the kernel: tfm's result,
  // allocated on each call, reuses pages already touched (first touch costs
  // ~10 us per 4 KiB page here), as a session's memory plan will.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  auto m = CompiledModule::load(TFM_MATMUL_MODULE);
  if (!m.ok())
    fail(std::string(m.status().message()));
  module() = std::move(*m);
  addLibraryContext();

  tfm::bench::registerPeakBenchmarks();
  tfm::bench::registerTriadBenchmarks();
  // Implementation by implementation: fewer switches between thread pools
  // when everything runs in one process.
  for (Impl impl :
       {Impl::Tfm, Impl::TfmBf16, Impl::TfmInt8, Impl::OpenBLAS, Impl::OneDNN})
    for (const Shape &s : kShapes)
      benchmark::RegisterBenchmark(benchmarkName(impl), runMatmul, impl)
          ->Args({s.m, s.n, s.k})
          ->Unit(s.m == 1 ? benchmark::kMicrosecond : benchmark::kMillisecond)
          ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
