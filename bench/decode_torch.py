#!/usr/bin/python3
"""The PyTorch peer of bench/decode.sh: greedy decoding with the usual
torch.nn.Transformer loop, which re-runs the decoder over the whole prefix at
every step (no cache).

The model is the paper's (d_model 512, 8 heads, d_ff 2048, 6+6 layers,
32000-token vocabularies), random weights: nn.Transformer(batch_first=True),
src/tgt nn.Embedding scaled by sqrt(d_model) plus sinusoidal positions, a
Linear generator; eval mode, torch.no_grad(). The loop: encode the source
once (model.encoder), then for each new token run model.decoder on the whole
prefix with a causal tgt_mask, the generator on the last position, argmax.
It always generates --new-tokens tokens (no stop at eos: the weights are
random and the work must be the same in every run).

Timed: the decode loop of one greedy run divided by the tokens it generated
(ms_per_token), the encoder apart (encode_ms). The first run (warm-up, first
touch of every buffer) is reported apart (first_ms_per_token); ms_per_token
is the median of the --runs runs after it. Prints one JSON object on one
line:
  {"threads", "ms_per_token", "first_ms_per_token", "encode_ms",
   "first_encode_ms", "runs_ms_per_token", "new_tokens", "src_len",
   "layers", "torch", "openblas" ([threads, core]), "peak_rss_mib",
   "tokens" (of the first run)}

  decode_torch.py [--threads 1] [--runs 3] [--new-tokens 32] [--src-len 32]
                  [--layers 6] [--src "ids"] [--quantize]
                  (smaller --layers for a check)

--quantize runs the model after torch.ao.quantization.quantize_dynamic
(every nn.Linear to an int8 dynamically quantized Linear, the "onednn"
quantized engine): PyTorch's int8 weight path. nn.MultiheadAttention's
projections are not nn.Linear modules PyTorch quantizes (in_proj_weight is
a parameter, out_proj a NonDynamicallyQuantizableLinear): they stay f32.
The JSON then has "quantized": "qint8 dynamic, onednn".

Run with OPENBLAS_CORETYPE unset (this machine's environment sets it to
Haswell, which halves PyTorch's matmuls) and, on two threads, with
OMP_WAIT_POLICY=PASSIVE; bench/decode.sh does both. OPENBLAS_NUM_THREADS
is set to --threads unless given: torch.set_num_threads does not reach
OpenBLAS's own thread pool, which would otherwise take both cores.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3,
                    help="timed runs after the first (default 3)")
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--src-len", type=int, default=32)
    ap.add_argument("--src", help="source ids separated by spaces "
                    "(default: --src-len ids from a fixed seed)")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--d-ff", type=int, default=2048)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quantize", action="store_true",
                    help="int8 dynamic quantization of the Linear layers")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return ap, args


AP, ARGS = parse_args()
# Debian's torch runs its matmuls on OpenBLAS (the pthread build), whose
# thread pool is sized when it is loaded, from OPENBLAS_NUM_THREADS (else one
# per core): torch.set_num_threads does not reach it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
import torch  # noqa: E402
from torch import nn  # noqa: E402

from openblas_info import openblas  # noqa: E402

BOS = 1


class Seq2Seq(nn.Module):
    def __init__(self, vocab, d_model, heads, d_ff, layers, max_len):
        super().__init__()
        self.d_model = d_model
        self.transformer = nn.Transformer(
            d_model=d_model, nhead=heads, num_encoder_layers=layers,
            num_decoder_layers=layers, dim_feedforward=d_ff, dropout=0.1,
            batch_first=True)
        self.src_embed = nn.Embedding(vocab, d_model)
        self.tgt_embed = nn.Embedding(vocab, d_model)
        self.generator = nn.Linear(d_model, vocab)
        # pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(...)
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) *
                        (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)

    def embed(self, table, ids):
        return table(ids) * math.sqrt(self.d_model) + self.pe[:ids.shape[1]]

    def encode(self, src):
        return self.transformer.encoder(self.embed(self.src_embed, src))

    def next_token(self, ys, memory):
        n = ys.shape[1]
        mask = self.transformer.generate_square_subsequent_mask(n)
        out = self.transformer.decoder(self.embed(self.tgt_embed, ys), memory,
                                       tgt_mask=mask)
        return self.generator(out[:, -1]).argmax(dim=-1, keepdim=True)


def greedy(model, src, new_tokens):
    """One greedy run; (encode seconds, decode-loop seconds, generated ids)."""
    t0 = time.perf_counter()
    memory = model.encode(src)
    t1 = time.perf_counter()
    ys = torch.full((src.shape[0], 1), BOS, dtype=torch.long)
    for _ in range(new_tokens):
        ys = torch.cat([ys, model.next_token(ys, memory)], dim=1)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, ys[0, 1:].tolist()


def main():
    args, ap = ARGS, AP
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"decode_torch.py: warning: OPENBLAS_CORETYPE="
              f"{os.environ['OPENBLAS_CORETYPE']} confines OpenBLAS (and "
              f"PyTorch's matmuls) to that core type; unset it",
              file=sys.stderr)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.src is not None:
        src_ids = [int(t) for t in args.src.split()]
    else:
        g = torch.Generator().manual_seed(args.seed)
        src_ids = torch.randint(3, args.vocab, (args.src_len,),
                                generator=g).tolist()
    if 1 + args.new_tokens > args.max_seq_len or \
            len(src_ids) > args.max_seq_len:
        ap.error("--new-tokens or the source exceeds --max-seq-len")
    model = Seq2Seq(args.vocab, args.d_model, args.heads, args.d_ff,
                    args.layers, args.max_seq_len).eval()
    if args.quantize:
        torch.backends.quantized.engine = "onednn"
        model = torch.ao.quantization.quantize_dynamic(
            model, {nn.Linear}, dtype=torch.qint8)
        # torch 1.13's encoder-layer fast path reads linear1.weight as a
        # tensor, which a quantized Linear's is not (it is a method): the
        # check fails with AttributeError. This flag only gates that fast
        # path; the layers then run their ordinary modules.
        for layer in model.transformer.encoder.layers:
            layer.activation_relu_or_gelu = False
    src = torch.tensor([src_ids], dtype=torch.long)

    with torch.no_grad():
        first = greedy(model, src, args.new_tokens)
        runs = [greedy(model, src, args.new_tokens) for _ in range(args.runs)]
    per_token = [r[1] / args.new_tokens * 1e3 for r in runs]
    print(json.dumps({
        "threads": torch.get_num_threads(),
        "ms_per_token": statistics.median(per_token),
        "first_ms_per_token": first[1] / args.new_tokens * 1e3,
        "encode_ms": statistics.median(r[0] * 1e3 for r in runs),
        "first_encode_ms": first[0] * 1e3,
        "runs_ms_per_token": per_token,
        "new_tokens": args.new_tokens,
        "src_len": len(src_ids),
        "layers": args.layers,
        "quantized": "qint8 dynamic, onednn" if args.quantize else None,
        "torch": torch.__version__,
        "openblas": openblas(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
        "tokens": first[2],
    }), flush=True)


if __name__ == "__main__":
    main()
