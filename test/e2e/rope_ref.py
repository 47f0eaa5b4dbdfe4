#!/usr/bin/python3
"""NumPy reference for tfm.rotary, written from transformers' Llama rotary
embedding (LlamaRotaryEmbedding, rotate_half, apply_rotary_pos_emb), not
from tfm's code. inv_freq and the angles are computed in float32 as
transformers computes them; the power with the C library's powf (NumPy's
float32 power is off by several ulps for some i, which at position 4000
moves an angle by ~1e-3; PyTorch's pow differs from powf by one ulp for a
few i of some head sizes, ~1e-5 at that position); cos, sin and the
rotation in float64:

  inv_freq[i] = 1 / theta^(2i / d)              (f32)
  f[p, i]     = f32(p) * inv_freq[i]            (f32), emb = cat(f, f)
  out         = x cos(emb) + rotate_half(x) sin(emb)
  rotate_half(x) = cat(-x[d/2:], x[:d/2])

with p = s, or offsets[b] + s.

  rope_ref.py gen DIR --shape B,H,S,D [--max-offset N] --seed S
  rope_ref.py check DIR RESULT.npy --theta T [--offsets] [--tol 1e-5]
"""
import argparse
import ctypes
import ctypes.util
import os
import sys

import numpy as np


_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libm.powf.restype = ctypes.c_float
_libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]


def rotary(x, theta, positions):
    d = x.shape[-1]
    exponent = np.arange(0, d, 2, dtype=np.int64).astype(np.float32) / np.float32(d)
    powers = np.array([_libm.powf(theta, float(e)) for e in exponent], np.float32)
    inv_freq = (np.float32(1.0) / powers).astype(np.float32)
    freqs = positions.astype(np.float32)[..., None] * inv_freq  # [B, S, d/2], f32
    emb = np.concatenate([freqs, freqs], axis=-1).astype(np.float64)
    cos = np.cos(emb)[:, None]  # [B, 1, S, d]
    sin = np.sin(emb)[:, None]
    half = d // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--shape", required=True)
    g.add_argument("--max-offset", type=int, default=0)
    g.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("result")
    c.add_argument("--theta", type=float, required=True)
    c.add_argument("--offsets", action="store_true")
    c.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()

    if a.cmd == "gen":
        rng = np.random.default_rng(a.seed)
        shape = [int(s) for s in a.shape.split(",")]
        os.makedirs(a.dir, exist_ok=True)
        np.save(os.path.join(a.dir, "x.npy"),
                rng.standard_normal(shape).astype(np.float32))
        offsets = rng.integers(0, a.max_offset + 1, size=shape[0])
        np.save(os.path.join(a.dir, "offsets.npy"), offsets.astype(np.int32))
        return 0

    x = np.load(os.path.join(a.dir, "x.npy")).astype(np.float64)
    b, _, s, _ = x.shape
    positions = np.broadcast_to(np.arange(s)[None, :], (b, s))
    if a.offsets:
        offsets = np.load(os.path.join(a.dir, "offsets.npy")).astype(np.int64)
        positions = positions + offsets[:, None]
    expected = rotary(x, a.theta, positions)
    got = np.load(a.result)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        print(f"FAIL shape {got.shape} vs {expected.shape} or non-finite")
        return 1
    err = float(np.max(np.abs(got - expected)))
    ok = err <= a.tol
    print(f"{'PASS' if ok else 'FAIL'} shape={list(got.shape)} "
          f"max_abs_err={err:.3g} tol={a.tol:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
