#!/usr/bin/python3
"""NumPy reference for the linear-layer end-to-end test (packed-linear.mlir).

Written from the op definitions (dialect/TfmOps.td), not from tfm's code:

  linear     y[..., n] = sum_k x[..., k] * W[n, k] + b[n]    (W: [N, K])
  relu       max(y, 0)
  gelu       0.5 * y * (1 + erf(y / sqrt(2)))                (exact form)
  gelu_tanh  0.5 * y * (1 + tanh(sqrt(2/pi) * (y + 0.044715 y^3)))
  silu       y / (1 + exp(-y))
  tanh       tanh(y)
  add        y + r
  gated      silu(x G^T + bg) * (x W^T + b)     (a gated MLP's two layers;
                                                 G: [N, K], biases optional)
  pack       packed[p, k, j] = W[p * P + j, k], 0 where p * P + j >= N

Computed in float64 from the float32 inputs. With --weight-type bf16 or
int8 (an artifact compiled with tfmc --weight-type) the weights W and G are
first replaced by the values that type stores (weight_types.py: the nearest
bf16; int8 rows at their scale, dequantized); "prepacked" is skipped then
(its argument takes the stored type, which --call cannot pass from .npy).
--bf16-activations also rounds x to bf16, as the vdpbf16ps kernels (bf16
weights in k pairs, on targets with AVX512-BF16) do.

  linear_ref.py run ARTIFACT.so DIR --seed N [--tol 1e-5] [--only CASE]
        [--tfm-run PATH] [--weight-type f32|bf16|int8]

calls every entry of packed-linear.mlir through `tfm-run --call` (by default
the one on PATH) at each of its row shapes, with random inputs written to
DIR, and prints one line per call: PASS (largest |got - ref| <= tol *
max(|ref|, 1)) or FAIL; exits 1 if any call failed. The weight of
"prepacked" goes in packed, as `pack` above.
"""
import argparse
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weight_types import bf16_nearest, int8_quantize, int8_scales  # noqa: E402

PANEL = 32

# name (the entry), K, N, bias, epilogue (applied in order to the linear's result
# y; "two_users": relu(y) and y + r, unfused), the leading shapes to run.
CASES = [
    ("plain", 100, 70, False, [], [[0], [1], [7], [8], [9], [37], [130]]),
    ("bias_relu", 100, 70, True, ["relu"], [[1], [9], [130]]),
    ("bias_gelu", 100, 70, True, ["gelu"], [[7], [37]]),
    ("residual_lhs", 100, 70, False, ["residual"], [[1], [8], [130]]),
    ("gelu_residual", 100, 70, True, ["gelu", "residual"],
     [[2, 0], [1, 1], [2, 4], [3, 3], [5, 26]]),
    ("vector", 100, 70, True, ["gelu"], [[]]),
    ("tiny", 3, 5, True, ["relu"], [[1], [9]]),
    ("wide", 100, 300, True, ["gelu"], [[1], [2], [3], [9], [130]]),
    ("deep_relu_residual", 1100, 48, True, ["relu", "residual"],
     [[1], [9], [130]]),
    ("deep_plain", 1100, 33, False, [], [[1, 7], [2, 65]]),
    ("two_users", 100, 70, True, ["two_users"], [[9], [37]]),
    ("gelu_tanh_residual", 100, 70, True, ["gelu_tanh", "residual"],
     [[1], [9], [37]]),
    ("silu", 100, 70, True, ["silu"], [[1], [8], [130]]),
    ("tanh", 100, 70, True, ["tanh"], [[1], [9]]),
    ("prepacked", 100, 70, True, ["relu", "residual"], [[7], [130]]),
    # Gated pairs: one kernel over both weights (K up to gated-max-k, one K
    # block of 1000 steps), and above it (K = 1100) two kernels.
    ("gated", 100, 70, True, ["gated"],
     [[1], [2], [3], [5], [9], [37], [130]]),
    ("gated_plain", 1000, 96, False, ["gated"], [[1, 1], [2, 3], [2, 65]]),
    ("gated_deep", 1100, 96, True, ["gated"], [[1], [9]]),
]


ERF = np.vectorize(math.erf, otypes=[np.float64])


def gelu(y):
    return 0.5 * y * (1.0 + ERF(y / math.sqrt(2.0)))


def pack(w, panel=PANEL):
    n, k = w.shape
    panels = -(-n // panel)
    padded = np.zeros((panels * panel, k), dtype=w.dtype)
    padded[:n] = w
    # [p * P + j, k] -> [p, k, j]
    return np.ascontiguousarray(
        padded.reshape(panels, panel, k).transpose(0, 2, 1))


def silu(y):
    return y / (1.0 + np.exp(-y))


def reference(name, x, w, b, r, epilogue, g=None, bg=None):
    """Expected results (a list: one per entry result), in float64."""
    y = x @ w.T
    if b is not None:
        y = y + b
    if "gated" in epilogue:
        gate = x @ g.T
        if bg is not None:
            gate = gate + bg
        return [silu(gate) * y]
    if "two_users" in epilogue:
        return [np.maximum(y, 0.0), y + r]
    for op in epilogue:
        if op == "relu":
            y = np.maximum(y, 0.0)
        elif op == "gelu":
            y = gelu(y)
        elif op == "gelu_tanh":
            y = 0.5 * y * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) *
                                         (y + 0.044715 * y ** 3)))
        elif op == "silu":
            y = silu(y)
        elif op == "tanh":
            y = np.tanh(y)
        elif op == "residual":
            y = y + r
    return [y]


