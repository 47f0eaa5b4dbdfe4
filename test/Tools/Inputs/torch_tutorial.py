#!/usr/bin/python3
"""The PyTorch tutorial's Seq2SeqTransformer ("Language Translation with
nn.Transformer and torchtext"), written from its description, and a bare
nn.Transformer, for the export_torch.py test.

  torch_tutorial.py save DIR      pickles DIR/tutorial.pt (a small random
                                  Seq2SeqTransformer) and DIR/bare.pt
  torch_tutorial.py logits DIR    prints the max |tfm - PyTorch| of the
                                  teacher-forced logits: PyTorch's from
                                  DIR/tutorial.pt on DIR/in.json, tfm's in
                                  DIR/out.npy
"""
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size, dropout, maxlen=5000):
        super().__init__()
        den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) /
                        emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pe = torch.zeros((maxlen, emb_size))
        pe[:, 0::2] = torch.sin(pos * den)
        pe[:, 1::2] = torch.cos(pos * den)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pe.unsqueeze(-2))

    def forward(self, token_embedding):
        return self.dropout(token_embedding +
                            self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_encoder_layers, num_decoder_layers, emb_size,
                 nhead, src_vocab_size, tgt_vocab_size, dim_feedforward=512,
                 dropout=0.1):
        super().__init__()
        self.transformer = nn.Transformer(
            d_model=emb_size, nhead=nhead,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            dim_feedforward=dim_feedforward, dropout=dropout)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size,
                                                      dropout=dropout)

    def forward(self, src, trg, tgt_mask, src_padding_mask, tgt_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, None, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask,
                                src_padding_mask)
        return self.generator(outs)


def main():
    cmd, out = sys.argv[1], sys.argv[2]
    if cmd == "save":
        torch.manual_seed(0)
        torch.save(Seq2SeqTransformer(2, 2, 32, 4, 50, 60, 64),
                   os.path.join(out, "tutorial.pt"))
        torch.save(nn.Transformer(d_model=32, nhead=4, num_encoder_layers=1,
                                  num_decoder_layers=1, dim_feedforward=64),
                   os.path.join(out, "bare.pt"))
        return
    model = torch.load(os.path.join(out, "tutorial.pt")).eval()
    batch = json.load(open(os.path.join(out, "in.json")))
    got = np.load(os.path.join(out, "out.npy"))
    worst = 0.0
    with torch.no_grad():
        for b, (src, tgt) in enumerate(zip(batch["src"], batch["tgt"])):
            s = torch.tensor(src).reshape(-1, 1)  # [len, batch]: seq first
            t = torch.tensor(tgt).reshape(-1, 1)
            mask = nn.Transformer.generate_square_subsequent_mask(len(tgt))
            want = model(s, t, mask, None, None)[:, 0].numpy()
            worst = max(worst, float(np.abs(got[b, :len(tgt)] - want).max()))
    print(f"max abs error {worst:.3g}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
