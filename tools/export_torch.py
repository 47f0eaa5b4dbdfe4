#!/usr/bin/python3
"""Export a PyTorch transformer to a tfm model directory.

    export(model, config, out_dir)

`model` is an nn.Module built on torch.nn.Transformer, with the attributes

  transformer     nn.Transformer (batch_first either way)   encoder-decoder
  encoder         nn.TransformerEncoder                       encoder-only
  decoder         nn.TransformerEncoder, run causally         decoder-only
  src_embed, tgt_embed   nn.Embedding
  generator              nn.Linear(d_model, tgt_vocab)
  src_pos_embed, tgt_pos_embed   nn.Embedding(max_seq_len, d_model), optional
                                 (learned positions; sinusoidal otherwise)

The PyTorch tutorial's Seq2SeqTransformer ("Language Translation with
nn.Transformer and torchtext") is recognised as well: its src_tok_emb /
tgt_tok_emb (a TokenEmbedding whose .embedding is scaled by sqrt(emb_size))
are the embeddings, its positional_encoding buffer (the paper's interleaved
sinusoids) gives max_seq_len unless --set gives a smaller one. A module that
lacks a part (a bare nn.Transformer has no embeddings and no generator) is
one error line that names the attributes to add.

(tools/tfm_model.py's TfmTorchModel is such a model.) `config` holds what the
weights cannot tell: max_seq_len (unless learned positions give it),
embed_scale (default true), pad_id/bos_id/eos_id; anything else it gives is
checked against the model. Writes out_dir/config.json (every field spelled
out) and out_dir/model.safetensors (F32, contiguous; `transformer.encoder.*`
→ `encoder.*`, `transformer.decoder.*` → `decoder.*`).

Command line:

  export_torch.py MODEL.pt OUT_DIR [--config extra.json] [--set key=value ...]
                  [--import CLASSES.py ...]
      MODEL.pt: a whole pickled module (torch.save(model)), or a state_dict
      (or {"state_dict": ..., "config": {...}}) of a TfmTorchModel, rebuilt
      from the config. A module pickled from a script's __main__ needs its
      classes back to load: --import the file that defines them.
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfm_model import DEFAULTS  # noqa: E402  (the config table's defaults)
FIELD_ORDER = ["architecture", "d_model", "num_heads", "d_ff",
               "num_encoder_layers", "num_decoder_layers", "src_vocab_size",
               "tgt_vocab_size", "max_seq_len", "norm_first", "activation",
               "layer_norm_eps", "final_norm", "embed_scale",
               "positional_encoding", "pad_id", "bos_id", "eos_id"]


class ExportError(Exception):
    pass


# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: float32 torch tensor}. Header: JSON, padded with spaces
    to 8-byte alignment; data: little-endian, in name order."""
    if sys.byteorder != "little":
        raise ExportError("big-endian hosts are not supported")
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------
# Inspecting the model
# ---------------------------------------------------------------------------

def _activation(layer):
    act = layer.activation
    if act is F.relu or isinstance(act, nn.ReLU):
        return "relu"
    if act is F.gelu or (isinstance(act, nn.GELU) and
                         getattr(act, "approximate", "none") == "none"):
        return "gelu"
    raise ExportError(f"unsupported activation {act!r} (relu or exact gelu)")


def _check_layer(layer, name):
    for attn_name in ("self_attn", "multihead_attn"):
        attn = getattr(layer, attn_name, None)
        if attn is not None and not attn._qkv_same_embed_dim:
            raise ExportError(f"{name}.{attn_name}: kdim/vdim differ from "
                              "embed_dim (separate q/k/v projections)")
    if layer.norm1.eps != layer.norm2.eps:
        raise ExportError(f"{name}: the layer norms use different eps")


# Where each part may be found: tfm's names first, then the PyTorch
# tutorial's Seq2SeqTransformer (TokenEmbedding.embedding).
_EMBEDDINGS = {"src": ("src_embed", "src_tok_emb.embedding"),
               "tgt": ("tgt_embed", "tgt_tok_emb.embedding")}
_TUTORIAL_POSITIONS = "positional_encoding.pos_embedding"


