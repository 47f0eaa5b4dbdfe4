#!/usr/bin/env bash
# The Llama benchmark of issue 16, in one run: tfm on a Llama-shaped
# checkpoint as transformers' save_pretrained writes it (hidden 1024, 16
# query heads over 4 key/value heads, 16 layers, intermediate 2816,
# vocabulary 32000, 1024 positions, random weights, untied lm_head), against
# transformers itself (bench/hf_torch.py, the copy under shared/hf-reference
# on Debian's torch), on one thread and on two:
#   - greedy decoding of 64 new tokens from 64-token prompts, batch 1 and
#     batch 4 (four different prompts of one length, no padding):
#     tfm-run --bench (KV cache; median of 3 runs of its median ms/step)
#     against generate(do_sample=False, num_beams=1, max_new_tokens=64,
#     min_new_tokens=64) with its KV cache, per step without the prefill
#     ((t(64 new) - t(1 new)) / 63, median of 3 runs after a first); beside
#     them the weight-streaming bound: the bytes of the weights one step
#     reads (the `step` entry's weight arguments in model.json, as stored,
#     without the embedding table, of which a step reads one row per token,
#     with the logits projection) over the STREAM triad measured in the same
#     run on as many threads. Target: tfm within 1.15x of it.
#   - the prefill of a 512-token prompt: tfm-run --max-new-tokens 1 --bench
#     (its "encode" time: the prompt's pass, its keys and values into the
#     cache, the first token; median of 3 runs) against generate's t(1 new)
#     (median of 3 after a first), and tfm's GFLOPS as a share of the FMA
#     peak of as many cores, measured in the same run (machine_bench's
#     one-core BM_FmaPeak times the threads). FLOPs counted: the layers'
#     matmuls, 2 * 512 * 16 * (d (q + 2 kv) + q d + 3 d ff), causal
#     attention, 16 * 2 * 512^2 * q (QK^T and PV over the lower triangle),
#     and the logits of the last position, 2 * d * vocab (what generate
#     computes; tfm computes the logits of every position, which this count
#     leaves out). Target: 1.3x transformers or 90% of that peak, whichever
#     is easier.
# Then the command lines it ran and the tables.
#
#   bench/llama.sh
#   HF_BENCH_SMALL=1 bench/llama.sh     # a tiny model (128 hidden, 4 heads
#                                       # over 2, 2 layers, intermediate
#                                       # 352, vocabulary 1000): ~1 minute
#   TFM_BENCH_NO_SETUP=1 bench/llama.sh # skip scripts/setup.sh
#
# The model is made once by shared/hf-reference's make_hf_case.py (seed 1,
# through hf_torch.py make-case for its 1024 positions) into
# $build/bench/llama-bench (~1 GB; llama-tiny with HF_BENCH_SMALL=1) and
# compiled with tfmc into llama-bench-out (again whenever tfmc is newer).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
if [ -n "${HF_BENCH_SMALL:-}" ]; then
  size=128,4,2,2,352,1000
  model=$build/bench/llama-tiny
else
  size=1024,16,4,16,2816,32000
  model=$build/bench/llama-bench
fi
new_tokens=64
prompt_len=64
prefill_len=512
# shellcheck source=bench/hf_common.sh
source "$repo/bench/hf_common.sh"

make_model llama "$size" 1024 "$model"

# The prompts, fixed (the same for tfm and transformers): ids from 3 up,
# none special (Llama's are 0, 1 and 2).
vocab=$(/usr/bin/python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["vocab_size"])' "$model/model/config.json")
prompts() { # COUNT LENGTH
  /usr/bin/python3 -c "
import json
print(json.dumps({'src': [[3 + (7919 * (s * $2 + i) + 13) % ($vocab - 3)
                           for i in range($2)] for s in range($1)]}))"
}
prompts 1 "$prompt_len" >"$out/prompt-1.json"
prompts 4 "$prompt_len" >"$out/prompt-4.json"
prompts 1 "$prefill_len" >"$out/prefill.json"
src=$(/usr/bin/python3 -c '
import json, sys
print(" ".join(map(str, json.load(open(sys.argv[1]))["src"][0])))' \
  "$out/prompt-1.json")

measure_machine

for t in 1 2; do
  echo "bench: decoding, $t thread(s): tfm-run" >&2
  for r in 1 2 3; do
    tfm "$t" "$model-out" --src "$src" --max-new-tokens "$new_tokens" \
      --bench >"$out/tfm-$t-1-$r.txt"
    tfm "$t" "$model-out" --inputs "$out/prompt-4.json" \
      --max-new-tokens "$new_tokens" --bench >"$out/tfm-$t-4-$r.txt"
    tfm "$t" "$model-out" --inputs "$out/prefill.json" --max-new-tokens 1 \
      --bench >"$out/tfm-$t-prefill-$r.txt"
  done
  echo "bench: decoding, $t thread(s): transformers" >&2
  hf "$t" generate --model "$model/model" --src "$src" \
    --new-tokens "$new_tokens" --runs 3 >"$out/hf-$t-1.json"
  hf "$t" generate --model "$model/model" --inputs "$out/prompt-4.json" \
    --new-tokens "$new_tokens" --runs 3 >"$out/hf-$t-4.json"
  echo "bench: prefill, $t thread(s): transformers" >&2
  hf "$t" generate --model "$model/model" --inputs "$out/prefill.json" \
    --new-tokens 2 --runs 3 >"$out/hf-$t-prefill.json"
done
# The tokens, to compare with transformers' (a check, not timed).
tfm 1 "$model-out" --src "$src" --max-new-tokens "$new_tokens" \
  >"$out/tfm-tokens.txt"

/usr/bin/python3 - "$out" "$model" "$new_tokens" "$prefill_len" "$repo" <<'PY'
import json, os, statistics, sys
out, model = sys.argv[1:3]
new_tokens, prefill_len = int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, os.path.join(sys.argv[5], "bench"))
from tfm_output import decode_stats, machine, print_commands, step_weights
def read(name):
    return open(os.path.join(out, name)).read()
