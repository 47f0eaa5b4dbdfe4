//===- Config.cpp - The model description's config.json -------------------===//
//
// config.json is written by hand or by export scripts, so it is read
// strictly: a misspelled optional field would otherwise be ignored and the
// model would silently run with the default.
//
//===----------------------------------------------------------------------===//

#include "frontend/Config.h"
#include "support/Json.h"
#include "support/MappedFile.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>

namespace tfm {

/// Sizes are bounded so that derived shapes (3 * d_model, vocab * d_model)
/// cannot overflow int64_t.
static constexpr int64_t kMaxSize = (int64_t(1) << 31) - 1;
/// No real model comes close; the bound keeps a hostile config from making
/// expectedWeights() list billions of tensors.
static constexpr int64_t kMaxLayers = 1024;

/// Every field of the config.json table, in the table's order.
static constexpr std::string_view kFields[] = {"architecture",
                                               "d_model",
                                               "num_heads",
                                               "d_ff",
                                               "num_encoder_layers",
                                               "num_decoder_layers",
                                               "src_vocab_size",
                                               "tgt_vocab_size",
                                               "max_seq_len",
                                               "norm_first",
                                               "activation",
                                               "layer_norm_eps",
                                               "final_norm",
                                               "embed_scale",
                                               "positional_encoding",
                                               "pad_id",
                                               "bos_id",
                                               "eos_id"};

std::string_view architectureName(Architecture architecture) {
  switch (architecture) {
  case Architecture::EncoderDecoder:
    return "encoder-decoder";
  case Architecture::Encoder:
    return "encoder";
  case Architecture::Decoder:
    return "decoder";
  }
  return "unknown";
}

std::string_view activationName(Activation activation) {
  switch (activation) {
  case Activation::Relu:
    return "relu";
  case Activation::Gelu:
    return "gelu";
  case Activation::GeluTanh:
    return "gelu_tanh";
  case Activation::Silu:
    return "silu";
  }
  return "unknown";
}

std::string_view positionalEncodingName(PositionalEncoding encoding) {
  switch (encoding) {
  case PositionalEncoding::Sinusoidal:
    return "sinusoidal";
  case PositionalEncoding::Learned:
    return "learned";
  case PositionalEncoding::Rotary:
    return "rotary";
  }
  return "unknown";
}

/// "an encoder-decoder model", "a decoder model".
static std::string modelPhrase(Architecture architecture) {
  std::string_view name = architectureName(architecture);
  return absl::StrCat(name[0] == 'e' ? "an " : "a ", toAbsl(name), " model");
}

static absl::Status fieldError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("field '", toAbsl(field), "' ", toAbsl(what)));
}

/// The value as it would appear in the file, for "got ..." in messages.
static std::string shown(const json::Value &value) {
  if (value.isArray() || value.isObject())
    return std::string(value.kindName());
  if (value.isIntegerLiteral() && !value.isInt())
    return "an integer beyond the int64 range";
  if (value.isNumber() && !value.isInt()) {
    // The shortest spelling that reads back exactly: "1e-05", not
    // serialize()'s "1.0000000000000001e-05".
    char buffer[32];
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof(buffer), value.asDouble());
    std::string text(buffer, ec == std::errc() ? end : buffer);
    if (text.find_first_of(".e") == std::string::npos)
      text += ".0";
    return text;
  }
  return json::serialize(value);
}

namespace {

/// Reads the fields of the top-level object, each with its type and range.
class ConfigReader {
public:
  explicit ConfigReader(const json::Value &root) : root(root) {}

  absl::StatusOr<ModelConfig> read();

private:
  /// Reads a positive integer no larger than `max` into `out`. A field not
  /// used by the architecture must be absent; a used one must be present.
  absl::Status readSize(std::string_view field, int64_t &out, bool used = true,
                        int64_t max = kMaxSize);
  absl::Status readId(std::string_view field, int64_t &out);
  absl::Status readBool(std::string_view field, bool &out);
  /// Reads a string that must be one of `choices`; returns its index.
  absl::StatusOr<size_t> readChoice(std::string_view field,
                                    std::vector<std::string_view> choices,
                                    size_t defaultIndex, bool required);

  const json::Value &root;
  ModelConfig config;
};

} // namespace

absl::Status ConfigReader::readSize(std::string_view field, int64_t &out,
                                    bool used, int64_t max) {
  const json::Value *value = root.find(field);
  if (!used) {
    if (value)
      return fieldError(field, absl::StrCat("does not apply to ",
                                            modelPhrase(config.architecture)));
    return absl::OkStatus();
  }
  if (!value) {
    if (field == "d_model" || field == "num_heads" || field == "d_ff" ||
        field == "max_seq_len")
      return absl::InvalidArgumentError(
          absl::StrCat("missing required field '", toAbsl(field), "'"));
    return absl::InvalidArgumentError(
        absl::StrCat("missing field '", toAbsl(field), "' (required by ",
                     modelPhrase(config.architecture), ")"));
  }
  if (value->isIntegerLiteral() && !value->isInt())
    return fieldError(field,
                      absl::StrCat("is out of range (must be 1 to ", max, ")"));
  if (value->isInt() && value->asInt() > max)
    return fieldError(field, absl::StrCat("is too large (at most ", max,
                                          "), got ", value->asInt()));
  if (!value->isInt())
    return fieldError(
        field, absl::StrCat("must be a positive integer, got ", shown(*value)));
  if (value->asInt() <= 0)
    return fieldError(field, absl::StrCat("must be a positive integer, got ",
                                          value->asInt()));
  out = value->asInt();
  return absl::OkStatus();
}

