#!/usr/bin/env bash
# The matmul benchmark of issue 5, in one run: the FMA peak of one core and
# the triad bandwidth, then tfm's packed_linear (bench/matmul.mlir), OpenBLAS's
# cblas_sgemm and oneDNN's dnnl_sgemm on the shapes of the issue, on one
# thread and on two; then the table with the ratios. Issue 20 adds tfm's
# kernels on bf16 weights (k pairs, vdpbf16ps, beside the vdpbf16ps peak of
# one core measured in the same run) and int8 weights (widened to f32)
# against tfm's f32 kernel, and a second table.
#
#   bench/matmul.sh [benchmark flags, e.g. --benchmark_min_time=1]
#
# Each implementation runs each shape in a process of its own (the three
# implementations of a shape one after the other, see below): OpenBLAS's
# and OpenMP's worker threads spin for a while after a call and would steal
# a core from the next library in the same process. Medians of 3
# repetitions (5 for the M=1 shapes, which take microseconds), after 2 s of
# warm-up calls.
#
# The warm-up: in this VM, memory runs slow for the first ~1.5 s after it is
# first touched (the inputs of a shape are allocated when the shape first
# runs). Measured, 2048^3 on one thread, milliseconds per call of
# successive repetitions in one process: tfm 126 115 83 84 85, oneDNN 93 80
# 80 81 81; with 2 s of warm-up, every repetition at the steady speed.
# Without it the medians of 3 mix the two phases. The first call of each
# shape is still reported apart (first_ms), cold.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}

# The peers, for the benchmarks only (tfm does not link them). Installed
# before the build so that CMake finds them: bench/CMakeLists.txt builds
# matmul_bench only when it finds OpenBLAS's cblas and oneDNN.
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages libopenblas-dev libdnnl-dev
# A build directory configured before the peers were installed has no
# matmul_bench target: configure again (CMake searches again for what it did
# not find).
if [ -f "$build/build.ninja" ] && ! ninja -C "$build" -t query matmul_bench >/dev/null 2>&1; then
  cmake "$build" >/dev/null
fi
"$repo/scripts/setup.sh" >/dev/null
bench="$build/bin/matmul_bench"
if [ ! -x "$bench" ]; then
  echo "bench: $bench was not built (CMake did not find OpenBLAS or oneDNN?)" >&2
  exit 1
fi

# Peers at their best: this machine's environment confines OpenBLAS to AVX2
# with OPENBLAS_CORETYPE=Haswell.
unset OPENBLAS_CORETYPE
# Threads are set here, not in the binary, for the library being measured;
# the others get 1 (OpenBLAS starts its workers when it is loaded).
# OpenBLAS (Debian's pthread build) reads OPENBLAS_NUM_THREADS. Debian's
# oneDNN runs on GNU OpenMP (ldd libdnnl.so.2: libgomp.so.1;
# DNNL_CPU_RUNTIME is OMP in dnnl_config.h) and reads OMP_NUM_THREADS, as
# does tfm's generated code if it uses OpenMP. GNU OpenMP's default wait
# policy (spin a little, then sleep) is kept: each library has the process
# to itself, so its spinning workers steal from nobody in it, and it is the
# faster one here (oneDNN, two threads: 1024^3 393 vs 378 GFLOPS with
# OMP_WAIT_POLICY=PASSIVE, M=1 N=K=512 8.3 vs 30 us).
# Two threads need the two cores: with anything else running, OpenMP's
# spinning barriers lose whole time slices (measured here during a build:
# oneDNN 1024^3 on two threads at 60 GFLOPS instead of ~390).
read -r load _ </proc/loadavg
if awk "BEGIN { exit !($load > 0.5) }"; then
  echo "bench: warning: load average $load, the machine is not idle; the" \
    "two-thread numbers will be low" >&2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # THREADS NAME FILTER REPETITIONS OMP_THREADS OPENBLAS_THREADS [flags]
  local threads=$1 name=$2 filter=$3 reps=$4 omp=$5 openblas=$6
  shift 6
  echo "bench: $threads thread(s): $name" >&2
  OMP_NUM_THREADS=$omp OPENBLAS_NUM_THREADS=$openblas "$bench" \
    --benchmark_filter="$filter" --benchmark_format=json \
    --benchmark_out="$out/$threads-$name.json" --benchmark_out_format=json \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_min_warmup_time=2 "$@" >/dev/null
}
# Shape by shape, the three implementations one after the other: the
# machine's speed drifts with its neighbours' load over minutes, and the
# ratios compare runs a few seconds apart (running each library through
# all shapes in turn put them minutes apart).
shapes="512/512/512 1024/1024/1024 2048/2048/2048 128/2048/512 128/512/2048
128/1536/512 1/512/512 1/32000/512"
for t in 1 2; do
  if [ "$t" = 1 ]; then
    run 1 peak '^BM_(FmaPeak|Bf16Peak|Triad/1/)' 3 1 1 "$@"
  else
    run 2 peak '^BM_Triad/2/' 3 1 1 "$@"
  fi
  for shape in $shapes; do
    reps=3
    [ "${shape%%/*}" = 1 ] && reps=5
    for impl in Tfm TfmBf16 TfmInt8 OpenBLAS OneDNN; do
      omp=$t openblas=1
      [ "$impl" = OpenBLAS ] && omp=1 openblas=$t
      run "$t" "$impl-${shape//\//x}" "^BM_$impl/$shape/" "$reps" "$omp" \
        "$openblas" "$@"
    done
  done
