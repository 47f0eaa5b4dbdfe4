#!/usr/bin/env bash
# The attention benchmark of issue 4, in one run: the FMA peak of this core,
# tfm's fused kernel, tfm's unfused lowering (tfmc --no-fuse) and PyTorch
# (python3-torch, installed here if missing), one thread; the fused kernel
# on two threads; then the tables with the ratios, and the peak memory of a
# seq 8192 call.
#
#   bench/attention.sh [benchmark flags, e.g. --benchmark_min_time=1]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
# The PyTorch peer, with OpenBLAS behind it (without it Debian's torch runs
# on the reference BLAS, at ~3 GFLOPS).
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages python3-torch libopenblas0-pthread
# Peers at their best: this machine's environment confines OpenBLAS (and so
# PyTorch) to AVX2 with OPENBLAS_CORETYPE=Haswell.
unset OPENBLAS_CORETYPE
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One thread (the kernel runs its (batch, head) pairs on OpenMP threads),
# then the fused kernel again on two.
OMP_NUM_THREADS=1 "$build/bin/attention_bench" --benchmark_format=json \
  --benchmark_out="$out/tfm.json" --benchmark_out_format=json \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  "$@" >/dev/null
OMP_NUM_THREADS=2 "$build/bin/attention_bench" --benchmark_format=json \
  --benchmark_filter='BM_Attention/fused/' \
  --benchmark_out="$out/tfm2.json" --benchmark_out_format=json \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  "$@" >/dev/null
# Same allocator treatment as attention_bench gives tfm (mallopt): freed
# blocks stay in the heap, so PyTorch's seq x seq temporaries are not
# first-touched again on every call. One thread for PyTorch means OpenBLAS's
# threads too: Debian's torch does its matmuls in OpenBLAS, which ignores
# torch.set_num_threads.
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
  MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
  /usr/bin/python3 "$repo/bench/attention_torch.py" > "$out/torch.jsonl"

/usr/bin/python3 - "$out/tfm.json" "$out/torch.jsonl" "$out/tfm2.json" <<'PY'
import json, sys
tfm = json.load(open(sys.argv[1]))["benchmarks"]
med = {b["run_name"]: b for b in tfm if b.get("aggregate_name") == "median"}
two = {b["run_name"]: b for b in json.load(open(sys.argv[3]))["benchmarks"]
       if b.get("aggregate_name") == "median"}
peak = med["BM_FmaPeak/real_time"]["GFLOPS"]
torch = {(r["kind"], r["seq"]): r for r in map(json.loads, open(sys.argv[2]))}
def g(impl, kind, s):
    return med[f"BM_Attention/{impl}/{kind}/{s}/real_time"]
print(f"FMA peak (one core, this run): {peak:.1f} GFLOPS")
print("attention, batch 1, 8 heads, head dim 64, one thread; GFLOPS = 4*S*S*D*H / time (median of 3)")
hdr = f"{'kind':7} {'seq':>5} | {'fused ms':>9} {'GFLOPS':>7} {'%peak':>6} | {'unfused ms':>10} {'GFLOPS':>7} | {'torch ms':>9} {'GFLOPS':>7} | {'fused/unfused':>13} {'fused/torch':>11}"
print(hdr); print("-" * len(hdr))
for kind in ("none", "causal", "padded"):
    for s in (128, 512, 1024, 2048):
        f, u, t = g("fused", kind, s), g("unfused", kind, s), torch[(kind, s)]
        print(f"{kind:7} {s:5d} | {f['real_time']:9.2f} {f['GFLOPS']:7.1f} {100*f['GFLOPS']/peak:5.1f}% | "
              f"{u['real_time']:10.2f} {u['GFLOPS']:7.1f} | {t['ms']:9.2f} {t['gflops']:7.1f} | "
              f"{u['real_time']/f['real_time']:12.1f}x {t['ms']/f['real_time']:10.2f}x")
for s in (1024, 2048):
    n = g("fused", "none", s)["real_time"]
    print(f"seq {s}: causal {n / g('fused', 'causal', s)['real_time']:.2f}x faster than no mask, "
          f"half padded {n / g('fused', 'padded', s)['real_time']:.2f}x faster")
print()
print("fused, two threads (OMP_NUM_THREADS=2; the (batch, head) pairs shared)")
hdr = f"{'kind':7} {'seq':>5} | {'1T ms':>8} {'2T ms':>8} {'2T GFLOPS':>9} | {'2T/1T':>6}"
print(hdr); print("-" * len(hdr))
for kind in ("none", "causal", "padded"):
    for s in (128, 512, 1024, 2048):
        f = g("fused", kind, s)
        t2 = two[f"BM_Attention/fused/{kind}/{s}/real_time"]
        print(f"{kind:7} {s:5d} | {f['real_time']:8.2f} {t2['real_time']:8.2f} {t2['GFLOPS']:9.1f} | "
              f"{f['real_time'] / t2['real_time']:5.2f}x")
PY
"$build/bin/attention_bench" --peak-memory 8192
