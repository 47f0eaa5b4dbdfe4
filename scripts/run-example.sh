#!/usr/bin/env bash
# The main job, for now: set up and build, compile the multi-head attention
# example (test/e2e/mha.mlir: causal + key-padding masks, dynamic batch and
# length) to a shared object with tfmc, run it with tfm-run on a batch with a
# full, a half and an empty sequence, and compare with NumPy.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh"

bin=$build/bin
out=$build/example
ref=$repo/test/e2e/attention_ref.py
mkdir -p "$out"

echo "== tfmc: test/e2e/mha.mlir -> $out/mha.so"
"$bin/tfmc" -v "$repo/test/e2e/mha.mlir" -o "$out/mha.so"
echo "== entry points"
"$bin/tfm-run" "$out/mha.so" --list

/usr/bin/python3 "$ref" gen "$out/inputs" --batch 3 --seq 9 --seed 7
inputs=()
for name in x lengths wq bq wk bk wv bv wo bo; do
  inputs+=(--input "$out/inputs/$name.npy")
done
echo "== tfm-run: mha on batch 3, length 9, key lengths [9, 4, 0]"
"$bin/tfm-run" "$out/mha.so" --call mha "${inputs[@]}" --output "$out/mha.npy"
/usr/bin/python3 - "$out/mha.npy" <<'PY'
import sys
import numpy as np
y = np.load(sys.argv[1])
np.set_printoptions(precision=4, suppress=True, linewidth=100)
print(f"output {y.dtype}{list(y.shape)}; first 6 features of position 0:")
for b in range(y.shape[0]):
    print(f"  sequence {b}: {y[b, 0, :6]}")
PY
echo "== compared with the NumPy reference"
/usr/bin/python3 "$ref" check "$out/inputs" mha "$out/mha.npy"
