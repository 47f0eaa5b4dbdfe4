#!/usr/bin/python3
"""Copies a tfm artifact and changes it the way a careless user (or an
attacker) would, for the artifact integrity tests.

  tamper_artifact.py SRC DST EDIT...

EDIT is one of
  config:KEY=JSON     set a field of model.json's "config"
  json:KEY=JSON       set a top-level field of model.json
  weights-hash        set model.json's "weights"/"xxh3" to weights.bin's hash
  library-hash        set model.json's "library_xxh3" to model.so's hash
  offset:NAME+N       move tensor NAME's offset in model.json by N bytes
  flip:N              flip byte N of weights.bin (same size)
  library:OTHER_DIR   copy OTHER_DIR/model.so over this one
"""
import json
import os
import shutil
import subprocess
import sys


def xxh3(path):
    # The same hash the runtime uses, from Debian's xxhsum (package xxhash):
    # "XXH3 (PATH) = 0123456789abcdef".
    return subprocess.run(["xxhsum", "-H3", path], capture_output=True,
                          text=True, check=True).stdout.split()[-1]


def main():
    src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    path = os.path.join(dst, "model.json")
    doc = json.load(open(path))
    for edit in edits:
        where, _, what = edit.partition(":")
        if where == "config":
            key, _, value = what.partition("=")
            doc["config"][key] = json.loads(value)
        elif where == "json":
            key, _, value = what.partition("=")
            doc[key] = json.loads(value)
        elif where == "weights-hash":
            doc["weights"]["xxh3"] = xxh3(os.path.join(dst, "weights.bin"))
        elif where == "library-hash":
            doc["library_xxh3"] = xxh3(os.path.join(dst, "model.so"))
        elif where == "offset":
            name, _, delta = what.partition("+")
            for t in doc["weights"]["tensors"]:
                if t["name"] == name:
                    t["offset"] += int(delta)
        elif where == "flip":
            bin_path = os.path.join(dst, "weights.bin")
            data = bytearray(open(bin_path, "rb").read())
            data[int(what)] ^= 0x40
            open(bin_path, "wb").write(data)
        elif where == "library":
            shutil.copy(os.path.join(what, "model.so"),
                        os.path.join(dst, "model.so"))
        else:
            sys.exit(f"unknown edit {edit}")
    json.dump(doc, open(path, "w"), indent=1)


if __name__ == "__main__":
    main()
