#!/usr/bin/python3
"""transformers' MarianTokenizer on the example's tokenizer files (written
by train.py into model/): the reference for tfm's. Run through the
hf-reference tree (transformers 4.47's slow tokenizers):

  /usr/bin/python3 examples/numbers/tokenizer_ref.py > examples/numbers/tokenizer_ref.json

Checks that it encodes every held-out number's English text to the ids the
model was trained on (heldout.json "src"), and decodes the expected Korean
ids to the Korean text; writes its ids and decodings of a few odd texts
(case, spaces, words outside the vocabulary, empty) for the tests.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HF_REFERENCE = os.environ.get("HF_REFERENCE", os.path.join(HERE, "../../../shared/hf-reference"))
sys.path.insert(0, HF_REFERENCE)
import hf_compat  # noqa: E402,F401
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=".*sacremoses.*")
from transformers import AutoTokenizer  # noqa: E402

sys.path.insert(0, HERE)
import number_words as nw  # noqa: E402

tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "model"), use_fast=False)
held = json.load(open(os.path.join(HERE, "heldout.json")))
for n, src, expected in zip(held["numbers"], held["src"], held["expected"]):
    text = " ".join(nw.english(n))
    ids = tok(text)["input_ids"]
    if ids != src:
        sys.exit(f"tokenizer_ref.py: {text!r}: transformers {ids}, trained on {src}")
    korean = "".join(nw.korean(n))
    if tok.decode(expected, skip_special_tokens=True) != korean:
        sys.exit(f"tokenizer_ref.py: decode {expected}: {tok.decode(expected)!r}, want {korean!r}")
odd = ["Four Thousand  Two hundred SEVEN", "two hundred and seven", "twenty-one", "nineteen ", "", "zero",
       "one thousand one"]
out = {"checked": len(held["numbers"]),
       "texts": [{"text": t, "input_ids": tok(t)["input_ids"]} for t in odd],
       "decoded": [{"ids": ids, "text": tok.decode(ids, skip_special_tokens=True)}
                   for ids in ([9, 16, 5, 15, 10, 2], [4, 15, 2], [0, 1, 3, 2])]}
json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
sys.stdout.write("\n")