def load(name):
    return json.load(open(os.path.join(out, name)))

print_commands(out)
peak1, triad = machine(out)
hf = {(t, b): load(f"hf-{t}-{b}.json") for t in (1, 2) for b in (1, 4)}
hf_prefill = {t: load(f"hf-{t}-prefill.json") for t in (1, 2)}
h = hf[1, 1]
print(f"transformers {h['transformers']} on torch {h['torch']} "
      f"({h['attn_implementation']} attention); OpenBLAS "
      f"{h['openblas'][0] if h['openblas'] else 'not loaded'} thread(s) (1T)")

cfg = json.load(open(os.path.join(model, "model", "config.json")))
d, ff, layers, vocab = (cfg["hidden_size"], cfg["intermediate_size"],
                        cfg["num_hidden_layers"], cfg["vocab_size"])
heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
hd = cfg.get("head_dim") or d // heads
q, kv = heads * hd, kv_heads * hd
step_bytes, logits, generator = step_weights(model + "-out")
print(f"\nLlama ({d} hidden, {heads} query heads over {kv_heads} key/value "
      f"heads of {hd}, {layers} layers, intermediate {ff}, vocabulary "
      f"{vocab}, random weights)")
print(f"weights a step reads (the step entry's, as stored, without the "
      f"embedding table, with {logits}): {step_bytes / 1e6:.1f} MB")
tokens = [int(x) for x in read("tfm-tokens.txt").split()]
agree = next((i for i, (a, b) in enumerate(zip(tokens, h["tokens"]))
              if a != b), min(len(tokens), len(h["tokens"])))
print(f"tokens (batch 1): tfm and transformers agree on the first {agree} "
      f"of {len(tokens)} (tfm-run 1T) / {len(h['tokens'])} (transformers)")

print(f"\ngreedy decoding, {new_tokens} new tokens after "
      f"{h['prompt_len']}-token prompts. ms/step (a step makes one token of "
      f"each sequence): tfm the median step (median of 3 runs); transformers "
      f"(t({new_tokens} new) - t(1 new)) / {new_tokens - 1} (median of 3 "
      f"runs after a first); bound: step weight bytes / triad of as many "
      f"threads; target: tfm within 1.15x of it")
hdr = (f"{'batch':>5} | {'threads':>7} | {'tfm ms/step':>11} | "
       f"{'transformers ms/step':>20} | {'speed-up':>8} | {'bound ms':>8} | "
       f"{'tfm/bound':>9} | {'target':>6}")
print(hdr); print("-" * len(hdr))
for b in (1, 4):
    for t in (1, 2):
        runs = [decode_stats(read(f"tfm-{t}-{b}-{r}.txt"), f"tfm-{t}-{b}-{r}")
                for r in (1, 2, 3)]
        for r in runs:
            if r["steps"] < new_tokens - 1:
                print(f"warning: tfm-run (batch {b}, {t}T) ran {r['steps']} "
                      f"steps, not {new_tokens - 1}: every sequence reached "
                      f"eos early")
        ms = statistics.median(r["median"] for r in runs)
        theirs = hf[t, b]["ms_per_token"]
        bound = step_bytes / (triad[t] * 1e9) * 1e3
        print(f"{b:5d} | {t:7d} | {ms:11.3f} | {theirs:20.3f} | "
              f"{theirs / ms:7.2f}x | {bound:8.3f} | {ms / bound:8.2f}x | "
              f"{'met' if ms <= 1.15 * bound else 'missed':>6}")

flops = (2 * prefill_len * layers * (d * (q + 2 * kv) + q * d + 3 * d * ff) +
         layers * 2 * prefill_len * prefill_len * q + 2 * d * vocab)
print(f"\nprefill of a {prefill_len}-token prompt (and its first token): tfm "
      f"its encode time (median of 3 runs); transformers t(1 new) (median of "
      f"3 after a first); GFLOPS: {flops / 1e9:.1f} GFLOP (matmuls, causal "
      f"attention, the last position's logits) over tfm's time; peak "
      f"{peak1:.1f} GFLOPS x threads; target: 1.3x transformers or 90% of "
      f"the peak, whichever is easier")
hdr = (f"{'threads':>7} | {'tfm ms':>9} | {'transformers ms':>15} | "
       f"{'speed-up':>8} | {'GFLOPS':>7} | {'%peak':>6} | {'target ms':>9} | "
       f"{'target':>6}")
print(hdr); print("-" * len(hdr))
for t in (1, 2):
    ms = statistics.median(
        decode_stats(read(f"tfm-{t}-prefill-{r}.txt"), "prefill")["prefill"]
        for r in (1, 2, 3))
    theirs = hf_prefill[t]["prefill_ms"]
    gflops = flops / (ms * 1e-3) / 1e9
    peak = peak1 * t
    target = max(theirs / 1.3, flops / (0.9 * peak * 1e9) * 1e3)
    print(f"{t:7d} | {ms:9.2f} | {theirs:15.2f} | {theirs / ms:7.2f}x | "
          f"{gflops:7.1f} | {100 * gflops / peak:5.1f}% | {target:9.2f} | "
          f"{'met' if ms <= target else 'missed':>6}")
PY
