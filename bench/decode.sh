#!/usr/bin/env bash
# The decoding benchmark of issue 6, in one run: the paper-size model
# (d_model 512, 8 heads, d_ff 2048, 6+6 layers, 32000-token vocabularies,
# random weights), greedy decoding of 32 new tokens from a fixed 32-token
# source, batch 1, on one thread and on two:
#   - tfm-run --bench (KV cache; medians of 3 runs of its median ms/step),
#     one run of 257 new tokens for the step time at positions 1, 32, 128 and
#     256 (with the cache it should stay flat), one --no-cache run (the
#     decoder re-run over the prefix at each step) for comparison, and the
#     peak RSS of a run (/usr/bin/time) against the weights and the cache;
#   - PyTorch (bench/decode_torch.py, python3-torch installed here if
#     missing): the usual nn.Transformer greedy loop, which re-runs the
#     decoder over the prefix for every token;
#   - the weight-streaming bound: the bytes of the weights one decoder step
#     reads (the `step` entry's weight arguments in model.json, at their
#     packed sizes, without the embedding tables, of which a step reads one
#     row) over the STREAM triad bandwidth measured in the same run
#     (machine_bench) on as many threads. The caches a step also reads
#     (cross-attention K/V of the source, self-attention K/V of the prefix)
#     are under 1% of that at these lengths and are not counted.
# Then one table with the ratios. Then the weight types (issue 20): the same
# model compiled with tfmc --weight-type=bf16 and int8, 3 runs of 32 tokens
# on 1 and 2 threads each, beside f32; each type's bound is its own step
# bytes (bf16: half, int8: a quarter plus the scales) over the same triad;
# PyTorch with quantize_dynamic (int8 Linear layers, onednn) beside its f32
# loop; weights.bin size and peak RSS per type.
#
#   bench/decode.sh
#
# The model is generated once into $build/bench/paper-model (~360 MB) and
# compiled into $build/bench/paper-out (tfmc, ~35 s; again whenever tfmc is
# newer than the artifact).
#
# tfm-run's first token comes with the encoder pass (it is in its "encode"
# time), so N new tokens are N - 1 steps: 257 new tokens give the step at
# position 256. Each tfm-run is a fresh process: its first step pays for
# first touches (it shows at position 1; the median ignores it). PyTorch's
# first run in its process is reported apart, its median is over 3 more.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
# The PyTorch peer, with OpenBLAS behind it (without it Debian's torch runs
# on the reference BLAS, at ~3 GFLOPS); /usr/bin/time for the peak RSS.
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages python3-torch libopenblas0-pthread time
# The peer at its best: this machine's environment confines OpenBLAS (and so
# PyTorch) to AVX2 with OPENBLAS_CORETYPE=Haswell.
unset OPENBLAS_CORETYPE
# Two threads need the two cores: anything else running makes OpenMP's
# barriers lose whole time slices.
read -r load _ </proc/loadavg
if awk "BEGIN { exit !($load > 0.5) }"; then
  echo "bench: warning: load average $load, the machine is not idle; the" \
    "two-thread numbers will be low" >&2
fi

model=$build/bench/paper-model
artifact=$build/bench/paper-out
mkdir -p "$build/bench"
if [ ! -f "$model/model.safetensors" ]; then
  echo "bench: generating the paper-size model into $model" >&2
  rm -rf "$model.tmp"
  /usr/bin/python3 "$repo/test/e2e/model_ref.py" gen-model "$model.tmp" \
    --arch encoder-decoder --vocab 32000 --d-model 512 --heads 8 --d-ff 2048 \
    --layers 6 --max-seq-len 512 --seed 1
  rm -rf "$model"
  mv "$model.tmp" "$model"
fi
compile() { # ARTIFACT [tfmc flags]: (re)compiles when tfmc or the model is newer
  local to=$1
  shift
  if [ ! -f "$to/model.json" ] ||
    [ "$build/bin/tfmc" -nt "$to/model.json" ] ||
    [ "$model/model.safetensors" -nt "$to/model.json" ]; then
    echo "bench: compiling it into $to (tfmc $*, ~35 s)" >&2
    rm -rf "$to.tmp"
    "$build/bin/tfmc" "$model" -o "$to.tmp" "$@"
    rm -rf "$to"
    mv "$to.tmp" "$to"
  fi
}
compile "$artifact"
compile "$build/bench/paper-bf16" --weight-type=bf16
compile "$build/bench/paper-int8" --weight-type=int8