done

# shellcheck disable=SC2086 # one argument per shape
/usr/bin/python3 - "$out" $shapes <<'PY'
import glob, json, os, sys
med, context = {}, {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    threads, name = os.path.basename(path)[:-5].split("-")[:2]
    threads = int(threads)
    data = json.load(open(path))
    # What each library says about itself, from its own process.
    for lib, impl in (("OpenBLAS", "OpenBLAS"), ("oneDNN", "OneDNN")):
        if name == impl and lib in data["context"]:
            context[(threads, lib)] = data["context"][lib]
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[(threads, b["run_name"])] = b
def get(threads, name, counter):
    b = med.get((threads, name + "/real_time"))
    return b[counter] if b and counter in b else None
def fmt(v, spec, suffix=""):
    return format(v, spec) + suffix if v is not None else "-"
def ratio(a, b):
    return a / b if a is not None and b else None
peak = get(1, "BM_FmaPeak", "GFLOPS")
triad = {t: get(t, f"BM_Triad/{t}", "GB/s") for t in (1, 2)}
print(f"FMA peak (one core, this run): {fmt(peak, '.1f')} GFLOPS; "
      f"triad (256 MB, STREAM counting): {fmt(triad[1], '.1f')} GB/s on 1 "
      f"thread, {fmt(triad[2], '.1f')} GB/s on 2")
for t in (1, 2):
    print(f"{t} thread(s): OpenBLAS {context.get((t, 'OpenBLAS'), '?')}; "
          f"oneDNN {context.get((t, 'oneDNN'), '?')}")
cases = [tuple(int(d) for d in shape.split("/")) for shape in sys.argv[2:]]
def g(impl, t, case, counter="GFLOPS"):
    return get(t, f"BM_{impl}/{case[0]}/{case[1]}/{case[2]}", counter)
print("y = x W^T, x [M, K], W [N, K]; GFLOPS = 2*M*N*K / time (median); "
      "ratios > 1: tfm faster; GB/s: weight bytes read (N*K*4) / time")
hdr = (f"{'M':>4} {'N':>5} {'K':>4} | {'tfm 1T':>7} {'%peak':>6} {'vs OpenBLAS':>11} "
       f"{'vs oneDNN':>9} | {'tfm 2T':>7} {'2T/1T':>6} | {'GB/s 1T':>7} {'%triad':>6} "
       f"{'GB/s 2T':>7} {'%triad':>6}")
print(hdr); print("-" * len(hdr))
for case in cases:
    t1, t2 = g("Tfm", 1, case), g("Tfm", 2, case)
    line = (f"{case[0]:4d} {case[1]:5d} {case[2]:4d} | {fmt(t1, '7.1f')} "
            f"{fmt(ratio(100 * t1 if t1 else None, peak), '5.1f', '%'):>6} "
            f"{fmt(ratio(t1, g('OpenBLAS', 1, case)), '10.2f', 'x'):>11} "
            f"{fmt(ratio(t1, g('OneDNN', 1, case)), '8.2f', 'x'):>9} | "
            f"{fmt(t2, '7.1f'):>7} {fmt(ratio(t2, t1), '5.2f', 'x'):>6} |")
    if case[0] == 1:
        b1, b2 = g("Tfm", 1, case, "GB/s"), g("Tfm", 2, case, "GB/s")
        line += (f" {fmt(b1, '7.1f'):>7} {fmt(ratio(100 * b1 if b1 else None, triad[1]), '5.1f', '%'):>6}"
                 f" {fmt(b2, '7.1f'):>7} {fmt(ratio(100 * b2 if b2 else None, triad[2]), '5.1f', '%'):>6}")
    print(line)
print()
bf16_peak = get(1, "BM_Bf16Peak", "GFLOPS")
print(f"weight types (issue 20): tfm on bf16 weights (k pairs, vdpbf16ps; x "
      f"rounded to bf16) and int8 weights (widened to f32), GFLOPS and ratio "
      f"to tfm's f32 kernel; vdpbf16ps peak (one core, this run): "
      f"{fmt(bf16_peak, '.1f')} GFLOPS, {fmt(ratio(bf16_peak, peak), '.2f', 'x')}"
      f" the FMA peak; GB/s for M=1: the stored weight bytes / time")
hdr = (f"{'M':>4} {'N':>5} {'K':>4} | {'f32 1T':>7} {'bf16 1T':>7} {'ratio':>6} "
       f"{'%bf16pk':>7} {'int8 1T':>7} {'ratio':>6} | {'f32 2T':>7} {'bf16 2T':>7} "
       f"{'ratio':>6} {'int8 2T':>7} {'ratio':>6} | {'GB/s 1T f32/bf16/int8':>22}")
print(hdr); print("-" * len(hdr))
for case in cases:
    f1, b1, i1 = (g(impl, 1, case) for impl in ("Tfm", "TfmBf16", "TfmInt8"))
    f2, b2, i2 = (g(impl, 2, case) for impl in ("Tfm", "TfmBf16", "TfmInt8"))
    line = (f"{case[0]:4d} {case[1]:5d} {case[2]:4d} | {fmt(f1, '7.1f'):>7} "
            f"{fmt(b1, '7.1f'):>7} {fmt(ratio(b1, f1), '5.2f', 'x'):>6} "
            f"{fmt(ratio(100 * b1 if b1 else None, bf16_peak), '6.1f', '%'):>7} "
            f"{fmt(i1, '7.1f'):>7} {fmt(ratio(i1, f1), '5.2f', 'x'):>6} | "
            f"{fmt(f2, '7.1f'):>7} {fmt(b2, '7.1f'):>7} "
            f"{fmt(ratio(b2, f2), '5.2f', 'x'):>6} {fmt(i2, '7.1f'):>7} "
            f"{fmt(ratio(i2, f2), '5.2f', 'x'):>6} |")
    if case[0] == 1:
        line += " " + "/".join(fmt(g(impl, 1, case, "GB/s"), ".1f")
                               for impl in ("Tfm", "TfmBf16", "TfmInt8"))
    print(line)
print()
print("the peers, GFLOPS (median); GB/s for M=1")
hdr = (f"{'M':>4} {'N':>5} {'K':>4} | {'OpenBLAS 1T':>11} {'oneDNN 1T':>9} | "
       f"{'OpenBLAS 2T':>11} {'oneDNN 2T':>9} | {'OpenBLAS GB/s 1T':>16} {'oneDNN GB/s 1T':>14}")
print(hdr); print("-" * len(hdr))
for case in cases:
    line = (f"{case[0]:4d} {case[1]:5d} {case[2]:4d} | "
            f"{fmt(g('OpenBLAS', 1, case), '11.1f'):>11} {fmt(g('OneDNN', 1, case), '9.1f'):>9} | "
            f"{fmt(g('OpenBLAS', 2, case), '11.1f'):>11} {fmt(g('OneDNN', 2, case), '9.1f'):>9} |")
    if case[0] == 1:
        line += (f" {fmt(g('OpenBLAS', 1, case, 'GB/s'), '16.1f'):>16}"
                 f" {fmt(g('OneDNN', 1, case, 'GB/s'), '14.1f'):>14}")
    print(line)
PY
