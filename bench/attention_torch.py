#!/usr/bin/python3
"""PyTorch's attention at the shapes of attention_bench, one thread:
softmax(q @ k.transpose(-1, -2) / 8 + mask) @ v, batch 1, 8 heads, head dim
64. Prints one JSON object per line: {"kind", "seq", "ms" (median), "gflops"}.
Run with OPENBLAS_CORETYPE unset (bench/attention.sh does)."""
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

torch.set_num_threads(1)
H, D = 8, 64


def bench(fn, min_seconds=0.5, min_runs=3):
    fn()  # warm-up, first touch
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    seqs = [int(s) for s in sys.argv[1:]] or [128, 512, 1024, 2048]
    g = torch.Generator().manual_seed(0)
    for s in seqs:
        q, k, v = (torch.randn(1, H, s, D, generator=g) for _ in range(3))
        neg = float("-inf")
        masks = {
            "none": torch.zeros(s, s),
            "causal": torch.triu(torch.full((s, s), neg), diagonal=1),
            "padded": torch.cat([torch.zeros(1, 1, 1, s // 2),
                                 torch.full((1, 1, 1, s - s // 2), neg)], -1),
        }
        for kind, mask in masks.items():
            with torch.no_grad():
                sec = bench(lambda: torch.softmax(
                    q @ k.transpose(-1, -2) / 8 + mask, dim=-1) @ v)
            flops = 4.0 * s * s * D * H
            print(json.dumps({"kind": kind, "seq": s, "ms": sec * 1e3,
                              "gflops": flops / sec / 1e9}), flush=True)


if __name__ == "__main__":
    main()
