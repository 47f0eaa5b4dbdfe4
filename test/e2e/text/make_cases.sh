#!/bin/bash
# Regenerates the text-in, text-out cases under test/e2e/text/cases/: a small
# random checkpoint of each family (make_hf_case.py of the hf-reference tree)
# whose vocabulary is the tokenizer's of test/tokenizers/cases, that
# tokenizer beside it as a checkpoint ships it, and transformers' generated
# text for texts.json (text_ref.py). Not run by the tests.
#
#   HF_REFERENCE=/path/to/hf-reference test/e2e/text/make_cases.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
HF_REFERENCE=${HF_REFERENCE:-$repo/../shared/hf-reference}
export HF_REFERENCE
PYTHON=${PYTHON:-/usr/bin/python3}
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi
# name: family, tokenizer case, hidden,heads,kv,layers,ff (vocab: the tokenizer's)
cases=(
  "gpt2 gpt2 gpt2 32,2,2,1,64"
  "llama llama llama 32,2,1,1,64"
  "llama-legacy llama llama-legacy 32,2,1,1,64"
  "marian marian marian 32,2,2,1,64"
  "bert bert bert 32,2,2,1,64"
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for line in "${cases[@]}"; do
  read -r name family tokenizer size <<<"$line"
  tokdir=$repo/test/tokenizers/cases/$tokenizer/tokenizer
  vocab=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" \
    "$repo/test/tokenizers/cases/$tokenizer/case.json")
  "${pin[@]}" "$PYTHON" "$HF_REFERENCE/make_hf_case.py" "$family" 1 \
    --size "$size,$vocab" --out "$tmp/$name" >/dev/null
  out=$here/cases/$name
  rm -rf "$out"
  mkdir -p "$out"
  cp -r "$tmp/$name/model" "$out/model"
  cp "$tokdir"/* "$out/model/"
  "${pin[@]}" "$PYTHON" "$here/text_ref.py" "$out/model" "$here/texts.json" \
    --max-new-tokens 12 >"$out/expected.json"
  echo "$name: $(du -sh "$out" | cut -f1)"
done
