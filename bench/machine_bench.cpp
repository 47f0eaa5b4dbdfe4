//===- machine_bench.cpp - This machine's FMA peak and memory bandwidth ---===//
//
// The two numbers other benchmarks are measured against, in a binary of its
// own (no tfm, no peer library): BM_FmaPeak, the FP32 FMA peak of one core,
// and BM_Triad/T, STREAM's triad over 256 MB on T = 1, 2 threads (both in
// bench/Peak.cpp). bench/decode.sh divides the bytes of weights a decoder
// step reads by the triad's GB/s for its weight-streaming bound.
//
//   machine_bench [benchmark flags, e.g. --benchmark_filter='^BM_Triad/1/']
//
//===----------------------------------------------------------------------===//

#include "bench/Peak.h"

#include <benchmark/benchmark.h>

int main(int argc, char **argv) {
  tfm::bench::registerPeakBenchmarks();
  tfm::bench::registerTriadBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
