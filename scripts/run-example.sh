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

echo "== tfm-run: a few numbers"
for words in "four thousand two hundred seven" "nineteen" \
  "nine thousand nine hundred ninety nine" "three thousand fifteen" \
  "one hundred"; do
  ids=$(translate encode "$words")
  got=$("$bin/tfm-run" "$out" --src "$ids")
  printf '  %-42s -> %s\n' "$words" "$(translate decode "$got")"
done

echo "== tfm-run: the 1000 held-out numbers in one batch"
"$bin/tfm-run" "$out" --inputs "$example/heldout_src.json" >"$out/heldout.txt"
translate score "$example/heldout.json" "$out/heldout.txt"
