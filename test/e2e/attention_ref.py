#!/usr/bin/python3
"""NumPy reference for the attention end-to-end tests.

Written from the definitions ("Attention Is All You Need", and the semantics
in DESIGN.md), not from tfm's code:

  softmax(Q Kᵀ / sqrt(d_k) + mask) V

with a causal mask (query i sees keys j <= i when q_len == k_len) and a key
padding mask from lengths (keys j >= length[b] are hidden). A query row that
sees no key gives a zero output. Computed in float64.

  attention_ref.py gen DIR --batch B --seq S --seed N
  attention_ref.py check DIR ENTRY RESULT.npy [--tol 1e-5]
"""
import argparse
import os
import sys

import numpy as np

D_MODEL, HEADS = 32, 4
HEAD_DIM = D_MODEL // HEADS
SCALE = 1.0 / np.sqrt(HEAD_DIM)


def attention(q, k, v, lengths, causal):
    s = q @ np.swapaxes(k, -1, -2) * SCALE  # [B, H, Sq, Sk]
    sq, sk = s.shape[-2], s.shape[-1]
    i = np.arange(sq)[:, None]
    j = np.arange(sk)[None, :]
    visible = np.ones((sq, sk), dtype=bool)
    if causal:
        visible &= j <= i + (sk - sq)
    visible = visible[None, None] & (
        j[None, None] < lengths[:, None, None, None])
    s = np.where(visible, s, -np.inf)
    row_max = np.max(np.where(visible, s, -np.inf), axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.where(visible, np.exp(s - row_max), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return p @ v


def split_heads(x):
    b, s, d = x.shape
    return x.reshape(b, s, HEADS, d // HEADS).transpose(0, 2, 1, 3)


def merge_heads(x):
    b, h, s, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * dh)


def mha(x, lengths, wq, bq, wk, bk, wv, bv, wo, bo):
    q = split_heads(x @ wq.T + bq)
    k = split_heads(x @ wk.T + bk)
    v = split_heads(x @ wv.T + bv)
    return merge_heads(attention(q, k, v, lengths, causal=True)) @ wo.T + bo


def gen(args):
    rng = np.random.default_rng(args.seed)
    b, s = args.batch, args.seq
    os.makedirs(args.dir, exist_ok=True)
    # Full length, a partial one, and 0 (every row fully masked).
    lengths = np.array([s, max(1, s // 2), 0] * b, dtype=np.int32)[:b]
    arrays = {
        "x": rng.standard_normal((b, s, D_MODEL)),
        "lengths": lengths,
        "q": rng.standard_normal((b, HEADS, s, HEAD_DIM)),
        "k": rng.standard_normal((b, HEADS, s, HEAD_DIM)),
        "v": rng.standard_normal((b, HEADS, s, HEAD_DIM)),
    }
    for name in ("q", "k", "v", "o"):
        arrays["w" + name] = rng.standard_normal(
            (D_MODEL, D_MODEL)) / np.sqrt(D_MODEL)
        arrays["b" + name] = 0.1 * rng.standard_normal(D_MODEL)
    for name, a in arrays.items():
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        np.save(os.path.join(args.dir, name + ".npy"), a)


def check(args):
    def load(name):
        a = np.load(os.path.join(args.dir, name + ".npy"))
        return a.astype(np.float64) if a.dtype == np.float32 else a

    if args.entry == "mha":
        names = ["x", "lengths", "wq", "bq", "wk", "bk", "wv", "bv", "wo",
                 "bo"]
        expected = mha(*[load(n) for n in names])
    else:
        expected = attention(load("q"), load("k"), load("v"),
                             load("lengths"), causal=True)
    got = np.load(args.result)
    if got.shape != expected.shape or got.dtype != np.float32:
        print(f"FAIL {args.entry}: got {got.dtype}{list(got.shape)}, "
              f"expected float32{list(expected.shape)}")
        return 1
    if not np.all(np.isfinite(got)):
        print(f"FAIL {args.entry}: non-finite values in the result")
        return 1
    lengths = load("lengths")
    empty = lengths == 0
    if args.entry != "mha" and not np.all(got[empty] == 0.0):
        print(f"FAIL {args.entry}: fully masked rows are not exactly zero")
        return 1
    if args.entry == "mha" and empty.any():
        # Zero attention output, so the output projection leaves its bias.
        bias = np.broadcast_to(load("bo").astype(np.float32),
                               got[empty].shape)
        if not np.array_equal(got[empty], bias):
            print(f"FAIL {args.entry}: fully masked rows are not the bias")
            return 1
    err = float(np.max(np.abs(got - expected))) if got.size else 0.0
    status = "PASS" if err <= args.tol else "FAIL"
    print(f"{status} {args.entry} shape={list(got.shape)} "
          f"max_abs_err={err:.3g} tol={args.tol:g} "
          f"masked_rows={int(empty.sum())}")
    return 0 if status == "PASS" else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--batch", type=int, required=True)
    g.add_argument("--seq", type=int, required=True)
    g.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("entry", choices=["mha", "sdpa_chain", "sdpa_op"])
    c.add_argument("result")
    c.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args()
    return gen(args) if args.command == "gen" else check(args)


if __name__ == "__main__":
    sys.exit(main())