def _find(model, path):
    for part in path.split("."):
        model = getattr(model, part, None)
        if model is None:
            return None
    return model


def embedding(model, side):
    """The nn.Embedding of `side` ("src" or "tgt") and the attribute path it
    was found at, or (None, None)."""
    for path in _EMBEDDINGS[side]:
        module = _find(model, path)
        if isinstance(module, nn.Embedding):
            return module, path
    return None, None


def _require(model, arch):
    """One clear error naming what `model` lacks for `arch`."""
    need = []
    if arch != "decoder" and embedding(model, "src")[0] is None:
        need.append("`src_embed` (nn.Embedding(src_vocab, d_model))")
    if arch != "encoder":
        if embedding(model, "tgt")[0] is None:
            need.append("`tgt_embed` (nn.Embedding(tgt_vocab, d_model))")
        if not isinstance(getattr(model, "generator", None), nn.Linear):
            need.append("`generator` (nn.Linear(d_model, tgt_vocab))")
    if need:
        what = {"encoder-decoder": "an encoder-decoder model (`transformer`: "
                                   "nn.Transformer)",
                "encoder": "an encoder-only model (`encoder`: "
                           "nn.TransformerEncoder)",
                "decoder": "a decoder-only model"}[arch]
        raise ExportError(f"{what} also needs {', '.join(need)} as "
                          f"attributes of the exported module")


def infer_config(model):
    """Everything the module's structure tells about the config."""
    cfg = {}
    if isinstance(model, nn.Transformer):
        raise ExportError(
            "a bare nn.Transformer has no embeddings and no generator: export "
            "a module whose `transformer` is it, with `src_embed`, "
            "`tgt_embed` (nn.Embedding) and `generator` (nn.Linear(d_model, "
            "tgt_vocab)) beside it")
    if isinstance(getattr(model, "transformer", None), nn.Transformer):
        arch = "encoder-decoder"
        enc, dec = model.transformer.encoder, model.transformer.decoder
    elif isinstance(getattr(model, "encoder", None), nn.TransformerEncoder):
        arch, enc, dec = "encoder", model.encoder, None
    elif isinstance(getattr(model, "decoder", None), nn.TransformerEncoder):
        arch, enc, dec = "decoder", None, model.decoder
    else:
        raise ExportError("the model has no `transformer` (nn.Transformer), "
                          "`encoder` or `decoder` (nn.TransformerEncoder)")
    cfg["architecture"] = arch
    _require(model, arch)
    stacks = [s for s in (enc, dec) if s is not None]
    first = stacks[0].layers[0]
    cfg["d_model"] = first.self_attn.embed_dim
    cfg["num_heads"] = first.self_attn.num_heads
    cfg["d_ff"] = first.linear1.out_features
    cfg["norm_first"] = bool(first.norm_first)
    cfg["activation"] = _activation(first)
    cfg["layer_norm_eps"] = float(first.norm1.eps)
    finals = {s.norm is not None for s in stacks}
    if len(finals) != 1:
        raise ExportError("one stack has a final norm and the other not")
    cfg["final_norm"] = finals.pop()
    for sname, stack in (("encoder", enc), ("decoder", dec)):
        if stack is None:
            continue
        cfg[f"num_{sname}_layers"] = len(stack.layers)
        for i, layer in enumerate(stack.layers):
            lname = f"{sname}.layers.{i}"
            _check_layer(layer, lname)
            got = {"d_model": layer.self_attn.embed_dim,
                   "num_heads": layer.self_attn.num_heads,
                   "d_ff": layer.linear1.out_features,
                   "norm_first": bool(layer.norm_first),
                   "activation": _activation(layer),
                   "layer_norm_eps": float(layer.norm1.eps)}
            for k, v in got.items():
                if v != cfg[k]:
                    raise ExportError(f"{lname}: {k} = {v!r}, but the first "
                                      f"layer has {cfg[k]!r}")
        if stack.norm is not None and float(stack.norm.eps) != \
                cfg["layer_norm_eps"]:
            raise ExportError(f"{sname}.norm: eps differs from the layers'")
    if arch != "decoder":
        cfg["src_vocab_size"] = embedding(model, "src")[0].num_embeddings
    if arch != "encoder":
        cfg["tgt_vocab_size"] = embedding(model, "tgt")[0].num_embeddings
        gen = model.generator
        if gen.in_features != cfg["d_model"] or \
                gen.out_features != cfg["tgt_vocab_size"]:
            raise ExportError(f"generator is {gen.in_features}->"
                              f"{gen.out_features}, expected d_model->"
                              f"tgt_vocab_size")
    pos = [getattr(model, n, None) for n in ("src_pos_embed", "tgt_pos_embed")]
    pos = [p for p in pos if p is not None]
    if pos:
        cfg["positional_encoding"] = "learned"
        rows = {p.num_embeddings for p in pos}
        if len(rows) != 1:
            raise ExportError("src_pos_embed and tgt_pos_embed differ in rows")
        cfg["max_seq_len"] = rows.pop()
    else:
        cfg["positional_encoding"] = "sinusoidal"
    return cfg


