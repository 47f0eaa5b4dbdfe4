#!/usr/bin/python3
"""Writes each tokenizer case's tokenizer as a fast-tokenizer checkpoint ships
it: tokenizer.json (the `tokenizers` library's file) beside
tokenizer_config.json and special_tokens_map.json, without the slow files.

    /usr/bin/python3 test/tokenizers/make_json_cases.py [NAME...]

Called by make_cases.sh after the slow cases are made; writes
cases/NAME/tokenizer-json/. The tokenizers library is not installed here (see
hf-reference's README), so transformers' converters
(convert_slow_tokenizer.py: BertConverter, GPT2Converter, LlamaConverter, and
LlamaTokenizerFast's post-processor) cannot run; this script writes the same
JSON they would, component by component, from the slow tokenizer transformers
loads.

The references (cases/NAME/fast_encodings.json) are the slow tokenizer's
(encodings.json) but where the library is known to differ from the slow
tokenizers, and then computed by transformers' slow code with that one
difference made (each such string records why):
- BertNormalizer does not compose text to NFC (BasicTokenizer does): the
  slow tokenizer is run with NFC made the identity.
- Metaspace with prepend_scheme "first" adds no "▁" to a text that
  starts with a space or "▁" (the slow LlamaTokenizer always adds one):
  the slow tokenizer with add_prefix_space=False, for those texts.
- Llama's decoder chain (Replace "▁" -> " ", ByteFallback, Fuse, Strip
  one leading space) keeps spaces and special tokens as they are where the
  slow LlamaTokenizer.decode drops some: decodings are computed by that
  chain, written out below from the library's definition.
Two variants of the file's formats are covered: GPT-2's
merges as "a b" strings (the older format, as gpt2's own checkpoint), Llama's
as [a, b] pairs (tokenizers >= 0.20); the gpt2 case names its class
PreTrainedTokenizerFast, as checkpoints without a slow class do.
"""
import json
import os
import shutil
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
HF_REFERENCE = os.environ.get(
    "HF_REFERENCE", os.path.join(HERE, "../../../shared/hf-reference"))
sys.path.insert(0, HF_REFERENCE)
import hf_compat  # noqa: E402,F401

import sentencepiece as spm  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

SPIECE = "\u2581"


def added_tokens(tok):
    out = []
    for token_id, token in sorted(tok.added_tokens_decoder.items()):
        out.append({"id": token_id, "content": token.content,
                    "single_word": token.single_word, "lstrip": token.lstrip,
                    "rstrip": token.rstrip, "normalized": token.normalized,
                    "special": token.special})
    return out


def template(single, pair, specials):
    def items(spec):
        out = []
        for part in spec.split():
            name, type_id = part.rsplit(":", 1)
            if name in ("$A", "$B"):
                out.append({"Sequence": {"id": name[1], "type_id": int(type_id)}})
            else:
                out.append({"SpecialToken": {"id": name, "type_id": int(type_id)}})
        return out
    return {"type": "TemplateProcessing", "single": items(single),
            "pair": items(pair),
            "special_tokens": {name: {"id": name, "ids": [i], "tokens": [name]}
                               for name, i in specials}}


def bert(tok):
    basic = tok.basic_tokenizer
    cls, sep = tok.cls_token, tok.sep_token
    return {
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": basic.tokenize_chinese_chars,
                       "strip_accents": basic.strip_accents,
                       "lowercase": basic.do_lower_case},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": template(
            f"{cls}:0 $A:0 {sep}:0", f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
            [(cls, tok.cls_token_id), (sep, tok.sep_token_id)]),
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": tok.unk_token,
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100,
                  "vocab": dict(tok.vocab)},
    }


def gpt2(tok):
    byte_level = {"add_prefix_space": tok.add_prefix_space,
                  "trim_offsets": True, "use_regex": True}
    merges = [f"{a} {b}" for (a, b), _ in
              sorted(tok.bpe_ranks.items(), key=lambda kv: kv[1])]
    return {
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                           "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", **byte_level},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": dict(tok.encoder),
                  "merges": merges},
    }


