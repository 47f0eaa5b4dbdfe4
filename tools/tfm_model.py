"""PyTorch modules with tfm's model semantics, for training and export.

`TfmTorchModel(config)` builds, from a tfm config dict (DESIGN.md,
"Contracts"), a model whose state_dict exports to tfm's safetensors names
with tools/export_torch.py:

  encoder-decoder  transformer (nn.Transformer), src_embed, tgt_embed,
                   generator, [src_pos_embed, tgt_pos_embed]
  encoder          encoder (nn.TransformerEncoder), src_embed, [src_pos_embed]
  decoder          decoder (nn.TransformerEncoder run with a causal mask),
                   tgt_embed, generator, [tgt_pos_embed]

Inputs are padded id tensors plus lengths; positions at or past a sequence's
length are padding (masked as keys only). `greedy()` is tfm-run's greedy
decoding rule, run in PyTorch.
"""
import math

import torch
from torch import nn

DEFAULTS = {
    "norm_first": False,
    "activation": "relu",
    "layer_norm_eps": 1e-5,
    "final_norm": True,
    "embed_scale": True,
    "positional_encoding": "sinusoidal",
    "pad_id": 0,
    "bos_id": 1,
    "eos_id": 2,
}


def complete_config(config):
    cfg = dict(DEFAULTS)
    cfg.update(config)
    return cfg


def sinusoidal(n, d):
    """pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(same angle)."""
    p = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(d)
    angle = p / torch.pow(10000.0, ((j // 2) * 2).double() / d)[None, :]
    pe = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe.float()


def padding_mask(lengths, n):
    """True where position >= length (masked)."""
    return torch.arange(n, device=lengths.device)[None, :] >= lengths[:, None]


def causal_mask(n):
    """True above the diagonal: key j is hidden from query i when j > i."""
    return torch.triu(torch.ones((n, n), dtype=torch.bool), diagonal=1)


def pad(seqs, value):
    n = max((len(s) for s in seqs), default=0)
    ids = torch.full((len(seqs), n), value, dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, torch.tensor([len(s) for s in seqs], dtype=torch.long)


class TfmTorchModel(nn.Module):
    def __init__(self, config, dropout=0.0, batch_first=True):
        super().__init__()
        cfg = complete_config(config)
        self.config = cfg
        self.batch_first = batch_first
        arch = cfg["architecture"]
        d = cfg["d_model"]
        self.arch = arch
        self.scale = math.sqrt(d) if cfg["embed_scale"] else 1.0
        self.embed_scale = cfg["embed_scale"]
        kw = dict(d_model=d, nhead=cfg["num_heads"],
                  dim_feedforward=cfg["d_ff"], dropout=dropout,
                  activation=cfg["activation"],
                  layer_norm_eps=cfg["layer_norm_eps"],
                  batch_first=batch_first, norm_first=cfg["norm_first"])
        learned = cfg["positional_encoding"] == "learned"
        if arch == "encoder-decoder":
            self.transformer = nn.Transformer(
                num_encoder_layers=cfg["num_encoder_layers"],
                num_decoder_layers=cfg["num_decoder_layers"], **kw)
            if not cfg["final_norm"]:
                self.transformer.encoder.norm = None
                self.transformer.decoder.norm = None
        elif arch == "encoder":
            self.encoder = self._stack(kw, cfg["num_encoder_layers"], cfg)
        elif arch == "decoder":
            self.decoder = self._stack(kw, cfg["num_decoder_layers"], cfg)
        else:
            raise ValueError(f"architecture {arch!r}")
        if arch != "decoder":
            self.src_embed = nn.Embedding(cfg["src_vocab_size"], d)
            if learned:
                self.src_pos_embed = nn.Embedding(cfg["max_seq_len"], d)
        if arch != "encoder":
            self.tgt_embed = nn.Embedding(cfg["tgt_vocab_size"], d)
            self.generator = nn.Linear(d, cfg["tgt_vocab_size"])
            if learned:
                self.tgt_pos_embed = nn.Embedding(cfg["max_seq_len"], d)
        self.register_buffer("pe", sinusoidal(cfg["max_seq_len"], d),
                             persistent=False)

    @staticmethod
    def _stack(kw, n, cfg):
        layer = nn.TransformerEncoderLayer(**kw)
        norm = nn.LayerNorm(kw["d_model"], eps=kw["layer_norm_eps"]) \
            if cfg["final_norm"] else None
        return nn.TransformerEncoder(layer, n, norm=norm,
                                     enable_nested_tensor=False)

    # -- pieces --------------------------------------------------------------
    def _embed(self, side, ids):
        x = getattr(self, side + "_embed")(ids) * self.scale
        n = ids.shape[1]
        if self.config["positional_encoding"] == "learned":
            pos = getattr(self, side + "_pos_embed").weight[:n]
        else:
            pos = self.pe[:n]
        return x + pos[None]

    def _bf(self, x):
        """[B, S, d] <-> the stacks' layout."""
        return x if self.batch_first else x.transpose(0, 1)

    def encode(self, src, src_len):
        x = self._bf(self._embed("src", src))
        mask = padding_mask(src_len, src.shape[1])
        stack = self.transformer.encoder if self.arch == "encoder-decoder" \
            else self.encoder
        return stack(x, src_key_padding_mask=mask)

    def decode(self, tgt, tgt_len, memory=None, src_len=None):
        x = self._bf(self._embed("tgt", tgt))
        t = tgt.shape[1]
        causal = causal_mask(t).to(x.device)
        tmask = padding_mask(tgt_len, t)
        if self.arch == "decoder":
            h = self.decoder(x, mask=causal, src_key_padding_mask=tmask)
        else:
            mmask = padding_mask(src_len, memory.shape[1 if self.batch_first
                                                       else 0])
            h = self.transformer.decoder(x, memory, tgt_mask=causal,
                                         tgt_key_padding_mask=tmask,
                                         memory_key_padding_mask=mmask)
        return self.generator(self._bf(h))

    def forward(self, src, src_len, tgt=None, tgt_len=None):
        """Teacher-forced output, [B, T, V] (encoder: hidden [B, S, d]).
        Padded rows are not zeroed."""
        if self.arch == "encoder":
            return self._bf(self.encode(src, src_len))
        if self.arch == "decoder":
            return self.decode(src, src_len)
        return self.decode(tgt, tgt_len, self.encode(src, src_len), src_len)


@torch.no_grad()
def greedy(model, src, max_new_tokens=None):
    """tfm-run's greedy rule for one sequence (list of ids): start from [bos]
    (encoder-decoder) or the prompt (decoder); append argmax of the last
    position's logits until eos (not returned), max_new_tokens tokens, or the
    sequence reaching max_seq_len. Returns the generated ids."""
    cfg = model.config
    if model.arch == "encoder-decoder":
        s, sl = pad([src], cfg["pad_id"])
        memory = model.encode(s, sl)
        seq = [cfg["bos_id"]]
    else:
        memory, sl = None, None
        seq = list(src)
    limit = cfg["max_seq_len"] - len(seq)
    if max_new_tokens is not None:
        limit = min(limit, max_new_tokens)
    out = []
    while len(out) < limit:
        t, tl = pad([seq], cfg["pad_id"])
        logits = model.decode(t, tl, memory, sl)[0, -1]
        nxt = int(torch.argmax(logits))
        # torch.argmax does not promise the first maximum; make it so.
        nxt = int((logits == logits[nxt]).nonzero()[0])
        if nxt == cfg["eos_id"]:
            break
        out.append(nxt)
        seq.append(nxt)
    return out
