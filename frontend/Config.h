//===- Config.h - The model description's config.json -----------*- C++ -*-===//
//
// The hyperparameters of a model (DESIGN.md, "Contracts": the config.json
// table) and the list of weights such a model has, named and shaped as in
// torch.nn.Transformer().state_dict().
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_CONFIG_H
#define TFM_FRONTEND_CONFIG_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

enum class Architecture { EncoderDecoder, Encoder, Decoder };
/// The FFN's activation: ReLU, exact-erf GELU, tanh-approximated GELU
/// (GPT-2's "gelu_new"), SiLU (Marian's "swish").
enum class Activation { Relu, Gelu, GeluTanh, Silu };
/// Added to the embeddings (sinusoidal, a learned table), or rotary: Q and K
/// of every attention rotated by their positions (Llama), nothing added.
enum class PositionalEncoding { Sinusoidal, Learned, Rotary };
/// LayerNorm (mean and variance, weight and bias) or RMSNorm (root mean
/// square, weight only: Llama).
enum class NormKind { LayerNorm, RmsNorm };
/// What an encoder-only model's `encode` returns: the final hidden states
/// (with Pooler also a `pool` entry: tanh(dense(h[:, 0]))), or the logits of
/// a masked-LM head (dense, activation, LayerNorm, then the tied projection).
enum class EncoderHead { Hidden, Pooler, MaskedLM };

/// The config.json spelling: "encoder-decoder", "encoder", "decoder".
std::string_view architectureName(Architecture architecture);
/// "relu", "gelu", "gelu_tanh" or "silu".
std::string_view activationName(Activation activation);
/// "sinusoidal", "learned" or "rotary".
std::string_view positionalEncodingName(PositionalEncoding encoding);

/// A validated config.json. Fields a model's architecture does not use (the
/// decoder's for an encoder, say) are 0.
struct ModelConfig {
  Architecture architecture = Architecture::EncoderDecoder;
  int64_t dModel = 0;
  int64_t numHeads = 0;
  int64_t dFF = 0;
  int64_t numEncoderLayers = 0;
  int64_t numDecoderLayers = 0;
  int64_t srcVocabSize = 0;
  int64_t tgtVocabSize = 0;
  int64_t maxSeqLen = 0;
  bool normFirst = false;
  Activation activation = Activation::Relu;
  double layerNormEps = 1e-5;
  bool finalNorm = true;
  bool embedScale = true;
  PositionalEncoding positionalEncoding = PositionalEncoding::Sinusoidal;
  int64_t padId = 0;
  /// The first decoder token of an encoder-decoder model
  /// (decoder_start_token_id for a Hugging Face checkpoint).
  int64_t bosId = 1;
  int64_t eosId = 2;

  // What tfm's own config.json does not express; the Hugging Face readers
  // (frontend/HuggingFace.h) set these.

  /// Token type (segment) embeddings [typeVocabSize, d] added on the encoder
  /// side (BERT's token_type_ids); 0: none.
  int64_t typeVocabSize = 0;
  /// A LayerNorm over the summed embeddings before the first layer (BERT).
  bool embeddingNorm = false;
  EncoderHead encoderHead = EncoderHead::Hidden;
  /// The logits projection has a bias (GPT-2's tied lm_head has none).
  bool generatorBias = true;
  /// The logits projection is the embedding table of its side (transposed):
  /// the graph names one weight for both (GPT-2's wte, BERT's word
  /// embeddings under the masked-LM head, Marian's shared table).
  bool tiedEmbeddings = false;
  /// The encoder and the decoder embed with one table (Marian's shared).
  bool sharedEmbeddings = false;
  /// Scores scaled by 1/sqrt(head_dim) (GPT-2's scale_attn_weights).
  bool scaleAttention = true;
  /// Key/value heads of self-attention (grouped-query attention: query head
  /// h reads key/value head h / (numHeads / numKvHeads)); 0: numHeads.
  int64_t numKvHeads = 0;
  /// The size of a head when it is not dModel / numHeads (Llama's head_dim);
  /// 0: dModel / numHeads.
  int64_t headDimension = 0;
  NormKind norm = NormKind::LayerNorm;
  /// Rotary positions: theta of inv_freq[i] = 1 / theta^(2i / head_dim).
  double ropeTheta = 10000.0;
  /// The FFN is gated: linear2(act(gate_proj(x)) * linear1(x)) (Llama's
  /// down(silu(gate(x)) * up(x))).
  bool gatedFeedForward = false;
  /// Whether the attention projections (q, k, v, out) and the FFN's linear
  /// layers have biases (Llama: attention_bias, mlp_bias).
  bool attentionBias = true;
  bool feedForwardBias = true;
  /// Greedy decoding (generation_config.json): more ids that end a sequence
  /// besides eosId, a token forced at the last step allowed by the token
  /// limit (-1: none), and token sequences never generated.
  std::vector<int64_t> moreEosIds;
  int64_t forcedEosId = -1;
  std::vector<std::vector<int64_t>> badWordsIds;
  /// Sampling settings of generation_config.json (transformers' defaults
  /// when absent): what tfm-run does without options, not compiled in.
  bool doSample = false;
  double temperature = 1.0;
  int64_t topK = 50;
  double topP = 1.0;
  double repetitionPenalty = 1.0;

  /// Whether the model has an encoder stack (src side).
  bool hasEncoder() const { return architecture != Architecture::Decoder; }
  /// Whether the model has a decoder stack (tgt side, generator).
  bool hasDecoder() const { return architecture != Architecture::Encoder; }
  /// Size of one attention head: head_dim when given, else dModel / numHeads.
  int64_t headDim() const {
    return headDimension ? headDimension : dModel / numHeads;
  }
  /// Key/value heads of self-attention.
  int64_t kvHeads() const { return numKvHeads ? numKvHeads : numHeads; }
};

/// Parses and validates the text of a config.json. Every field of the table
/// is checked for type and range; unknown fields, and fields that the
/// architecture does not use, are errors. The first problem found is
/// reported, naming the field: "field 'd_model' must be positive, got 0".
absl::StatusOr<ModelConfig> parseConfig(std::string_view jsonText);

/// Reads and parses the config.json at `path`; errors start with the path.
absl::StatusOr<ModelConfig> loadConfig(const std::string &path);

/// A one-line summary for messages: "an encoder-decoder model with d_model
/// 512, 6 encoder layers, 6 decoder layers, final_norm true, sinusoidal
/// positions".
std::string describeConfig(const ModelConfig &config);

/// One weight tensor a model needs (F32 for tfm's own format).
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// Every weight of `config`'s model, named as in DESIGN.md, in a fixed order:
/// the src side (src_embed, src_pos_embed, encoder layers in state_dict
/// order, encoder.norm), then the tgt side (tgt_embed, tgt_pos_embed, decoder
/// layers, decoder.norm), then generator.weight and generator.bias.
std::vector<WeightSpec> expectedWeights(const ModelConfig &config);

} // namespace tfm

#endif // TFM_FRONTEND_CONFIG_H
