#!/usr/bin/python3
"""NumPy reference for tfm.attention, for the kernel tests.

  s = scale * q kᵀ (+ mask); keys j >= lengths[b] and (causal) j > i + Sk - Sq
  get -inf; softmax over keys; a row with no visible key gives 0; · v.
  Grouped-query attention (k and v with fewer heads than q): query head h
  reads key/value head h // (H / H_kv).

  sdpa_ref.py gen DIR --batch B --heads H [--kv-heads G] --sq N --sk M
                     --dim D [--dv E] [--mask-shape 1,1,N,M] --seed S
  sdpa_ref.py check DIR RESULT.npy [--causal] [--lengths] [--mask]
                     --scale X [--tol 1e-5]
"""
import argparse
import os
import sys

import numpy as np


def reference(q, k, v, scale, causal, lengths, mask):
    group = q.shape[1] // k.shape[1]
    assert group * k.shape[1] == q.shape[1], "kv heads must divide heads"
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    s = scale * (q @ np.swapaxes(k, -1, -2))
    if mask is not None:
        s = s + mask
    sq, sk = s.shape[-2], s.shape[-1]
    i = np.arange(sq)[:, None]
    j = np.arange(sk)[None, :]
    visible = np.ones(s.shape, dtype=bool)
    if causal:
        visible &= (j <= i + (sk - sq))[None, None]
    if lengths is not None:
        visible &= j[None, None] < lengths[:, None, None, None]
    visible &= s != -np.inf
    s = np.where(visible, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(visible, np.exp(s - m), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return p @ v


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    for name in ("batch", "heads", "sq", "sk", "dim"):
        g.add_argument("--" + name, type=int, required=True)
    g.add_argument("--dv", type=int)
    g.add_argument("--kv-heads", type=int)
    g.add_argument("--mask-shape")
    g.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("result")
    c.add_argument("--causal", action="store_true")
    c.add_argument("--lengths", action="store_true")
    c.add_argument("--mask", action="store_true")
    c.add_argument("--scale", type=float, required=True)
    c.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()

    if a.cmd == "gen":
        rng = np.random.default_rng(a.seed)
        os.makedirs(a.dir, exist_ok=True)
        dv = a.dv or a.dim
        kv = a.kv_heads or a.heads
        arrays = {
            "q": rng.standard_normal((a.batch, a.heads, a.sq, a.dim)),
            "k": rng.standard_normal((a.batch, kv, a.sk, a.dim)),
            "v": rng.standard_normal((a.batch, kv, a.sk, dv)),
        }
        # Full, one past a tile, a third, 0 (no key at all), ...
        choices = [a.sk, min(a.sk, 33), max(1, a.sk // 3), 0]
        arrays["lengths"] = np.array(
            [choices[b % len(choices)] for b in range(a.batch)], np.int32)
        if a.mask_shape:
            shape = [int(x) for x in a.mask_shape.split(",")]
            mask = rng.standard_normal(shape)
            mask[rng.random(shape) < 0.2] = -np.inf
            arrays["mask"] = mask
        for name, arr in arrays.items():
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            np.save(os.path.join(a.dir, name + ".npy"), arr)
        return 0

    load = lambda n: np.load(os.path.join(a.dir, n + ".npy"))
    f64 = lambda n: load(n).astype(np.float64)
    expected = reference(f64("q"), f64("k"), f64("v"), a.scale, a.causal,
                         load("lengths") if a.lengths else None,
                         f64("mask") if a.mask else None)
    got = np.load(a.result)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        print(f"FAIL shape {got.shape} vs {expected.shape} or non-finite")
        return 1
    err = float(np.max(np.abs(got - expected))) if got.size else 0.0
    zero_rows = np.all(expected == 0, axis=-1)
    exact = bool(np.all(got[zero_rows] == 0))
    ok = err <= a.tol and exact
    print(f"{'PASS' if ok else 'FAIL'} shape={list(got.shape)} "
          f"max_abs_err={err:.3g} tol={a.tol:g} "
          f"zero_rows={int(zero_rows.sum())} exact_zeros={exact}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
