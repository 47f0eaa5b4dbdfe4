#!/usr/bin/python3
"""Trains the numbers example: English number words → Sino-Korean syllables
(number_words.py), a small encoder-decoder built on torch.nn.Transformer,
exported for tfm with tools/export_torch.py.

  /usr/bin/python3 examples/numbers/train.py [--steps 1500] [--threads 2]

Deterministic (fixed seeds, fixed thread count). Writes, next to this file:
  model/config.json, model/model.safetensors   the tfm model description
  src_vocab.txt, tgt_vocab.txt                  one token per line, id = line
  heldout.json      {"src", "expected", "torch_greedy"}: the held-out numbers
                    (never seen in training), the right answers, and
                    PyTorch's own greedy decoding (float32, tfm-run's rules)
  heldout_src.json  {"src"}: the same sources alone, for tfm-run --inputs
and prints the held-out exact-match accuracy under PyTorch.
"""
import argparse
import json
import math
import os
import random
import sys
import time
import warnings

# Idle OpenMP threads sleep instead of spinning: on 2 shared cores a
# spinning pool is ~10x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import number_words as nw  # noqa: E402
from export_torch import export  # noqa: E402
from tfm_model import TfmTorchModel, greedy, pad  # noqa: E402

CONFIG = {
    "architecture": "encoder-decoder",
    "d_model": 64,
    "num_heads": 4,
    "d_ff": 256,
    "num_encoder_layers": 2,
    "num_decoder_layers": 2,
    "src_vocab_size": len(nw.SRC_VOCAB),
    "tgt_vocab_size": len(nw.TGT_VOCAB),
    "max_seq_len": 16,
    "pad_id": nw.PAD,
    "bos_id": nw.BOS,
    "eos_id": nw.EOS,
}
HELDOUT = 1000


def split(seed):
    numbers = list(range(nw.LIMIT))
    random.Random(seed).shuffle(numbers)
    return sorted(numbers[HELDOUT:]), sorted(numbers[:HELDOUT])


def batch(numbers):
    src, sl = pad([nw.src_ids(n) for n in numbers], nw.PAD)
    ys = [nw.tgt_ids(n) for n in numbers]
    tin, tl = pad([[nw.BOS] + y for y in ys], nw.PAD)
    tout, _ = pad([y + [nw.EOS] for y in ys], nw.PAD)
    return src, sl, tin, tl, tout


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(model, numbers, args):
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr,
                            betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(args.seed)
    order = []
    model.train()
    start = time.time()
    for step in range(args.steps):
        if len(order) < args.batch:
            order += rng.sample(numbers, len(numbers))
        chunk, order = order[:args.batch], order[args.batch:]
        src, sl, tin, tl, tout = batch(chunk)
        logits = model(src, sl, tin, tl)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                               tout.reshape(-1), ignore_index=nw.PAD)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 500 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  "
                  f"{time.time() - start:6.1f}s", flush=True)
    return time.time() - start


