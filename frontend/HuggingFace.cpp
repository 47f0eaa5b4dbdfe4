//===- HuggingFace.cpp - Hugging Face checkpoint directories --------------===//
//
// The names and layouts below are transformers 4.47's (modeling_bert.py,
// modeling_gpt2.py, modeling_marian.py, modeling_llama.py), as
// save_pretrained writes them; the
// test fixtures under test/e2e/hf/ are made by transformers itself.
//
//===----------------------------------------------------------------------===//

#include "frontend/HuggingFace.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace tfm {

/// As for tfm's own config: derived shapes cannot overflow.
static constexpr int64_t kMaxSize = (int64_t(1) << 31) - 1;
static constexpr int64_t kMaxLayers = 1024;

/// Keys of every PretrainedConfig that do not change what a model computes
/// at inference: bookkeeping, training settings, output switches.
static constexpr std::string_view kIgnoredKeys[] = {
    "_name_or_path",
    "_commit_hash",
    "transformers_version",
    "torch_dtype",
    "id2label",
    "label2id",
    "problem_type",
    "finetuning_task",
    "tokenizer_class",
    "prefix",
    "task_specific_params",
    "return_dict",
    "output_hidden_states",
    "output_attentions",
    "torchscript",
    "use_bfloat16",
    "tf_legacy_loss",
    "chunk_size_feed_forward",
    "gradient_checkpointing",
    "initializer_range",
    "init_std",
    "use_cache",
    "classifier_dropout",
    "classif_dropout",
    "sep_token_id",
};

static absl::Status keyError(std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("field '", toAbsl(key), "' ", toAbsl(what)));
}

namespace {
/// The keys of one JSON object, each taken at most once; what is left at
/// the end is unknown.
class Keys {
public:
  explicit Keys(const json::Value &root) : root(root) {}

  const json::Value *take(std::string_view key) {
    taken.insert(std::string(key));
    const json::Value *value = root.find(key);
    return value && !value->isNull() ? value : nullptr;
  }

  /// A positive integer (at most `max`); `fallback` when absent or null,
  /// an error when absent without one.
  absl::StatusOr<int64_t> size(std::string_view key,
                               std::optional<int64_t> fallback = {},
                               int64_t max = kMaxSize) {
    const json::Value *v = take(key);
    if (!v) {
      if (fallback)
        return *fallback;
      return absl::InvalidArgumentError(
          absl::StrCat("missing field '", toAbsl(key), "'"));
    }
    if (!v->isInt() || v->asInt() <= 0 || v->asInt() > max)
      return keyError(key, absl::StrCat("must be an integer from 1 to ", max,
                                        ", got ", json::serialize(*v)));
    return v->asInt();
  }

  /// A token id (non-negative integer), or nullopt when absent or null.
  absl::StatusOr<std::optional<int64_t>> id(std::string_view key) {
    const json::Value *v = take(key);
    if (!v)
      return std::optional<int64_t>();
    if (!v->isInt() || v->asInt() < 0)
      return keyError(
          key, absl::StrCat("must be a token id, got ", json::serialize(*v)));
    return std::optional<int64_t>(v->asInt());
  }

  absl::StatusOr<double> positive(std::string_view key, double fallback) {
    const json::Value *v = take(key);
    if (!v)
      return fallback;
    if (!v->isNumber() || !(v->asDouble() > 0) || !std::isfinite(v->asDouble()))
      return keyError(
          key, absl::StrCat("must be a number > 0, got ", json::serialize(*v)));
    return v->asDouble();
  }

  absl::StatusOr<bool> flag(std::string_view key, bool fallback) {
    const json::Value *v = take(key);
    if (!v)
      return fallback;
    if (!v->isBool())
      return keyError(key, absl::StrCat("must be true or false, got ",
                                        json::serialize(*v)));
    return v->asBool();
  }

  absl::StatusOr<std::string> string(std::string_view key,
                                     std::string fallback) {
    const json::Value *v = take(key);
    if (!v)
      return fallback;
    if (!v->isString())
      return keyError(
          key, absl::StrCat("must be a string, got ", json::serialize(*v)));
    return v->asString();
  }

  /// A key whose value changes the model in a way tfm does not implement:
  /// absent, null or one of `allowed`, or an error naming it.
  absl::Status require(std::string_view key,
                       std::initializer_list<json::Value> allowed) {
    const json::Value *v = take(key);
    if (!v)
      return absl::OkStatus();
    for (const json::Value &a : allowed)
      if (*v == a)
        return absl::OkStatus();
    std::string shown;
    for (const json::Value &a : allowed)
      absl::StrAppend(&shown, shown.empty() ? "" : " or ", json::serialize(a));
    return keyError(key, absl::StrCat("is ", json::serialize(*v),
                                      "; tfm implements only ", shown));
  }

  void ignore(std::initializer_list<std::string_view> keys) {
    for (std::string_view key : keys)
      take(key);
  }

