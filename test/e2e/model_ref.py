#!/usr/bin/python3
"""NumPy (float64) reference of the transformer models tfm compiles.

Written from the definitions (DESIGN.md, "Attention Is All You Need", and
torch.nn.Transformer's documented semantics), not from tfm's code:

  x      = embed[ids] * (sqrt(d_model) if embed_scale else 1) + pos[p]
           pos: sinusoidal (pe[p,2i] = sin(p/10000^(2i/d)), pe[p,2i+1] = cos(..))
           or learned (src_pos_embed / tgt_pos_embed rows)
  MHA    = torch's: in_proj rows [Wq; Wk; Wv], h heads, softmax(q kᵀ/sqrt(d/h)
           + mask) v, out_proj; a query that sees no key gives a zero output
  masks  = by length: keys at or past a sequence's length are hidden; decoder
           self-attention is also causal; padded queries are computed normally
  layers = post-norm  x = norm1(x + SA(x)) [; norm2(x + CA(x, mem))]; normK(x + FF(x))
           pre-norm   x = x + SA(norm1(x)) [; x + CA(norm2(x), mem)]; x + FF(normK(x))
           FF = linear2(act(linear1(x))), act relu or erf-gelu
  stacks = final LayerNorm (encoder.norm / decoder.norm) iff final_norm
  logits = x @ generator.weightᵀ + generator.bias

Commands:

  model_ref.py gen-model DIR --arch encoder-decoder|encoder|decoder [--norm-first]
        [--activation gelu] [--positional learned] [--no-final-norm]
        [--no-embed-scale] [--d-model 32] [--heads 4] [--d-ff 64] [--layers 2]
        [--vocab 23] [--max-seq-len 16] [--eps 1e-5] [--explicit] --seed N
      random model: DIR/config.json + DIR/model.safetensors (F32)
  model_ref.py gen-inputs OUT.json --arch ... --batch B --max-len L --vocab V
        [--with-tgt] [--min-len 1] --seed N
      random unpadded sequences of different lengths: {"src": .., "tgt": ..}
  model_ref.py logits DIR INPUTS.json OUT.npy
      teacher-forced output (float32; rows past each length are 0):
      encoder-decoder [B, T, tgt_vocab], encoder [B, S, d], decoder [B, S, V]
  model_ref.py check DIR INPUTS.json GOT.npy [--tol 1e-4]
      compares GOT.npy with the reference; prints PASS/FAIL, exit 1 on FAIL
  model_ref.py greedy DIR (--src "5 17 42" | --inputs INPUTS.json)
        [--max-new-tokens N]
      greedy decoding; generated ids, one sequence per line (the smallest
      top1-top2 logit margin seen goes to stderr)
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

ARCHS = ("encoder-decoder", "encoder", "decoder")
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


class ModelError(Exception):
    pass


# ---------------------------------------------------------------------------
# Model description
# ---------------------------------------------------------------------------

def uses(arch):
    """(uses encoder stack, uses decoder stack)"""
    return arch in ("encoder-decoder", "encoder"), \
        arch in ("encoder-decoder", "decoder")


def complete_config(raw):
    cfg = dict(DEFAULTS)
    cfg.update(raw)
    arch = cfg.get("architecture")
    if arch not in ARCHS:
        raise ModelError(f"config: architecture must be one of {ARCHS}, "
                         f"got {arch!r}")
    enc, dec = uses(arch)
    required = ["d_model", "num_heads", "d_ff", "max_seq_len"]
    if enc:
        required += ["num_encoder_layers", "src_vocab_size"]
    if dec:
        required += ["num_decoder_layers", "tgt_vocab_size"]
    for key in required:
        if key not in cfg:
            raise ModelError(f"config: missing required field {key!r}")
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise ModelError(f"config: {key} must be a positive integer")
    if cfg["d_model"] % cfg["num_heads"]:
        raise ModelError("config: d_model is not a multiple of num_heads")
    if cfg["activation"] not in ("relu", "gelu"):
        raise ModelError(f"config: activation {cfg['activation']!r}")
    if cfg["positional_encoding"] not in ("sinusoidal", "learned"):
        raise ModelError(f"config: positional_encoding "
                         f"{cfg['positional_encoding']!r}")
    return cfg


def expected_weights(cfg):
    """{name: shape} of every weight the description must hold."""
    d, ff = cfg["d_model"], cfg["d_ff"]
    enc, dec = uses(cfg["architecture"])
    shapes = {}

    def linear(p, n_out, n_in):
        shapes[p + ".weight"] = (n_out, n_in)
        shapes[p + ".bias"] = (n_out,)

    def attn(p):
        shapes[p + ".in_proj_weight"] = (3 * d, d)
        shapes[p + ".in_proj_bias"] = (3 * d,)
        linear(p + ".out_proj", d, d)

    def norm(p):
        shapes[p + ".weight"] = (d,)
        shapes[p + ".bias"] = (d,)

    def layer(p, cross):
        attn(p + ".self_attn")
        linear(p + ".linear1", ff, d)
        linear(p + ".linear2", d, ff)
        norm(p + ".norm1")
        norm(p + ".norm2")
        if cross:
            attn(p + ".multihead_attn")
            norm(p + ".norm3")

    learned = cfg["positional_encoding"] == "learned"
    if enc:
        shapes["src_embed.weight"] = (cfg["src_vocab_size"], d)
        if learned:
            shapes["src_pos_embed.weight"] = (cfg["max_seq_len"], d)
        for i in range(cfg["num_encoder_layers"]):
            layer(f"encoder.layers.{i}", cross=False)
        if cfg["final_norm"]:
            norm("encoder.norm")
    if dec:
        shapes["tgt_embed.weight"] = (cfg["tgt_vocab_size"], d)
        if learned:
            shapes["tgt_pos_embed.weight"] = (cfg["max_seq_len"], d)
        cross = cfg["architecture"] == "encoder-decoder"
        for i in range(cfg["num_decoder_layers"]):
            layer(f"decoder.layers.{i}", cross=cross)
        if cfg["final_norm"]:
            norm("decoder.norm")
        linear("generator", cfg["tgt_vocab_size"], d)
    return shapes


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = complete_config(json.load(f))
    weights = safetensors_io.load(os.path.join(model_dir, "model.safetensors"))
    want = expected_weights(cfg)
    missing = sorted(set(want) - set(weights))
    extra = sorted(set(weights) - set(want))
    if missing:
        raise ModelError(f"model.safetensors: missing weight {missing[0]}")
    if extra:
        raise ModelError(f"model.safetensors: unexpected weight {extra[0]}")
    for name, shape in want.items():
        if weights[name].shape != shape:
            raise ModelError(f"model.safetensors: {name} has shape "
                             f"{list(weights[name].shape)}, expected "
                             f"{list(shape)}")
    return cfg, {k: v.astype(np.float64) for k, v in weights.items()}


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------

def sinusoidal(n, d):
    p = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(d)
    i2 = (j // 2) * 2  # 2i for both feature 2i and 2i+1
    angle = p / np.power(10000.0, i2 / d)[None, :]
    return np.where(j % 2 == 0, np.sin(angle), np.cos(angle))


def embed(cfg, W, side, ids):
    """side 'src' or 'tgt'; ids [B, S] int."""
    d = cfg["d_model"]
    x = W[f"{side}_embed.weight"][ids]
    if cfg["embed_scale"]:
        x = x * math.sqrt(d)
    s = ids.shape[1]
    if cfg["positional_encoding"] == "learned":
        pos = W[f"{side}_pos_embed.weight"][:s]
    else:
        pos = sinusoidal(s, d)
    return x + pos[None]


def layer_norm(cfg, W, p, x):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + cfg["layer_norm_eps"])
    return y * W[p + ".weight"] + W[p + ".bias"]


# check --bf16-activations: the inputs of every linear layer rounded to
# bf16 (through f32), as tfm's vdpbf16ps kernels round them.
BF16_ACTIVATIONS = False


def matmul_input(x):
    if not BF16_ACTIVATIONS:
        return x
    from weight_types import bf16_nearest
    return bf16_nearest(x.astype(np.float32)).astype(np.float64)


def linear(W, p, x):
    return matmul_input(x) @ W[p + ".weight"].T + W[p + ".bias"]


def gelu(x):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def feed_forward(cfg, W, p, x):
    h = linear(W, p + ".linear1", x)
    h = np.maximum(h, 0.0) if cfg["activation"] == "relu" else gelu(h)
    return linear(W, p + ".linear2", h)


def attention(cfg, W, p, xq, xkv, visible):
    """Multi-head attention; visible [B, Sq, Sk] bool."""
    d, h = cfg["d_model"], cfg["num_heads"]
    dh = d // h
    w, b = W[p + ".in_proj_weight"], W[p + ".in_proj_bias"]
    xq, xkv = matmul_input(xq), matmul_input(xkv)
    q = xq @ w[:d].T + b[:d]
    k = xkv @ w[d:2 * d].T + b[d:2 * d]
    v = xkv @ w[2 * d:].T + b[2 * d:]

    def split(t):
        bsz, s, _ = t.shape
        return t.reshape(bsz, s, h, dh).transpose(0, 2, 1, 3)

    q, k, v = split(q), split(k), split(v)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh)  # [B, H, Sq, Sk]
    vis = np.broadcast_to(visible[:, None], s.shape)
    s = np.where(vis, s, -np.inf)
    m = s.max(axis=-1, keepdims=True) if s.shape[-1] else \
        np.zeros(s.shape[:-1] + (1,))
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(vis, np.exp(s - m), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    prob = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    o = prob @ v  # [B, H, Sq, dh]; rows that see nothing are 0
    bsz, _, sq, _ = o.shape
    o = o.transpose(0, 2, 1, 3).reshape(bsz, sq, d)
    return linear(W, p + ".out_proj", o)


def self_layer(cfg, W, p, x, vis):
    """Encoder layer layout (encoder stacks and decoder-only layers)."""
    if cfg["norm_first"]:
        y = layer_norm(cfg, W, p + ".norm1", x)
        x = x + attention(cfg, W, p + ".self_attn", y, y, vis)
        x = x + feed_forward(cfg, W, p, layer_norm(cfg, W, p + ".norm2", x))
    else:
        x = layer_norm(cfg, W, p + ".norm1",
                       x + attention(cfg, W, p + ".self_attn", x, x, vis))
        x = layer_norm(cfg, W, p + ".norm2", x + feed_forward(cfg, W, p, x))
    return x


def cross_layer(cfg, W, p, x, mem, self_vis, cross_vis):
    """Encoder-decoder decoder layer."""
    if cfg["norm_first"]:
        y = layer_norm(cfg, W, p + ".norm1", x)
        x = x + attention(cfg, W, p + ".self_attn", y, y, self_vis)
        y = layer_norm(cfg, W, p + ".norm2", x)
        x = x + attention(cfg, W, p + ".multihead_attn", y, mem, cross_vis)
        x = x + feed_forward(cfg, W, p, layer_norm(cfg, W, p + ".norm3", x))
    else:
        x = layer_norm(cfg, W, p + ".norm1",
                       x + attention(cfg, W, p + ".self_attn", x, x, self_vis))
        x = layer_norm(cfg, W, p + ".norm2",
                       x + attention(cfg, W, p + ".multihead_attn", x, mem,
                                     cross_vis))
        x = layer_norm(cfg, W, p + ".norm3", x + feed_forward(cfg, W, p, x))
    return x


def key_mask(sq, lengths, sk):
    """[B, Sq, Sk]: key j visible iff j < lengths[b]."""
    j = np.arange(sk)
    return np.broadcast_to((j[None, :] < np.asarray(lengths)[:, None])
                           [:, None, :], (len(lengths), sq, sk))


def causal_mask(s, lengths):
    i = np.arange(s)[:, None]
    j = np.arange(s)[None, :]
    return key_mask(s, lengths, s) & (j <= i)[None]


def pad(seqs, value):
    n = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), n), value, dtype=np.int64)
    for b, s in enumerate(seqs):
        out[b, :len(s)] = s
    return out, np.array([len(s) for s in seqs], dtype=np.int64)


def encode(cfg, W, src):
    """src: list of id lists. Returns (memory [B, S, d], lengths)."""
    ids, lengths = pad(src, cfg["pad_id"])
    x = embed(cfg, W, "src", ids)
    vis = key_mask(ids.shape[1], lengths, ids.shape[1])
    for i in range(cfg["num_encoder_layers"]):
        x = self_layer(cfg, W, f"encoder.layers.{i}", x, vis)
    if cfg["final_norm"]:
        x = layer_norm(cfg, W, "encoder.norm", x)
    return x, lengths


def decode(cfg, W, tgt, mem=None, src_lengths=None):
    """Decoder stack + generator over tgt (list of id lists); the memory is
    given for encoder-decoder models. Returns (logits [B, T, V], lengths)."""
    ids, lengths = pad(tgt, cfg["pad_id"])
    t = ids.shape[1]
    x = embed(cfg, W, "tgt", ids)
    self_vis = causal_mask(t, lengths)
    for i in range(cfg["num_decoder_layers"]):
        p = f"decoder.layers.{i}"
        if mem is None:
            x = self_layer(cfg, W, p, x, self_vis)
        else:
            cross_vis = key_mask(t, src_lengths, mem.shape[1])
            x = cross_layer(cfg, W, p, x, mem, self_vis, cross_vis)
    if cfg["final_norm"]:
        x = layer_norm(cfg, W, "decoder.norm", x)
    return linear(W, "generator", x), lengths


def zero_padding(out, lengths):
    out = out.copy()
    for b, n in enumerate(lengths):
        out[b, n:] = 0.0
    return out


def check_ids(cfg, seqs, vocab_key, what):
    vocab = cfg[vocab_key]
    for b, s in enumerate(seqs):
        if len(s) > cfg["max_seq_len"]:
            raise ModelError(f"{what}[{b}]: length {len(s)} exceeds "
                             f"max_seq_len {cfg['max_seq_len']}")
        for t in s:
            if not isinstance(t, int) or not 0 <= t < vocab:
                raise ModelError(f"{what}[{b}]: token {t!r} out of range "
                                 f"[0, {vocab})")


def forward(cfg, W, inputs):
    """Teacher-forced output as defined in the module docstring."""
    arch = cfg["architecture"]
    src = inputs.get("src")
    if not isinstance(src, list) or not all(isinstance(s, list) for s in src):
        raise ModelError("inputs: 'src' must be a list of id lists")
    if arch == "encoder":
        check_ids(cfg, src, "src_vocab_size", "src")
        mem, lengths = encode(cfg, W, src)
        return zero_padding(mem, lengths), lengths
    if arch == "decoder":
        check_ids(cfg, src, "tgt_vocab_size", "src")
        logits, lengths = decode(cfg, W, src)
        return zero_padding(logits, lengths), lengths
    tgt = inputs.get("tgt")
    if not isinstance(tgt, list) or len(tgt) != len(src):
        raise ModelError("inputs: an encoder-decoder forward pass needs "
                         "'tgt' with one sequence per 'src' sequence")
    check_ids(cfg, src, "src_vocab_size", "src")
    check_ids(cfg, tgt, "tgt_vocab_size", "tgt")
    mem, src_lengths = encode(cfg, W, src)
    logits, lengths = decode(cfg, W, tgt, mem, src_lengths)
    return zero_padding(logits, lengths), lengths


def greedy(cfg, W, src, max_new_tokens=None):
    """Greedy decoding of one sequence. Returns (generated ids, smallest
    top1-top2 margin seen or None)."""
    arch = cfg["architecture"]
    if arch == "encoder":
        raise ModelError("greedy decoding needs a decoder")
    if arch == "encoder-decoder":
        check_ids(cfg, [src], "src_vocab_size", "src")
        mem, src_lengths = encode(cfg, W, [src])
        seq = [cfg["bos_id"]]
    else:
        check_ids(cfg, [src], "tgt_vocab_size", "src")
        if not src:
            raise ModelError("decoder-only greedy decoding needs a prompt")
        mem, src_lengths = None, None
        seq = list(src)
    limit = cfg["max_seq_len"] - len(seq)
    if max_new_tokens is not None:
        limit = min(limit, max_new_tokens)
    out, margin = [], None
    while len(out) < limit:
        logits, _ = decode(cfg, W, [seq], mem, src_lengths)
        row = logits[0, len(seq) - 1]
        nxt = int(np.argmax(row))  # first maximum
        if row.size > 1:
            top2 = np.sort(row)[-2:]
            m = float(top2[1] - top2[0])
            margin = m if margin is None else min(margin, m)
        if nxt == cfg["eos_id"]:
            break
        out.append(nxt)
        seq.append(nxt)
    return out, margin


def beam_search(cfg, W, src, beams, max_new_tokens=None, length_penalty=1.0):
    """Beam search over one sequence, as tfm's runtime does it (see
    runtime/Generate.h: beamSearch): candidates are the 2*beams most likely
    tokens of every live beam, ranked by summed log-probability (ties: the
    earlier beam, then the smaller token id); eos among the `beams` best
    sets a hypothesis aside, scored sum / (generated + 1)^length_penalty;
    at the length limit the live beams become hypotheses (sum / generated^lp);
    a sequence is done when it has `beams` hypotheses and the best live
    beam's normalized score does not beat the beams-th best of them.
    Returns the best hypothesis's tokens and the smallest gap between two
    ranked candidates (a near-tie would make the order fragile)."""
    arch = cfg["architecture"]
    if arch == "encoder-decoder":
        check_ids(cfg, [src], "src_vocab_size", "src")
        mem, src_lengths = encode(cfg, W, [src])
        prefix = [cfg["bos_id"]]
    else:
        check_ids(cfg, [src], "tgt_vocab_size", "src")
        mem, src_lengths = None, None
        prefix = list(src)
    limit = cfg["max_seq_len"] - len(prefix)
    if max_new_tokens is not None:
        limit = min(limit, max_new_tokens)
    eos = cfg["eos_id"]

    def norm(score, length):
        return score / (max(length, 1) ** length_penalty)

    live = [(0.0, [])] if limit > 0 else []
    finished = []
    margin = None
    while live:
        cands = []
        for k, (score, toks) in enumerate(live):
            logits, _ = decode(cfg, W, [prefix + toks], mem, src_lengths)
            row = logits[0, len(prefix) + len(toks) - 1]
            row = row - row.max()
            logp = row - np.log(np.exp(row).sum())
            order = sorted(range(len(logp)), key=lambda t: (-logp[t], t))
            for t in order[:min(2 * beams, len(logp))]:
                cands.append((score + logp[t], k, t))
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        nxt = []
        for rank, (sc, k, t) in enumerate(cands):
            if len(nxt) == beams:
                break
            if rank + 1 < len(cands):
                gap = sc - cands[rank + 1][0]
                margin = gap if margin is None else min(margin, gap)
            toks = live[k][1]
            if t == eos:
                if rank < beams:
                    finished.append((norm(sc, len(toks) + 1), toks))
                continue
            nxt.append((sc, toks + [t]))
        live = nxt
        if live and len(live[0][1]) >= limit:
            finished += [(norm(sc, len(toks)), toks) for sc, toks in live]
            live = []
        if len(finished) >= beams and live:
            kth = sorted((f[0] for f in finished), reverse=True)[beams - 1]
            if kth >= norm(live[0][0], len(live[0][1])):
                live = []
    best = None
    for sc, toks in finished:
        if best is None or sc > best[0]:
            best = (sc, toks)
    return (best[1] if best else []), margin


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------

def gen_model(args):
    rng = np.random.default_rng(args.seed)
    d = args.d_model
    raw = {"architecture": args.arch, "d_model": d, "num_heads": args.heads,
           "d_ff": args.d_ff, "max_seq_len": args.max_seq_len}
    enc, dec = uses(args.arch)
    if enc:
        raw["num_encoder_layers"] = args.encoder_layers or args.layers
        raw["src_vocab_size"] = args.src_vocab or args.vocab
    if dec:
        raw["num_decoder_layers"] = args.decoder_layers or args.layers
        raw["tgt_vocab_size"] = args.tgt_vocab or args.vocab
    options = {"norm_first": args.norm_first, "activation": args.activation,
               "layer_norm_eps": args.eps, "final_norm": not args.no_final_norm,
               "embed_scale": not args.no_embed_scale,
               "positional_encoding": args.positional}
    for key, value in options.items():
        if args.explicit or value != DEFAULTS[key]:
            raw[key] = value
    if args.explicit:
        for key in ("pad_id", "bos_id", "eos_id"):
            raw[key] = DEFAULTS[key]
    cfg = complete_config(raw)

    weights = {}
    for name, shape in expected_weights(cfg).items():
        last = name.rsplit(".", 1)[-1]
        if name.endswith("_embed.weight"):
            if "pos_embed" in name:
                w = 0.5 * rng.standard_normal(shape)
            elif cfg["embed_scale"]:  # scaled by sqrt(d) to unit size
                w = rng.standard_normal(shape) / math.sqrt(d)
            else:
                w = rng.standard_normal(shape)
        elif ".norm" in name or name.startswith(("encoder.norm",
                                                 "decoder.norm")):
            w = (1.0 + 0.1 * rng.standard_normal(shape)) \
                if last == "weight" else 0.1 * rng.standard_normal(shape)
        elif last in ("weight", "in_proj_weight"):
            w = rng.standard_normal(shape) / math.sqrt(shape[1])
            if name == "generator.weight":
                w *= 2.0  # well-separated logits for the greedy tests
        else:  # biases
            w = 0.1 * rng.standard_normal(shape)
        weights[name] = w.astype(np.float32)

    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(raw, f, indent=2)
        f.write("\n")
    safetensors_io.save(os.path.join(args.dir, "model.safetensors"), weights)
    return 0


def random_lengths(rng, batch, lo, hi):
    lengths = rng.integers(lo, hi + 1, size=batch)
    if batch >= 2:
        lengths[0], lengths[1] = hi, lo
        rng.shuffle(lengths)
    return [int(n) for n in lengths]


def gen_inputs(args):
    rng = np.random.default_rng(args.seed)
    enc, dec = uses(args.arch)
    src_vocab = (args.src_vocab or args.vocab) if enc else \
        (args.tgt_vocab or args.vocab)
    lo = args.min_len
    if args.arch == "decoder":
        lo = max(lo, 1)  # a prompt is never empty
    out = {"src": [[int(t) for t in rng.integers(0, src_vocab, n)]
                   for n in random_lengths(rng, args.batch, lo, args.max_len)]}
    if args.with_tgt:
        if args.arch != "encoder-decoder":
            raise ModelError("--with-tgt is for encoder-decoder models")
        tgt_vocab = args.tgt_vocab or args.vocab
        out["tgt"] = [[args.bos_id] + [int(t) for t in
                                       rng.integers(0, tgt_vocab, n - 1)]
                      for n in random_lengths(rng, args.batch, 1,
                                              args.max_len)]
    with open(args.out, "w") as f:
        json.dump(out, f)
        f.write("\n")
    return 0


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

def read_inputs(path):
    with open(path) as f:
        return json.load(f)


def cmd_logits(args):
    cfg, W = load_model(args.dir)
    out, _ = forward(cfg, W, read_inputs(args.inputs))
    np.save(args.out, out.astype(np.float32))
    return 0


def artifact_weights(cfg, W, artifact_dir):
    """W with every weight replaced by the values an artifact stores for it
    (weight_types.stored_values: bf16 or int8 dequantized), q/k/v rows put
    back into in_proj_*."""
    from weight_types import stored_values
    d = cfg["d_model"]
    W = dict(W)
    for name, v in stored_values(artifact_dir).items():
        target, rows = name, None
        for i, part in enumerate("qkv"):
            for kind in ("weight", "bias"):
                suffix = f".{part}_proj.{kind}"
                if name.endswith(suffix):
                    target = name[:-len(suffix)] + f".in_proj_{kind}"
                    rows = slice(i * d, (i + 1) * d)
        if target not in W:
            raise ModelError(f"{artifact_dir}: weight {name} is not the model's")
        whole = W[target].copy()
        part = whole if rows is None else whole[rows]
        if part.ndim == 2:
            part[...] = v[:part.shape[0], :part.shape[1]]
        else:
            part[...] = v[:part.shape[0]].reshape(part.shape)
        W[target] = whole
    return W


def cmd_check(args):
    global BF16_ACTIVATIONS
    BF16_ACTIVATIONS = args.bf16_activations
    cfg, W = load_model(args.dir)
    if args.weights_from:
        W = artifact_weights(cfg, W, args.weights_from)
    ref, lengths = forward(cfg, W, read_inputs(args.inputs))
    got = np.load(args.got)
    if got.shape != ref.shape:
        print(f"FAIL logits: shape {list(got.shape)}, expected "
              f"{list(ref.shape)}")
        return 1
    if got.dtype != np.float32:
        print(f"FAIL logits: dtype {got.dtype}, expected float32")
        return 1
    if not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))[0].tolist()
        print(f"FAIL logits: non-finite value at {bad}")
        return 1
    padded = 0
    for b, n in enumerate(lengths):
        padded += got.shape[1] - int(n)
        if np.any(got[b, n:] != 0.0):
            print(f"FAIL logits: padded rows of sequence {b} (length {n}) "
                  f"are not zero")
            return 1
    err = float(np.max(np.abs(got - ref))) if got.size else 0.0
    status = "PASS" if err <= args.tol else "FAIL"
    if args.median_tol is not None:
        # Most positions equal, a few apart: activations rounded to bf16 on
        # both sides round differently where tfm's f32 and the reference's
        # float64 straddle a rounding boundary, and attention spreads that
        # to the whole sequence.
        real = np.concatenate([np.abs(got[b, :n] - ref[b, :n]).ravel()
                               for b, n in enumerate(lengths)])
        median = float(np.median(real)) if real.size else 0.0
        status = "PASS" if median <= args.median_tol else "FAIL"
        print(f"{status} logits shape={list(got.shape)} median_abs_err="
              f"{median:.3g} median_tol={args.median_tol:g} max_abs_err="
              f"{err:.3g} padded_rows={padded}")
        return 0 if status == "PASS" else 1
    where = ""
    if status == "FAIL":
        where = f" at {np.unravel_index(np.argmax(np.abs(got - ref)), got.shape)}"
    print(f"{status} logits shape={list(got.shape)} max_abs_err={err:.3g} "
          f"tol={args.tol:g} padded_rows={padded}{where}")
    return 0 if status == "PASS" else 1


def read_sources(args):
    if args.src is not None:
        try:
            return [[int(t) for t in args.src.split()]]
        except ValueError:
            raise ModelError(f"--src: not a list of integers: {args.src!r}")
    if args.inputs is not None:
        sources = read_inputs(args.inputs).get("src")
        if not isinstance(sources, list):
            raise ModelError("inputs: 'src' must be a list of id lists")
        return sources
    raise ModelError("give --src or --inputs")


def print_decoded(args, decode_one, what):
    """Decodes every source of --src/--inputs with decode_one(cfg, W, src) ->
    (ids, margin) and prints one line of ids each; the smallest margin goes
    to stderr."""
    cfg, W = load_model(args.dir)
    worst = None
    for k, src in enumerate(read_sources(args)):
        ids, margin = decode_one(cfg, W, src)
        print(" ".join(str(t) for t in ids))
        if margin is not None and (worst is None or margin < worst[0]):
            worst = (margin, k)
    if worst is not None:
        print(f"{what} {worst[0]:.3g} (sequence {worst[1]})", file=sys.stderr)
    return 0


def cmd_beam(args):
    return print_decoded(
        args, lambda cfg, W, src: beam_search(
            cfg, W, src, args.beam, args.max_new_tokens, args.length_penalty),
        "beam: smallest gap between ranked candidates")


def cmd_greedy(args):
    return print_decoded(
        args, lambda cfg, W, src: greedy(cfg, W, src, args.max_new_tokens),
        "greedy: smallest top1-top2 logit margin")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def shape_args(p):
        p.add_argument("--arch", choices=ARCHS, required=True)
        p.add_argument("--vocab", type=int, default=23)
        p.add_argument("--src-vocab", type=int)
        p.add_argument("--tgt-vocab", type=int)
        p.add_argument("--seed", type=int, default=0)

    g = sub.add_parser("gen-model", help="random model directory")
    g.add_argument("dir")
    shape_args(g)
    g.add_argument("--norm-first", action="store_true")
    g.add_argument("--activation", choices=["relu", "gelu"], default="relu")
    g.add_argument("--positional", choices=["sinusoidal", "learned"],
                   default="sinusoidal")
    g.add_argument("--no-final-norm", action="store_true")
    g.add_argument("--no-embed-scale", action="store_true")
    g.add_argument("--d-model", type=int, default=32)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--d-ff", type=int, default=64)
    g.add_argument("--layers", type=int, default=2)
    g.add_argument("--encoder-layers", type=int)
    g.add_argument("--decoder-layers", type=int)
    g.add_argument("--max-seq-len", type=int, default=16)
    g.add_argument("--eps", type=float, default=1e-5)
    g.add_argument("--explicit", action="store_true",
                   help="write every config field, defaults included")

    i = sub.add_parser("gen-inputs", help="random batch of sequences")
    i.add_argument("out")
    shape_args(i)
    i.add_argument("--batch", type=int, required=True)
    i.add_argument("--max-len", type=int, required=True)
    i.add_argument("--min-len", type=int, default=1)
    i.add_argument("--with-tgt", action="store_true")
    i.add_argument("--bos-id", type=int, default=DEFAULTS["bos_id"])

    lg = sub.add_parser("logits", help="reference teacher-forced output")
    lg.add_argument("dir")
    lg.add_argument("inputs")
    lg.add_argument("out")

    c = sub.add_parser("check", help="compare an output with the reference")
    c.add_argument("dir")
    c.add_argument("inputs")
    c.add_argument("got")
    c.add_argument("--tol", type=float, default=1e-4)
    c.add_argument("--weights-from", metavar="ARTIFACT",
                   help="use the weights as ARTIFACT stores them (bf16 or "
                        "int8, dequantized in NumPy)")
    c.add_argument("--median-tol", type=float,
                   help="compare the median absolute error over the real "
                        "positions with this instead of the largest with "
                        "--tol (with --bf16-activations)")
    c.add_argument("--bf16-activations", action="store_true",
                   help="round the input of every linear layer to bf16, as "
                        "the vdpbf16ps kernels of bf16 artifacts do")

    gr = sub.add_parser("greedy", help="reference greedy decoding")
    gr.add_argument("dir")
    gr.add_argument("--src")
    gr.add_argument("--inputs")
    gr.add_argument("--max-new-tokens", type=int)

    bm = sub.add_parser("beam", help="reference beam search")
    bm.add_argument("dir")
    bm.add_argument("--src")
    bm.add_argument("--inputs")
    bm.add_argument("--beam", type=int, required=True)
    bm.add_argument("--max-new-tokens", type=int)
    bm.add_argument("--length-penalty", type=float, default=1.0)

    args = parser.parse_args()
    handler = {"gen-model": gen_model, "gen-inputs": gen_inputs,
               "logits": cmd_logits, "check": cmd_check,
               "greedy": cmd_greedy, "beam": cmd_beam}[args.command]
    try:
        return handler(args)
    except (ModelError, OSError, ValueError, KeyError) as e:
        print(f"model_ref.py {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
