#!/usr/bin/python3
"""Checks tfm-run's text in, text out against transformers' (expected.json,
made by text_ref.py):

  check_text.py --case cases/gpt2 --work DIR [--tfmc tfmc] [--tfm-run tfm-run]

1. compile: `tfmc CASE/model -o WORK/art` (the tokenizer files beside the
   weights are copied into the artifact);
2. for every text: `tfm-run WORK/art --tokenize TEXT` prints transformers'
   input_ids;
3. a model that generates: `tfm-run WORK/art --text TEXT --max-new-tokens N`
   prints transformers' generated text (tokenizer.decode(new tokens,
   skip_special_tokens=True)) and a newline, streamed and with --no-stream,
   byte for byte; with --repetition-penalty as transformers'
   repetition_penalty; `--detokenize` of transformers' generated ids prints it
   too; `--text-file` with all the texts prints them one per line;
   `--interactive` (a decoder) continues one conversation over three
   prompts as transformers' generate() on the growing history, and so does
   the C API (tfm_generate_text, examples/c-api/chat.c);
4. an encoder (BERT): `--text TEXT --logits` equals `--src IDS --logits`
   on transformers' ids.
Prints one line per check and PASS, or FAIL with the first difference.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tfmc", default="tfmc")
    ap.add_argument("--tfm-run", default="tfm-run")
    ap.add_argument("--chat", default="tfm-chat", help="examples/c-api/chat.c (the C API)")
    a = ap.parse_args()
    tfmc, tfm_run = shlex.split(a.tfmc), shlex.split(a.tfm_run)
    expected = json.load(open(os.path.join(a.case, "expected.json")))
    cases = expected["cases"]
    n = str(expected["max_new_tokens"])
    art = os.path.join(a.work, "art")
    print("case:", os.path.basename(os.path.normpath(a.case)))

    def run(args, **kw):
        r = subprocess.run(args, capture_output=True, **kw)
        if r.returncode != 0:
            sys.exit(f"FAIL: {shlex.join(args)}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r.stdout

    run(tfmc + [os.path.join(a.case, "model"), "-o", art])
    print("compile: ok")
    failures = []
    for c in cases:
        got = run(tfm_run + [art, "--tokenize", c["text"]]).decode()
        if got != " ".join(map(str, c["input_ids"])) + "\n":
            failures.append(f"--tokenize {c['text']!r}: {got!r}, transformers {c['input_ids']}")
    print(f"tokenize: {len(cases)} texts", "identical" if not failures else "DIFFER")

    if expected["model_type"] != "bert":
        for mode in ([], ["--no-stream"]):
            bad = 0
            for c in cases:
                got = run(tfm_run + [art, "--text", c["text"], "--max-new-tokens", n] + mode)
                want = (c["generated_text"] + "\n").encode()
                if got != want:
                    bad += 1
                    failures.append(f"--text {c['text']!r} {mode}: {got!r}, transformers {want!r}")
            print(f"text {'streamed' if not mode else '--no-stream'}: {len(cases)} texts",
                  "identical" if not bad else "DIFFER")
        bad = 0
        for c in cases:
            got = run(tfm_run + [art, "--text", c["text"], "--max-new-tokens", n, "--repetition-penalty",
                                 str(expected["repetition_penalty"])])
            if got != (c["repetition_penalty_text"] + "\n").encode():
                bad += 1
                failures.append(f"--repetition-penalty {c['text']!r}: {got!r}, "
                                f"transformers {c['repetition_penalty_text']!r}")
        print(f"text --repetition-penalty: {len(cases)} texts", "identical" if not bad else "DIFFER")
        bad = 0
        for c in cases:
            got = run(tfm_run + [art, "--detokenize", " ".join(map(str, c["generated_ids"]))])
            if got != (c["generated_text"] + "\n").encode():
                bad += 1
                failures.append(f"--detokenize {c['generated_ids']}: {got!r}")
        print(f"detokenize: {len(cases)} generations", "identical" if not bad else "DIFFER")
        conv = expected.get("conversation")
        if conv:
            r = subprocess.run(tfm_run + [art, "--interactive", "--max-new-tokens", n],
                               input="".join(p + "\n" for p in conv["prompts"]).encode(), capture_output=True)
            want = "".join(t + "\n" for t in conv["replies"]).encode()
            if r.returncode != 0 or r.stdout != want:
                failures.append(f"--interactive: {r.stdout!r} {r.stderr!r}, transformers {want!r}")
            print(f"interactive ({len(conv['prompts'])} turns, one conversation):",
                  "identical" if r.returncode == 0 and r.stdout == want else "DIFFER")
            r = subprocess.run(shlex.split(a.chat) + [art, n],
                               input="".join(p + "\n" for p in conv["prompts"]).encode(), capture_output=True)
            if r.returncode != 0 or r.stdout != want:
                failures.append(f"tfm-chat: {r.stdout!r} {r.stderr!r}, transformers {want!r}")
            print(f"C API tfm_generate_text ({len(conv['prompts'])} turns):",
                  "identical" if r.returncode == 0 and r.stdout == want else "DIFFER")
        else:  # An encoder-decoder: the C API answers each line on its own.
            r = subprocess.run(shlex.split(a.chat) + [art, n],
                               input="".join(c["text"] + "\n" for c in cases).encode(), capture_output=True)
            want = "".join(c["generated_text"] + "\n" for c in cases).encode()
            if r.returncode != 0 or r.stdout != want:
                failures.append(f"tfm-chat: {r.stdout!r} {r.stderr!r}, transformers {want!r}")
            print(f"C API tfm_generate_text ({len(cases)} texts, each on its own):",
                  "identical" if r.returncode == 0 and r.stdout == want else "DIFFER")
        path = os.path.join(a.work, "texts.txt")
        with open(path, "w") as f:
            f.write("".join(c["text"] + "\n" for c in cases))
        got = run(tfm_run + [art, "--text-file", path, "--max-new-tokens", n])
        want = "".join(c["generated_text"] + "\n" for c in cases).encode()
        if got != want:
            failures.append(f"--text-file: {got!r}, transformers {want!r}")
        print(f"text-file (batch of {len(cases)}):", "identical" if got == want else "DIFFER")
    else:
        bad = 0
        for i, c in enumerate(cases):
            t, s = os.path.join(a.work, f"t{i}.npy"), os.path.join(a.work, f"s{i}.npy")
            run(tfm_run + [art, "--text", c["text"], "--logits", t])
            run(tfm_run + [art, "--src", " ".join(map(str, c["input_ids"])), "--logits", s])
            if not np.array_equal(np.load(t), np.load(s)):
                bad += 1
                failures.append(f"--text {c['text']!r} --logits differs from --src")
        print(f"text --logits: {len(cases)} texts", "identical to --src" if not bad else "DIFFER")
    if failures:
        print("FAIL:", failures[0])
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
