#!/usr/bin/env bash
# The Hugging Face benchmark of issue 14, in one run: tfm on checkpoints as
# transformers' save_pretrained writes them, against transformers itself
# (bench/hf_torch.py, the copy under shared/hf-reference on Debian's torch),
# on one thread and on two:
#   - GPT-2 small's size (768 hidden, 12 heads, 12 layers, 50257-token
#     vocabulary, 1024 positions, random weights), greedy decoding of 64 new
#     tokens from a fixed 32-token prompt, batch 1: tfm-run --bench (KV
#     cache; medians of 3 runs of its median ms/step) against
#     generate(do_sample=False, num_beams=1, max_new_tokens=64,
#     min_new_tokens=64) with its KV cache, per token without the prefill
#     ((t(64 new) - t(1 new)) / 63, median of 3 runs after a first); beside
#     them the weight-streaming bound: the bytes of the weights one step
#     reads (the `step` entry's weight arguments in model.json, at their
#     stored, packed sizes, without the embedding tables, of which a step
#     reads one row; the logits projection generator.weight, GPT-2's tied
#     embedding, is read whole and counted) over the STREAM triad measured
#     in the same run on as many threads. Target: tfm within 1.15x of it.
#   - BERT-base's size (768 hidden, 12 heads, 12 layers, 3072 intermediate,
#     30522-token vocabulary, 512 positions, BertModel with its pooler),
#     forward passes over 1x128 and 8x128 tokens: tfm-run --bench --inputs
#     (median of 5 passes after a first; median of 3 runs) against
#     BertModel's forward (eval, no_grad; median of 5 after a first), and
#     tfm's GFLOPS as a share of the FMA peak of as many cores, measured in
#     the same run (machine_bench's one-core BM_FmaPeak times the threads).
#     FLOPs: 2 * tokens * layers * (4 d^2 + 2 d ff) for the matmuls plus
#     4 * S^2 * d per layer and sequence for attention (QK^T and PV).
#     Target: 1.3x transformers or 90% of that peak, whichever is easier.
# Then the command lines it ran and one table per benchmark.
#
#   bench/hf.sh
#   HF_BENCH_SMALL=1 bench/hf.sh     # tiny models (128 hidden, 4 heads,
#                                    # 2 layers, ff 512, 1000-token
#                                    # vocabulary), same lengths: ~1 minute
#   TFM_BENCH_NO_SETUP=1 bench/hf.sh # skip scripts/setup.sh (no build):
#                                    # when build/bin is current and someone
#                                    # else is building in the same tree
#
# The models are made once, by shared/hf-reference's make_hf_case.py (seed 1;
# $HF_REFERENCE overrides the path) with a position table long enough for
# these lengths (its default is 64 positions; see hf_torch.py make-case),
# into $build/bench/gpt2-small and $build/bench/bert-base (~500 MB and
# ~440 MB; gpt2-tiny and bert-tiny with HF_BENCH_SMALL=1), and compiled with
# tfmc into <model>-out (again whenever tfmc is newer than the artifact).
#
# tfm-run's first new token comes with the prefill (its "encode" time), so
# N new tokens are N - 1 steps. It stops at eos_id (transformers cannot, with
# min_new_tokens): the script warns when it ran fewer steps. Each tfm-run is
# a fresh process (its first step or pass pays for first touches; the
# medians leave it out).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}

if [ -n "${HF_BENCH_SMALL:-}" ]; then
  gpt2_size=128,4,4,2,512,1000
  bert_size=128,4,4,2,512,1000
  gpt2=$build/bench/gpt2-tiny
  bert=$build/bench/bert-tiny
else
  gpt2_size=768,12,12,12,3072,50257
  bert_size=768,12,12,12,3072,30522
  gpt2=$build/bench/gpt2-small
  bert=$build/bench/bert-base
fi
new_tokens=64
prompt_len=32
seq_len=128
# shellcheck source=bench/hf_common.sh
source "$repo/bench/hf_common.sh"

make_model gpt2 "$gpt2_size" 1024 "$gpt2"
make_model bert "$bert_size" 512 "$bert"