# 32 source ids, the same for tfm and PyTorch (whose weights differ: only
# the amount of work matters).
src=$(seq -s ' ' 1000 97 4007)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "bench: triad (1 and 2 threads)" >&2
"$build/bin/machine_bench" --benchmark_filter='^BM_Triad/' \
  --benchmark_format=json --benchmark_out="$out/triad.json" \
  --benchmark_out_format=json --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true >/dev/null
tfm() { # THREADS NAME [tfm-run flags]: $out/tfm-THREADS-NAME.txt
  local threads=$1 name=$2
  shift 2
  OMP_NUM_THREADS=$threads "$build/bin/tfm-run" "$artifact" --src "$src" \
    --bench "$@" >"$out/tfm-$threads-$name.txt"
}
for t in 1 2; do
  echo "bench: $t thread(s): tfm-run" >&2
  for r in 1 2 3; do
    tfm "$t" "32-$r" --max-new-tokens 32
  done
  OMP_NUM_THREADS=$t /usr/bin/time -f %M -o "$out/rss-$t.txt" \
    "$build/bin/tfm-run" "$artifact" --src "$src" --bench \
    --max-new-tokens 257 >"$out/tfm-$t-257.txt"
done
echo "bench: 1 thread: tfm-run --no-cache" >&2
tfm 1 no-cache --max-new-tokens 32 --no-cache
for type in bf16 int8; do
  for t in 1 2; do
    echo "bench: $t thread(s): tfm-run, $type weights" >&2
    for r in 1 2 3; do
      OMP_NUM_THREADS=$t "$build/bin/tfm-run" "$build/bench/paper-$type" \
        --src "$src" --bench --max-new-tokens 32 >"$out/tfm-$t-$type-$r.txt"
    done
  done
  /usr/bin/time -f %M -o "$out/rss-$type.txt" "$build/bin/tfm-run" \
    "$build/bench/paper-$type" --src "$src" --bench --max-new-tokens 257 \
    >/dev/null
done
for t in 1 2; do
  echo "bench: $t thread(s): PyTorch" >&2
  # Debian's torch runs its matmuls on OpenBLAS (pthread build), whose own
  # threads follow OPENBLAS_NUM_THREADS, not torch.set_num_threads.
  wait_policy=()
  [ "$t" = 2 ] && wait_policy=(OMP_WAIT_POLICY=PASSIVE)
  env "${wait_policy[@]}" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
    /usr/bin/python3 "$repo/bench/decode_torch.py" --threads "$t" --runs 3 \
    --src "$src" >"$out/torch-$t.json"
  echo "bench: $t thread(s): PyTorch, quantize_dynamic int8" >&2
  env "${wait_policy[@]}" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
    /usr/bin/python3 "$repo/bench/decode_torch.py" --threads "$t" --runs 3 \
    --src "$src" --quantize >"$out/torch-$t-int8.json"
done

/usr/bin/python3 - "$out" "$artifact" "$build/bench" <<'PY'
import json, math, os, re, statistics, sys
out, artifact, bench_dir = sys.argv[1], sys.argv[2], sys.argv[3]
def fail(message):
    sys.exit(f"bench: {message}")
def tfm_run(name):
    """What tfm-run --bench printed: encode ms, steps, median and total ms,
    {position: step ms}."""
    path = os.path.join(out, f"tfm-{name}.txt")
    text = open(path).read()
    e = re.search(r"^encode: ([\d.]+) ms", text, re.M)
    d = re.search(r"^decode: (\d+) steps, median ([\d.]+) ms/step, "
                  r"total ([\d.]+) ms", text, re.M)
    if not e or not d:
        fail(f"unexpected tfm-run --bench output in {path}:\n{text}")
    at = re.search(r"^step ms at position \(median of the steps within 2\) "
                   r"(.*)$", text, re.M)
    return {"encode": float(e[1]), "steps": int(d[1]), "median": float(d[2]),
            "total": float(d[3]),
            "at": {int(p): float(ms) for p, ms in
                   (item.split(": ") for item in at[1].split(", "))}
            if at else {}}
def fmt(v, spec, suffix=""):
    return format(v, spec) + suffix if v is not None else "-"

triad = {}
for b in json.load(open(os.path.join(out, "triad.json")))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        triad[int(b["run_name"].split("/")[1])] = b["GB/s"]

DTYPE_BYTES = {"f32": 4, "bf16": 2, "i8": 1}
def embedding(name):
    return name.endswith("_embed.weight")
def weights_of(path):
    """model.json's tensors and the bytes of the weights a decoder step
    reads (the step entry's weight arguments at their stored sizes, packed
    ones padded to whole panels, int8 scales included; without the
    embedding tables, of which a step reads a row)."""
    model = json.load(open(os.path.join(path, "model.json")))
    tensors = {t["name"]: t for t in model["weights"]["tensors"]}
    def size(name):
        t = tensors[name]
        return DTYPE_BYTES[t["dtype"]] * math.prod(t["shape"])
    step = next(e for e in model["entries"] if e["name"] == "step")
    step_bytes = sum(size(a["name"]) for a in step["arguments"]
                     if a["weight"] and not embedding(a["name"]))
    return model, tensors, size, step_bytes