def expected_shapes(cfg):
    d, ff = cfg["d_model"], cfg["d_ff"]
    arch = cfg["architecture"]
    shapes = {}

    def lin(p, o, i):
        shapes[p + ".weight"], shapes[p + ".bias"] = (o, i), (o,)

    def attn(p):
        shapes[p + ".in_proj_weight"] = (3 * d, d)
        shapes[p + ".in_proj_bias"] = (3 * d,)
        lin(p + ".out_proj", d, d)

    def norm(p):
        shapes[p + ".weight"], shapes[p + ".bias"] = (d,), (d,)

    def layers(stack, n, cross):
        for i in range(n):
            p = f"{stack}.layers.{i}"
            attn(p + ".self_attn")
            lin(p + ".linear1", ff, d)
            lin(p + ".linear2", d, ff)
            norm(p + ".norm1")
            norm(p + ".norm2")
            if cross:
                attn(p + ".multihead_attn")
                norm(p + ".norm3")
        if cfg["final_norm"]:
            norm(stack + ".norm")

    learned = cfg["positional_encoding"] == "learned"
    if arch != "decoder":
        shapes["src_embed.weight"] = (cfg["src_vocab_size"], d)
        if learned:
            shapes["src_pos_embed.weight"] = (cfg["max_seq_len"], d)
        layers("encoder", cfg["num_encoder_layers"], False)
    if arch != "encoder":
        shapes["tgt_embed.weight"] = (cfg["tgt_vocab_size"], d)
        if learned:
            shapes["tgt_pos_embed.weight"] = (cfg["max_seq_len"], d)
        layers("decoder", cfg["num_decoder_layers"],
               arch == "encoder-decoder")
        lin("generator", cfg["tgt_vocab_size"], d)
    return shapes


