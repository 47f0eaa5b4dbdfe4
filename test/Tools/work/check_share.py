#!/usr/bin/python3
"""Runs a module compiled with the count-work option of tfm-tile-matmul and
tfm-lower-attention (test/Tools/Inputs/encoder-layer-work.mlir) under
tfm-run with OMP_NUM_THREADS threads and work_count.c preloaded, and checks
how the threads shared the work: every thread's units within TOL of
1/THREADS of the total, and the total what the kernels have (each unit
counted once).

  check_share.py matmuls --rows M ...     encoder_matmuls on M rows; units:
      rows x panels of each task, M x (16 + 64 + 16) in all
  check_share.py attention --batch B --seq S ...     encoder_attention on
      B sequences of S tokens; units: query rows of each (batch, head)
      group, B x 8 x S in all
  (both: --artifact SO --dir DIR --lib LIB --threads T)
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["matmuls", "attention"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--tol", type=float, default=0.15)
    ap.add_argument("--tfm-run", default="tfm-run")
    a = ap.parse_args()
    rng = np.random.default_rng(a.rows + a.batch * a.seq)
    f32 = np.float32
    if a.kind == "matmuls":
        inputs = {"x": rng.uniform(-1, 1, (a.rows, 512)).astype(f32),
                  "wq": (rng.uniform(-1, 1, (512, 512)) * 0.07).astype(f32),
                  "w1": (rng.uniform(-1, 1, (2048, 512)) * 0.07).astype(f32),
                  "w2": (rng.uniform(-1, 1, (512, 2048)) * 0.04).astype(f32)}
        expected = a.rows * (16 + 64 + 16)
        what = f"rows {a.rows}"
    else:
        shape = (a.batch, 8, a.seq, 64)
        inputs = {n: rng.uniform(-1, 1, shape).astype(f32) for n in "qkv"}
        expected = a.batch * 8 * a.seq
        what = f"attention {a.batch} x {a.seq}"
    tag = f"{a.kind}-{a.rows}-{a.batch}x{a.seq}"
    cmd = [a.tfm_run, a.artifact, "--call", f"encoder_{a.kind}"]
    for name, value in inputs.items():
        path = os.path.join(a.dir, f"{tag}-{name}.npy")
        np.save(path, value)
        cmd += ["--input", path]
    cmd += ["--output", os.path.join(a.dir, f"{tag}-out.npy")]
    counts_path = os.path.join(a.dir, f"counts-{tag}-{a.threads}.txt")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), LD_PRELOAD=a.lib,
               TFM_WORK_COUNTS=counts_path)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"FAIL: {' '.join(cmd)} exited {done.returncode}: "
              f"{done.stderr.strip()}")
        return 1
    with open(counts_path) as f:
        lines = f.read().split()
    counts = [int(v) for v in lines]
    total = sum(counts)
    share = [c / total for c in counts] if total else []
    worst = max((abs(s * a.threads - 1) for s in share), default=1.0)
    print(f"{what}, OMP_NUM_THREADS={a.threads}: {len(counts)} "
          f"threads worked, total {total} units (expected {expected})")
    print("shares (x 1/threads): " +
          " ".join(f"{s * a.threads:.2f}" for s in share))
    ok = len(counts) == a.threads and total == expected and worst <= a.tol
    print(f"{'PASS' if ok else 'FAIL'}: largest deviation {worst:.1%} "
          f"(tolerance {a.tol:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