def write_tokenizer(model_dir):
    """The model's tokenizer, in the files a Marian checkpoint ships
    (transformers' MarianTokenizer reads them; so does tfmc, which copies
    them into the artifact): SentencePiece models trained on the task's
    texts (source: whole words, case-folded; target: characters), and the
    vocabularies that map their pieces to the model's ids (separate source
    and target vocabularies). A source text ends with <eos>, as
    MarianTokenizer encodes it; a word outside the source vocabulary is
    <unk>."""
    import io
    import sentencepiece as spm

    def train(lines, **kw):
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=buf, bos_id=-1,
            eos_id=-1, unk_id=0, hard_vocab_limit=False, minloglevel=2,
            character_coverage=1.0,
            num_threads=1, **kw)
        return buf.getvalue()

    # Every number; all characters kept (the z of "zero" and 영 are rare).
    english = [" ".join(nw.english(n)) for n in range(nw.LIMIT)]
    korean = ["".join(nw.korean(n)) for n in range(nw.LIMIT)]
    files = {
        "source.spm": train(english, model_type="word", vocab_size=64,
                            normalization_rule_name="nmt_nfkc_cf"),
        "target.spm": train(korean, model_type="char", vocab_size=64,
                            normalization_rule_name="identity"),
    }
    for name, data in files.items():
        with open(os.path.join(model_dir, name), "wb") as f:
            f.write(data)
    src = {("\u2581" + w if w not in nw.SPECIALS + ["<unk>"] else w): i
           for i, w in enumerate(nw.SRC_VOCAB)}
    tgt = {w: i for i, w in enumerate(nw.TGT_VOCAB)}
    config = {
        "tokenizer_class": "MarianTokenizer",
        "separate_vocabs": True,
        "eos_token": "<eos>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "model_max_length": CONFIG["max_seq_len"],
        "clean_up_tokenization_spaces": False,
        "source_lang": "en",
        "target_lang": "ko",
    }
    for name, obj in (("vocab.json", src), ("target_vocab.json", tgt),
                      ("tokenizer_config.json", config),
                      ("special_tokens_map.json",
                       {"eos_token": "<eos>", "unk_token": "<unk>",
                        "pad_token": "<pad>"})):
        with open(os.path.join(model_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    warnings.filterwarnings("ignore", message=".*nested tensors.*")

    train_set, heldout = split(args.seed)
    assert not set(train_set) & set(heldout)
    print(f"{len(train_set)} training numbers, {len(heldout)} held out")

    model = TfmTorchModel(CONFIG, dropout=args.dropout)
    with torch.no_grad():  # unit-size token vectors after the sqrt(d) scale
        for emb in (model.src_embed, model.tgt_embed):
            emb.weight.normal_(0.0, CONFIG["d_model"] ** -0.5)
    seconds = train(model, train_set, args)
    model.eval()

    out = args.out
    cfg = export(model, CONFIG, os.path.join(out, "model"))
    for name, vocab in (("src_vocab.txt", nw.SRC_VOCAB),
                        ("tgt_vocab.txt", nw.TGT_VOCAB)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write("\n".join(vocab) + "\n")
    write_tokenizer(os.path.join(out, "model"))

    t0 = time.time()
    src = [nw.src_ids(n) for n in heldout]
    expected = [nw.tgt_ids(n) for n in heldout]
    torch_greedy = [greedy(model, s) for s in src]
    correct = sum(g == e for g, e in zip(torch_greedy, expected))
    with open(os.path.join(out, "heldout.json"), "w") as f:
        json.dump({"numbers": heldout, "src": src, "expected": expected,
                   "torch_greedy": torch_greedy}, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(out, "heldout_src.json"), "w") as f:
        json.dump({"src": src}, f, separators=(",", ":"))
        f.write("\n")

    size = os.path.getsize(os.path.join(out, "model", "model.safetensors"))
    params = sum(p.numel() for p in model.parameters())
    print(f"trained in {seconds:.0f}s ({args.steps} steps, batch "
          f"{args.batch}, {args.threads} threads); {params} parameters, "
          f"model.safetensors {size / 1e6:.2f} MB")
    print(f"held-out exact match under PyTorch greedy: {correct}/"
          f"{len(heldout)} = {100.0 * correct / len(heldout):.2f}% "
          f"(decoded in {time.time() - t0:.0f}s)")
    for n, g in list(zip(heldout, torch_greedy))[:: len(heldout) // 8][:8]:
        got = "".join(nw.TGT_VOCAB[t] for t in g)
        print(f"  {n:4d}  {' '.join(nw.english(n)):45s} → {got}")
    print(f"wrote {os.path.join(out, 'model')} ({cfg['architecture']}, "
          f"d_model {cfg['d_model']}, {cfg['num_encoder_layers']}+"
          f"{cfg['num_decoder_layers']} layers)")


if __name__ == "__main__":
    main()
