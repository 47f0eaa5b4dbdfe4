#!/usr/bin/python3
"""NumPy side of tfmc --weight-type (bf16 and int8 weights).

Written from the op definitions (dialect/TfmOps.td: tfm.pack_weight,
tfm.weight_scales), not from tfm's code:

  bf16   the bf16 nearest to w, ties to the even mantissa (found here by
         comparing the two bf16 neighbours of w, not by bit arithmetic)
  int8   scale[n] = max_k |W[n, k]| / 127 (float32),
         q[n, k] = clamp(round_half_even(W[n, k] / scale[n]), -127, 127),
         0 where scale[n] = 0; the value it stands for is q * scale

  weight_types.py compare F32.npy TYPED.npy INPUTS.json [--max-abs T]
        [--min-top1 F] [--label L]

compares the teacher-forced logits of a bf16/int8 artifact (TYPED) with
those of the f32 artifact of the same model (F32) over the real positions
of INPUTS.json (its "tgt" lengths, else "src"/"ids"): prints the largest
and mean absolute difference and the top-1 agreement (the fraction of
positions whose arg-max token is the same), PASS if the agreement is at
least --min-top1 (and the largest difference at most --max-abs, if given),
else FAIL and exit 1.

The module also gives stored_values() (what weights.bin holds for a tensor
of an artifact, as float64, dequantized and unpacked), which model_ref.py
check --weights-from uses.
"""
import argparse
import json
import os
import sys

import numpy as np


def bf16_nearest(w):
    """The bf16 values nearest to float32 `w` (finite), ties to even, as
    float32."""
    w = np.asarray(w, dtype=np.float32)
    bits = w.view(np.uint32)
    lo_bits = bits & np.uint32(0xFFFF0000)
    # The neighbour away from zero: one bf16 ulp further in magnitude.
    hi_bits = lo_bits + np.uint32(0x10000)
    lo = lo_bits.view(np.float32).astype(np.float64)
    hi = hi_bits.view(np.float32).astype(np.float64)
    x = w.astype(np.float64)
    d_lo, d_hi = np.abs(x - lo), np.abs(hi - x)
    lo_even = ((lo_bits >> np.uint32(16)) & np.uint32(1)) == 0
    pick_lo = (d_lo < d_hi) | ((d_lo == d_hi) & lo_even)
    return np.where(pick_lo, lo_bits, hi_bits).view(np.float32)


def int8_scales(w):
    """tfm.weight_scales of `w` [N, K]: float32 [N]."""
    w = np.asarray(w, dtype=np.float32)
    return (np.max(np.abs(w), axis=1) / np.float32(127)).astype(np.float32)


def int8_quantize(w, scales):
    """`w` [N, K] as int8 at `scales` [N]."""
    w = np.asarray(w, dtype=np.float32)
    safe = np.where(scales == 0, np.float32(1), scales).astype(np.float32)
    q = np.rint(w / safe[:, None])  # rint: round half to even
    q = np.clip(q, -127, 127)
    q[scales == 0] = 0
    return q.astype(np.int8)


