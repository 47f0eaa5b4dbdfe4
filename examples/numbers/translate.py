#!/usr/bin/python3
"""Helpers around tfm-run for the numbers example (English number words →
Sino-Korean). No torch needed.

  translate.py encode "four thousand two hundred seven"   → 7 32 5 31 10 2
  translate.py encode 4207                                 (same: digits are
                                                            spelled out first)
  translate.py decode "7 15 5 14 10"        → 사천이백칠  (4207)
  translate.py decode --src "7 32 5 31 10 2"  → four thousand two hundred seven
  translate.py texts heldout.json > texts.txt   (the English, one per line)
  translate.py score --text heldout.json tfm_text_output.txt
      (tfm-run's stdout for `--text-file texts.txt`: Korean text per line)
  translate.py score heldout.json tfm_output.txt
      tfm_output.txt: tfm-run's stdout for `--inputs heldout_src.json`, one
      line of ids per held-out number; prints the exact-match accuracy against
      the expected answers and how many lines equal PyTorch's greedy output.

A round trip through the compiled model:

  ids=$(translate.py encode 4207)
  out=$(tfm-run numbers.so --src "$ids")
  translate.py decode "$out"
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import number_words as nw  # noqa: E402


def parse_ids(text, vocab, what):
    try:
        ids = [int(t) for t in text.split()]
    except ValueError:
        raise SystemExit(f"translate.py: {what}: not a list of ids: {text!r}")
    for i in ids:
        if not 0 <= i < len(vocab):
            raise SystemExit(f"translate.py: {what}: id {i} is not in the "
                             f"vocabulary (0..{len(vocab) - 1})")
    return ids


def cmd_encode(args):
    text = " ".join(args.text).strip()
    if text.isdigit():
        words = nw.english(int(text))
    else:
        words = [w for w in text.lower().replace("-", " ").replace(",", " ")
                 .split() if w != "and"]  # "two hundred and seven" too
    unknown = [w for w in words if w not in nw.SRC_ID or w in nw.SPECIALS
               or w == "<unk>"]
    if unknown:
        raise SystemExit(f"translate.py: not in the source vocabulary: "
                         f"{' '.join(unknown)}")
    # A source sequence ends with <eos>, as the tokenizer encodes it.
    print(" ".join(str(nw.SRC_ID[w]) for w in words + ["<eos>"]))


def cmd_decode(args):
    text = " ".join(args.ids)
    if args.src:
        words = [nw.SRC_VOCAB[i] for i in parse_ids(text, nw.SRC_VOCAB, "ids")]
        if words and words[-1] == "<eos>":
            words.pop()
        value = nw.english_value(words)
        print(" ".join(words) + (f"  ({value})" if value is not None else ""))
        return
    tokens = [nw.TGT_VOCAB[i] for i in parse_ids(text, nw.TGT_VOCAB, "ids")]
    value = nw.korean_value(tokens)
    shown = "".join(tokens)
    print(shown + (f"  ({value})" if value is not None else
                   "  (not a well-formed number)"))


def cmd_score(args):
    with open(args.heldout) as f:
        held = json.load(f)
    with open(args.output) as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n = len(held["expected"])
    if len(lines) != n:
        print(f"translate.py: {args.output} has {len(lines)} lines, "
              f"{args.heldout} {n} sequences", file=sys.stderr)
        return 1
    if args.text:  # tfm-run --text-file's output: Korean text per line.
        text = {"".join(nw.TGT_VOCAB[i] for i in ids): ids
                for ids in held["expected"] + held["torch_greedy"]}
        got = [text.get(line, [-1]) for line in lines]
    else:
        got = [parse_ids(line, nw.TGT_VOCAB, f"line {k + 1}")
               for k, line in enumerate(lines)]
    correct = sum(g == e for g, e in zip(got, held["expected"]))
    same = sum(g == t for g, t in zip(got, held["torch_greedy"]))
    torch_correct = sum(t == e for t, e in
                        zip(held["torch_greedy"], held["expected"]))
    print(f"exact match: {correct}/{n} = {100.0 * correct / n:.2f}% "
          f"(PyTorch: {torch_correct}/{n})")
    print(f"identical to PyTorch's greedy output: {same}/{n}")
    shown = 0
    for k, (g, e) in enumerate(zip(got, held["expected"])):
        if g != e and shown < args.show:
            src = " ".join(nw.SRC_VOCAB[i] for i in held["src"][k])
            shown_got = lines[k] if args.text else "".join(
                nw.TGT_VOCAB[i] for i in g)
            print(f"  {src}: got {shown_got!r}, "
                  f"expected {''.join(nw.TGT_VOCAB[i] for i in e)!r}")
            shown += 1
    return 0


def cmd_texts(args):
    with open(args.heldout) as f:
        held = json.load(f)
    for n in held["numbers"]:
        print(" ".join(nw.english(n)))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("encode", help="English words (or digits) → ids")
    e.add_argument("text", nargs="+")
    d = sub.add_parser("decode", help="ids → Korean (or English with --src)")
    d.add_argument("--src", action="store_true",
                   help="the ids are source (English) ids")
    d.add_argument("ids", nargs="*", default=[])
    s = sub.add_parser("score", help="score tfm-run's output on heldout")
    s.add_argument("heldout")
    s.add_argument("output")
    s.add_argument("--show", type=int, default=5,
                   help="how many wrong answers to print")
    s.add_argument("--text", action="store_true",
                   help="the output is text (tfm-run --text-file), not ids")
    t = sub.add_parser("texts", help="the held-out numbers in English words, "
                       "one per line (for tfm-run --text-file)")
    t.add_argument("heldout")
    args = parser.parse_args()
    return {"encode": cmd_encode, "decode": cmd_decode, "score": cmd_score,
            "texts": cmd_texts}[args.command](args) or 0


if __name__ == "__main__":
    sys.exit(main())
