#!/usr/bin/python3
"""Re-saves a case's model/ as a sharded checkpoint, the way transformers does.

    HF_REFERENCE=/path/to/hf-reference reshard.py CASE_DIR --max-shard-size 60KB

Loads CASE_DIR/model with from_pretrained (transformers of the hf-reference
tree, through its hf_compat), writes it again with save_pretrained(...,
safe_serialization=True, max_shard_size=...): model-0000i-of-0000N.safetensors
and model.safetensors.index.json. Then checks that
  - there are 2 to 4 shards, each a well-formed safetensors file with
    {"format": "pt"} metadata, and no model.safetensors is left;
  - the index's weight_map names exactly the tensors of the single file, each
    in the shard that holds it, and metadata.total_size is their byte count;
  - every tensor is byte-identical to the single file's (same dtype, shape);
  - config.json and generation_config.json are unchanged, but for the
    "_name_or_path": "model" that save_pretrained adds to config.json after a
    from_pretrained (kept: re-saved checkpoints carry it);
  - from_pretrained on the sharded directory gives the same state_dict and the
    same forward outputs, bit for bit, as the case's reference .npy files;
and replaces CASE_DIR/model with it, recording the resharding in case.json.
Called by make_cases.sh; needs torch (Debian's python3-torch).
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np


def safetensors_read(path):
    """Header and raw bytes of every tensor; checks the layout."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    data = b[8 + n:]
    meta = hdr.pop("__metadata__", None)
    spans = sorted((v["data_offsets"], k) for k, v in hdr.items())
    end = 0
    for (lo, hi), k in spans:
        if lo != end:
            sys.exit(f"reshard.py: {path}: tensor {k} starts at {lo}, not {end}")
        end = hi
    if end != len(data):
        sys.exit(f"reshard.py: {path}: {len(data) - end} bytes after the last tensor")
    return meta, {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
                  for k, v in hdr.items()}


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case")
    ap.add_argument("--max-shard-size", required=True, help='as save_pretrained takes it, e.g. "60KB"')
    a = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    ref = os.environ.get("HF_REFERENCE",
                         os.path.join(here, "..", "..", "..", "..", "shared", "hf-reference"))
    sys.path.insert(0, os.path.abspath(ref))
    import hf_compat  # noqa: F401  (before transformers)
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    case_dir = a.case
    mdir = os.path.join(case_dir, "model")
    case = json.load(open(os.path.join(case_dir, "case.json")))
    cls = getattr(transformers, case["model_class"])

    single_meta, single = safetensors_read(os.path.join(mdir, "model.safetensors"))
    # Loaded as "model" from the case directory: save_pretrained records that
    # path in config.json as "_name_or_path".
    cwd = os.getcwd()
    os.chdir(case_dir)
    try:
        model = cls.from_pretrained("model").eval()
    finally:
        os.chdir(cwd)

    tmp = tempfile.mkdtemp(prefix="reshard-", dir=case_dir)
    try:
        out = os.path.join(tmp, "model")
        model.save_pretrained(out, safe_serialization=True, max_shard_size=a.max_shard_size)
        files = sorted(os.listdir(out))
        shards = [f for f in files if f.endswith(".safetensors")]
        n = len(shards)
        if not 2 <= n <= 4:
            sys.exit(f"reshard.py: {n} shards with --max-shard-size {a.max_shard_size}; want 2 to 4")
        expect = [f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]
        if shards != expect:
            sys.exit(f"reshard.py: shard names {shards}, expected {expect}")
        others = sorted(set(files) - set(shards))
        want = sorted(["config.json", "model.safetensors.index.json"]
                      + (["generation_config.json"] if os.path.exists(os.path.join(mdir, "generation_config.json"))
                         else []))
        if others != want:
            sys.exit(f"reshard.py: files besides the shards {others}, expected {want}")
        for f in ("config.json", "generation_config.json"):
            p = os.path.join(mdir, f)
            if not os.path.exists(p):
                continue
            old, new = json.load(open(p)), json.load(open(os.path.join(out, f)))
            if f == "config.json" and new.get("_name_or_path") == "model":
                del new["_name_or_path"]  # the one key that save_pretrained adds after a from_pretrained
            if old != new:
                sys.exit(f"reshard.py: save_pretrained rewrote {f} differently")

        index = json.load(open(os.path.join(out, "model.safetensors.index.json")))
        if sorted(index) != ["metadata", "weight_map"]:
            sys.exit(f"reshard.py: index keys {sorted(index)}")
        wm = index["weight_map"]
        if sorted(wm) != sorted(single):
            sys.exit(f"reshard.py: weight_map names {sorted(set(wm) ^ set(single))} differ from the single file")
        total = 0
        per_shard = {}
        for s in shards:
            meta, tensors = safetensors_read(os.path.join(out, s))
            if meta != {"format": "pt"}:
                sys.exit(f"reshard.py: {s}: metadata {meta}")
            per_shard[s] = sorted(tensors)
            for k, (dt, shape, raw) in tensors.items():
                if wm.get(k) != s:
                    sys.exit(f"reshard.py: {k} is in {s}, the index says {wm.get(k)}")
                if (dt, shape, raw) != single[k]:
                    sys.exit(f"reshard.py: {k} differs from the single file's")
                total += len(raw)
        if sum(len(v) for v in per_shard.values()) != len(single):
            sys.exit("reshard.py: the shards do not hold every tensor exactly once")
        if index["metadata"].get("total_size") != total:
            sys.exit(f"reshard.py: index total_size {index['metadata']} != {total} bytes of tensors")

        # Reload the sharded checkpoint: same weights, same outputs.
        sharded = cls.from_pretrained(out).eval()
        sd0, sd1 = model.state_dict(), sharded.state_dict()
        if sorted(sd0) != sorted(sd1) or not all(torch.equal(sd0[k], sd1[k]) for k in sd0):
            sys.exit("reshard.py: the sharded checkpoint loads different weights")
        inputs = json.load(open(os.path.join(case_dir, "inputs.json")))
        kwargs = {k: torch.tensor(inputs[k], dtype=torch.long) for k in case["forward_kwargs"]}
        with torch.no_grad():
            o = sharded(**kwargs, output_hidden_states=True, return_dict=True)
        got = {}
        for name in case["outputs"]:
            if name == "last_hidden_state" and getattr(o, "last_hidden_state", None) is None:
                got[name] = o.hidden_states[-1]
            elif name == "decoder_last_hidden_state":
                got[name] = o.decoder_hidden_states[-1]
            else:
                got[name] = getattr(o, name)
        for name, t in got.items():
            refv = np.load(os.path.join(case_dir, name + ".npy"))
            if not np.array_equal(t.numpy(), refv):
                err = float(np.abs(t.numpy() - refv).max())
                sys.exit(f"reshard.py: {name} from the sharded checkpoint differs from the reference by {err}")

        shutil.rmtree(mdir)
        shutil.move(out, mdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    case["reshard"] = {
        "how": "from_pretrained(model/) then save_pretrained(model/, safe_serialization=True, "
               f"max_shard_size={a.max_shard_size!r}); weights byte-identical to the single file, "
               "outputs of from_pretrained on the shards bit-identical to the references",
        "max_shard_size": a.max_shard_size,
        "shards": shards,
        "tensors_per_shard": per_shard,
        "index_metadata": index["metadata"],
        "single_file_metadata": single_meta,
    }
    sums = {k: v for k, v in case["sha256"].items() if not k.startswith("model/")}
    for f in sorted(os.listdir(mdir)):
        sums["model/" + f] = sha(os.path.join(mdir, f))
    case["sha256"] = dict(sorted(sums.items()))
    with open(os.path.join(case_dir, "case.json"), "w") as f:
        json.dump(case, f, indent=1, default=str)
    print(f"{case_dir}: {n} shards ({a.max_shard_size}), outputs identical")


if __name__ == "__main__":
    main()
