#!/usr/bin/python3
"""The transformers peer of bench/hf.sh and bench/llama.sh: Hugging Face
transformers (the copy under shared/hf-reference, on Debian's torch) running
the same checkpoints that tfmc compiles.

  hf_torch.py make-case --max-positions N -- FAMILY SEED [make_hf_case.py args]
      make_hf_case.py (hf-reference) with its position table of N entries
      instead of its fixed 64, everything else as it does it: the
      checkpoint (save_pretrained) under OUT/model, plus its tiny
      references. A GPT-2 prompt of 32 tokens plus 64 new ones, or a BERT
      sequence of 128 tokens, does not fit 64 positions.
  hf_torch.py generate --model DIR (--src "ids" | --inputs BATCH.json)
                       --new-tokens N [--runs 3]
      generate(do_sample=False, num_beams=1, max_new_tokens=n,
      min_new_tokens=n) of the checkpoint's class (config.json's
      architectures: GPT2LMHeadModel, LlamaForCausalLM) with its KV cache,
      on one prompt (--src) or a batch of prompts of one length (--inputs,
      {"src": [[ids...], ...]}, as tfm-run --inputs; no padding):
      min_new_tokens bans eos until n tokens, so that every run does n
      tokens whatever the random weights predict. Each timed run is a
      generate of 1 new token (the prefill and the first token) then one of
      N; ms_per_token = (t_N - t_1) / (N - 1): the per-token cost without
      the prefill. The first generate of N is reported apart
      (first_ms_per_token: (t_N - the first t_1) / (N - 1)); ms_per_token
      and prefill_ms (t_1) are medians of the --runs runs after it.
  hf_torch.py encode --model DIR --inputs BATCH.json [--runs 5]
      BertModel(input_ids, attention_mask of ones, token_type_ids of zeros)
      on the batch's "src" (equal lengths), eval, torch.no_grad(): the
      first call apart (first_ms), ms the median of --runs calls after it.

All take --threads T (default 1) and print one JSON object on one line.
Run with OPENBLAS_CORETYPE unset (this machine's environment sets it to
Haswell, which halves PyTorch's matmuls) and, on two threads, with
OMP_WAIT_POLICY=PASSIVE; bench/hf.sh does both. OPENBLAS_NUM_THREADS is set
to --threads unless given: torch.set_num_threads does not reach OpenBLAS's
own thread pool, which would otherwise take both cores. The hf-reference
directory is $HF_REFERENCE, else ../../shared/hf-reference from this file.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HF_REFERENCE = os.environ.get("HF_REFERENCE") or os.path.join(
    HERE, "..", "..", "shared", "hf-reference")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-case")
    make.add_argument("--max-positions", type=int, required=True)
    make.add_argument("case_args", nargs=argparse.REMAINDER,
                      help="make_hf_case.py's arguments (after --)")
    gen = sub.add_parser("generate")
    gen.add_argument("--model", required=True)
    prompt = gen.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--src", help="prompt ids, spaces")
    prompt.add_argument("--inputs",
                        help='{"src": [[ids...], ...]}, prompts of one length')
    gen.add_argument("--new-tokens", type=int, default=64)
    gen.add_argument("--runs", type=int, default=3)
    enc = sub.add_parser("encode")
    enc.add_argument("--model", required=True)
    enc.add_argument("--inputs", required=True,
                     help='{"src": [[ids...], ...]}, as tfm-run --inputs')
    enc.add_argument("--runs", type=int, default=5)
    for p in (make, gen, enc):
        p.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if getattr(args, "runs", 1) < 1:
        ap.error("--runs must be at least 1")
    if args.command == "generate" and args.new_tokens < 2:
        ap.error("--new-tokens must be at least 2")
    return ap, args


AP, ARGS = parse_args()
# Debian's torch runs its matmuls on OpenBLAS (the pthread build), whose
# thread pool is sized when it is loaded, from OPENBLAS_NUM_THREADS (else one
# per core): torch.set_num_threads does not reach it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
sys.path.insert(0, HF_REFERENCE)
import hf_compat  # noqa: E402,F401  (before transformers: sys.path, offline)
import torch  # noqa: E402
from openblas_info import openblas  # noqa: E402


def make_case(args):
    if args.case_args[:1] == ["--"]:
        args.case_args = args.case_args[1:]
    import make_hf_case
    make_hf_case.MAXPOS = args.max_positions
    sys.argv = ["make_hf_case.py"] + args.case_args
    make_hf_case.main()


def load(cls_name, path):
    import transformers
    model = getattr(transformers, cls_name).from_pretrained(
        path, torch_dtype=torch.float32).eval()
    return model, model.config._attn_implementation


def generate(args):
    with open(os.path.join(args.model, "config.json")) as f:
        cls_name = json.load(f)["architectures"][0]
    model, attn = load(cls_name, args.model)
    if args.src is not None:
        prompts = [[int(t) for t in args.src.split()]]
    else:
        with open(args.inputs) as f:
            prompts = json.load(f)["src"]
    if len({len(p) for p in prompts}) != 1:
        sys.exit("hf_torch.py: the prompts of a batch must have one length")
    ids = torch.tensor(prompts, dtype=torch.long)
    mask = torch.ones_like(ids)
    eos = model.generation_config.eos_token_id
    if isinstance(eos, list):
        eos = eos[0]

    def run(n):
        t0 = time.perf_counter()
        out = model.generate(ids, attention_mask=mask, do_sample=False,
                             num_beams=1, max_new_tokens=n, min_new_tokens=n,
                             pad_token_id=eos)
        seconds = time.perf_counter() - t0
        new = out[:, ids.shape[1]:].tolist()
        if any(len(row) != n for row in new):
            sys.exit(f"hf_torch.py: generate gave {len(new[0])} tokens, not {n}")
        return seconds, new

    n = args.new_tokens
    with torch.no_grad():
        first_one = run(1)
        first = run(n)
        runs = []
        for _ in range(args.runs):
            one, many = run(1), run(n)
            runs.append((one[0], many[0]))
    per_token = [(many - one) / (n - 1) * 1e3 for one, many in runs]
    return {
        "ms_per_token": statistics.median(per_token),
        "prefill_ms": statistics.median(one * 1e3 for one, _ in runs),
        "first_ms_per_token": (first[0] - first_one[0]) / (n - 1) * 1e3,
        "runs_ms_per_token": per_token,
        "new_tokens": n,
        "prompt_len": ids.shape[1],
        "batch": ids.shape[0],
        "eos_token_id": eos,
        "attn_implementation": attn,
        "tokens": first[1][0] if args.src is not None else first[1],
    }


def encode(args):
    model, attn = load("BertModel", args.model)
    with open(args.inputs) as f:
        src = json.load(f)["src"]
    ids = torch.tensor(src, dtype=torch.long)  # equal lengths
    kw = dict(input_ids=ids, attention_mask=torch.ones_like(ids),
              token_type_ids=torch.zeros_like(ids))
    seconds = []
    with torch.no_grad():
        for _ in range(1 + args.runs):
            t0 = time.perf_counter()
            model(**kw)
            seconds.append(time.perf_counter() - t0)
    return {
        "ms": statistics.median(seconds[1:]) * 1e3,
        "first_ms": seconds[0] * 1e3,
        "runs_ms": [s * 1e3 for s in seconds[1:]],
        "batch": ids.shape[0],
        "seq_len": ids.shape[1],
        "attn_implementation": attn,
    }


def main():
    args = ARGS
    if args.command == "make-case":
        make_case(args)
        return
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"hf_torch.py: warning: OPENBLAS_CORETYPE="
              f"{os.environ['OPENBLAS_CORETYPE']} confines OpenBLAS (and "
              f"PyTorch's matmuls) to that core type; unset it",
              file=sys.stderr)
    torch.set_num_threads(args.threads)
    import transformers
    result = generate(args) if args.command == "generate" else encode(args)
    print(json.dumps(dict(
        {"threads": torch.get_num_threads(), "torch": torch.__version__,
         "transformers": transformers.__version__, "openblas": openblas(),
         "peak_rss_mib":
         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
        **result)), flush=True)


if __name__ == "__main__":
    main()
