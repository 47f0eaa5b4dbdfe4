#!/usr/bin/python3
"""make_hf_case.py llama with config options its variants do not set.

    HF_REFERENCE=/path/to/hf-reference llama_case.py llama SEED [--bias] \\
        [--head-dim N] [--no-head-dim] [make_hf_case.py options]

  --bias         attention_bias and mlp_bias true (q/k/v/o and gate/up/down
                 projections with biases);
  --head-dim N   head_dim N instead of hidden / heads (q_proj is then
                 [heads * N, hidden]);
  --no-head-dim  config.json without head_dim, as configs older than
                 transformers 4.45 are (head size hidden / heads).

Everything else (weights, inputs, references, generation, case.json) is
make_hf_case.py's own code: its make_config() is wrapped, nothing more.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.abspath(os.environ.get("HF_REFERENCE", os.path.join(here, "..", "..", "..", "..", "shared",
                                                                    "hf-reference")))
sys.path.insert(0, ref)
import make_hf_case as m  # noqa: E402  (imports hf_compat, then transformers)


def take(flag, has_value=False):
    if flag not in sys.argv:
        return None
    i = sys.argv.index(flag)
    value = sys.argv[i + 1] if has_value else True
    del sys.argv[i:i + (2 if has_value else 1)]
    return value


if __name__ == "__main__":
    bias = take("--bias")
    head_dim = take("--head-dim", has_value=True)
    no_head_dim = take("--no-head-dim")
    if sys.argv[1:2] != ["llama"] or "--out" not in sys.argv:
        sys.exit("llama_case.py: for llama cases, with --out")
    _make_config = m.make_config

    def make_config(family, variant):
        config = _make_config(family, variant)
        if bias:
            config.attention_bias = True
            config.mlp_bias = True
        if head_dim:
            config.head_dim = int(head_dim)
        return config

    m.make_config = make_config
    m.main()
    out = sys.argv[sys.argv.index("--out") + 1]
    notes = []
    if bias:
        notes.append("attention_bias and mlp_bias true")
    if head_dim:
        notes.append(f"head_dim {head_dim}")
    if no_head_dim:
        # The model is the same: transformers falls back to hidden / heads.
        path = os.path.join(out, "model", "config.json")
        config = json.load(open(path))
        del config["head_dim"]
        with open(path, "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
        notes.append("head_dim removed from config.json after the references were made")
    path = os.path.join(out, "case.json")
    case = json.load(open(path))
    case["made_by"] = "test/e2e/hf/llama_case.py: make_hf_case.py's main() with " + ", ".join(notes)
    if no_head_dim:
        case["sha256"]["model/config.json"] = m.sha(os.path.join(out, "model", "config.json"))
    with open(path, "w") as f:
        json.dump(case, f, indent=1)
