#!/usr/bin/python3
"""Checks tfm on a Hugging Face checkpoint against transformers' references.

    check_hf.py --case cases/gpt2-base-s1 --work DIR [--tfmc tfmc] [--tfm-run tfm-run] [--tol 1e-4]

CASE is a directory of make_cases.sh: model/ (a checkpoint directory as
save_pretrained writes it), inputs.json (a right-padded batch with
attention_mask), the reference outputs (*.npy) and generate.json, all computed
by transformers 4.47 (case.json says how). Only numpy is needed here.

1. compile: `tfmc CASE/model -o WORK/art`.
2. forward: WORK/in.json holds the batch without its padding:
   {"src": [[ids], ...]}, plus "token_type_ids" (BERT, same lengths as src) or
   "tgt" (Marian: decoder_input_ids, from decoder_start_token_id, no padding);
   `tfm-run WORK/art --inputs WORK/in.json --logits WORK/out.npy`
   (BertModel: and `--pooled WORK/pooled.npy`). out.npy must be float32
   [batch, longest, N], zero past each sequence's length, and match
   last_hidden_state.npy (BertModel) or logits.npy (the others) at the real
   positions within --tol; pooled.npy [batch, hidden] pooler_output.npy.
3. greedy (GPT-2, Llama, Marian): `tfm-run WORK/art --src "IDS" --max-new-tokens N`
   per sequence, one line of new ids, eos not printed; and the whole batch at
   once, `tfm-run WORK/art --inputs WORK/prompts.json --max-new-tokens N`
   ({"src": ...} only), one line per sequence. Both must equal
   transformers' greedy generate(): GPT-2 and Llama generate_single (without the prompt,
   cut before the first eos_token_id), Marian generate_batch (without
   decoder_start_token_id, cut before the first eos, trailing pad dropped).
Prints one line per check ("compile: ok", "forward: ...", "greedy ...") and
"PASS"; on any mismatch "FAIL: ..." lines and exit status 1.

--beams FILE (beams/NAME.json, made by beam_ref.py from transformers' beam
search) adds, for a decoder-only case, `tfm-run WORK/art --src "IDS"
--beam N --max-new-tokens M` per prompt and beam count in FILE, each equal
to transformers' generate(num_beams=N) (new tokens, cut before eos).

--repeat N runs the forward pass over N copies of the batch, one after the
other, each compared with the reference (a batch past tfm-run's 8192 padded
tokens per call runs in chunks); the greedy checks are skipped then.

--weight-type bf16|int8 compiles with tfmc --weight-type: the forward pass
is then compared with --min-top1 instead of --tol (the fraction of real
positions whose arg-max equals the reference's, with the largest and mean
absolute error printed), and greedy decoding and beam search report how many
sequences equal transformers' without failing on a difference (the weights
are not the checkpoint's).

--tfmc and --tfm-run are command lines (split like a shell's words), found on
PATH by default.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np

FAMILIES = {
    # model_class: (reference of --logits, uses token_type_ids, has pooler, generates, encoder-decoder)
    "BertModel": ("last_hidden_state", True, True, False, False),
    "BertForMaskedLM": ("logits", True, False, False, False),
    "GPT2LMHeadModel": ("logits", False, False, True, False),
    "LlamaForCausalLM": ("logits", False, False, True, False),
    "MarianMTModel": ("logits", False, False, True, True),
}


class Checker:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.tfmc = shlex.split(args.tfmc)
        self.tfm_run = shlex.split(args.tfm_run)

    def ok(self, text):
        print(text, flush=True)

    def fail(self, text):
        self.failures.append(text)
        print("FAIL: " + text, flush=True)

    def run(self, what, cmd):
        """Runs a command; its stdout, or None (a failure recorded) when it fails."""
        shown = " ".join(shlex.quote(c) for c in cmd)
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as e:
            self.fail(f"{what}: cannot run {shown}: {e}")
            return None
        if p.returncode != 0:
            err = p.stderr.strip()
            self.fail(f"{what}: exit status {p.returncode} from {shown}" + (f"\n{err}" if err else ""))
            return None
        return p.stdout


def unpad(rows, mask, what):
    """The real tokens of right-padded rows."""
    out = []
    for i, (r, m) in enumerate(zip(rows, mask)):
        n = int(sum(m))
        if list(m) != [1] * n + [0] * (len(m) - n):
            sys.exit(f"check_hf.py: {what} row {i}: attention_mask is not right padding: {m}")
        out.append([int(t) for t in r[:n]])
    return out


def compare(ck, name, got_path, ref, lengths):
    """tfm's [batch, longest, N] output against a reference [batch, T, N] at the real positions."""
    try:
        got = np.load(got_path)
    except Exception as e:  # noqa: BLE001  (a missing or malformed .npy)
        ck.fail(f"forward: {name}: cannot read {got_path}: {e}")
        return
    want_shape = (len(lengths), max(lengths), ref.shape[2])
    if got.dtype != np.float32 or got.shape != want_shape:
        ck.fail(f"forward: {name}: tfm wrote {got.dtype} {list(got.shape)}, expected float32 {list(want_shape)}")
        return
    err, pad_bad, nonfinite = 0.0, [], False
    for b, n in enumerate(lengths):
        g, r = got[b, :n], ref[b, :n]
        if not np.all(np.isfinite(g)):
            nonfinite = True
        else:
            err = max(err, float(np.max(np.abs(g.astype(np.float64) - r.astype(np.float64)))))
        if np.any(got[b, n:] != 0):
            pad_bad.append(b)
    scale = max(float(np.max(np.abs(ref[b, :n]))) for b, n in enumerate(lengths))
    line = (f"forward: {name} max abs error {err:.3g} (tol {ck.args.tol:g}) over {sum(lengths)} positions "
            f"x {ref.shape[2]}, shape {list(got.shape)}, max |reference| {scale:.3g}")
    if ck.args.weight_type != "f32" and not nonfinite:
        rows_got = np.concatenate([got[b, :n] for b, n in enumerate(lengths)]).astype(np.float64)
        rows_ref = np.concatenate([ref[b, :n] for b, n in enumerate(lengths)]).astype(np.float64)
        top1 = float(np.mean(np.argmax(rows_got, -1) == np.argmax(rows_ref, -1)))
        line = (f"forward: {name} ({ck.args.weight_type} weights) max abs error {err:.3g}, mean "
                f"{float(np.mean(np.abs(rows_got - rows_ref))):.3g}, top-1 agreement {100 * top1:.1f}% "
                f"(min {100 * ck.args.min_top1:g}%) over {sum(lengths)} positions, max |reference| {scale:.3g}")
        (ck.ok if top1 >= ck.args.min_top1 else ck.fail)(line)
    elif nonfinite:
        ck.fail(f"forward: {name}: tfm's output is not finite at real positions")
    elif err > ck.args.tol:
        b, t, k = np.unravel_index(np.argmax(np.where(
            np.arange(got.shape[1])[None, :, None] < np.array(lengths)[:, None, None],
            np.abs(got - ref[:, :got.shape[1]]), 0)), got.shape)
        ck.fail(line + f": worst at [{b}, {t}, {k}]: tfm {got[b, t, k]!r}, reference {ref[b, t, k]!r}")
    else:
        ck.ok(line)
    if pad_bad:
        ck.fail(f"forward: {name}: nonzero values past the length of sequence(s) {pad_bad}")
    elif not nonfinite:
        ck.ok(f"forward: {name} padding: exact zeros past each length")


