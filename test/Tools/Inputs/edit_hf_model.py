#!/usr/bin/python3
"""Copies a Hugging Face checkpoint directory and changes it, for the error
tests of tfmc's Hugging Face reader.

  edit_hf_model.py SRC DST EDIT...

EDIT is one of
  config:KEY=JSON        set a key of config.json (JSON: the value as JSON)
  config:-KEY            delete a key of config.json
  generation:KEY=JSON    the same in generation_config.json
  index:NAME=FILE        in model.safetensors.index.json, map tensor NAME to
                         shard FILE
  drop:NAME              remove tensor NAME from model.safetensors (F32)
  add:NAME               add a [2] F32 tensor NAME to model.safetensors
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e"))
import numpy as np  # noqa: E402
import safetensors_io  # noqa: E402


def edit_json(path, key, value):
    doc = json.load(open(path))
    if key.startswith("-"):
        del doc[key[1:]]
    else:
        doc[key] = json.loads(value)
    json.dump(doc, open(path, "w"), indent=1)


def main():
    src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    for edit in edits:
        where, _, what = edit.partition(":")
        key, _, value = what.partition("=")
        if where == "config":
            edit_json(os.path.join(dst, "config.json"), key, value)
        elif where == "generation":
            edit_json(os.path.join(dst, "generation_config.json"), key, value)
        elif where == "index":
            path = os.path.join(dst, "model.safetensors.index.json")
            doc = json.load(open(path))
            doc["weight_map"][key] = value
            json.dump(doc, open(path, "w"), indent=1)
        elif where in ("drop", "add"):
            path = os.path.join(dst, "model.safetensors")
            tensors = safetensors_io.load(path)
            if where == "drop":
                del tensors[key]
            else:
                tensors[key] = np.zeros(2, np.float32)
            safetensors_io.save(path, tensors, {"format": "pt"})
        else:
            sys.exit(f"unknown edit {edit}")


if __name__ == "__main__":
    main()
