#!/usr/bin/env bash
# The main job: set up and build, compile the example translation model
# (examples/numbers: English number words -> Korean, trained in PyTorch) with
# tfmc, translate a few numbers with tfm-run, then the 1000 held-out numbers
# in one batch, scored against the expected outputs and PyTorch's own.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh"

bin=$build/bin
example=$repo/examples/numbers
out=$build/example/numbers
translate() { /usr/bin/python3 "$example/translate.py" "$@"; }

echo "== tfmc $example/model -o $out"
rm -rf "$out"
"$bin/tfmc" -v "$example/model" -o "$out"

echo "== tfm-run --text: a few numbers (the model's tokenizer, in the artifact)"
for words in "four thousand two hundred seven" "nineteen" \
  "nine thousand nine hundred ninety nine" "three thousand fifteen" \
  "one hundred"; do
  printf '  %-42s -> %s\n' "$words" "$("$bin/tfm-run" "$out" --text "$words")"
done

echo "== tfm-run --text-file: the 1000 held-out numbers in one batch"
translate texts "$example/heldout.json" >"$out/heldout-texts.txt"
"$bin/tfm-run" "$out" --text-file "$out/heldout-texts.txt" >"$out/heldout.txt"
translate score --text "$example/heldout.json" "$out/heldout.txt"