def _rename(key):
    for old, new in (("transformer.encoder.", "encoder."),
                     ("transformer.decoder.", "decoder.")):
        if key.startswith(old):
            return new + key[len(old):]
    return key


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def export(model, config=None, out_dir=None):
    """Writes out_dir/config.json and out_dir/model.safetensors; returns the
    full config written."""
    if out_dir is None:
        raise ExportError("no output directory")
    config = dict(config or {})
    cfg = infer_config(model)
    for k, v in config.items():
        if k not in FIELD_ORDER:
            raise ExportError(f"config: unknown field {k!r}")
        if k in cfg and cfg[k] != v:
            raise ExportError(f"config: {k} = {v!r}, but the model has "
                              f"{cfg[k]!r}")
        cfg[k] = v
    if "embed_scale" not in config and hasattr(model, "embed_scale"):
        cfg["embed_scale"] = bool(model.embed_scale)
    # The tutorial's TokenEmbedding scales by sqrt(emb_size); its sinusoidal
    # table bounds the positions.
    tutorial = any(embedding(model, side)[1] == _EMBEDDINGS[side][1]
                   for side in ("src", "tgt"))
    if tutorial:
        cfg.setdefault("embed_scale", True)
        table = _find(model, _TUTORIAL_POSITIONS)
        if isinstance(table, torch.Tensor) and "max_seq_len" not in cfg:
            cfg["max_seq_len"] = int(table.shape[0])
    for k, v in DEFAULTS.items():
        cfg.setdefault(k, v)
    if "max_seq_len" not in cfg:
        raise ExportError("config: max_seq_len is required (the model's "
                          "positions are sinusoidal, so it cannot tell)")

    state = {_rename(k): v for k, v in model.state_dict().items()}
    for side in ("src", "tgt"):
        module, path = embedding(model, side)
        if module is not None:
            state.pop(path + ".weight", None)
            state[f"{side}_embed.weight"] = module.weight
    state.pop(_TUTORIAL_POSITIONS, None)
    want = expected_shapes(cfg)
    tensors = {}
    for name, shape in want.items():
        t = state.get(name)
        if t is None and name.endswith("bias") and \
                name[:-4] + "weight" in state:
            t = torch.zeros(shape)  # a layer built with bias=False
        if t is None:
            raise ExportError(f"the model has no weight {name}")
        if tuple(t.shape) != shape:
            raise ExportError(f"{name}: shape {list(t.shape)}, expected "
                              f"{list(shape)}")
        if not torch.isfinite(t).all():
            raise ExportError(f"{name}: non-finite values")
        tensors[name] = t
    ignored = sorted(k for k in state if k not in want)
    if ignored:
        print(f"export_torch: not exported (not part of the tfm model): "
              f"{', '.join(ignored)}", file=sys.stderr)

    os.makedirs(out_dir, exist_ok=True)
    out_cfg = {k: cfg[k] for k in FIELD_ORDER if k in cfg}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(out_cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors,
                      {"format": "pt", "producer": "tfm export_torch.py"})
    return out_cfg


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="torch.save()d module or state_dict")
    parser.add_argument("out_dir")
    parser.add_argument("--config", help="JSON file with config fields")
    parser.add_argument("--set", action="append", default=[],
                        metavar="KEY=VALUE", help="one config field")
    parser.add_argument("--import", dest="imports", action="append",
                        default=[], metavar="FILE.py",
                        help="a Python file defining the model's classes "
                        "(for a module pickled from a script)")
    args = parser.parse_args()
    config = {}
    if args.config:
        with open(args.config) as f:
            config.update(json.load(f))
    for item in args.set:
        k, _, v = item.partition("=")
        config[k] = _parse_value(v)
    try:
        main_module = sys.modules["__main__"]
        for path in args.imports:
            # Pickles name the classes of a script as __main__.NAME.
            namespace = {"__name__": "export_torch_import", "__file__": path}
            try:
                exec(compile(open(path).read(), path, "exec"), namespace)
            except Exception as e:  # noqa: BLE001 (the user's file)
                raise ExportError(f"--import {path}: {type(e).__name__}: {e}")
            for name, value in namespace.items():
                if isinstance(value, type):
                    setattr(main_module, name, value)
        try:
            obj = torch.load(args.model, map_location="cpu")
        except AttributeError as e:
            raise ExportError(
                f"cannot load {args.model}: {e} (a module pickled from a "
                f"script: --import the file that defines its classes, or "
                f"export its state_dict)")
        except Exception as e:  # noqa: BLE001 (whatever the file holds)
            raise ExportError(f"cannot load {args.model}: "
                              f"{type(e).__name__}: {e}")
        if isinstance(obj, nn.Module):
            model = obj
        else:
            if isinstance(obj, dict) and "state_dict" in obj:
                config = {**obj.get("config", {}), **config}
                obj = obj["state_dict"]
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from tfm_model import TfmTorchModel
            if "architecture" not in config:
                raise ExportError("a state_dict needs --config with at least "
                                  "the architecture and sizes")
            model = TfmTorchModel(config)
            model.load_state_dict(obj)
        cfg = export(model.eval(), config, args.out_dir)
    except ExportError as e:
        print(f"export_torch: error: {e}", file=sys.stderr)
        return 1
    print(f"export_torch: wrote {args.out_dir} ({cfg['architecture']}, "
          f"d_model {cfg['d_model']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
