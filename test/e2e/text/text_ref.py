#!/usr/bin/python3
"""transformers' text-in, text-out on a model directory with a tokenizer: the
reference for `tfm-run --text`. Run through the hf-reference tree
(transformers 4.47, slow tokenizers, torch 1.13), one thread:

  text_ref.py MODEL_DIR TEXTS.json --max-new-tokens N > expected.json

MODEL_DIR holds config.json, generation_config.json, model.safetensors and a
tokenizer (tokenizer_config.json ...). For each text: the generated text
(decoder: the continuation, tokenizer.decode(output[prompt:]); Marian: the
decoder tokens after decoder_start) with skip_special_tokens=True, greedy
under the model's generation config, and again with repetition_penalty 1.5; an encoder: the last hidden state of
the text's ids is not text, so only the ids are recorded.
"""
import argparse
import json
import os
import sys

HF_REFERENCE = os.environ.get(
    "HF_REFERENCE",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../shared/hf-reference"))
sys.path.insert(0, HF_REFERENCE)
import hf_compat  # noqa: E402,F401

import torch  # noqa: E402
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer, MarianMTModel  # noqa: E402


REPETITION_PENALTY = 1.5
CONVERSATION = ["Hello world", "How are you?", "ok"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("texts")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    texts = json.load(open(a.texts))
    tok = AutoTokenizer.from_pretrained(a.model, use_fast=False)
    config = AutoConfig.from_pretrained(a.model)
    kind = config.model_type
    if kind == "marian":
        model = MarianMTModel.from_pretrained(a.model)
    elif kind == "bert":
        model = AutoModel.from_pretrained(a.model)
    else:
        model = AutoModelForCausalLM.from_pretrained(a.model)
    model.eval()
    out = []
    for text in texts:
        ids = tok(text)["input_ids"]
        entry = {"text": text, "input_ids": ids}
        if kind != "bert":
            x = torch.tensor([ids])
            with torch.no_grad():
                gen = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                     max_new_tokens=a.max_new_tokens)
            new = gen[0].tolist()[1:] if kind == "marian" else gen[0].tolist()[len(ids):]
            entry["generated_ids"] = new
            entry["generated_text"] = tok.decode(new, skip_special_tokens=True)
            # The same with RepetitionPenaltyLogitsProcessor (greedy).
            with torch.no_grad():
                gen = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                     max_new_tokens=a.max_new_tokens, repetition_penalty=REPETITION_PENALTY)
            new = gen[0].tolist()[1:] if kind == "marian" else gen[0].tolist()[len(ids):]
            entry["repetition_penalty_text"] = tok.decode(new, skip_special_tokens=True)
        out.append(entry)
    # A conversation (decoder-only): the second prompt continues after the
    # first reply (an eos that ended it is not kept), encoded without
    # special tokens.
    conversation = None
    if kind in ("gpt2", "llama"):
        history, replies = [], []
        for i, text in enumerate(CONVERSATION):
            history += tok(text, add_special_tokens=(i == 0))["input_ids"]
            x = torch.tensor([history])
            with torch.no_grad():
                gen = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                     max_new_tokens=a.max_new_tokens)
            new = gen[0].tolist()[len(history):]
            eos = config.eos_token_id if isinstance(config.eos_token_id, list) else [config.eos_token_id]
            if new and new[-1] in eos:
                new = new[:-1]
            history += new
            replies.append(tok.decode(new, skip_special_tokens=True))
        conversation = {"prompts": CONVERSATION, "replies": replies, "tokens": history}
    json.dump({"model_type": kind, "conversation": conversation, "max_new_tokens": a.max_new_tokens, "repetition_penalty": REPETITION_PENALTY,
               "cases": out}, sys.stdout,
              ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