def compare_pooled(ck, got_path, ref):
    try:
        got = np.load(got_path)
    except Exception as e:  # noqa: BLE001
        ck.fail(f"forward: pooler_output: cannot read {got_path}: {e}")
        return
    if got.dtype != np.float32 or got.shape != ref.shape:
        ck.fail(f"forward: pooler_output: tfm wrote {got.dtype} {list(got.shape)}, expected float32 "
                f"{list(ref.shape)}")
        return
    if not np.all(np.isfinite(got)):
        ck.fail("forward: pooler_output: tfm's output is not finite")
        return
    err = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
    line = (f"forward: pooler_output max abs error {err:.3g} (tol {ck.args.tol:g}), shape {list(got.shape)}, "
            f"max |reference| {float(np.max(np.abs(ref))):.3g}")
    if ck.args.weight_type != "f32":  # reported: no exact reference for these weights
        ck.ok(line.replace(f"(tol {ck.args.tol:g})", f"({ck.args.weight_type} weights)"))
        return
    (ck.fail if err > ck.args.tol else ck.ok)(line)


def cut(tokens, eos, pad=None):
    """Tokens before the first eos, trailing pad dropped."""
    tokens = list(tokens)
    if eos in tokens:
        tokens = tokens[:tokens.index(eos)]
    while pad is not None and tokens and tokens[-1] == pad:
        tokens.pop()
    return tokens