  /// The first key never taken.
  absl::Status unknown(std::string_view modelType) const {
    for (const auto &[key, value] : root.asObject())
      if (!taken.count(key))
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown field '", key, "' for model_type '", toAbsl(modelType),
            "' (tfm does not know what it "
            "would change)"));
    return absl::OkStatus();
  }

private:
  const json::Value &root;
  std::set<std::string, std::less<>> taken;
};

/// What greedy decoding takes from the generation config.
struct Generation {
  std::vector<int64_t> eos;
  std::optional<int64_t> pad, bos, decoderStart, forcedEos;
  std::vector<std::vector<int64_t>> badWords;
  bool doSample = false;
  double temperature = 1.0, topP = 1.0, repetitionPenalty = 1.0;
  int64_t topK = 50;
};

/// Builds the weight map of one checkpoint: graph name -> source, and the
/// tensors the file must hold.
class Mapping {
public:
  explicit Mapping(HuggingFaceModel &model) : model(model) {}

  /// Graph weight `name` is checkpoint tensor `tensor` of shape `stored`
  /// (its rows [begin, end) after an optional transpose).
  void tensor(const std::string &name, const std::string &tensor,
              std::vector<int64_t> stored, bool transpose = false,
              int64_t rowBegin = 0, int64_t rowEnd = -1) {
    WeightSource source;
    source.tensor = tensor;
    source.transpose = transpose;
    source.rowBegin = rowBegin;
    source.rowEnd = rowEnd;
    model.sources[name] = source;
    if (required.insert(tensor).second)
      model.spec.required.push_back({tensor, std::move(stored)});
  }

  /// torch.nn.Linear(in, out) `file` as graph linear `name`.
  void linear(const std::string &name, const std::string &file, int64_t in,
              int64_t out) {
    tensor(name + ".weight", file + ".weight", {out, in});
    tensor(name + ".bias", file + ".bias", {out});
  }

  /// GPT-2's Conv1D(out, in): weight stored [in, out].
  void conv1d(const std::string &name, const std::string &file, int64_t in,
              int64_t out) {
    tensor(name + ".weight", file + ".weight", {in, out}, /*transpose=*/true);
    tensor(name + ".bias", file + ".bias", {out});
  }

  void norm(const std::string &name, const std::string &file, int64_t d) {
    tensor(name + ".weight", file + ".weight", {d});
    tensor(name + ".bias", file + ".bias", {d});
  }

  void computed(const std::string &name, WeightSource::Kind kind) {
    WeightSource source;
    source.kind = kind;
    model.sources[name] = source;
  }

  void ignore(const std::string &tensor) {
    model.spec.ignored.push_back(tensor);
  }

private:
  HuggingFaceModel &model;
  std::set<std::string> required;
};
} // namespace

