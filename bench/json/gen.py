"""The inputs of bench/json.sh: a tokenizer.json-like file (~1.6 MB: a
50000-token vocabulary and 50000 merges), a safetensors-like header (~22 KB)
and a config.json (~1 KB), written to the current directory."""
import json, random
random.seed(1)
alpha = "abcdefghijklmnopqrstuvwxyz"
def tok(i):
    s = ""
    n = i
    while True:
        s = alpha[n % 26] + s; n //= 26
        if n == 0: break
    pre = random.choice(["", "Ġ", "Ċ", "##", "▁"])
    return pre + s
vocab = {}
i = 0
while len(vocab) < 50000:
    vocab.setdefault(tok(i), len(vocab)); i += 1
keys = list(vocab)
merges = [random.choice(keys) + " " + random.choice(keys) for _ in range(50000)]
tj = {
  "version": "1.0", "truncation": None, "padding": None,
  "added_tokens": [{"id": 50000+k, "content": "<|special_%d|>" % k, "single_word": False,
                    "lstrip": False, "rstrip": False, "normalized": False, "special": True} for k in range(20)],
  "normalizer": {"type": "NFC"},
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
  "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}],
                     "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                     "special_tokens": {}},
  "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
  "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "vocab": vocab, "merges": merges},
}
open("tokenizer.json", "w").write(json.dumps(tj, ensure_ascii=False, separators=(", ", ": ")))
hdr = {"__metadata__": {"format": "pt"}}
off = 0
for k in range(200):
    shape = random.choice([[768, 768], [768], [3072, 768], [768, 3072], [50257, 768]])
    n = 4
    for d in shape: n *= d
    hdr["transformer.h.%d.%s" % (k // 12, random.choice(["attn.c_attn.weight", "mlp.c_fc.bias", "ln_1.weight", "mlp.c_proj.weight"])) + "_%d" % k] = \
        {"dtype": "F32", "shape": shape, "data_offsets": [off, off + n]}
    off += n
open("safetensors_header.json", "w").write(json.dumps(hdr, separators=(",", ":")))
cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
       "attn_pdrop": 0.1, "bos_token_id": 50256, "eos_token_id": 50256, "embd_pdrop": 0.1,
       "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "n_ctx": 1024, "n_embd": 768,
       "n_head": 12, "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "scale_attn_weights": True,
       "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
       "summary_type": "cls_index", "summary_use_proj": True, "torch_dtype": "float32",
       "transformers_version": "4.38.0", "use_cache": True, "vocab_size": 50257, "tie_word_embeddings": True,
       "rope_theta": 10000.0, "rope_scaling": None, "max_position_embeddings": 1024, "hidden_size": 768,
       "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}}
open("config.json", "w").write(json.dumps(cfg, indent=2))
