#!/usr/bin/python3
"""A stand-in for tfmc and tfm-run that answers from a case's references, to
test check_hf.py itself (selftest.test) without the compiler.

    fake_tfm.py tfmc CASE/model -o ART
    fake_tfm.py tfm-run [FAULT...] ART (--inputs F | --src IDS) [--logits O.npy] [--pooled P.npy]
                [--max-new-tokens N]

FAULTs make it wrong on purpose: --perturb X (adds X to one real value of the
forward output), --dirty-padding (a nonzero value past a length),
--extra-token (greedy: one more token on the last sequence), --print-eos
(greedy: the eos id printed after the tokens when generation stopped at it),
--plain (Marian greedy: generate() without forced_eos_token_id, bad_words_ids).
"""
import json
import os
import sys

import numpy as np


def main():
    argv = sys.argv[1:]
    tool, argv = argv[0], argv[1:]
    if tool == "tfmc":
        model, art = argv[0], argv[argv.index("-o") + 1]
        os.makedirs(art)
        with open(os.path.join(art, "fake.json"), "w") as f:
            json.dump({"case": os.path.abspath(os.path.dirname(os.path.normpath(model)))}, f)
        return 0
    faults = {}
    while argv[0].startswith("--"):
        k = argv.pop(0)
        faults[k] = float(argv.pop(0)) if k == "--perturb" else True
    art, argv = argv[0], argv[1:]
    opts = dict(zip(argv[::2], argv[1::2]))
    case_dir = json.load(open(os.path.join(art, "fake.json")))["case"]
    case = json.load(open(os.path.join(case_dir, "case.json")))
    inputs = json.load(open(os.path.join(case_dir, "inputs.json")))
    real = [[t for t, m in zip(r, k) if m] for r, k in zip(inputs["input_ids"], inputs["attention_mask"])]
    if "--src" in opts:
        src = [[int(t) for t in opts["--src"].split()]]
        batch = {"src": src}
    else:
        batch = json.load(open(opts["--inputs"]))
        src = batch["src"]
    rows = [real.index(s) for s in src]  # which reference rows these are

    if "--logits" in opts:
        cls = case["model_class"]
        name = "last_hidden_state" if cls == "BertModel" else "logits"
        ref = np.load(os.path.join(case_dir, name + ".npy"))
        lens = [len(t) for t in batch["tgt"]] if "tgt" in batch else [len(s) for s in src]
        out = np.zeros((len(src), max(lens), ref.shape[2]), np.float32)
        for b, (row, n) in enumerate(zip(rows, lens)):
            out[b, :n] = ref[row, :n]
        if "--perturb" in faults:
            out[-1, lens[-1] - 1, 3] += faults["--perturb"]
        if "--dirty-padding" in faults:
            out[lens.index(min(lens)), -1, 0] = 1e-30
        np.save(opts["--logits"], out)
        if "--pooled" in opts:
            np.save(opts["--pooled"], np.load(os.path.join(case_dir, "pooler_output.npy"))[rows])
        return 0

    gen = json.load(open(os.path.join(case_dir, "generate.json")))
    cfg = json.load(open(os.path.join(case_dir, "model", "config.json")))
    n = int(opts.get("--max-new-tokens", 10**9))
    for i, row in enumerate(rows):
        if "generate_single" in gen:
            toks = gen["generate_single"][row][len(real[row]):]
        else:
            key = "generate_batch_plain" if "--plain" in faults else "generate_batch"
            toks = gen[key][row][1:]  # padding only after eos
        eos = cfg["eos_token_id"]
        stopped = eos in toks
        toks = toks[:toks.index(eos)] if stopped else toks
        toks = toks[:n]
        if "--print-eos" in faults and stopped:
            toks = toks + [eos]
        if "--extra-token" in faults and i == len(rows) - 1:
            toks = toks + [7]
        print(" ".join(map(str, toks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
