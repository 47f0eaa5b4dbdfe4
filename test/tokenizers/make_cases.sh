#!/bin/bash
# Regenerates the tokenizer reference cases under test/tokenizers/cases/ with
# make_tokenizer_case.py of the hf-reference tree (transformers 4.47's slow
# tokenizers; see its README.md, "Tokenizers"). Not run by the tests: the
# cases are checked in, and the tests need neither Python nor transformers.
#
#   HF_REFERENCE=/path/to/hf-reference test/tokenizers/make_cases.sh [NAME...]
#
# Each case keeps tokenizer/ (what save_pretrained writes, what a checkpoint
# directory ships), encodings.json (transformers' ids, tokens and decodings
# of 32 test strings) and case.json. Names: bert, bert-cased, gpt2, marian,
# llama (legacy=False, as Llama 2 checkpoints), llama-legacy. All but
# marian also get tokenizer-json/ and fast_encodings.json
# (make_json_cases.py).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
HF_REFERENCE=${HF_REFERENCE:-$repo/../shared/hf-reference}
PYTHON=${PYTHON:-/usr/bin/python3}
cases=$here/cases

if [ ! -f "$HF_REFERENCE/make_tokenizer_case.py" ]; then
  echo "make_cases.sh: no make_tokenizer_case.py in HF_REFERENCE=$HF_REFERENCE" >&2
  exit 1
fi
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi

# name: kind seed [options]
declare -A spec=(
  [bert]="bert 1"
  [bert-cased]="bert 1 --variant cased"
  [gpt2]="gpt2 1"
  [marian]="marian 1 --vocab-size 400"
  [llama]="llama 1 --vocab-size 600"
  [llama-legacy]="llama 1 --vocab-size 600 --variant legacy"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(bert bert-cased gpt2 marian llama llama-legacy)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in "${names[@]}"; do
  [ -n "${spec[$name]:-}" ] || { echo "make_cases.sh: unknown case $name" >&2; exit 1; }
  # shellcheck disable=SC2086
  "${pin[@]}" "$PYTHON" "$HF_REFERENCE/make_tokenizer_case.py" ${spec[$name]} --out "$tmp/$name" >/dev/null
  rm -rf "${cases:?}/$name"
  mkdir -p "$cases/$name"
  cp -r "$tmp/$name/tokenizer" "$tmp/$name/encodings.json" "$tmp/$name/case.json" "$cases/$name/"
  echo "$name: $(du -sh "$cases/$name" | cut -f1)"
done
# The same tokenizers as tokenizer.json (no Marian: it has no fast class).
json_names=()
for name in "${names[@]}"; do
  [ "$name" = marian ] || json_names+=("$name")
done
if [ ${#json_names[@]} -gt 0 ]; then
  HF_REFERENCE=$HF_REFERENCE "${pin[@]}" "$PYTHON" "$here/make_json_cases.py" "${json_names[@]}"
fi
