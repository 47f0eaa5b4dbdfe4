#!/usr/bin/python3
"""transformers' beam search as the reference for tfm-run --beam N.

    HF_REFERENCE=/path/to/hf-reference beam_ref.py CASE OUT.json \\
        [--beams 2,3,4] [--max-new-tokens 8]

For each prompt of CASE/inputs.json (the real tokens of each row of a
right-padded batch) and each beam count N: the new tokens of
generate(do_sample=False, num_beams=N, max_new_tokens=M) with the model
reloaded from CASE/model (float32, one thread), one prompt at a time, cut
before the first eos_token_id. Decoder-only cases (GPT-2, Llama). Needs torch
and transformers (../shared/hf-reference); the tests read OUT.json only.
"""
import argparse
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.abspath(os.environ.get("HF_REFERENCE", os.path.join(
    here, "..", "..", "..", "..", "shared", "hf-reference")))
sys.path.insert(0, ref)
import hf_compat  # noqa: E402,F401  (before transformers)
import torch  # noqa: E402
import transformers  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case")
    ap.add_argument("out")
    ap.add_argument("--beams", default="2,3,4")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        os.path.join(args.case, "model"), torch_dtype=torch.float32).eval()
    eos = model.generation_config.eos_token_id
    eos = eos[0] if isinstance(eos, list) else eos
    inputs = json.load(open(os.path.join(args.case, "inputs.json")))
    prompts = [row[:sum(mask)] for row, mask in
               zip(inputs["input_ids"], inputs["attention_mask"])]
    beams = {}
    for n in (int(b) for b in args.beams.split(",")):
        rows = []
        for prompt in prompts:
            ids = torch.tensor([prompt])
            with torch.no_grad():
                out = model.generate(
                    ids, attention_mask=torch.ones_like(ids), do_sample=False,
                    num_beams=n, max_new_tokens=args.max_new_tokens,
                    pad_token_id=eos)
            new = out[0, len(prompt):].tolist()
            if eos in new:
                new = new[:new.index(eos)]
            rows.append(new)
        beams[str(n)] = rows
    with open(args.out, "w") as f:
        json.dump({"case": os.path.basename(os.path.normpath(args.case)),
                   "transformers": transformers.__version__,
                   "max_new_tokens": args.max_new_tokens,
                   "eos_token_id": eos, "prompts": prompts, "beams": beams},
                  f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
