//===- Peak.h - What this machine can do, measured in the same run -*- C++
//-*-===//

#ifndef TFM_BENCH_PEAK_H
#define TFM_BENCH_PEAK_H

namespace tfm::bench {
/// Registers BM_FmaPeak: independent zmm accumulators, _mm512_fmadd_ps; its
/// GFLOPS counter is the single-core FP32 FMA peak the percentages use.
void registerPeakBenchmarks();
} // namespace tfm::bench

#endif // TFM_BENCH_PEAK_H
