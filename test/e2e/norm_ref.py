#!/usr/bin/python3
"""NumPy reference for tfm.rms_norm, written from its definition (and
transformers' LlamaRMSNorm), not from tfm's code:

  ms = mean(x^2 over the last dimension)
  result = weight * (x / sqrt(ms + eps))

computed in float64.

  norm_ref.py gen DIR --shape 2,3,64 --seed S
  norm_ref.py check DIR RESULT.npy --eps 1e-6 [--tol 1e-5]
"""
import argparse
import os
import sys

import numpy as np


def rms_norm(x, weight, eps):
    ms = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(ms + eps))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--shape", required=True)
    g.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("result")
    c.add_argument("--eps", type=float, required=True)
    c.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()

    if a.cmd == "gen":
        rng = np.random.default_rng(a.seed)
        shape = [int(s) for s in a.shape.split(",")]
        os.makedirs(a.dir, exist_ok=True)
        # Rows of very different scales (the statistic must not saturate),
        # and one row of zeros (its result is exactly 0).
        x = rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 30.0],
                                                     size=shape[:-1] + [1])
        x.reshape(-1, shape[-1])[0] = 0.0
        w = 1.0 + 0.5 * rng.standard_normal(shape[-1])
        np.save(os.path.join(a.dir, "x.npy"), x.astype(np.float32))
        np.save(os.path.join(a.dir, "weight.npy"), w.astype(np.float32))
        return 0

    load = lambda n: np.load(os.path.join(a.dir, n + ".npy")).astype(np.float64)
    x, w = load("x"), load("weight")
    expected = rms_norm(x, w, a.eps)
    got = np.load(a.result)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        print(f"FAIL shape {got.shape} vs {expected.shape} or non-finite")
        return 1
    # Relative to the row's scale: results are O(weight) whatever x's scale.
    err = float(np.max(np.abs(got - expected)))
    ok = err <= a.tol
    print(f"{'PASS' if ok else 'FAIL'} shape={list(got.shape)} "
          f"max_abs_err={err:.3g} tol={a.tol:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
