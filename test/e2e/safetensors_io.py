"""Minimal safetensors reader and writer (NumPy only), written from the format
description (https://github.com/huggingface/safetensors):

  8 bytes   little-endian u64 N, the length of the header
  N bytes   UTF-8 JSON: {name: {"dtype": "F32", "shape": [...],
                                "data_offsets": [begin, end]}, ...,
                         "__metadata__": {str: str}}   (optional)
            padded with spaces so that the data starts 8-byte aligned
  rest      the tensors' bytes, little-endian, row-major; offsets are
            relative to the start of this area

The writer lays the tensors out in name order, back to back.
"""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def encode(tensors, metadata=None):
    """Returns the bytes of a safetensors file holding `tensors`
    ({name: array}); arrays keep their dtype (must be one of _DTYPES)."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        key = _NAMES.get(a.dtype.newbyteorder("<"))
        if key is None:
            raise ValueError(f"{name}: unsupported dtype {a.dtype}")
        data = np.ascontiguousarray(a, dtype=_DTYPES[key]).tobytes()
        header[name] = {"dtype": key, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def decode(blob):
    """Parses safetensors bytes; returns ({name: array}, metadata)."""
    if len(blob) < 8:
        raise ValueError("safetensors: file shorter than its 8-byte header "
                         "length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"safetensors: header length {n} runs past the end "
                         f"of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"safetensors: {name}: unsupported dtype "
                             f"{info['dtype']}")
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(data) or \
                end - begin != count * dtype.itemsize:
            raise ValueError(f"safetensors: {name}: data_offsets "
                             f"[{begin}, {end}] do not fit shape {list(shape)} "
                             f"{info['dtype']} in {len(data)} data bytes")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(
            shape).copy()
    return tensors, metadata


def load(path):
    """Reads a safetensors file; returns {name: array}."""
    with open(path, "rb") as f:
        return decode(f.read())[0]