absl::Status ConfigReader::readId(std::string_view field, int64_t &out) {
  const json::Value *value = root.find(field);
  if (!value)
    return absl::OkStatus();
  if (value->isIntegerLiteral() && !value->isInt())
    return fieldError(field, "is out of range");
  if (!value->isInt() || value->asInt() < 0)
    return fieldError(
        field,
        absl::StrCat("must be a non-negative integer, got ", shown(*value)));
  out = value->asInt();
  return absl::OkStatus();
}

absl::Status ConfigReader::readBool(std::string_view field, bool &out) {
  const json::Value *value = root.find(field);
  if (!value)
    return absl::OkStatus();
  if (!value->isBool())
    return fieldError(
        field, absl::StrCat("must be true or false, got ", shown(*value)));
  out = value->asBool();
  return absl::OkStatus();
}

absl::StatusOr<size_t>
ConfigReader::readChoice(std::string_view field,
                         std::vector<std::string_view> choices,
                         size_t defaultIndex, bool required) {
  const json::Value *value = root.find(field);
  if (!value) {
    if (required)
      return absl::InvalidArgumentError(
          absl::StrCat("missing required field '", toAbsl(field), "'"));
    return defaultIndex;
  }
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i)
    absl::StrAppend(&expected,
                    i == 0                    ? ""
                    : i + 1 == choices.size() ? " or "
                                              : ", ",
                    "\"", toAbsl(choices[i]), "\"");
  if (value->isString())
    for (size_t i = 0; i < choices.size(); ++i)
      if (value->asString() == choices[i])
        return i;
  return fieldError(
      field, absl::StrCat("must be ", expected, ", got ", shown(*value)));
}

absl::StatusOr<ModelConfig> ConfigReader::read() {
  if (!root.isObject())
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a JSON object at top level, got ", toAbsl(root.kindName())));
  for (const auto &member : root.asObject()) {
    bool known = false;
    for (std::string_view field : kFields)
      known |= member.first == field;
    if (!known)
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field '", member.first, "'"));
  }

#define TFM_TRY(expr)                                                          \
  if (absl::Status status = (expr); !status.ok())                              \
    return status;

  TFM_ASSIGN_OR_RETURN(size_t architecture,
                       readChoice("architecture",
                                  {"encoder-decoder", "encoder", "decoder"}, 0,
                                  /*required=*/true));
  config.architecture = static_cast<Architecture>(architecture);
  bool encoder = config.hasEncoder(), decoder = config.hasDecoder();

  TFM_TRY(readSize("d_model", config.dModel));
  TFM_TRY(readSize("num_heads", config.numHeads));
  TFM_TRY(readSize("d_ff", config.dFF));
  TFM_TRY(readSize("num_encoder_layers", config.numEncoderLayers, encoder,
                   kMaxLayers));
  TFM_TRY(readSize("num_decoder_layers", config.numDecoderLayers, decoder,
                   kMaxLayers));
  TFM_TRY(readSize("src_vocab_size", config.srcVocabSize, encoder));
  TFM_TRY(readSize("tgt_vocab_size", config.tgtVocabSize, decoder));
  TFM_TRY(readSize("max_seq_len", config.maxSeqLen));
  TFM_TRY(readBool("norm_first", config.normFirst));

  TFM_ASSIGN_OR_RETURN(
      size_t activation,
      readChoice("activation", {"relu", "gelu"}, 0, /*required=*/false));
  config.activation = static_cast<Activation>(activation);

  if (const json::Value *eps = root.find("layer_norm_eps")) {
    if (!eps->isNumber())
      return fieldError("layer_norm_eps",
                        absl::StrCat("must be a number, got ", shown(*eps)));
    if (!(eps->asDouble() > 0) || !std::isfinite(eps->asDouble()))
      return fieldError("layer_norm_eps",
                        absl::StrCat("must be > 0, got ", shown(*eps)));
    config.layerNormEps = eps->asDouble();
  }

  TFM_TRY(readBool("final_norm", config.finalNorm));
  TFM_TRY(readBool("embed_scale", config.embedScale));

  TFM_ASSIGN_OR_RETURN(size_t positions,
                       readChoice("positional_encoding",
                                  {"sinusoidal", "learned"}, 0,
                                  /*required=*/false));
  config.positionalEncoding = static_cast<PositionalEncoding>(positions);

  TFM_TRY(readId("pad_id", config.padId));
  TFM_TRY(readId("bos_id", config.bosId));
  TFM_TRY(readId("eos_id", config.eosId));
#undef TFM_TRY

  // Cross-field checks.
  if (config.dModel % config.numHeads != 0)
    return fieldError("num_heads", absl::StrCat("(", config.numHeads,
                                                ") must divide d_model (",
                                                config.dModel, ")"));
  auto checkInVocab = [](std::string_view field, int64_t id,
                         std::string_view vocabField,
                         int64_t vocabSize) -> absl::Status {
    if (id < vocabSize)
      return absl::OkStatus();
    return fieldError(field,
                      absl::StrCat("is ", id, ", outside the vocabulary (",
                                   toAbsl(vocabField), " is ", vocabSize, ")"));
  };
  if (encoder)
    TFM_RETURN_IF_ERROR(checkInVocab("pad_id", config.padId, "src_vocab_size",
                                     config.srcVocabSize));
  // bos/eos drive decoding; an encoder-only model never uses them.
  if (decoder)
    for (auto [field, id] :
         {std::pair<std::string_view, int64_t>{"pad_id", config.padId},
          {"bos_id", config.bosId},
          {"eos_id", config.eosId}})
      TFM_RETURN_IF_ERROR(
          checkInVocab(field, id, "tgt_vocab_size", config.tgtVocabSize));
  return config;
}