def spm_merges(vocab, scores):
    """The merges SentencePieceExtractor derives from a BPE model: every
    split of a piece into two pieces of the vocabulary, ordered by the
    piece's score (highest first), then by the parts' lengths and ids."""
    merges = []
    for piece, score in scores:
        local = [(piece[:i], piece[i:], score) for i in range(1, len(piece))
                 if piece[:i] in vocab and piece[i:] in vocab]
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: (m[2], len(m[0]), len(m[1])), reverse=True)
    return [[a, b] for a, b, _ in merges]


def llama(tok):
    sp = spm.SentencePieceProcessor(model_file=tok.vocab_file)
    n = sp.GetPieceSize()
    pieces = [tok.convert_ids_to_tokens(i) for i in range(3)] + \
        [sp.IdToPiece(i) for i in range(3, n)]
    scores = [(pieces[i], 0.0 if i < 3 else sp.GetScore(i)) for i in range(n)]
    vocab = {p: i for i, p in enumerate(pieces)}
    legacy = tok.legacy
    prefix = tok.add_prefix_space if tok.add_prefix_space is not None else True
    decoder = [{"type": "Replace", "pattern": {"String": SPIECE},
                "content": " "},
               {"type": "ByteFallback"}, {"type": "Fuse"}]
    if prefix:
        decoder.append({"type": "Strip", "content": " ", "start": 1,
                        "stop": 0})
    normalizer, pre_tokenizer = None, None
    if legacy:
        steps = [{"type": "Prepend", "prepend": SPIECE}] if prefix else []
        steps.append({"type": "Replace", "pattern": {"String": " "},
                      "content": SPIECE})
        normalizer = {"type": "Sequence", "normalizers": steps}
    else:
        pre_tokenizer = {"type": "Metaspace", "replacement": SPIECE,
                         "prepend_scheme": "first" if prefix else "never",
                         "split": False}
    bos, eos = tok.bos_token, tok.eos_token
    single = (f"{bos}:0 " if tok.add_bos_token else "") + "$A:0" + \
        (f" {eos}:0" if tok.add_eos_token else "")
    pair = single + (f" {bos}:1" if tok.add_bos_token else "") + " $B:1" + \
        (f" {eos}:1" if tok.add_eos_token else "")
    specials = ([(bos, tok.bos_token_id)] if tok.add_bos_token else []) + \
        ([(eos, tok.eos_token_id)] if tok.add_eos_token else [])
    return {
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": template(single, pair, specials),
        "decoder": {"type": "Sequence", "decoders": decoder},
        "model": {"type": "BPE", "dropout": None,
                  "unk_token": sp.IdToPiece(sp.unk_id()),
                  "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": spm_merges(vocab, scores)},
    }


def llama_fast_decode(tokens):
    """Llama's decoder chain on tokens (special ones already skipped)."""
    out, run = [], b""
    count = 0

    def flush():
        nonlocal run, count
        if count:
            try:
                out.append(run.decode("utf-8"))
            except UnicodeDecodeError:
                out.extend(["\ufffd"] * count)
        run, count = b"", 0

    for token in tokens:
        token = token.replace(SPIECE, " ")
        if len(token) == 6 and token.startswith("<0x") and \
                token.endswith(">"):
            try:
                byte = int(token[3:5], 16)
            except ValueError:
                byte = None
            if byte is not None:
                run += bytes([byte])
                count += 1
                continue
        flush()
        out.append(token)
    flush()
    text = "".join(out)
    return text[1:] if text.startswith(" ") else text


