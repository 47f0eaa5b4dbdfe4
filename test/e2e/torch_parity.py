#!/usr/bin/python3
"""Checks model_ref.py against PyTorch (manual; needs torch, so it is not a
lit test):

  random torch.nn.Transformer-based models (tools/tfm_model.py) in several
  configurations → tools/export_torch.py → model directory → model_ref.py's
  teacher-forced outputs vs PyTorch's (float32) on the unpadded rows, and
  model_ref.py's greedy decoding vs PyTorch's.

  /usr/bin/python3 test/e2e/torch_parity.py [--tol 1e-4] [--keep DIR]

Prints one line per configuration and exits 1 if any output differs by more
than --tol.
"""
import argparse
import os
import sys
import tempfile
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import model_ref  # noqa: E402
from export_torch import export  # noqa: E402
from tfm_model import TfmTorchModel, greedy, pad  # noqa: E402

BASE = dict(d_model=32, num_heads=4, d_ff=64, max_seq_len=16)
CASES = [
    ("enc-dec post-norm relu", dict(architecture="encoder-decoder",
                                    num_encoder_layers=2, num_decoder_layers=2,
                                    src_vocab_size=23, tgt_vocab_size=23), {}),
    ("enc-dec pre-norm gelu learned no-scale seq-first",
     dict(architecture="encoder-decoder", num_encoder_layers=3,
          num_decoder_layers=1, src_vocab_size=29, tgt_vocab_size=17,
          norm_first=True, activation="gelu", positional_encoding="learned",
          embed_scale=False, layer_norm_eps=1e-6), dict(batch_first=False)),
    ("enc-dec post-norm no-final-norm",
     dict(architecture="encoder-decoder", num_encoder_layers=1,
          num_decoder_layers=2, src_vocab_size=23, tgt_vocab_size=23,
          final_norm=False), {}),
    ("encoder post-norm relu", dict(architecture="encoder",
                                    num_encoder_layers=2, src_vocab_size=23),
     {}),
    ("encoder pre-norm gelu learned",
     dict(architecture="encoder", num_encoder_layers=2, src_vocab_size=23,
          norm_first=True, activation="gelu",
          positional_encoding="learned"), {}),
    ("decoder post-norm relu", dict(architecture="decoder",
                                    num_decoder_layers=2, tgt_vocab_size=23),
     {}),
    ("decoder pre-norm gelu learned seq-first",
     dict(architecture="decoder", num_decoder_layers=3, tgt_vocab_size=31,
          norm_first=True, activation="gelu", positional_encoding="learned"),
     dict(batch_first=False)),
]


def randomize(model, gen):
    """Non-trivial values everywhere: torch leaves biases at 0 and norms at
    (1, 0)."""
    d = model.config["d_model"]
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed" in name:
                p.copy_(torch.randn(p.shape, generator=gen) /
                        (d ** 0.5 if "pos" not in name else 2.0))
            elif p.dim() == 1:
                base = 1.0 if ("norm" in name and name.endswith("weight")) \
                    else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)


def random_batch(rng, cfg, batch, max_len):
    src_vocab = cfg.get("src_vocab_size", cfg.get("tgt_vocab_size"))
    lengths = rng.integers(1, max_len + 1, batch)
    lengths[0], lengths[1] = max_len, 1
    src = [[int(t) for t in rng.integers(0, src_vocab, n)] for n in lengths]
    tgt = None
    if cfg["architecture"] == "encoder-decoder":
        tl = rng.integers(1, max_len + 1, batch)
        tl[0], tl[-1] = 1, max_len
        tgt = [[1] + [int(t) for t in rng.integers(0, cfg["tgt_vocab_size"],
                                                   n - 1)] for n in tl]
    return src, tgt


def run_case(name, cfg, kw, seed, tol, keep):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = TfmTorchModel(cfg, **kw)
    randomize(model, gen)
    model.eval()
    out_dir = os.path.join(keep, f"case{seed}")
    export(model, {k: v for k, v in cfg.items()
                   if k in ("max_seq_len", "embed_scale")}, out_dir)
    rcfg, W = model_ref.load_model(out_dir)

    rng = np.random.default_rng(seed)
    src, tgt = random_batch(rng, cfg, 5, 11)
    inputs = {"src": src} if tgt is None else {"src": src, "tgt": tgt}
    ref, lengths = model_ref.forward(rcfg, W, inputs)
    s, sl = pad(src, 0)
    with torch.no_grad():
        if tgt is None:
            got = model(s, sl)
        else:
            t, tl = pad(tgt, 0)
            got = model(s, sl, t, tl)
    got = got.numpy().astype(np.float64)
    for b, n in enumerate(lengths):
        got[b, n:] = 0.0
    err = float(np.abs(got - ref).max())
    scale = float(np.abs(ref).max())

    agree = total = 0
    min_margin = None
    if cfg["architecture"] != "encoder":
        for k in range(6):
            n = int(rng.integers(1, 9))
            prompt = [int(x) for x in rng.integers(
                0, cfg.get("src_vocab_size", cfg.get("tgt_vocab_size")), n)]
            mine, margin = model_ref.greedy(rcfg, W, prompt)
            theirs = greedy(model, prompt)
            total += 1
            agree += mine == theirs
            if margin is not None:
                min_margin = margin if min_margin is None else \
                    min(min_margin, margin)
    ok = err <= tol and agree == total
    greedy_txt = f" greedy {agree}/{total} (min margin {min_margin:.3g})" \
        if total else ""
    print(f"{'PASS' if ok else 'FAIL'} {name}: shape={list(ref.shape)} "
          f"max_abs_err={err:.3g} (max |out| {scale:.3g}){greedy_txt}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--keep", help="keep the exported models here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*nested tensors.*")
    print(f"torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or tmp
        results = [run_case(name, {**BASE, **cfg}, kw, seed, args.tol, keep)
                   for seed, (name, cfg, kw) in enumerate(CASES)]
    print(f"{sum(results)}/{len(results)} configurations match "
          f"(tol {args.tol:g})")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
