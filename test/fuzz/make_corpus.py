#!/usr/bin/python3
"""Writes the seed corpora of the fuzzers (test/fuzz/corpus/<fuzzer>/) from
files in the tree: tfm's example config, the Hugging Face fixtures' configs
and an index, small safetensors and .npy files, JSON documents. Deterministic;
rerun after changing the formats:

  /usr/bin/python3 test/fuzz/make_corpus.py
"""
import io
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
import safetensors_io  # noqa: E402

CASES = os.path.join(REPO, "test", "e2e", "hf", "cases")


def write(fuzzer, name, data):
    d = os.path.join(HERE, "corpus", fuzzer)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(*parts):
    return open(os.path.join(*parts), "rb").read()


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    # tfm's own config.json.
    write("config", "example.json",
          read(REPO, "examples", "numbers", "model", "config.json"))
    write("config", "decoder.json", json.dumps({
        "architecture": "decoder", "d_model": 32, "num_heads": 4, "d_ff": 64,
        "num_decoder_layers": 2, "tgt_vocab_size": 23, "max_seq_len": 16,
        "positional_encoding": "learned", "activation": "gelu",
        "layer_norm_eps": 1e-6, "norm_first": True}))
    # Hugging Face configs, each with its generation config after a NUL.
    for case in ("bert-base-s1", "bert-mlm-s2", "gpt2-base-s1",
                 "marian-base-s1", "llama-base-s1", "llama-bias-hd24-s7"):
        model = os.path.join(CASES, case, "model")
        data = read(model, "config.json")
        gen = os.path.join(model, "generation_config.json")
        if os.path.exists(gen):
            data += b"\0" + read(gen)
        write("hf_config", case + ".json", data)
    # An index naming the fuzzer's two shards, and one with metadata.
    shards = ["model-00001-of-00002.safetensors",
              "model-00002-of-00002.safetensors"]
    write("index", "two-shards.json", json.dumps(
        {"metadata": {"total_size": 8},
         "weight_map": {"a": shards[0], "b": shards[1]}}))
    write("index", "one-shard.json", json.dumps(
        {"weight_map": {"a": shards[0]}}))
    # tfm-run --inputs batches.
    write("inputs", "src.json", json.dumps({"src": [[5, 17, 42], [3]]}))
    write("inputs", "all.json", json.dumps(
        {"src": [[5, 17, 42], [3]], "tgt": [[1, 4], [1]],
         "token_type_ids": [[0, 0, 1], [0]]}))
    write("inputs", "bad.json", json.dumps({"src": [[1.5]], "x": 1}))
    # JSON: everything above, plus the kinds of values.
    write("json", "values.json", json.dumps(
        {"a": [1, -2, 3.5e-3, True, False, None], "s": "\u00e9\\n\"",
         "big": 123456789012345678901234567890, "nested": [[[{}]]]}))
    # Tokenizers: a text for each (mode 0), some ids (mode 1), each file of
    # each (mode 2: the case, the mode, which file, then its bytes).
    # test/fuzz/tokenizer.cpp's kCases, in order.
    kinds = ["bert", "bert-cased", "gpt2", "marian", "llama", "llama-legacy",
             "bert-json", "gpt2-json", "llama-json", "llama-legacy-json"]
    text = "Hello world, 사천이백칠 café naïve 👍🏽 [CLS] <s> ▁x\t\n".encode()
    for k, kind in enumerate(kinds):
        write("tokenizer", f"{kind}-text", bytes([k, 0]) + text)
        write("tokenizer", f"{kind}-ids", bytes([k, 1]) + bytes(range(64)))
        json_case = kind.endswith("-json")
        name = kind[:-5] if json_case else kind
        tok = os.path.join(REPO, "test", "tokenizers", "cases", name,
                           "tokenizer-json" if json_case else "tokenizer")
        # Tokenizer::filesIn's order: the configs, then the class's files.
        own = ["tokenizer.json"] if json_case else \
            {"bert": ["vocab.txt"], "gpt2": ["vocab.json", "merges.txt"],
             "marian": ["source.spm", "target.spm", "vocab.json"],
             "llama": ["tokenizer.model"]}[kind.split("-")[0]]
        files = [f for f in ("tokenizer_config.json", "special_tokens_map.json",
                             "added_tokens.json")
                 if os.path.exists(os.path.join(tok, f))] + own
        for f, name in enumerate(files):
            data = read(tok, name)
            if len(data) <= 64 * 1024:  # the SentencePiece models are larger
                write("tokenizer", f"{kind}-{name}", bytes([k, 2, f]) + data)
    write("json", "inputs.json", json.dumps(
        {"src": [[5, 17, 42], [3]], "tgt": [[1, 4]],
         "token_type_ids": [[0, 0, 1], [0]]}))
    for fuzzer in ("config", "hf_config", "index"):
        d = os.path.join(HERE, "corpus", fuzzer)
        for name in sorted(os.listdir(d)):
            write("json", f"{fuzzer}-{name}", read(d, name).split(b"\0")[0])
    # safetensors: F32, F16, BF16 (as raw bytes: NumPy has no bfloat16),
    # a scalar, an empty tensor, metadata.
    blob = safetensors_io.encode({
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "h": np.arange(4, dtype=np.float16),
        "s": np.array(1.5, dtype=np.float32),
        "e": np.zeros((0, 3), dtype=np.float32)}, {"format": "pt"})
    write("safetensors", "mixed.safetensors", blob)
    header = json.dumps({"b": {"dtype": "BF16", "shape": [2, 2],
                               "data_offsets": [0, 8]}}).encode()
    header += b" " * (-(8 + len(header)) % 8)
    write("safetensors", "bf16.safetensors",
          struct.pack("<Q", len(header)) + header +
          bytes([0, 0x3f, 0x80, 0x3f, 0, 0x40, 0, 0xc0]))
    # .npy: the dtypes tfm-run reads, ranks 0 to 3, an empty array.
    for name, array in (("f32", np.arange(12, dtype="<f4").reshape(3, 4)),
                        ("i32", np.arange(5, dtype="<i4")),
                        ("i64", np.arange(8, dtype="<i8").reshape(2, 2, 2)),
                        ("scalar", np.array(3.0, dtype="<f4")),
                        ("empty", np.zeros((2, 0), dtype="<f4"))):
        buffer = io.BytesIO()
        np.save(buffer, array)
        write("npy", name + ".npy", buffer.getvalue())
    # model.json as tfmc writes it (artifact version 4): an encoder-decoder
    # with its weight index (f32, and int8 with its scales) and entries, a
    # decoder with the generation rules and bf16 weights (k pairs).
    def artifact(config, tensors, entries, weight_type="f32"):
        offset, index = 0, []
        sizes = {"f32": 4, "bf16": 2, "i8": 1}
        for name, shape, *dtype in tensors:
            dtype = dtype[0] if dtype else "f32"
            index.append({"name": name, "shape": shape, "offset": offset,
                          "dtype": dtype})
            offset += sizes[dtype] * int(np.prod(shape))
            offset = -(-offset // 64) * 64
        return json.dumps({
            "format": "tfm-artifact", "version": 4, "library": "model.so",
            "library_xxh3": "3e5b0c23d4ffa35a", "config": config,
            "source": "tfm", "weight_type": weight_type,
            "weights": {"file": "weights.bin", "bytes": offset,
                        "xxh3": "c950e612e8be222e", "tensors": index},
            "entries": [{"name": n, "arguments": [
                {"name": a, "weight": w} for a, w in args]}
                for n, args in entries]}, indent=1)
    write("artifact", "encdec.json", artifact(
        {"architecture": "encoder-decoder", "bos_id": 1, "d_model": 8,
         "eos_id": 2, "max_seq_len": 16, "num_heads": 2, "pad_id": 0,
         "src_vocab_size": 33, "tgt_vocab_size": 16},
        [("src_embed.weight", [33, 8]), ("q.weight", [1, 8, 32], "i8"),
         ("q.weight.scales", [8]), ("q.bias", [8])],
        [("encode", [("src_ids", False), ("src_lengths", False),
                     ("src_embed.weight", True), ("q.weight", True),
                     ("q.weight.scales", True)])], "int8"))
    write("artifact", "decoder.json", artifact(
        {"architecture": "decoder", "bos_id": 1, "d_model": 8, "eos_id": 2,
         "max_seq_len": 16, "pad_id": 0, "src_vocab_size": 0,
         "tgt_vocab_size": 23, "forced_eos_id": 2, "more_eos_ids": [3],
         "bad_words_ids": [[4], [5, 6]], "type_vocab_size": 0},
        [("wte", [1, 4, 32, 2], "bf16"), ("empty", [0, 8])],
        [("decode", [("tgt_ids", False), ("wte", True)])], "bf16"))
    # A module's manifest: entries, the config and the weights' hashes.
    write("manifest", "encdec.txt",
          "tfm-abi 2\n"
          "entry encode in i32[?,?] in i32[?] in f32[33,8] out f32[?,?,8]\n"
          "entry step in i32[?,1] inout f32[?,2,?,4] in i64[?] "
          "out f32[?,1,16]\n"
          "entry none\n"
          'config {"architecture":"decoder","d_model":8,"max_seq_len":16,'
          '"pad_id":0,"bos_id":1,"eos_id":2,"src_vocab_size":0,'
          '"tgt_vocab_size":23}\n'
          "weights c950e612e8be222e 0123456789abcdef\n"
          "requires avx512bf16\n")


if __name__ == "__main__":
    main()
