#!/usr/bin/python3
"""Runs a model compiled with tfm-tile-matmul's count-work option
(test/Tools/Inputs/encoder-matmuls.mlir) under tfm-run with OMP_NUM_THREADS
threads and work_count.c preloaded, and checks how the threads shared the
matmuls' work: every thread's units (rows x panels of its tasks) within
TOL of 1/THREADS of the total, and the total what the matmuls have
(rows x (16 + 64 + 16) panels: each unit counted once).

  check_share.py --artifact SO --dir DIR --lib LIB --rows M --threads T
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--tol", type=float, default=0.15)
    ap.add_argument("--tfm-run", default="tfm-run")
    a = ap.parse_args()
    rng = np.random.default_rng(a.rows)
    f32 = np.float32
    inputs = {"x": rng.uniform(-1, 1, (a.rows, 512)).astype(f32),
              "wq": (rng.uniform(-1, 1, (512, 512)) * 0.07).astype(f32),
              "w1": (rng.uniform(-1, 1, (2048, 512)) * 0.07).astype(f32),
              "w2": (rng.uniform(-1, 1, (512, 2048)) * 0.04).astype(f32)}
    cmd = [a.tfm_run, a.artifact, "--call", "encoder_matmuls"]
    for name, value in inputs.items():
        path = os.path.join(a.dir, f"{name}-{a.rows}.npy")
        np.save(path, value)
        cmd += ["--input", path]
    cmd += ["--output", os.path.join(a.dir, f"y-{a.rows}.npy")]
    counts_path = os.path.join(a.dir, f"counts-{a.rows}-{a.threads}.txt")
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
    expected = a.rows * (16 + 64 + 16)
    share = [c / total for c in counts] if total else []
    worst = max((abs(s * a.threads - 1) for s in share), default=1.0)
    print(f"rows {a.rows}, OMP_NUM_THREADS={a.threads}: {len(counts)} "
          f"threads worked, total {total} units (expected {expected})")
    print("shares (x 1/threads): " +
          " ".join(f"{s * a.threads:.2f}" for s in share))
    ok = len(counts) == a.threads and total == expected and worst <= a.tol
    print(f"{'PASS' if ok else 'FAIL'}: largest deviation {worst:.1%} "
          f"(tolerance {a.tol:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