/// The generation keys of `keys` (generation_config.json, or config.json
/// without one). Keys that would change greedy decoding in a way tfm does
/// not implement are refused; sampling and beam settings are tfm-run's to
/// choose and ignored here.
static absl::Status readGeneration(Keys &keys, Generation &g) {
  if (const json::Value *eos = keys.take("eos_token_id")) {
    auto add = [&](const json::Value &v) -> absl::Status {
      if (!v.isInt() || v.asInt() < 0)
        return keyError("eos_token_id",
                        absl::StrCat("must be a token id or a list of them, "
                                     "got ",
                                     json::serialize(*eos)));
      g.eos.push_back(v.asInt());
      return absl::OkStatus();
    };
    if (eos->isArray()) {
      for (const json::Value &v : eos->asArray())
        TFM_RETURN_IF_ERROR(add(v));
    } else {
      TFM_RETURN_IF_ERROR(add(*eos));
    }
  }
  TFM_ASSIGN_OR_RETURN(g.pad, keys.id("pad_token_id"));
  TFM_ASSIGN_OR_RETURN(g.bos, keys.id("bos_token_id"));
  TFM_ASSIGN_OR_RETURN(g.decoderStart, keys.id("decoder_start_token_id"));
  TFM_ASSIGN_OR_RETURN(g.forcedEos, keys.id("forced_eos_token_id"));
  if (const json::Value *bad = keys.take("bad_words_ids")) {
    bool ok = bad->isArray();
    for (const json::Value &word : ok ? bad->asArray() : json::Array()) {
      ok &= word.isArray() && !word.asArray().empty();
      std::vector<int64_t> ids;
      for (const json::Value &id : ok ? word.asArray() : json::Array()) {
        ok &= id.isInt() && id.asInt() >= 0;
        ids.push_back(ok ? id.asInt() : 0);
      }
      g.badWords.push_back(std::move(ids));
    }
    if (!ok)
      return keyError("bad_words_ids",
                      absl::StrCat("must be a list of non-empty lists of "
                                   "token ids, got ",
                                   json::serialize(*bad)));
  }
  // Sampling and the repetition penalty: tfm-run's defaults.
  TFM_ASSIGN_OR_RETURN(g.doSample, keys.flag("do_sample", false));
  TFM_ASSIGN_OR_RETURN(g.temperature, keys.positive("temperature", 1.0));
  TFM_ASSIGN_OR_RETURN(g.repetitionPenalty,
                       keys.positive("repetition_penalty", 1.0));
  TFM_ASSIGN_OR_RETURN(g.topP, keys.positive("top_p", 1.0));
  if (g.topP > 1)
    return keyError("top_p", absl::StrCat("must lie in (0, 1], got ", g.topP));
  if (const json::Value *k = keys.take("top_k")) {
    if (!k->isInt() || k->asInt() < 0)
      return keyError("top_k", absl::StrCat("must be an integer >= 0, got ",
                                            json::serialize(*k)));
    g.topK = k->asInt();
  }
  // Processors that would change the greedy tokens.
  TFM_RETURN_IF_ERROR(keys.require("encoder_repetition_penalty", {1, 1.0}));
  TFM_RETURN_IF_ERROR(keys.require("no_repeat_ngram_size", {0}));
  TFM_RETURN_IF_ERROR(keys.require("encoder_no_repeat_ngram_size", {0}));
  TFM_RETURN_IF_ERROR(keys.require("min_length", {0}));
  TFM_RETURN_IF_ERROR(keys.require("min_new_tokens", {}));
  TFM_RETURN_IF_ERROR(keys.require("forced_bos_token_id", {}));
  TFM_RETURN_IF_ERROR(keys.require("forced_decoder_ids", {}));
  TFM_RETURN_IF_ERROR(keys.require("suppress_tokens", {}));
  TFM_RETURN_IF_ERROR(keys.require("begin_suppress_tokens", {}));
  TFM_RETURN_IF_ERROR(keys.require("sequence_bias", {}));
  TFM_RETURN_IF_ERROR(keys.require("exponential_decay_length_penalty", {}));
  TFM_RETURN_IF_ERROR(keys.require("guidance_scale", {}));
  // Decoding modes and limits: tfm-run's options decide them (greedy unless
  // --beam; --max-new-tokens), as generate(do_sample=False, num_beams=1,
  // max_new_tokens=N) overrides them.
  keys.ignore({"max_length", "max_new_tokens", "num_beams", "early_stopping",
               "length_penalty", "num_return_sequences", "num_beam_groups",
               "diversity_penalty", "typical_p", "min_p", "epsilon_cutoff",
               "eta_cutoff", "renormalize_logits", "remove_invalid_values",
               "output_scores", "output_logits", "return_dict_in_generate",
               "_from_model_config"});
  return absl::OkStatus();
}

static absl::StatusOr<Activation> activation(Keys &keys, std::string_view key,
                                             std::string fallback) {
  std::string name;
  TFM_ASSIGN_OR_RETURN(name, keys.string(key, fallback));
  if (name == "relu")
    return Activation::Relu;
  if (name == "gelu")
    return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh")
    return Activation::GeluTanh;
  if (name == "silu" || name == "swish")
    return Activation::Silu;
  return keyError(key, absl::StrCat("is \"", name,
                                    "\"; tfm implements \"relu\", \"gelu\", "
                                    "\"gelu_new\", \"gelu_pytorch_tanh\", "
                                    "\"silu\" and \"swish\""));
}

static std::string layerName(std::string_view prefix, int64_t i) {
  return absl::StrCat(toAbsl(prefix), ".layers.", i);
}

//===----------------------------------------------------------------------===//
// BERT
//===----------------------------------------------------------------------===//