def parse_lines(ck, what, out, count):
    """tfm-run's greedy output: `count` lines of space-separated ids (a line may be empty)."""
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != count:
        ck.fail(f"{what}: expected {count} line(s) of token ids, tfm-run printed {len(lines)}: {out!r}")
        return None
    seqs = []
    for line in lines:
        try:
            seqs.append([int(w) for w in line.split()])
        except ValueError:
            ck.fail(f"{what}: not a line of token ids: {line!r}")
            return None
    return seqs


def show(seqs):
    return " | ".join(" ".join(map(str, s)) if s else "(none)" for s in seqs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True, help="a case directory of make_cases.sh")
    ap.add_argument("--work", required=True, help="a directory for the artifact and the files exchanged")
    ap.add_argument("--tfmc", default="tfmc", help="the compiler's command line (default: tfmc on PATH)")
    ap.add_argument("--tfm-run", default="tfm-run", help="the runtime's command line (default: tfm-run on PATH)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max abs error of the forward pass (default 1e-4)")
    ap.add_argument("--repeat", type=int, default=1, help="copies of the batch in the forward pass (default 1)")
    ap.add_argument("--beams", help="beam-search references (beams/NAME.json of beam_ref.py)")
    ap.add_argument("--weight-type", choices=["f32", "bf16", "int8"], default="f32",
                    help="tfmc --weight-type; not f32: --min-top1 instead of --tol")
    ap.add_argument("--min-top1", type=float, default=0.97,
                    help="with --weight-type: least top-1 agreement of the forward pass")
    args = ap.parse_args()
    ck = Checker(args)

    case_dir = args.case
    case = json.load(open(os.path.join(case_dir, "case.json")))
    cls = case["model_class"]
    if cls not in FAMILIES:
        sys.exit(f"check_hf.py: {case_dir}: model class {cls} is not one this harness knows")
    ref_name, with_tt, with_pooler, generates, encdec = FAMILIES[cls]
    inputs = json.load(open(os.path.join(case_dir, "inputs.json")))
    config = json.load(open(os.path.join(case_dir, "model", "config.json")))
    gen_path = os.path.join(case_dir, "model", "generation_config.json")
    gen_config = json.load(open(gen_path)) if os.path.exists(gen_path) else {}
    os.makedirs(args.work, exist_ok=True)
    work = args.work
    art = os.path.join(work, "art")
    print(f"case: {os.path.basename(os.path.normpath(case_dir))} ({cls})", flush=True)

    # 1. compile
    if os.path.exists(art):
        shutil.rmtree(art)
    if ck.run("compile", ck.tfmc + [os.path.join(case_dir, "model"), "-o", art,
                                    f"--weight-type={args.weight_type}"]) is None:
        print(f"FAIL: 1 check(s) failed for {case_dir}")
        return 1
    ck.ok("compile: ok")

    # 2. forward
    src = unpad(inputs["input_ids"], inputs["attention_mask"], "input_ids")
    lengths = [len(s) for s in src]
    batch = {"src": src}
    if with_tt:
        batch["token_type_ids"] = unpad(inputs["token_type_ids"], inputs["attention_mask"], "token_type_ids")
    if encdec:
        batch["tgt"] = [[int(t) for t in row] for row in inputs["decoder_input_ids"]]
        lengths = [len(t) for t in batch["tgt"]]
    copies = args.repeat
    batch = {key: rows * copies for key, rows in batch.items()}
    lengths = lengths * copies
    in_json = os.path.join(work, "in.json")
    with open(in_json, "w") as f:
        json.dump(batch, f)
    out_npy = os.path.join(work, "out.npy")
    pooled_npy = os.path.join(work, "pooled.npy")
    for p in (out_npy, pooled_npy):
        if os.path.exists(p):
            os.remove(p)
    cmd = ck.tfm_run + [art, "--inputs", in_json, "--logits", out_npy]
    if with_pooler:
        cmd += ["--pooled", pooled_npy]
    if ck.run("forward", cmd) is not None:
        ref = np.concatenate([np.load(os.path.join(case_dir, ref_name + ".npy"))] * copies)
        compare(ck, ref_name, out_npy, ref, lengths)
        if with_pooler:
            compare_pooled(ck, pooled_npy,
                           np.concatenate([np.load(os.path.join(case_dir, "pooler_output.npy"))] * copies))

    # 3. greedy decoding
    if generates and copies == 1:
        generate = json.load(open(os.path.join(case_dir, "generate.json")))
        max_new = int(case["generation"]["kwargs"]["max_new_tokens"])
        if encdec:
            eos = gen_config.get("eos_token_id", config["eos_token_id"])
            pad = gen_config.get("pad_token_id", config["pad_token_id"])
            start = gen_config.get("decoder_start_token_id", config["decoder_start_token_id"])
            want, plain = [], []
            for key, dst in (("generate_batch", want), ("generate_batch_plain", plain)):
                for row in generate[key]:
                    if row[0] != start:
                        sys.exit(f"check_hf.py: {key} row does not start with decoder_start_token_id {start}")
                    # Finished rows are padded after their eos. Without bad_words_ids (plain), pad can
                    # also be a generated token: keep it there.
                    dst.append(cut(row[1:], eos, pad if key == "generate_batch" else None))
        else:
            eos = config["eos_token_id"]
            want, plain = [], None
            for prompt, row in zip(src, generate["generate_single"]):
                if row[:len(prompt)] != prompt:
                    sys.exit("check_hf.py: generate_single does not start with the prompt")
                want.append(cut(row[len(prompt):], eos))

        def check_tokens(what, got):
            if args.weight_type != "f32":
                same = sum(g == w for g, w in zip(got, want))
                ck.ok(f"{what}: {same} of {len(want)} sequences identical ({args.weight_type} weights)")
                return
            if got == want:
                ck.ok(f"{what}: identical, {len(got)} sequences, {sum(map(len, got))} new tokens: {show(got)}")
                return
            bad = [i for i in range(len(want)) if got[i] != want[i]]
            msg = f"{what}: sequence(s) {bad} differ\n  tfm:          {show(got)}\n  transformers: {show(want)}"
            if plain is not None and got == plain:
                msg += ("\n  (tfm matches generate() without the generation config's forced_eos_token_id and "
                        "bad_words_ids)")
            if any(g[:-1] == w and g[-1:] == [eos] for g, w in zip(got, want)):
                msg += f"\n  (tfm printed eos {eos}: the convention is to stop at eos without printing it)"
            ck.fail(msg)

        single = []
        for i, s in enumerate(src):
            out = ck.run(f"greedy --src (sequence {i})",
                         ck.tfm_run + [art, "--src", " ".join(map(str, s)), "--max-new-tokens", str(max_new)])
            seqs = None if out is None else parse_lines(ck, f"greedy --src (sequence {i})", out, 1)
            if seqs is None:
                single = None
                break
            single.append(seqs[0])
        if single is not None:
            check_tokens(f"greedy --src (one sequence at a time, --max-new-tokens {max_new})", single)

        prompts = os.path.join(work, "prompts.json")
        with open(prompts, "w") as f:
            json.dump({"src": src}, f)
        out = ck.run("greedy --inputs (batch)",
                     ck.tfm_run + [art, "--inputs", prompts, "--max-new-tokens", str(max_new)])
        seqs = None if out is None else parse_lines(ck, "greedy --inputs (batch)", out, len(src))
        if seqs is not None:
            check_tokens(f"greedy --inputs (batch of {len(src)}, --max-new-tokens {max_new})", seqs)

    # 4. beam search
    if args.beams and copies == 1:
        beams = json.load(open(args.beams))
        if beams["prompts"] != src:
            sys.exit(f"check_hf.py: {args.beams} was made for other prompts than {case_dir}'s")
        max_new = int(beams["max_new_tokens"])
        for n, want in sorted(beams["beams"].items(), key=lambda kv: int(kv[0])):
            got = []
            for i, s in enumerate(src):
                out = ck.run(f"beam --beam {n} (sequence {i})",
                             ck.tfm_run + [art, "--src", " ".join(map(str, s)), "--beam", n,
                                           "--max-new-tokens", str(max_new)])
                seqs = None if out is None else parse_lines(ck, f"beam --beam {n} (sequence {i})", out, 1)
                if seqs is None:
                    got = None
                    break
                got.append(seqs[0])
            if got is None:
                continue
            what = f"beam --beam {n} (one sequence at a time, --max-new-tokens {max_new})"
            if args.weight_type != "f32":
                same = sum(g == w for g, w in zip(got, want))
                ck.ok(f"{what}: {same} of {len(want)} sequences identical ({args.weight_type} weights)")
            elif got == want:
                ck.ok(f"{what}: identical, {len(got)} sequences: {show(got)}")
            else:
                ck.fail(f"{what}: differs\n  tfm:          {show(got)}\n  transformers: {show(want)}")
    if ck.failures:
        print(f"FAIL: {len(ck.failures)} check(s) failed for {case_dir}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