model, tensors, size, step_bytes = weights_of(artifact)
cfg = model["config"]
layers = 1 + max(int(n.split(".")[2]) for n in tensors
                 if n.startswith("decoder.layers."))
heads, d_model, max_len = cfg["num_heads"], cfg["d_model"], cfg["max_seq_len"]
cache_bytes = 2 * layers * heads * max_len * (d_model // heads) * 4

runs = {t: [tfm_run(f"{t}-32-{r}") for r in (1, 2, 3)] for t in (1, 2)}
long = {t: tfm_run(f"{t}-257") for t in (1, 2)}
recompute = tfm_run("1-no-cache")
torch = {t: json.load(open(os.path.join(out, f"torch-{t}.json")))
         for t in (1, 2)}
for name, r, want in ([(f"{t}T, 32 tokens", r, 31) for t in (1, 2)
                       for r in runs[t]] +
                      [(f"{t}T, 257 tokens", long[t], 256) for t in (1, 2)] +
                      [("1T, --no-cache", recompute, 32)]):
    if r["steps"] < want:
        print(f"warning: tfm-run ({name}) ran {r['steps']} steps, not {want}: "
              f"it generated eos_id early; the numbers cover fewer tokens")

print(f"triad (256 MB, STREAM counting, median of 3): {triad[1]:.1f} GB/s on "
      f"1 thread, {triad[2]:.1f} GB/s on 2")
print(f"weights a decoder step reads (the step entry's, packed, without the "
      f"embedding tables): {step_bytes / 1e6:.1f} MB")
def blas(t):
    o = torch[t]["openblas"]
    return f"{o[0]} thread(s), core {o[1]}" if o else "not loaded"
print(f"PyTorch {torch[1]['torch']}, OpenBLAS: {blas(1)} (1T run), "
      f"{blas(2)} (2T run)")
print("greedy decoding, 32 new tokens from a 32-token source, batch 1. "
      "ms/token: tfm the median step (median of 3 runs);")
print("PyTorch its decode loop / 32 (median of 3 runs after a first); "
      "recompute: tfm-run --no-cache, decode total / steps;")
print("bound: step weight bytes / triad of as many threads")
hdr = (f"{'threads':>7} | {'tfm ms/token':>12} | {'PyTorch ms/token':>16} | "
       f"{'speed-up':>8} | {'bound ms':>8} | {'tfm/bound':>9} | "
       f"{'tfm recompute ms/token (1T)':>27}")
print(hdr); print("-" * len(hdr))
tfm_ms = {}
for t in (1, 2):
    tfm_ms[t] = statistics.median(r["median"] for r in runs[t])
    torch_ms = torch[t]["ms_per_token"]
    bound = step_bytes / (triad[t] * 1e9) * 1e3
    rec = recompute["total"] / recompute["steps"] if t == 1 else None
    print(f"{t:7d} | {tfm_ms[t]:12.3f} | {torch_ms:16.3f} | "
          f"{torch_ms / tfm_ms[t]:7.2f}x | {bound:8.3f} | "
          f"{tfm_ms[t] / bound:8.2f}x | {fmt(rec, '27.3f'):>27}")
print(f"two threads vs one: tfm {tfm_ms[1] / tfm_ms[2]:.2f}x, PyTorch "
      f"{torch[1]['ms_per_token'] / torch[2]['ms_per_token']:.2f}x")
# End to end: tfm-run is a fresh process each time (its encode includes the
# first touch of the mapped weights and of the session's buffers); PyTorch's
# runs are its warm ones.
for t in (1, 2):
    enc = statistics.median(r["encode"] for r in runs[t])
    whole = statistics.median((r["encode"] + r["total"]) / 32 for r in runs[t])
    tr = torch[t]
    print(f"{t}T, whole run / 32 tokens: tfm {whole:.3f} ms (encode {enc:.1f} "
          f"ms, fresh process), PyTorch "
          f"{(tr['encode_ms'] + 32 * tr['ms_per_token']) / 32:.3f} ms (encode "
          f"{tr['encode_ms']:.1f} ms; its first run {tr['first_ms_per_token']:.3f}"
          f" ms/token)")
print()
positions = (1, 32, 128, 256)
print("tfm step ms at position p (one run of 257 new tokens; the median of "
      "the steps p-2..p+2; position 1 includes the first step of the process)")
hdr = f"{'threads':>7} | " + " | ".join(f"{p:>7}" for p in positions) + \
      f" | {'median':>7}"
print(hdr); print("-" * len(hdr))
for t in (1, 2):
    print(f"{t:7d} | " + " | ".join(fmt(long[t]["at"].get(p), "7.3f")
                                     for p in positions) +
          f" | {long[t]['median']:7.3f}")
print()
mib = 2 ** 20
weights_bytes = os.path.getsize(os.path.join(artifact, "weights.bin"))
embed_bytes = sum(size(n) for n in tensors if embedding(n))
rss = {}
for t in (1, 2):  # /usr/bin/time -o: the value is on the last line
    rss[t] = int(open(os.path.join(out, f"rss-{t}.txt")).read().split()[-1]) * 1024
full = weights_bytes + cache_bytes
read = weights_bytes - embed_bytes + cache_bytes
print(f"peak RSS, tfm-run, 257 tokens: {rss[1] / mib:.1f} MiB on 1 thread, "
      f"{rss[2] / mib:.1f} MiB on 2")
print(f"  weights.bin {weights_bytes / mib:.1f} MiB + self-attention cache "
      f"{cache_bytes / mib:.1f} MiB = {full / mib:.1f} MiB: RSS (1T) "
      f"{rss[1] / full:.2f}x")
print(f"  without the embedding tables ({embed_bytes / mib:.1f} MiB, mapped; "
      f"a row per token is read): {read / mib:.1f} MiB: RSS (1T) "
      f"{rss[1] / read:.2f}x")
print(f"PyTorch peak RSS: {torch[1]['peak_rss_mib']:.1f} MiB (1 thread), "
      f"{torch[2]['peak_rss_mib']:.1f} MiB (2)")

# Weight types (issue 20): f32 is the runs above.
print()
torch8 = {t: json.load(open(os.path.join(out, f"torch-{t}-int8.json")))
          for t in (1, 2)}
types = {"f32": (artifact, runs, rss[1])}
for wt in ("bf16", "int8"):
    types[wt] = (os.path.join(bench_dir, f"paper-{wt}"),
                 {t: [tfm_run(f"{t}-{wt}-{r}") for r in (1, 2, 3)]
                  for t in (1, 2)},
                 int(open(os.path.join(out, f"rss-{wt}.txt")).read()
                     .split()[-1]) * 1024)
print("weight types: tfmc --weight-type, the same model; ms/token the median "
      "step (median of 3 runs of 32 tokens); bound: that type's step bytes / "
      "triad; PyTorch int8: quantize_dynamic (Linear layers int8, onednn)")
hdr = (f"{'type':>5} | {'threads':>7} | {'step MB':>7} | {'tfm ms/token':>12} "
       f"| {'bound ms':>8} | {'tfm/bound':>9} | {'vs f32':>6} | "
       f"{'PyTorch f32':>11} | {'PyTorch int8':>12} | {'vs PyTorch int8':>15}")
print(hdr); print("-" * len(hdr))
typed_ms = {}
for wt, (path, typed_runs, _) in types.items():
    step_b = weights_of(path)[3]
    for t in (1, 2):
        ms = statistics.median(r["median"] for r in typed_runs[t])
        typed_ms[wt, t] = ms
        bound = step_b / (triad[t] * 1e9) * 1e3
        for name, r in ((f"{wt} {t}T", r) for r in typed_runs[t]):
            if r["steps"] < 31:
                print(f"warning: tfm-run ({name}) ran {r['steps']} steps")
        print(f"{wt:>5} | {t:7d} | {step_b / 1e6:7.1f} | {ms:12.3f} | "
              f"{bound:8.3f} | {ms / bound:8.2f}x | "
              f"{typed_ms['f32', t] / ms:5.2f}x | "
              f"{torch[t]['ms_per_token']:11.3f} | "
              f"{torch8[t]['ms_per_token']:12.3f} | "
              f"{torch8[t]['ms_per_token'] / ms:14.2f}x")
print("weights.bin and peak RSS (1 thread, 257 tokens): " + ", ".join(
    f"{wt} {os.path.getsize(os.path.join(path, 'weights.bin')) / mib:.1f} MiB"
    f" / {peak / mib:.1f} MiB" for wt, (path, _, peak) in types.items()))
print(f"PyTorch int8 peak RSS: {torch8[1]['peak_rss_mib']:.1f} MiB (1 "
      f"thread); tokens equal to its f32 run's: "
      f"{sum(a == b for a, b in zip(torch8[1]['tokens'], torch[1]['tokens']))}"
      f"/{len(torch[1]['tokens'])}")
PY