static absl::Status readBert(Keys &keys, HuggingFaceModel &m,
                             const Checkpoint &checkpoint) {
  ModelConfig &c = m.config;
  c.architecture = Architecture::Encoder;
  TFM_ASSIGN_OR_RETURN(c.srcVocabSize, keys.size("vocab_size"));
  TFM_ASSIGN_OR_RETURN(c.dModel, keys.size("hidden_size"));
  TFM_ASSIGN_OR_RETURN(c.numEncoderLayers,
                       keys.size("num_hidden_layers", {}, kMaxLayers));
  TFM_ASSIGN_OR_RETURN(c.numHeads, keys.size("num_attention_heads"));
  TFM_ASSIGN_OR_RETURN(c.dFF, keys.size("intermediate_size"));
  TFM_ASSIGN_OR_RETURN(c.activation, activation(keys, "hidden_act", "gelu"));
  TFM_ASSIGN_OR_RETURN(c.maxSeqLen, keys.size("max_position_embeddings"));
  TFM_ASSIGN_OR_RETURN(c.typeVocabSize, keys.size("type_vocab_size", 2));
  TFM_ASSIGN_OR_RETURN(c.layerNormEps, keys.positive("layer_norm_eps", 1e-12));
  TFM_RETURN_IF_ERROR(keys.require("position_embedding_type", {"absolute"}));
  TFM_RETURN_IF_ERROR(keys.require("is_decoder", {false}));
  TFM_RETURN_IF_ERROR(keys.require("add_cross_attention", {false}));
  TFM_RETURN_IF_ERROR(keys.require("tie_word_embeddings", {true}));
  TFM_RETURN_IF_ERROR(keys.require("pruned_heads", {json::Value::object()}));
  keys.ignore({"hidden_dropout_prob", "attention_probs_dropout_prob"});
  c.positionalEncoding = PositionalEncoding::Learned;
  c.embedScale = false;
  c.finalNorm = false;
  c.normFirst = false;
  c.embeddingNorm = true;

  bool mlm = m.modelClass == "BertForMaskedLM";
  std::string p = mlm ? "bert." : "";
  if (!mlm)
    c.encoderHead = checkpoint.find("pooler.dense.weight")
                        ? EncoderHead::Pooler
                        : EncoderHead::Hidden;
  else
    c.encoderHead = EncoderHead::MaskedLM;
  int64_t d = c.dModel, v = c.srcVocabSize;
  Mapping map(m);
  std::string e = p + "embeddings.";
  map.tensor("src_embed.weight", e + "word_embeddings.weight", {v, d});
  map.tensor("src_pos_embed.weight", e + "position_embeddings.weight",
             {c.maxSeqLen, d});
  map.tensor("src_type_embed.weight", e + "token_type_embeddings.weight",
             {c.typeVocabSize, d});
  map.norm("src_embed_norm", e + "LayerNorm", d);
  map.ignore(e + "position_ids"); // A buffer older versions saved.
  for (int64_t i = 0; i < c.numEncoderLayers; ++i) {
    std::string g = layerName("encoder", i);
    std::string f = absl::StrCat(p, "encoder.layer.", i, ".");
    map.linear(g + ".self_attn.q_proj", f + "attention.self.query", d, d);
    map.linear(g + ".self_attn.k_proj", f + "attention.self.key", d, d);
    map.linear(g + ".self_attn.v_proj", f + "attention.self.value", d, d);
    map.linear(g + ".self_attn.out_proj", f + "attention.output.dense", d, d);
    map.norm(g + ".norm1", f + "attention.output.LayerNorm", d);
    map.linear(g + ".linear1", f + "intermediate.dense", d, c.dFF);
    map.linear(g + ".linear2", f + "output.dense", c.dFF, d);
    map.norm(g + ".norm2", f + "output.LayerNorm", d);
  }
  if (c.encoderHead == EncoderHead::Pooler)
    map.linear("pooler", "pooler.dense", d, d);
  if (mlm) {
    map.linear("mlm.dense", "cls.predictions.transform.dense", d, d);
    map.norm("mlm.norm", "cls.predictions.transform.LayerNorm", d);
    // The decoder is tied to the word embeddings, its bias to
    // cls.predictions.bias; save_pretrained writes neither copy.
    c.tiedEmbeddings = true;
    map.tensor("generator.bias", "cls.predictions.bias", {v});
    map.ignore("cls.predictions.decoder.weight");
    map.ignore("cls.predictions.decoder.bias");
  }
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// GPT-2
//===----------------------------------------------------------------------===//

static absl::Status readGpt2(Keys &keys, HuggingFaceModel &m) {
  ModelConfig &c = m.config;
  c.architecture = Architecture::Decoder;
  TFM_ASSIGN_OR_RETURN(c.tgtVocabSize, keys.size("vocab_size"));
  TFM_ASSIGN_OR_RETURN(c.maxSeqLen, keys.size("n_positions"));
  TFM_ASSIGN_OR_RETURN(c.dModel, keys.size("n_embd"));
  TFM_ASSIGN_OR_RETURN(c.numDecoderLayers,
                       keys.size("n_layer", {}, kMaxLayers));
  TFM_ASSIGN_OR_RETURN(c.numHeads, keys.size("n_head"));
  TFM_ASSIGN_OR_RETURN(c.dFF, keys.size("n_inner", 4 * c.dModel));
  TFM_ASSIGN_OR_RETURN(c.activation,
                       activation(keys, "activation_function", "gelu_new"));
  TFM_ASSIGN_OR_RETURN(c.layerNormEps,
                       keys.positive("layer_norm_epsilon", 1e-5));
  TFM_ASSIGN_OR_RETURN(c.scaleAttention, keys.flag("scale_attn_weights", true));
  TFM_RETURN_IF_ERROR(keys.require("scale_attn_by_inverse_layer_idx", {false}));
  TFM_RETURN_IF_ERROR(keys.require("add_cross_attention", {false}));
  TFM_RETURN_IF_ERROR(keys.require("tie_word_embeddings", {true}));
  TFM_RETURN_IF_ERROR(keys.require("pruned_heads", {json::Value::object()}));
  // reorder_and_upcast_attn computes the scores in f32, as tfm always does.
  // n_ctx is the old name of n_positions; the summary_* keys configure
  // GPT2DoubleHeadsModel's classifier head.
  keys.ignore({"reorder_and_upcast_attn", "n_ctx", "resid_pdrop", "embd_pdrop",
               "attn_pdrop", "summary_type", "summary_use_proj",
               "summary_activation", "summary_proj_to_labels",
               "summary_first_dropout"});
  c.positionalEncoding = PositionalEncoding::Learned;
  c.embedScale = false;
  c.normFirst = true;
  c.finalNorm = true;
  c.generatorBias = false;

  int64_t d = c.dModel;
  Mapping map(m);
  map.tensor("tgt_embed.weight", "transformer.wte.weight", {c.tgtVocabSize, d});
  map.tensor("tgt_pos_embed.weight", "transformer.wpe.weight",
             {c.maxSeqLen, d});
  for (int64_t i = 0; i < c.numDecoderLayers; ++i) {
    std::string g = layerName("decoder", i);
    std::string f = absl::StrCat("transformer.h.", i, ".");
    map.norm(g + ".norm1", f + "ln_1", d);
    // c_attn: one Conv1D to [q | k | v]; transposed, its rows split.
    const char *parts[] = {"q", "k", "v"};
    for (int64_t part = 0; part < 3; ++part) {
      std::string name = g + ".self_attn." + parts[part] + "_proj";
      map.tensor(name + ".weight", f + "attn.c_attn.weight", {d, 3 * d},
                 /*transpose=*/true, part * d, (part + 1) * d);
      map.tensor(name + ".bias", f + "attn.c_attn.bias", {3 * d}, false,
                 part * d, (part + 1) * d);
    }
    map.conv1d(g + ".self_attn.out_proj", f + "attn.c_proj", d, d);
    map.norm(g + ".norm2", f + "ln_2", d);
    map.conv1d(g + ".linear1", f + "mlp.c_fc", d, c.dFF);
    map.conv1d(g + ".linear2", f + "mlp.c_proj", c.dFF, d);
    // The causal-mask buffers of older versions.
    map.ignore(f + "attn.bias");
    map.ignore(f + "attn.masked_bias");
  }
  map.norm("decoder.norm", "transformer.ln_f", d);
  c.tiedEmbeddings = true;      // lm_head is wte.
  map.ignore("lm_head.weight"); // Tied to wte; not saved.
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// Marian
//===----------------------------------------------------------------------===//

static absl::Status readMarian(Keys &keys, HuggingFaceModel &m) {
  ModelConfig &c = m.config;
  c.architecture = Architecture::EncoderDecoder;
  TFM_ASSIGN_OR_RETURN(c.srcVocabSize, keys.size("vocab_size"));
  c.tgtVocabSize = c.srcVocabSize;
  TFM_RETURN_IF_ERROR(
      keys.require("decoder_vocab_size", {json::Value(c.srcVocabSize)}));
  TFM_RETURN_IF_ERROR(keys.require("share_encoder_decoder_embeddings", {true}));
  TFM_ASSIGN_OR_RETURN(c.maxSeqLen, keys.size("max_position_embeddings"));
  TFM_ASSIGN_OR_RETURN(c.dModel, keys.size("d_model"));
  TFM_ASSIGN_OR_RETURN(c.numEncoderLayers,
                       keys.size("encoder_layers", {}, kMaxLayers));
  TFM_ASSIGN_OR_RETURN(c.numDecoderLayers,
                       keys.size("decoder_layers", {}, kMaxLayers));
  TFM_ASSIGN_OR_RETURN(c.numHeads, keys.size("encoder_attention_heads"));
  TFM_ASSIGN_OR_RETURN(c.dFF, keys.size("encoder_ffn_dim"));
  // One head count and one FFN width for both stacks.
  TFM_RETURN_IF_ERROR(
      keys.require("decoder_attention_heads", {json::Value(c.numHeads)}));
  TFM_RETURN_IF_ERROR(keys.require("decoder_ffn_dim", {json::Value(c.dFF)}));
  TFM_ASSIGN_OR_RETURN(c.activation,
                       activation(keys, "activation_function", "gelu"));
  TFM_ASSIGN_OR_RETURN(c.embedScale, keys.flag("scale_embedding", false));
  TFM_RETURN_IF_ERROR(keys.require("is_encoder_decoder", {true}));
  TFM_RETURN_IF_ERROR(keys.require("tie_word_embeddings", {true}));
  // Keys of the BART-era configs that opus-mt checkpoints still carry.
  TFM_RETURN_IF_ERROR(keys.require("normalize_before", {false}));
  TFM_RETURN_IF_ERROR(keys.require("normalize_embedding", {false}));
  TFM_RETURN_IF_ERROR(keys.require("add_final_layer_norm", {false}));
  TFM_RETURN_IF_ERROR(keys.require("add_bias_logits", {false}));
  TFM_RETURN_IF_ERROR(keys.require("static_position_embeddings", {true}));
  // num_hidden_layers mirrors encoder_layers; extra_pos_embeddings is unused
  // by MarianMTModel.
  keys.ignore({"num_hidden_layers", "extra_pos_embeddings", "dropout",
               "attention_dropout", "activation_dropout", "encoder_layerdrop",
               "decoder_layerdrop"});
  if (c.dModel % 2 != 0)
    return keyError("d_model", "must be even (sinusoidal positions)");
  c.positionalEncoding = PositionalEncoding::Learned; // The computed tables.
  c.normFirst = false;
  c.finalNorm = false;

  int64_t d = c.dModel;
  Mapping map(m);
  // One table for the source and target embeddings and the logits.
  c.sharedEmbeddings = true;
  c.tiedEmbeddings = true;
  map.tensor("tgt_embed.weight", "model.shared.weight", {c.srcVocabSize, d});
  map.computed("src_pos_embed.weight", WeightSource::Kind::SinusoidalHalves);
  map.computed("tgt_pos_embed.weight", WeightSource::Kind::SinusoidalHalves);
  auto attention = [&](const std::string &g, const std::string &f) {
    for (const char *proj : {"q", "k", "v", "out"})
      map.linear(absl::StrCat(g, ".", proj, "_proj"),
                 absl::StrCat(f, ".", proj, "_proj"), d, d);
  };
  for (std::string_view stack : {"encoder", "decoder"}) {
    int64_t layers =
        stack == "encoder" ? c.numEncoderLayers : c.numDecoderLayers;
    for (int64_t i = 0; i < layers; ++i) {
      std::string g = layerName(stack, i);
      std::string f = absl::StrCat("model.", toAbsl(stack), ".layers.", i, ".");
      attention(g + ".self_attn", f + "self_attn");
      map.norm(g + ".norm1", f + "self_attn_layer_norm", d);
      std::string ffnNorm = g + ".norm2";
      if (stack == "decoder") {
        attention(g + ".multihead_attn", f + "encoder_attn");
        map.norm(g + ".norm2", f + "encoder_attn_layer_norm", d);
        ffnNorm = g + ".norm3";
      }
      map.linear(g + ".linear1", f + "fc1", d, c.dFF);
      map.linear(g + ".linear2", f + "fc2", c.dFF, d);
      map.norm(ffnNorm, f + "final_layer_norm", d);
    }
    // Tied copies and computed tables, should a file carry them.
    map.ignore(absl::StrCat("model.", toAbsl(stack), ".embed_tokens.weight"));
    map.ignore(
        absl::StrCat("model.", toAbsl(stack), ".embed_positions.weight"));
  }
  map.tensor("generator.bias", "final_logits_bias", {1, c.srcVocabSize});
  map.ignore("lm_head.weight");
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// Llama
//===----------------------------------------------------------------------===//

static absl::Status readLlama(Keys &keys, HuggingFaceModel &m) {
  ModelConfig &c = m.config;
  c.architecture = Architecture::Decoder;
  TFM_ASSIGN_OR_RETURN(c.tgtVocabSize, keys.size("vocab_size"));
  TFM_ASSIGN_OR_RETURN(c.dModel, keys.size("hidden_size"));
  TFM_ASSIGN_OR_RETURN(c.numDecoderLayers,
                       keys.size("num_hidden_layers", {}, kMaxLayers));
  TFM_ASSIGN_OR_RETURN(c.numHeads, keys.size("num_attention_heads"));
  TFM_ASSIGN_OR_RETURN(c.numKvHeads,
                       keys.size("num_key_value_heads", c.numHeads));
  if (c.numHeads % c.numKvHeads != 0)
    return keyError("num_key_value_heads",
                    absl::StrCat("(", c.numKvHeads,
                                 ") must divide num_attention_heads (",
                                 c.numHeads, ")"));
  // Older configs have no head_dim: hidden_size / num_attention_heads.
  if (!keys.take("head_dim") && c.dModel % c.numHeads != 0)
    return keyError("num_attention_heads",
                    absl::StrCat("(", c.numHeads,
                                 ") must divide the hidden size (", c.dModel,
                                 ") when there is no head_dim"));
  TFM_ASSIGN_OR_RETURN(c.headDimension,
                       keys.size("head_dim", c.dModel / c.numHeads, 1 << 16));
  if (c.headDimension % 2 != 0)
    return keyError("head_dim",
                    absl::StrCat("must be even (rotary positions rotate "
                                 "halves), got ",
                                 c.headDimension));
  if (c.numHeads > kMaxSize / c.headDimension)
    return keyError("head_dim", "times num_attention_heads is too large");
  TFM_ASSIGN_OR_RETURN(c.dFF, keys.size("intermediate_size"));
  TFM_ASSIGN_OR_RETURN(c.activation, activation(keys, "hidden_act", "silu"));
  TFM_ASSIGN_OR_RETURN(c.maxSeqLen, keys.size("max_position_embeddings"));
  TFM_ASSIGN_OR_RETURN(c.layerNormEps, keys.positive("rms_norm_eps", 1e-6));
  TFM_ASSIGN_OR_RETURN(c.ropeTheta, keys.positive("rope_theta", 10000.0));
  TFM_ASSIGN_OR_RETURN(c.attentionBias, keys.flag("attention_bias", false));
  TFM_ASSIGN_OR_RETURN(c.feedForwardBias, keys.flag("mlp_bias", false));
  TFM_ASSIGN_OR_RETURN(c.tiedEmbeddings,
                       keys.flag("tie_word_embeddings", false));
  // Scaled rotary positions (linear, dynamic, yarn, llama3, ...) are not
  // implemented: one error naming the setting.
  if (const json::Value *scaling = keys.take("rope_scaling"))
    return keyError("rope_scaling",
                    absl::StrCat("is ", json::serialize(*scaling),
                                 "; tfm implements only unscaled rotary "
                                 "positions (null)"));
  // pretraining_tp > 1 splits the projections into slices whose sum is the
  // same linear layer: the result does not depend on it.
  keys.ignore({"pretraining_tp", "attention_dropout"});
  c.positionalEncoding = PositionalEncoding::Rotary;
  c.norm = NormKind::RmsNorm;
  c.gatedFeedForward = true;
  c.embedScale = false;
  c.normFirst = true;
  c.finalNorm = true;
  c.generatorBias = false;

  int64_t d = c.dModel, hd = c.headDimension;
  int64_t q = c.numHeads * hd, kv = c.numKvHeads * hd;
  Mapping map(m);
  map.tensor("tgt_embed.weight", "model.embed_tokens.weight",
             {c.tgtVocabSize, d});
  auto linear = [&](const std::string &name, const std::string &file,
                    int64_t in, int64_t out, bool bias) {
    map.tensor(name + ".weight", file + ".weight", {out, in});
    if (bias)
      map.tensor(name + ".bias", file + ".bias", {out});
  };
  for (int64_t i = 0; i < c.numDecoderLayers; ++i) {
    std::string g = layerName("decoder", i);
    std::string f = absl::StrCat("model.layers.", i, ".");
    map.tensor(g + ".norm1.weight", f + "input_layernorm.weight", {d});
    bool ab = c.attentionBias;
    linear(g + ".self_attn.q_proj", f + "self_attn.q_proj", d, q, ab);
    linear(g + ".self_attn.k_proj", f + "self_attn.k_proj", d, kv, ab);
    linear(g + ".self_attn.v_proj", f + "self_attn.v_proj", d, kv, ab);
    linear(g + ".self_attn.out_proj", f + "self_attn.o_proj", q, d, ab);
    map.tensor(g + ".norm2.weight", f + "post_attention_layernorm.weight", {d});
    bool mb = c.feedForwardBias;
    linear(g + ".gate_proj", f + "mlp.gate_proj", d, c.dFF, mb);
    linear(g + ".linear1", f + "mlp.up_proj", d, c.dFF, mb);
    linear(g + ".linear2", f + "mlp.down_proj", c.dFF, d, mb);
    // The rotary frequencies of older versions (computed, not loaded).
    map.ignore(f + "self_attn.rotary_emb.inv_freq");
  }
  map.tensor("decoder.norm.weight", "model.norm.weight", {d});
  map.ignore("model.rotary_emb.inv_freq");
  if (c.tiedEmbeddings)
    map.ignore("lm_head.weight"); // Tied to embed_tokens; not saved.
  else
    map.tensor("generator.weight", "lm_head.weight", {c.tgtVocabSize, d});
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// Entry
//===----------------------------------------------------------------------===//

bool isHuggingFaceConfig(const json::Value &config) {
  return config.isObject() && config.find("model_type");
}

absl::StatusOr<HuggingFaceModel>
readHuggingFaceModel(const json::Value &config, const json::Value *generation,
                     const Checkpoint &checkpoint) {
  if (!config.isObject())
    return absl::InvalidArgumentError("expected a JSON object at top level");
  Keys keys(config);
  std::string modelType;
  TFM_ASSIGN_OR_RETURN(modelType, keys.string("model_type", ""));
  static const std::pair<std::string_view, std::vector<std::string_view>>
      kClasses[] = {{"bert", {"BertModel", "BertForMaskedLM"}},
                    {"gpt2", {"GPT2LMHeadModel"}},
                    {"llama", {"LlamaForCausalLM"}},
                    {"marian", {"MarianMTModel"}}};
  const std::vector<std::string_view> *classes = nullptr;
  for (const auto &[type, names] : kClasses)
    if (type == modelType)
      classes = &names;
  if (!classes)
    return keyError("model_type",
                    absl::StrCat("is \"", modelType,
                                 "\"; tfm compiles \"bert\", \"gpt2\", "
                                 "\"llama\" and \"marian\" checkpoints"));
  HuggingFaceModel m;
  m.modelClass = std::string(classes->front());
  if (const json::Value *arch = keys.take("architectures")) {
    if (!arch->isArray() || arch->asArray().size() != 1 ||
        !arch->asArray()[0].isString())
      return keyError("architectures", absl::StrCat("must list one class, got ",
                                                    json::serialize(*arch)));
    m.modelClass = arch->asArray()[0].asString();
    if (std::find(classes->begin(), classes->end(), m.modelClass) ==
        classes->end()) {
      std::string known;
      for (std::string_view name : *classes)
        absl::StrAppend(&known, known.empty() ? "" : " or ", "\"", toAbsl(name),
                        "\"");
      return keyError("architectures",
                      absl::StrCat("is [\"", m.modelClass, "\"]; for \"",
                                   modelType, "\" tfm compiles ", known));
    }
  }
  for (std::string_view key : kIgnoredKeys)
    keys.take(key);

  // Generation settings: generation_config.json when there is one (its
  // config.json twins are then not used, as in transformers).
  Generation gen;
  if (generation) {
    if (!generation->isObject())
      return absl::InvalidArgumentError(
          "generation_config.json: expected a JSON object at top level");
    Keys genKeys(*generation);
    genKeys.take("transformers_version");
    absl::Status s = readGeneration(genKeys, gen);
    if (s.ok())
      s = genKeys.unknown(modelType);
    if (!s.ok())
      return absl::Status(
          s.code(), absl::StrCat("generation_config.json: ", s.message()));
    Generation unused;
    TFM_RETURN_IF_ERROR(readGeneration(keys, unused));
  } else {
    TFM_RETURN_IF_ERROR(readGeneration(keys, gen));
  }

  if (modelType == "bert")
    TFM_RETURN_IF_ERROR(readBert(keys, m, checkpoint));
  else if (modelType == "gpt2")
    TFM_RETURN_IF_ERROR(readGpt2(keys, m));
  else if (modelType == "llama")
    TFM_RETURN_IF_ERROR(readLlama(keys, m));
  else
    TFM_RETURN_IF_ERROR(readMarian(keys, m));
  TFM_RETURN_IF_ERROR(keys.unknown(modelType));

  ModelConfig &c = m.config;
  if (!c.headDimension && c.dModel % c.numHeads != 0)
    return keyError(modelType == "gpt2"   ? "n_head"
                    : modelType == "bert" ? "num_attention_heads"
                                          : "encoder_attention_heads",
                    absl::StrCat("(", c.numHeads,
                                 ") must divide the hidden "
                                 "size (",
                                 c.dModel, ")"));
  // Token ids: the generation config's, checked against the vocabulary the
  // decoder side produces.
  int64_t vocab = c.hasDecoder() ? c.tgtVocabSize : c.srcVocabSize;
  auto inVocab = [&](std::string_view key, int64_t id) -> absl::Status {
    if (id < vocab)
      return absl::OkStatus();
    return keyError(key, absl::StrCat("is ", id, ", outside the vocabulary (",
                                      vocab, " tokens)"));
  };
  if (!gen.eos.empty()) {
    c.eosId = gen.eos.front();
    c.moreEosIds.assign(gen.eos.begin() + 1, gen.eos.end());
  } else {
    c.eosId = 0;
  }
  for (int64_t id : gen.eos)
    TFM_RETURN_IF_ERROR(inVocab("eos_token_id", id));
  if (c.hasDecoder() && gen.eos.empty())
    return absl::InvalidArgumentError(
        "missing field 'eos_token_id' (greedy decoding needs it)");
  c.padId = gen.pad.value_or(c.eosId);
  TFM_RETURN_IF_ERROR(inVocab("pad_token_id", c.padId));
  if (c.architecture == Architecture::EncoderDecoder) {
    if (!gen.decoderStart)
      return absl::InvalidArgumentError(
          "missing field 'decoder_start_token_id'");
    c.bosId = *gen.decoderStart;
  } else {
    c.bosId = gen.bos.value_or(c.eosId);
  }
  TFM_RETURN_IF_ERROR(inVocab(c.architecture == Architecture::EncoderDecoder
                                  ? "decoder_start_token_id"
                                  : "bos_token_id",
                              c.bosId));
  c.forcedEosId = gen.forcedEos.value_or(-1);
  if (gen.forcedEos)
    TFM_RETURN_IF_ERROR(inVocab("forced_eos_token_id", c.forcedEosId));
  for (const std::vector<int64_t> &word : gen.badWords)
    for (int64_t id : word)
      TFM_RETURN_IF_ERROR(inVocab("bad_words_ids", id));
  c.badWordsIds = gen.badWords;
  c.doSample = gen.doSample;
  c.temperature = gen.temperature;
  c.topK = gen.topK;
  c.topP = gen.topP;
  c.repetitionPenalty = gen.repetitionPenalty;

  m.spec.dtypes = {"F32", "F16", "BF16"};
  m.spec.model = absl::StrCat(m.modelClass, ", ", describeConfig(m.config));
  return m;
}

} // namespace tfm
