"""What the benchmark scripts read from tfm (bench/hf.sh, bench/llama.sh):
tfm-run --bench's output, and the weights a decoding step reads, from an
artifact's model.json."""
import json
import math
import os
import re


def decode_stats(text, where):
    """tfm-run --bench after generating: {prefill, steps, median, total} (ms;
    `prefill` is its "encode" line: the prompt pass with the first token)."""
    e = re.search(r"^encode: ([\d.]+) ms", text, re.M)
    d = re.search(r"^decode: (\d+) steps, median ([\d.]+) ms/step, "
                  r"total ([\d.]+) ms", text, re.M)
    if not e or not d:
        raise SystemExit(f"bench: unexpected tfm-run --bench output in "
                         f"{where}:\n{text}")
    return {"prefill": float(e[1]), "steps": int(d[1]),
            "median": float(d[2]), "total": float(d[3])}


def step_weights(artifact):
    """(bytes, logits name, its tensor): the weights of the artifact's `step`
    entry as stored (F32, packed shapes as listed), each stored tensor once,
    without the embedding tables (a step reads a row of them per token)
    except the one that is also the logits projection (read whole): a tied
    lm_head is stored once as tgt_embed.weight, an untied one as
    generator.weight."""
    model = json.load(open(os.path.join(artifact, "model.json")))
    tensors = {t["name"]: t for t in model["weights"]["tensors"]}
    step = next(e for e in model["entries"] if e["name"] == "step")
    names = [a["name"] for a in step["arguments"] if a["weight"]]
    logits = ("generator.weight" if "generator.weight" in names
              else "tgt_embed.weight")
    if logits not in names:
        raise SystemExit("bench: the step entry reads neither "
                         "generator.weight nor tgt_embed.weight")
    weights = {tensors[n]["offset"]: tensors[n] for n in names
               if not n.endswith("_embed.weight") or n == logits}
    size = sum(4 * math.prod(t["shape"]) for t in weights.values())
    return size, logits, tensors[logits]
