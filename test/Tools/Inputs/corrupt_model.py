#!/usr/bin/python3
"""Copies a model directory and breaks it in one way, for the error tests.

  corrupt_model.py KIND SRC DST
"""
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e"))
import numpy as np  # noqa: E402
import safetensors_io  # noqa: E402


def main():
    kind, src, dst = sys.argv[1:4]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    config_path = os.path.join(dst, "config.json")
    weights_path = os.path.join(dst, "model.safetensors")
    config = json.load(open(config_path))
    tensors = safetensors_io.load(weights_path)
    if kind == "malformed-json":
        open(config_path, "w").write('{"architecture": "encoder-decoder", "d_model": 32,,}')
    elif kind == "missing-field":
        del config["d_model"]
        json.dump(config, open(config_path, "w"))
    elif kind == "truncated":
        blob = open(weights_path, "rb").read()
        open(weights_path, "wb").write(blob[: len(blob) // 2])
    elif kind == "bad-offsets":
        # Header offsets of the last tensor point past the end of the file.
        blob = open(weights_path, "rb").read()
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8 : 8 + n])
        name = [k for k in header if k != "__metadata__"][-1]
        begin, end = header[name]["data_offsets"]
        header[name]["data_offsets"] = [begin + 4096, end + 4096]
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        open(weights_path, "wb").write(
            struct.pack("<Q", len(text)) + text + blob[8 + n :])
    elif kind == "missing-weight":
        del tensors["encoder.layers.1.norm2.weight"]
        safetensors_io.save(weights_path, tensors)
    elif kind == "extra-weight":
        tensors["encoder.layers.1.extra.weight"] = np.zeros((4,), np.float32)
        safetensors_io.save(weights_path, tensors)
    elif kind == "misshaped-weight":
        tensors["decoder.layers.0.linear1.weight"] = np.zeros((64, 31), np.float32)
        safetensors_io.save(weights_path, tensors)
    elif kind == "f16-weight":
        t = tensors["generator.bias"]
        tensors["generator.bias"] = t.astype(np.float16)
        safetensors_io.save(weights_path, tensors)
    elif kind in ("nan-weight", "inf-weight"):
        t = tensors["decoder.layers.1.linear2.weight"].copy()
        t.flat[37] = np.nan if kind == "nan-weight" else -np.inf
        tensors["decoder.layers.1.linear2.weight"] = t
        safetensors_io.save(weights_path, tensors)
    elif kind == "bad-heads":
        config["num_heads"] = 5
        json.dump(config, open(config_path, "w"))
    else:
        sys.exit(f"unknown corruption {kind}")


if __name__ == "__main__":
    main()
