"""What the benchmark scripts read from a run (bench/hf.sh, bench/llama.sh):
the commands they logged, the machine's peak and triad, tfm-run --bench's
output, and the weights a decoding step reads, from an artifact's
model.json."""
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
    entry as stored (their element types, packed shapes as listed; int8
    scales included), each stored tensor once,
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
    element = {"f32": 4, "bf16": 2, "i8": 1}  # model.json's "dtype"
    size = sum(element[t.get("dtype", "f32")] * math.prod(t["shape"])
               for t in weights.values())
    return size, logits, tensors[logits]


def print_commands(out):
    """The commands of $out/commands.txt, each once, $out for the folder."""
    print("commands run (tfm-run runs 3 times each, $out a temporary folder):")
    seen = set()
    for line in open(os.path.join(out, "commands.txt")).read().splitlines():
        line = line.replace(out, "$out")
        if line not in seen:
            seen.add(line)
            print("  " + line)
    print()


def machine(out):
    """(FMA peak of one core in GFLOPS, {threads: triad GB/s}) from
    $out/machine.json (hf_common.sh's measure_machine), printed once."""
    med = {b["run_name"]: b
           for b in json.load(open(os.path.join(out, "machine.json")))[
               "benchmarks"]
           if b.get("aggregate_name") == "median"}
    peak1 = med["BM_FmaPeak/real_time"]["GFLOPS"]
    triad = {t: med[f"BM_Triad/{t}/real_time"]["GB/s"] for t in (1, 2)}
    print(f"FMA peak (one core, this run, median of 3): {peak1:.1f} GFLOPS; "
          f"triad (256 MB, STREAM counting, median of 3): {triad[1]:.1f} GB/s "
          f"on 1 thread, {triad[2]:.1f} GB/s on 2")
    return peak1, triad
