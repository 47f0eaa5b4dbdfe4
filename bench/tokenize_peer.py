#!/usr/bin/python3
"""The peers of bench/tokenize_bench.cpp on the same corpus:

  tokenize_peer.py transformers TOKENIZER_DIR CORPUS [--runs 3]
      transformers' slow tokenizer (AutoTokenizer, use_fast=False, through
      the hf-reference tree): tokenizer(line)["input_ids"] per line, then
      decode(ids, skip_special_tokens=True)
  tokenize_peer.py sentencepiece MODEL.spm CORPUS [--runs 3]
      python3-sentencepiece's own encode(line, out_type=int) per line (the
      library alone: no special tokens, no vocabulary mapping), then decode

Prints one JSON object: the median MB/s of encoding and decoding.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["transformers", "sentencepiece"])
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    lines = open(a.corpus, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    nbytes = sum(len(line.encode()) for line in lines)
    if a.peer == "transformers":
        sys.path.insert(0, os.environ.get("HF_REFERENCE", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "../../shared/hf-reference")))
        import hf_compat  # noqa: F401
        import warnings
        warnings.filterwarnings("ignore")
        from transformers import AutoTokenizer
        from transformers.utils import logging
        logging.set_verbosity_error()
        tok = AutoTokenizer.from_pretrained(a.model, use_fast=False)
        encode = lambda s: tok(s)["input_ids"]  # noqa: E731
        decode = lambda ids: tok.decode(ids, skip_special_tokens=True)  # noqa: E731
    else:
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=a.model)
        encode = lambda s: sp.encode(s, out_type=int)  # noqa: E731
        decode = sp.decode
    enc, dec = [], []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        ids = [encode(line) for line in lines]
        t1 = time.perf_counter()
        for i in ids:
            decode(i)
        t2 = time.perf_counter()
        enc.append(t1 - t0)
        dec.append(t2 - t1)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    print(json.dumps({"bytes": nbytes, "lines": len(lines), "encode_mb_s": nbytes / med(enc) / 1e6,
                      "decode_mb_s": nbytes / med(dec) / 1e6}))


if __name__ == "__main__":
    main()