def fast_encodings(name, tok, case):
    with open(os.path.join(case, "encodings.json"), encoding="utf-8") as f:
        strings = json.load(f)["strings"]
    keys = ("input_ids", "input_ids_no_special", "tokens", "decoded",
            "decoded_with_special")
    no_prefix = None
    if name == "llama":
        no_prefix = AutoTokenizer.from_pretrained(
            os.path.join(case, "tokenizer"), use_fast=False,
            add_prefix_space=False)
    out = []
    for c in strings:
        e = {"name": c["name"], "text": c["text"], **{k: c[k] for k in keys}}
        why = []
        text = c["text"]
        if name.startswith("bert"):
            normalize = unicodedata.normalize
            unicodedata.normalize = \
                lambda form, s: s if form == "NFC" else normalize(form, s)
            try:
                ids = tok(text)["input_ids"]
                plain = tok(text, add_special_tokens=False)["input_ids"]
            finally:
                unicodedata.normalize = normalize
            if ids != c["input_ids"]:
                why.append("BertNormalizer does not compose to NFC")
                e["input_ids"], e["input_ids_no_special"] = ids, plain
                e["tokens"] = tok.convert_ids_to_tokens(ids)
                e["decoded"] = tok.decode(ids, skip_special_tokens=True)
                e["decoded_with_special"] = tok.decode(ids)
        if no_prefix is not None and text[:1] in (" ", SPIECE):
            ids = no_prefix(text)["input_ids"]
            if ids != c["input_ids"]:
                why.append("Metaspace adds no prefix to a text that starts "
                           "with a space or \u2581")
                e["input_ids"] = ids
                e["input_ids_no_special"] = no_prefix(
                    text, add_special_tokens=False)["input_ids"]
                e["tokens"] = tok.convert_ids_to_tokens(ids)
        if name.startswith("llama"):
            tokens = tok.convert_ids_to_tokens(e["input_ids"])
            special = set(tok.all_special_tokens)
            decoded = llama_fast_decode([t for t in tokens
                                         if t not in special])
            with_special = llama_fast_decode(tokens)
            if (decoded, with_special) != (e["decoded"],
                                           e["decoded_with_special"]):
                why.append("Llama's decoder chain keeps spaces and special "
                           "tokens that LlamaTokenizer.decode drops")
                e["decoded"], e["decoded_with_special"] = \
                    decoded, with_special
        if why:
            e["differs_from_slow"] = why
        out.append(e)
    with open(os.path.join(case, "fast_encodings.json"), "w",
              encoding="utf-8") as f:
        json.dump({"strings": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return sum(1 for e in out if "differs_from_slow" in e)


BUILDERS = {"bert": bert, "bert-cased": bert, "gpt2": gpt2, "llama": llama,
            "llama-legacy": llama}


def main():
    names = sys.argv[1:] or list(BUILDERS)
    for name in names:
        case = os.path.join(HERE, "cases", name)
        tok = AutoTokenizer.from_pretrained(os.path.join(case, "tokenizer"),
                                            use_fast=False)
        body = BUILDERS[name](tok)
        data = {"version": "1.0", "truncation": None, "padding": None,
                "added_tokens": added_tokens(tok),
                "normalizer": body["normalizer"],
                "pre_tokenizer": body["pre_tokenizer"],
                "post_processor": body["post_processor"],
                "decoder": body["decoder"], "model": body["model"]}
        out = os.path.join(case, "tokenizer-json")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        with open(os.path.join(out, "tokenizer.json"), "w",
                  encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.write("\n")
        src = os.path.join(case, "tokenizer")
        with open(os.path.join(src, "tokenizer_config.json"),
                  encoding="utf-8") as f:
            config = json.load(f)
        if name.startswith("llama"):
            # LlamaTokenizerFast converts from tokenizer.model when the
            # config sets add_prefix_space; checkpoints without the slow
            # file do not set it.
            config.pop("add_prefix_space", None)
        slow = config["tokenizer_class"]
        config["tokenizer_class"] = "PreTrainedTokenizerFast" \
            if name == "gpt2" else slow + "Fast"
        with open(os.path.join(out, "tokenizer_config.json"), "w",
                  encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
            f.write("\n")
        shutil.copy(os.path.join(src, "special_tokens_map.json"), out)
        size = os.path.getsize(os.path.join(out, "tokenizer.json"))
        differ = fast_encodings(name, tok, case)
        print(f"{name}: tokenizer.json {size} bytes, {differ} of the "
              "strings differ from the slow tokenizer's")


if __name__ == "__main__":
    main()