def pack(w, panel):
    """[N, K] -> tfm.pack_weight's [ceil(N / P), K, P], zeros past N."""
    n, k = w.shape
    panels = -(-n // panel)
    padded = np.zeros((panels * panel, k), dtype=w.dtype)
    padded[:n] = w
    return padded.reshape(panels, panel, k).transpose(0, 2, 1)


def pack_pairs(w, panel):
    """[N, K] -> tfm.pack_weight's k-pair layout [ceil(N / P), ceil(K / 2),
    P, 2]: packed[p, h, j, r] = W[p * P + j, 2h + r], zeros past N and K."""
    n, k = w.shape
    panels, half = -(-n // panel), -(-k // 2)
    padded = np.zeros((panels * panel, 2 * half), dtype=w.dtype)
    padded[:n, :k] = w
    return padded.reshape(panels, panel, half, 2).transpose(0, 2, 1, 3)


def unpack(packed, n):
    """The inverse of pack(): [NP, K, P] -> [N, K]."""
    panels, k, panel = packed.shape
    return packed.transpose(0, 2, 1).reshape(panels * panel, k)[:n]


DTYPES = {"f32": "<f4", "bf16": "<u2", "i8": "i1"}


def read_tensor(blob, record):
    """The raw array of one model.json record (bf16 as uint16 bits)."""
    count = int(np.prod(record["shape"]))
    raw = np.frombuffer(blob, dtype=DTYPES[record["dtype"]], count=count,
                        offset=record["offset"])
    return raw.reshape(record["shape"])


def unpack_pairs(packed):
    """The k-pair layout [NP, ceil(K / 2), P, 2] -> [NP * P, 2 * ceil(K / 2)]
    (all rows and pairs; the caller takes the first N and K)."""
    panels, half, panel, _ = packed.shape
    return packed.transpose(0, 2, 1, 3).reshape(panels * panel, 2 * half)


def stored_values(artifact_dir):
    """{name: float64 array as the graph takes it} for every weight of the
    artifact, from the bytes of weights.bin: bf16 widened, int8 times its
    scales; a packed weight unpacked to [N, K] (int8) or to all its panels'
    rows, [ceil(N / P) * P, K] (f32, bf16: the caller takes the first N; k
    pairs: and the first K columns of 2 * ceil(K / 2))."""
    with open(os.path.join(artifact_dir, "model.json")) as f:
        index = json.load(f)["weights"]
    with open(os.path.join(artifact_dir, index["file"]), "rb") as f:
        blob = f.read()
    records = {t["name"]: t for t in index["tensors"]}
    values = {}
    for name, t in records.items():
        if name.endswith(".scales"):
            continue
        raw = read_tensor(blob, t)
        if t["dtype"] == "bf16":
            raw = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
        v = raw.astype(np.float64)
        panel = t.get("packed_panel")
        if panel:
            # All NP * P rows: the caller knows N (and K for k pairs).
            v = unpack_pairs(v) if v.ndim == 4 else unpack(v, v.shape[0] * panel)
            if t["dtype"] == "i8":
                scales = read_tensor(blob, records[name + ".scales"])
                v = v[:scales.shape[0]] * scales.astype(np.float64)[:, None]
        values[name] = v
    return values


def real_positions(inputs):
    """(batch index, position) of every real token of the logits' rows."""
    seqs = inputs.get("tgt") or inputs.get("src") or inputs.get("ids")
    return [(b, i) for b, s in enumerate(seqs) for i in range(len(s))]


def cmd_compare(args):
    ref = np.load(args.f32)
    got = np.load(args.typed)
    with open(args.inputs) as f:
        positions = real_positions(json.load(f))
    if ref.shape != got.shape:
        print(f"FAIL {args.label}: shapes {list(got.shape)} and "
              f"{list(ref.shape)}")
        return 1
    rows_ref = np.stack([ref[b, i] for b, i in positions]).astype(np.float64)
    rows_got = np.stack([got[b, i] for b, i in positions]).astype(np.float64)
    diff = np.abs(rows_got - rows_ref)
    top1 = float(np.mean(np.argmax(rows_got, -1) == np.argmax(rows_ref, -1)))
    ok = top1 >= args.min_top1
    if args.max_abs is not None:
        ok = ok and float(diff.max()) <= args.max_abs
    print(f"{'PASS' if ok else 'FAIL'} {args.label}: positions={len(positions)} "
          f"max_abs={diff.max():.3g} mean_abs={diff.mean():.3g} "
          f"top1={100 * top1:.2f}% (min {100 * args.min_top1:g}%)")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("f32")
    c.add_argument("typed")
    c.add_argument("inputs")
    c.add_argument("--min-top1", type=float, required=True)
    c.add_argument("--max-abs", type=float)
    c.add_argument("--label", default="logits")
    args = parser.parse_args()
    return cmd_compare(args)


if __name__ == "__main__":
    sys.exit(main())