def stored(weight_type, w):
    """The float64 values of `w` [N, K] as `weight_type` stores them."""
    if weight_type == "bf16":
        return bf16_nearest(w).astype(np.float64)
    if weight_type == "int8":
        scales = int8_scales(w)
        return (int8_quantize(w, scales).astype(np.float64) *
                scales.astype(np.float64)[:, None])
    return w.astype(np.float64)


def run_case(args, case, lead, rng):
    name, k, n, has_bias, epilogue, _ = case
    f32 = np.float32
    x = rng.uniform(-1.0, 1.0, lead + [k]).astype(f32)
    w = (rng.uniform(-1.0, 1.0, (n, k)) * math.sqrt(3.0 / k)).astype(f32)
    b = rng.uniform(-0.5, 0.5, n).astype(f32) if has_bias else None
    uses_r = "residual" in epilogue or "two_users" in epilogue
    r = rng.uniform(-1.0, 1.0, lead + [n]).astype(f32) if uses_r else None
    gated = "gated" in epilogue
    g = ((rng.uniform(-1.0, 1.0, (n, k)) * math.sqrt(3.0 / k)).astype(f32)
         if gated else None)
    bg = (rng.uniform(-0.5, 0.5, n).astype(f32) if gated and has_bias
          else None)

    tag = "_".join([name] + [str(d) for d in lead])
    if gated:  # the entry's order: x, gate, up, gate bias, bias
        inputs = [("x", x), ("g", g), ("w", w)]
        if bg is not None:
            inputs.append(("bg", bg))
    else:
        inputs = [("x", x), ("w", pack(w) if name == "prepacked" else w)]
    if b is not None:
        inputs.append(("b", b))
    if r is not None:
        inputs.append(("r", r))
    f64 = [a if a is None else a.astype(np.float64) for a in (x, w, b, r, g, bg)]
    # The weights as the artifact's type stores them.
    f64[1] = stored(args.weight_type, w)
    if args.bf16_activations:  # the vdpbf16ps kernels round x to bf16
        f64[0] = bf16_nearest(x).astype(np.float64)
    if g is not None:
        f64[4] = stored(args.weight_type, g)
    expected = reference(name, *f64[:4], epilogue, g=f64[4], bg=f64[5])

    cmd = [args.tfm_run, args.artifact, "--call", name]
    for arg, a in inputs:
        path = os.path.join(args.dir, f"{tag}.{arg}.npy")
        np.save(path, a)
        cmd += ["--input", path]
    outputs = [os.path.join(args.dir, f"{tag}.out{i}.npy")
               for i in range(len(expected))]
    for path in outputs:
        cmd += ["--output", path]
    done = subprocess.run(cmd, capture_output=True, text=True)
    desc = f"{name} lead={lead}"
    if done.returncode != 0:
        print(f"FAIL {desc}: {' '.join(cmd)} exited {done.returncode}: "
              f"{done.stderr.strip()}")
        return False

    worst = 0.0
    for path, want in zip(outputs, expected):
        got = np.load(path)
        if got.dtype != np.float32 or got.shape != want.shape:
            print(f"FAIL {desc}: got {got.dtype}{list(got.shape)}, expected "
                  f"float32{list(want.shape)}")
            return False
        if not np.all(np.isfinite(got)):
            print(f"FAIL {desc}: non-finite values")
            return False
        scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1.0)
        err = float(np.max(np.abs(got - want))) / scale if got.size else 0.0
        worst = max(worst, err)
    status = "PASS" if worst <= args.tol else "FAIL"
    extra = f" outputs={len(outputs)}" if len(outputs) > 1 else ""
    print(f"{status} {desc} shape={list(expected[0].shape)}{extra} "
          f"rel_err={worst:.3g} tol={args.tol:g}")
    return status == "PASS"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("artifact")
    run.add_argument("dir")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--tol", type=float, default=1e-5)
    run.add_argument("--only", help="run this case only")
    run.add_argument("--tfm-run", default="tfm-run", help="tfm-run to call")
    run.add_argument("--weight-type", choices=["f32", "bf16", "int8"],
                     default="f32", help="how the artifact stores weights")
    run.add_argument("--bf16-activations", action="store_true",
                     help="x rounded to bf16 too (the vdpbf16ps kernels of "
                          "bf16 weights in k pairs)")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    ok = True
    for case in CASES:
        if args.only and case[0] != args.only:
            continue
        if case[0] == "prepacked" and args.weight_type != "f32":
            print(f"SKIP prepacked: a {args.weight_type} argument")
            continue
        for lead in case[5]:
            ok &= run_case(args, case, lead, rng)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
