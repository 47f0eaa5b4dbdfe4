#!/usr/bin/python3
"""The example's tokenizer in tfm against transformers' MarianTokenizer on
the same files (examples/numbers/tokenizer_ref.json, made by
examples/numbers/tokenizer_ref.py, which also checked transformers' ids of
all 1000 held-out texts against the ids the model was trained on):

  check_tokenizer.py ARTIFACT REF.json [--tfm-run tfm-run]

`tfm-run ARTIFACT --tokenize TEXT` and `--detokenize IDS` must print
transformers' ids and text. Prints one line per check, then PASS or FAIL.
"""
import argparse
import json
import shlex
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("artifact")
ap.add_argument("ref")
ap.add_argument("--tfm-run", default="tfm-run")
a = ap.parse_args()
run = shlex.split(a.tfm_run)
ref = json.load(open(a.ref))
ok = True
for t in ref["texts"]:
    got = subprocess.run(run + [a.artifact, "--tokenize", t["text"]], capture_output=True, text=True).stdout
    want = " ".join(map(str, t["input_ids"])) + "\n"
    ok &= got == want
    print(f"tokenize {t['text']!r}: {got.strip()}", "ok" if got == want else f"FAIL (transformers {want.strip()})")
for d in ref["decoded"]:
    ids = " ".join(map(str, d["ids"]))
    got = subprocess.run(run + [a.artifact, "--detokenize", ids], capture_output=True, text=True).stdout
    ok &= got == d["text"] + "\n"
    print(f"detokenize {ids}: {got.strip()!r}", "ok" if got == d["text"] + "\n" else f"FAIL ({d['text']!r})")
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