# The inputs, fixed (the same for tfm and transformers): a 32-token prompt,
# 128-token sequences (ids below both vocabularies and eos, none special).
read -r vocab_gpt2 vocab_bert < <(/usr/bin/python3 -c '
import json, sys
print(*(json.load(open(p))["vocab_size"] for p in sys.argv[1:]))' \
  "$gpt2/model/config.json" "$bert/model/config.json")
prompt=$(/usr/bin/python3 -c "
print(' '.join(str(1 + (7919 * i + 13) % ($vocab_gpt2 - 2))
               for i in range($prompt_len)))")
for b in 1 8; do
  /usr/bin/python3 -c "
import json
print(json.dumps({'src': [[1 + (7919 * (s * $seq_len + i) + 101)
                           % ($vocab_bert - 1) for i in range($seq_len)]
                          for s in range($b)]}))" \
    >"$out/bert-${b}x$seq_len.json"
done

measure_machine

for t in 1 2; do
  echo "bench: GPT-2, $t thread(s): tfm-run" >&2
  for r in 1 2 3; do
    tfm "$t" "$gpt2-out" --src "$prompt" --max-new-tokens "$new_tokens" \
      --bench >"$out/gpt2-tfm-$t-$r.txt"
  done
  echo "bench: GPT-2, $t thread(s): transformers" >&2
  hf "$t" generate --model "$gpt2/model" --src "$prompt" \
    --new-tokens "$new_tokens" --runs 3 >"$out/gpt2-hf-$t.json"
done
# The tokens, to compare with transformers' (a check, not timed).
tfm 1 "$gpt2-out" --src "$prompt" --max-new-tokens "$new_tokens" \
  >"$out/gpt2-tokens.txt"

for t in 1 2; do
  for b in 1 8; do
    shape=${b}x$seq_len
    echo "bench: BERT $shape, $t thread(s): tfm-run, transformers" >&2
    for r in 1 2 3; do
      tfm "$t" "$bert-out" --inputs "$out/bert-$shape.json" --bench \
        >"$out/bert-tfm-$t-$shape-$r.txt"
    done
    hf "$t" encode --model "$bert/model" --inputs "$out/bert-$shape.json" \
      --runs 5 >"$out/bert-hf-$t-$shape.json"
  done
done

/usr/bin/python3 - "$out" "$gpt2" "$bert" "$new_tokens" "$seq_len" "$repo" <<'PY'
import json, math, os, re, statistics, sys
out, gpt2, bert = sys.argv[1:4]
sys.path.insert(0, os.path.join(sys.argv[6], "bench"))
from tfm_output import decode_stats, machine, print_commands, step_weights
new_tokens, seq_len = int(sys.argv[4]), int(sys.argv[5])
def fail(message):
    sys.exit(f"bench: {message}")
def read(name):
    return open(os.path.join(out, name)).read()
def fmt(v, spec, suffix=""):
    return format(v, spec) + suffix if v is not None else "-"

print_commands(out)
peak1, triad = machine(out)
hf_any = json.load(open(os.path.join(out, "gpt2-hf-1.json")))
def blas(t, name):
    o = json.load(open(os.path.join(out, name)))["openblas"]
    return f"{o[0]} thread(s), core {o[1]}" if o else "not loaded"
print(f"transformers {hf_any['transformers']} on torch {hf_any['torch']} "
      f"({hf_any['attn_implementation']} attention); OpenBLAS: "
      f"{blas(1, 'gpt2-hf-1.json')} (1T), {blas(2, 'gpt2-hf-2.json')} (2T)")
print()

# --- GPT-2 ------------------------------------------------------------------
def tfm_decode(name):
    return decode_stats(read(name), name)
step_bytes, logits, generator = step_weights(gpt2 + "-out")
cfg = json.load(open(os.path.join(gpt2, "model", "config.json")))
runs = {t: [tfm_decode(f"gpt2-tfm-{t}-{r}.txt") for r in (1, 2, 3)]
        for t in (1, 2)}
hf = {t: json.load(open(os.path.join(out, f"gpt2-hf-{t}.json")))
      for t in (1, 2)}
for t in (1, 2):
    for i, r in enumerate(runs[t]):
        if r["steps"] < new_tokens - 1:
            print(f"warning: tfm-run ({t}T, run {i + 1}) ran {r['steps']} "
                  f"steps, not {new_tokens - 1}: it generated eos_id early; "
                  f"its numbers cover fewer tokens")
tfm_tokens = [int(x) for x in read("gpt2-tokens.txt").split()]
hf_tokens = hf[1]["tokens"]
agree = next((i for i, (a, b) in enumerate(zip(tfm_tokens, hf_tokens))
              if a != b), min(len(tfm_tokens), len(hf_tokens)))
print(f"GPT-2 ({cfg['n_embd']} hidden, {cfg['n_head']} heads, "
      f"{cfg['n_layer']} layers, vocabulary {cfg['vocab_size']}, "
      f"{cfg['n_positions']} positions, random weights): greedy decoding, "
      f"batch 1, {new_tokens} new tokens after a "
      f"{hf[1]['prompt_len']}-token prompt")
print(f"weights a step reads (the step entry's, as stored, without the "
      f"embedding tables but with the logits projection, {logits} "
      f"{generator['shape']}, {4 * math.prod(generator['shape']) / 1e6:.1f} MB): "
      f"{step_bytes / 1e6:.1f} MB")
print(f"tokens: tfm and transformers agree on the first {agree} of "
      f"{len(tfm_tokens)} (tfm-run 1T) / {len(hf_tokens)} (transformers)")
print("ms/token: tfm the median step (median of 3 runs); transformers "
      f"(t({new_tokens} new) - t(1 new)) / {new_tokens - 1} (median of 3 "
      "runs after a first);")
print("bound: step weight bytes / triad of as many threads; target: tfm "
      "within 1.15x of it")
hdr = (f"{'threads':>7} | {'tfm ms/token':>12} | {'transformers ms/token':>21}"
       f" | {'speed-up':>8} | {'bound ms':>8} | {'tfm/bound':>9} | "
       f"{'target':>6} | {'tfm prefill ms':>14} | {'hf prefill ms':>13}")
print(hdr); print("-" * len(hdr))
tfm_ms = {}
for t in (1, 2):
    tfm_ms[t] = statistics.median(r["median"] for r in runs[t])
    hf_ms = hf[t]["ms_per_token"]
    bound = step_bytes / (triad[t] * 1e9) * 1e3
    prefill = statistics.median(r["prefill"] for r in runs[t])
    print(f"{t:7d} | {tfm_ms[t]:12.3f} | {hf_ms:21.3f} | "
          f"{hf_ms / tfm_ms[t]:7.2f}x | {bound:8.3f} | "
          f"{tfm_ms[t] / bound:8.2f}x | "
          f"{'met' if tfm_ms[t] <= 1.15 * bound else 'missed':>6} | "
          f"{prefill:14.2f} | {hf[t]['prefill_ms']:13.2f}")
print(f"two threads vs one: tfm {tfm_ms[1] / tfm_ms[2]:.2f}x, transformers "
      f"{hf[1]['ms_per_token'] / hf[2]['ms_per_token']:.2f}x; transformers' "
      f"first run {hf[1]['first_ms_per_token']:.3f} ms/token (1T), "
      f"{hf[2]['first_ms_per_token']:.3f} (2T)")
print()

# --- BERT -------------------------------------------------------------------
def tfm_encode(name):
    text = read(name)
    m = re.search(r"^encode: first ([\d.]+) ms, median of 5 more ([\d.]+) ms",
                  text, re.M)
    if not m:
        fail(f"unexpected tfm-run --bench output in {name}:\n{text}")
    return {"first": float(m[1]), "median": float(m[2])}
cfg = json.load(open(os.path.join(bert, "model", "config.json")))
d, ff, layers = (cfg["hidden_size"], cfg["intermediate_size"],
                 cfg["num_hidden_layers"])
print(f"BERT ({d} hidden, {cfg['num_attention_heads']} heads, {layers} "
      f"layers, intermediate {ff}, vocabulary {cfg['vocab_size']}, "
      f"{cfg['max_position_embeddings']} positions, BertModel with its "
      f"pooler, random weights): a forward pass")
print("ms: tfm the median of 5 passes after a first (median of 3 runs); "
      "transformers the median of 5 after a first;")
print(f"GFLOPS: 2*tokens*{layers}*(4d^2 + 2d*ff) + {layers}*batch*4*S^2*d "
      f"over tfm's time; peak: {peak1:.1f} GFLOPS x threads;")
print("target: tfm >= 1.3x transformers or >= 90% of the peak, whichever is "
      "easier (target ms: the larger of the two times)")
hdr = (f"{'shape':>7} | {'threads':>7} | {'tfm ms':>9} | "
       f"{'transformers ms':>15} | {'speed-up':>8} | {'GFLOPS':>7} | "
       f"{'%peak':>6} | {'target ms':>9} | {'target':>6} | "
       f"{'tfm first ms':>12}")
print(hdr); print("-" * len(hdr))
for b in (1, 8):
    shape = f"{b}x{seq_len}"
    flops = (2 * b * seq_len * layers * (4 * d * d + 2 * d * ff) +
             layers * b * 4 * seq_len * seq_len * d)
    for t in (1, 2):
        r = [tfm_encode(f"bert-tfm-{t}-{shape}-{i}.txt") for i in (1, 2, 3)]
        ms = statistics.median(x["median"] for x in r)
        first = statistics.median(x["first"] for x in r)
        h = json.load(open(os.path.join(out, f"bert-hf-{t}-{shape}.json")))
        gflops = flops / (ms * 1e-3) / 1e9
        peak = peak1 * t
        target = max(h["ms"] / 1.3, flops / (0.9 * peak * 1e9) * 1e3)
        print(f"{shape:>7} | {t:7d} | {ms:9.2f} | {h['ms']:15.2f} | "
              f"{h['ms'] / ms:7.2f}x | {gflops:7.1f} | "
              f"{100 * gflops / peak:5.1f}% | {target:9.2f} | "
              f"{'met' if ms <= target else 'missed':>6} | {first:12.2f}")
PY
