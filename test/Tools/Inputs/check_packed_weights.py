#!/usr/bin/python3
"""Checks the weights tfmc wrote against the model's safetensors file.

  check_packed_weights.py MODEL_DIR ARTIFACT_DIR

For every tensor of ARTIFACT_DIR/model.json, reads its bytes from
weights.bin and compares them, exactly, with the model's tensor: the rows
of in_proj_weight / in_proj_bias for a q/k/v projection (q: the first
d_model rows, then k, then v), and with "packed_panel": P the [N, K] weight
in tfm.pack_weight's layout, [ceil(N / P), K, P] with
packed[p, k, j] = W[p * P + j, k] and zeros past N, in the record's "dtype":
f32, bf16 (the nearest bf16, ties to even) or i8 (with the f32 tensor
NAME.scales: max |row| / 127, and rows quantized at their scale), as
test/e2e/weight_types.py computes them; a 4-D bf16 record is the k-pair
layout, [ceil(N / P), ceil(K / 2), P, 2].

Offsets must be 64-byte aligned. Prints one line per tensor
("OK NAME shape=[...] packed_panel=P|-"), then "PASS n tensors, m packed";
"FAIL ..." and exit 1 on the first mismatch.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e"))
import numpy as np  # noqa: E402
import safetensors_io  # noqa: E402
from weight_types import (DTYPES, bf16_nearest, int8_quantize,  # noqa: E402
                          int8_scales, pack, pack_pairs)


def source(tensors, name, d_model):
    m = re.match(r"^(.*)\.([qkv])_proj\.(weight|bias)$", name)
    if not m:
        return tensors[name]
    i = "qkv".index(m.group(2))
    whole = tensors[f"{m.group(1)}.in_proj_{m.group(3)}"]
    return whole[i * d_model:(i + 1) * d_model]


def main():
    model_dir, artifact_dir = sys.argv[1:3]
    tensors = safetensors_io.load(os.path.join(model_dir, "model.safetensors"))
    d_model = json.load(open(os.path.join(model_dir, "config.json")))["d_model"]
    index = json.load(open(os.path.join(artifact_dir, "model.json")))["weights"]
    blob = open(os.path.join(artifact_dir, index["file"]), "rb").read()
    packed = 0
    for t in index["tensors"]:
        name, shape, offset = t["name"], t["shape"], t["offset"]
        panel, dtype = t.get("packed_panel"), t["dtype"]
        scales = name.endswith(".scales")
        want = source(tensors, name[:-len(".scales")] if scales else name,
                      d_model).astype("<f4")
        if scales:
            want = int8_scales(want)
        elif dtype == "bf16":
            want = bf16_nearest(want).view("<u4") >> 16
            want = want.astype("<u2")
        elif dtype == "i8":
            want = int8_quantize(want, int8_scales(want))
        if panel and len(shape) == 4:
            want = pack_pairs(want, panel)
            packed += 1
        elif panel:
            want = pack(want, panel)
            packed += 1
        if offset % 64:
            print(f"FAIL {name}: offset {offset} is not 64-byte aligned")
            return 1
        count = int(np.prod(shape))
        got = np.frombuffer(blob, dtype=DTYPES[dtype], count=count,
                            offset=offset)
        if list(want.shape) != shape or not np.array_equal(got, want.ravel()):
            print(f"FAIL {name}: shape={shape} packed_panel={panel}, "
                  f"expected shape={list(want.shape)} and its values")
            return 1
        print(f"OK {name} shape={shape} dtype={dtype} "
              f"packed_panel={panel or '-'}")
    print(f"PASS {len(index['tensors'])} tensors, {packed} packed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
