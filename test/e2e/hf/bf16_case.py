#!/usr/bin/python3
"""make_hf_case.py --bf16 for Marian: runs its main() with two fixes.

    HF_REFERENCE=/path/to/hf-reference bf16_case.py marian SEED --bf16 [make_hf_case.py options]

make_hf_case.py --bf16 rounds the in-memory model's *parameters* to bf16 and
saves a bf16 copy, then asserts that the model reloaded from that file (in f32)
gives the same outputs as the in-memory one. For Marian that fails:
  - final_logits_bias is a buffer, not a parameter: saved in bf16 but left
    unrounded in memory;
  - the sinusoidal position tables (embed_positions.weight) are parameters but
    are not saved (_keys_to_ignore_on_save): rounded in memory, recomputed in
    f32 on reload.
Here, right after its randomize(): saved floating buffers are rounded to bf16,
and the model's parameters() skips the tables that are not saved, so the
in-memory model is exactly what the bf16 file reloads to. All else (inputs,
references, generation, case.json) is make_hf_case.py's own code.
"""
import json
import os
import sys
import types

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.abspath(os.environ.get("HF_REFERENCE", os.path.join(here, "..", "..", "..", "..", "shared",
                                                                    "hf-reference")))
sys.path.insert(0, ref)
import make_hf_case as m  # noqa: E402  (imports hf_compat, then transformers)
import torch  # noqa: E402

_randomize = m.randomize


def randomize(model, family, seed):
    _randomize(model, family, seed)
    saved = set(model.state_dict()) - set(getattr(model, "_keys_to_ignore_on_save", None) or [])
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name in saved and b.is_floating_point():
                b.copy_(b.to(torch.bfloat16).float())

    def parameters(self, recurse=True):
        for name, p in self.named_parameters(recurse=recurse):
            if name in saved:
                yield p

    model.parameters = types.MethodType(parameters, model)


if __name__ == "__main__":
    if "--bf16" not in sys.argv or "--out" not in sys.argv:
        sys.exit("bf16_case.py: for --bf16 cases, with --out")
    m.randomize = randomize
    m.main()
    out = sys.argv[sys.argv.index("--out") + 1]
    path = os.path.join(out, "case.json")
    case = json.load(open(path))
    case["made_by"] = ("test/e2e/hf/bf16_case.py: make_hf_case.py's main() with saved floating buffers "
                       "rounded to bf16 in memory and the unsaved position tables left in f32")
    with open(path, "w") as f:
        json.dump(case, f, indent=1)
