//===- Peak.h - What this machine can do, measured in the same run -*- C++
//-*-===//

#ifndef TFM_BENCH_PEAK_H
#define TFM_BENCH_PEAK_H

namespace tfm::bench {
/// Registers BM_FmaPeak: independent zmm accumulators, _mm512_fmadd_ps; its
/// GFLOPS counter is the single-core FP32 FMA peak the percentages use.
void registerPeakBenchmarks();

/// Registers BM_Triad/1 and BM_Triad/2: STREAM's triad a = b + s * c over
/// three arrays totalling 256 MB on 1 and 2 threads; its GB/s counter (the
/// three arrays once per pass, as STREAM counts) is the memory bandwidth the
/// weight-streaming percentages and bounds use.
void registerTriadBenchmarks();
} // namespace tfm::bench

#endif // TFM_BENCH_PEAK_H