absl::StatusOr<ModelConfig> parseConfig(std::string_view jsonText) {
  absl::StatusOr<json::Value> root = json::parse(jsonText);
  if (!root.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", root.status().message()));
  return ConfigReader(*root).read();
}

absl::StatusOr<ModelConfig> loadConfig(const std::string &path) {
  TFM_ASSIGN_OR_RETURN(std::string text, readFile(path));
  absl::StatusOr<ModelConfig> config = parseConfig(text);
  if (!config.ok())
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  return config;
}

std::string describeConfig(const ModelConfig &config) {
  std::string text = absl::StrCat(modelPhrase(config.architecture),
                                  " with d_model ", config.dModel);
  if (config.hasEncoder())
    absl::StrAppend(&text, ", ", config.numEncoderLayers, " encoder layers");
  if (config.hasDecoder())
    absl::StrAppend(&text, ", ", config.numDecoderLayers, " decoder layers");
  absl::StrAppend(
      &text, ", final_norm ", config.finalNorm ? "true" : "false", ", ",
      toAbsl(positionalEncodingName(config.positionalEncoding)), " positions");
  if (config.kvHeads() != config.numHeads)
    absl::StrAppend(&text, ", ", config.numHeads, " query heads over ",
                    config.kvHeads(), " key/value heads");
  return text;
}

std::vector<WeightSpec> expectedWeights(const ModelConfig &config) {
  const int64_t d = config.dModel, dFF = config.dFF;
  std::vector<WeightSpec> weights;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    weights.push_back({std::move(name), std::move(shape)});
  };
  auto addAttention = [&](const std::string &prefix) {
    add(prefix + ".in_proj_weight", {3 * d, d});
    add(prefix + ".in_proj_bias", {3 * d});
    add(prefix + ".out_proj.weight", {d, d});
    add(prefix + ".out_proj.bias", {d});
  };
  auto addNorm = [&](const std::string &prefix) {
    add(prefix + ".weight", {d});
    add(prefix + ".bias", {d});
  };
  // One stack in state_dict order: self_attn, [multihead_attn], linear1,
  // linear2, norm1, norm2, [norm3].
  auto addStack = [&](std::string_view stack, int64_t layers,
                      bool crossAttention) {
    for (int64_t i = 0; i < layers; ++i) {
      std::string prefix = absl::StrCat(toAbsl(stack), ".layers.", i);
      addAttention(prefix + ".self_attn");
      if (crossAttention)
        addAttention(prefix + ".multihead_attn");
      add(prefix + ".linear1.weight", {dFF, d});
      add(prefix + ".linear1.bias", {dFF});
      add(prefix + ".linear2.weight", {d, dFF});
      add(prefix + ".linear2.bias", {d});
      addNorm(prefix + ".norm1");
      addNorm(prefix + ".norm2");
      if (crossAttention)
        addNorm(prefix + ".norm3");
    }
    if (config.finalNorm)
      addNorm(absl::StrCat(toAbsl(stack), ".norm"));
  };
  bool learned = config.positionalEncoding == PositionalEncoding::Learned;

  if (config.hasEncoder()) {
    add("src_embed.weight", {config.srcVocabSize, d});
    if (learned)
      add("src_pos_embed.weight", {config.maxSeqLen, d});
    addStack("encoder", config.numEncoderLayers, /*crossAttention=*/false);
  }
  if (config.hasDecoder()) {
    add("tgt_embed.weight", {config.tgtVocabSize, d});
    if (learned)
      add("tgt_pos_embed.weight", {config.maxSeqLen, d});
    addStack("decoder", config.numDecoderLayers,
             /*crossAttention=*/config.architecture ==
                 Architecture::EncoderDecoder);
    add("generator.weight", {config.tgtVocabSize, d});
    add("generator.bias", {config.tgtVocabSize});
  }
  return weights;
}

} // namespace tfm
