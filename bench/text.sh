#!/usr/bin/env bash
# Text in, text out on a paper-size decoder (issue 17): what the tokenizer
# costs a generation. GPT-2 layout at the paper's size (d_model 512, 8 heads,
# 6 layers, FFN 2048; random weights from make_hf_case.py), with the byte-level
# BPE tokenizer of test/tokenizers/cases/gpt2 (its 800 tokens are the model's
# vocabulary: a small logits projection, so the tokenizer's share is
# larger than with a real vocabulary) and eos banned (bad_words_ids), so
# every run generates 256 tokens. tfm-run --bench with --text (tokenize,
# first token, ms/step, the text's share) beside --bench with --src on the
# same ids; 1 and 2 threads; medians of 5 runs.
#
#   bench/text.sh            (TFM_BENCH_NO_SETUP=1: no build)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
# shellcheck source=bench/hf_common.sh
source "$repo/bench/hf_common.sh"
dir=$build/bench/gpt2-text
if [ ! -f "$dir/model/tokenizer_config.json" ]; then
  rm -rf "$dir" "$dir-out"
  make_model gpt2 512,8,8,6,2048,800 1024 "$dir"
  cp "$repo"/test/tokenizers/cases/gpt2/tokenizer/* "$dir/model/"
  /usr/bin/python3 - "$dir/model/generation_config.json" <<'PY'
import json, sys
p = sys.argv[1]
g = json.load(open(p))
g["bad_words_ids"] = [[799]]
json.dump(g, open(p, "w"), indent=2)
PY
  rm -rf "$dir-out"
fi
make_model gpt2 512,8,8,6,2048,800 1024 "$dir"
prompt="The quick brown fox jumps over the lazy dog. A tokenizer splits text into pieces that a model can read. We met at the café near the station and talked about the weather; it might rain later, so bring your umbrella."
ids=$("$build/bin/tfm-run" "$dir-out" --tokenize "$prompt")
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); prompt: $(wc -w <<<"$ids") tokens, 256 new"
for t in 1 2; do
  for run in 1 2 3 4 5; do
    tfm "$t" "$dir-out" --text "$prompt" --max-new-tokens 256 --bench >"$out/text.$t.$run"
    tfm "$t" "$dir-out" --src "$ids" --max-new-tokens 256 --bench >"$out/src.$t.$run"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, re, statistics, sys
out = sys.argv[1]
def num(path, pattern):
    m = re.search(pattern, open(path).read())
    return float(m.group(1))
def med(kind, t, pattern):
    return statistics.median(num(p, pattern) for p in glob.glob(f"{out}/{kind}.{t}.*"))
print("| threads | tokenize ms | first token ms, --text | prefill ms, --src | ms/step --text | ms/step --src | text ms (256 tokens) | tokenizer share |")
print("|---|---|---|---|---|---|---|---|")
for t in (1, 2):
    print(f"| {t} | {med('text', t, r'tokenize: ([0-9.]+)'):.3f} | {med('text', t, r'first token: ([0-9.]+)'):.2f} | "
          f"{med('src', t, r'encode: ([0-9.]+)'):.2f} | {med('text', t, r'median ([0-9.]+) ms/step'):.3f} | "
          f"{med('src', t, r'median ([0-9.]+) ms/step'):.3f} | {med('text', t, r'text: ([0-9.]+)'):.3f} | "
          f"{med('text', t, r'share: ([0-9.]+)'):.3f}% |")
PY
