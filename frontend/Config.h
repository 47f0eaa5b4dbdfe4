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
enum class Activation { Relu, Gelu };
enum class PositionalEncoding { Sinusoidal, Learned };

/// The config.json spelling: "encoder-decoder", "encoder", "decoder".
std::string_view architectureName(Architecture architecture);
/// "relu" or "gelu".
std::string_view activationName(Activation activation);
/// "sinusoidal" or "learned".
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
  int64_t bosId = 1;
  int64_t eosId = 2;

  /// Whether the model has an encoder stack (src side).
  bool hasEncoder() const { return architecture != Architecture::Decoder; }
  /// Whether the model has a decoder stack (tgt side, generator).
  bool hasDecoder() const { return architecture != Architecture::Encoder; }
  /// Size of one attention head: dModel / numHeads.
  int64_t headDim() const { return dModel / numHeads; }
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

/// One weight tensor a model needs (always F32).
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
