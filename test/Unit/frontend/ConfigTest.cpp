//===- ConfigTest.cpp - Tests for frontend/Config.h -----------------------===//

#include "frontend/Config.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace tfm;

namespace {

/// The required fields of an encoder-decoder model, as JSON members.
const std::vector<std::pair<std::string, std::string>> kBaseFields = {
    {"architecture", "\"encoder-decoder\""},
    {"d_model", "16"},
    {"num_heads", "4"},
    {"d_ff", "32"},
    {"num_encoder_layers", "2"},
    {"num_decoder_layers", "3"},
    {"src_vocab_size", "100"},
    {"tgt_vocab_size", "200"},
    {"max_seq_len", "64"}};

/// The base config with `field` set to the JSON text `value` ("" removes it).
std::string withField(const std::string &field, const std::string &value) {
  std::string json = "{";
  for (const auto &[name, text] : kBaseFields) {
    const std::string &shown = name == field ? value : text;
    if (shown.empty())
      continue;
    absl::StrAppend(&json, json.size() > 1 ? ", " : "", "\"", name,
                    "\": ", shown);
  }
  return json + "}";
}

ModelConfig parseOk(const std::string &json) {
  absl::StatusOr<ModelConfig> config = parseConfig(json);
  EXPECT_TRUE(config.ok()) << json << "\n" << config.status();
  return config.ok() ? *config : ModelConfig();
}

/// Expects parseConfig(json) to fail with a message containing `what`.
void expectError(const std::string &json, std::string_view what) {
  absl::StatusOr<ModelConfig> config = parseConfig(json);
  ASSERT_FALSE(config.ok())
      << "expected an error containing '" << what << "' for: " << json;
  std::string message(config.status().message());
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

/// The base config with `extra` members added.
std::string withBase(const std::string &extra) {
  std::string json = withField("", "");
  json.pop_back();
  return absl::StrCat(json, extra.empty() ? "" : ", ", extra, "}");
}

TEST(ConfigTest, Defaults) {
  ModelConfig config = parseOk(withBase(""));
  EXPECT_EQ(config.architecture, Architecture::EncoderDecoder);
  EXPECT_EQ(config.dModel, 16);
  EXPECT_EQ(config.numHeads, 4);
  EXPECT_EQ(config.headDim(), 4);
  EXPECT_EQ(config.dFF, 32);
  EXPECT_EQ(config.numEncoderLayers, 2);
  EXPECT_EQ(config.numDecoderLayers, 3);
  EXPECT_EQ(config.srcVocabSize, 100);
  EXPECT_EQ(config.tgtVocabSize, 200);
  EXPECT_EQ(config.maxSeqLen, 64);
  EXPECT_FALSE(config.normFirst);
  EXPECT_EQ(config.activation, Activation::Relu);
  EXPECT_EQ(config.layerNormEps, 1e-5);
  EXPECT_TRUE(config.finalNorm);
  EXPECT_TRUE(config.embedScale);
  EXPECT_EQ(config.positionalEncoding, PositionalEncoding::Sinusoidal);
  EXPECT_EQ(config.padId, 0);
  EXPECT_EQ(config.bosId, 1);
  EXPECT_EQ(config.eosId, 2);
  EXPECT_TRUE(config.hasEncoder());
  EXPECT_TRUE(config.hasDecoder());
}

TEST(ConfigTest, AllOptions) {
  ModelConfig config = parseOk(withBase(
      R"("norm_first": true, "activation": "gelu", "layer_norm_eps": 1e-6,
         "final_norm": false, "embed_scale": false,
         "positional_encoding": "learned", "pad_id": 99, "bos_id": 150,
         "eos_id": 199)"));
  EXPECT_TRUE(config.normFirst);
  EXPECT_EQ(config.activation, Activation::Gelu);
  EXPECT_EQ(config.layerNormEps, 1e-6);
  EXPECT_FALSE(config.finalNorm);
  EXPECT_FALSE(config.embedScale);
  EXPECT_EQ(config.positionalEncoding, PositionalEncoding::Learned);
  EXPECT_EQ(config.padId, 99);
  EXPECT_EQ(config.bosId, 150);
  EXPECT_EQ(config.eosId, 199);
  // An integer epsilon is a number too.
  EXPECT_EQ(parseOk(withBase(R"("layer_norm_eps": 1)")).layerNormEps, 1.0);
}

TEST(ConfigTest, EncoderOnly) {
  ModelConfig config = parseOk(
      R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
          "d_ff": 16, "num_encoder_layers": 1, "src_vocab_size": 10,
          "max_seq_len": 5})");
  EXPECT_EQ(config.architecture, Architecture::Encoder);
  EXPECT_TRUE(config.hasEncoder());
  EXPECT_FALSE(config.hasDecoder());
  EXPECT_EQ(config.numDecoderLayers, 0);
  EXPECT_EQ(config.tgtVocabSize, 0);
  // bos/eos are not checked against the vocabulary of a model that does not
  // decode; pad is.
  parseOk(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
              "d_ff": 16, "num_encoder_layers": 1, "src_vocab_size": 2,
              "max_seq_len": 5})");
  expectError(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_encoder_layers": 1, "src_vocab_size": 2,
                  "max_seq_len": 5, "pad_id": 2})",
              "field 'pad_id' is 2, outside the vocabulary (src_vocab_size "
              "is 2)");
  expectError(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "src_vocab_size": 10, "max_seq_len": 5})",
              "missing field 'num_encoder_layers' (required by an encoder "
              "model)");
  expectError(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_encoder_layers": 1, "max_seq_len": 5})",
              "missing field 'src_vocab_size' (required by an encoder model)");
  expectError(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_encoder_layers": 1, "src_vocab_size": 10,
                  "max_seq_len": 5, "num_decoder_layers": 1})",
              "field 'num_decoder_layers' does not apply to an encoder model");
  expectError(R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_encoder_layers": 1, "src_vocab_size": 10,
                  "max_seq_len": 5, "tgt_vocab_size": 10})",
              "field 'tgt_vocab_size' does not apply to an encoder model");
}

TEST(ConfigTest, DecoderOnly) {
  ModelConfig config = parseOk(
      R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
          "d_ff": 16, "num_decoder_layers": 3, "tgt_vocab_size": 10,
          "max_seq_len": 5})");
  EXPECT_EQ(config.architecture, Architecture::Decoder);
  EXPECT_FALSE(config.hasEncoder());
  EXPECT_TRUE(config.hasDecoder());
  EXPECT_EQ(config.numDecoderLayers, 3);
  EXPECT_EQ(config.numEncoderLayers, 0);
  expectError(R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "tgt_vocab_size": 10, "max_seq_len": 5})",
              "missing field 'num_decoder_layers' (required by a decoder "
              "model)");
  expectError(R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_decoder_layers": 3, "max_seq_len": 5})",
              "missing field 'tgt_vocab_size' (required by a decoder model)");
  expectError(R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_decoder_layers": 3, "tgt_vocab_size": 10,
                  "max_seq_len": 5, "src_vocab_size": 10})",
              "field 'src_vocab_size' does not apply to a decoder model");
  expectError(R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_decoder_layers": 3, "tgt_vocab_size": 10,
                  "max_seq_len": 5, "num_encoder_layers": 3})",
              "field 'num_encoder_layers' does not apply to a decoder model");
}

TEST(ConfigTest, EncoderDecoderRequiresBothSides) {
  for (const char *field : {"num_encoder_layers", "num_decoder_layers",
                            "src_vocab_size", "tgt_vocab_size"})
    expectError(withField(field, ""),
                absl::StrCat("missing field '", field,
                             "' (required by an encoder-decoder model)"));
}

TEST(ConfigTest, MissingRequired) {
  expectError(withField("architecture", ""),
              "missing required field 'architecture'");
  for (const char *field : {"d_model", "num_heads", "d_ff", "max_seq_len"})
    expectError(withField(field, ""),
                absl::StrCat("missing required field '", field, "'"));
}

TEST(ConfigTest, WrongTypes) {
  expectError("[]", "expected a JSON object at top level, got array");
  expectError(R"({"architecture": 1})",
              "field 'architecture' must be \"encoder-decoder\", \"encoder\" "
              "or \"decoder\", got 1");
  expectError(withBase(R"("norm_first": 1)"),
              "field 'norm_first' must be true or false, got 1");
  expectError(withBase(R"("final_norm": "yes")"),
              "field 'final_norm' must be true or false, got \"yes\"");
  expectError(withBase(R"("embed_scale": null)"),
              "field 'embed_scale' must be true or false, got null");
  expectError(withBase(R"("activation": ["relu"])"),
              "field 'activation' must be \"relu\" or \"gelu\", got array");
  expectError(withBase(R"("layer_norm_eps": "1e-5")"),
              "field 'layer_norm_eps' must be a number, got \"1e-5\"");
  expectError(withBase(R"("pad_id": 1.5)"),
              "field 'pad_id' must be a non-negative integer, got 1.5");
  // Sizes are integers: neither strings nor whole doubles.
  expectError(withField("d_model", "\"16\""),
              "field 'd_model' must be a positive integer, got \"16\"");
  expectError(withField("d_ff", "32.0"),
              "field 'd_ff' must be a positive integer, got 32.0");
  expectError(withField("max_seq_len", "true"),
              "field 'max_seq_len' must be a positive integer, got true");
}

TEST(ConfigTest, UnknownValues) {
  expectError(R"({"architecture": "seq2seq"})",
              "field 'architecture' must be \"encoder-decoder\", \"encoder\" "
              "or \"decoder\", got \"seq2seq\"");
  expectError(withBase(R"("activation": "swish")"),
              "field 'activation' must be \"relu\" or \"gelu\", got "
              "\"swish\"");
  expectError(withBase(R"("activation": "ReLU")"),
              "field 'activation' must be \"relu\" or \"gelu\", got \"ReLU\"");
  expectError(withBase(R"("positional_encoding": "rope")"),
              "field 'positional_encoding' must be \"sinusoidal\" or "
              "\"learned\", got \"rope\"");
}

TEST(ConfigTest, UnknownFields) {
  expectError(withBase(R"("norm_frist": true)"), "unknown field 'norm_frist'");
  expectError(R"({"dmodel": 512, "architecture": "encoder"})",
              "unknown field 'dmodel'");
}

TEST(ConfigTest, Sizes) {
  auto replaced = withField;
  for (const char *field :
       {"d_model", "num_heads", "d_ff", "num_encoder_layers",
        "num_decoder_layers", "src_vocab_size", "tgt_vocab_size",
        "max_seq_len"}) {
    expectError(
        replaced(field, "0"),
        absl::StrCat("field '", field, "' must be a positive integer, got 0"));
    expectError(
        replaced(field, "-3"),
        absl::StrCat("field '", field, "' must be a positive integer, got -3"));
    expectError(replaced(field, "99999999999999999999999"),
                absl::StrCat("field '", field, "' is out of range"));
  }
  expectError(replaced("d_model", "4294967296"),
              "field 'd_model' is too large (at most 2147483647), got "
              "4294967296");
  expectError(replaced("num_encoder_layers", "1000000"),
              "field 'num_encoder_layers' is too large (at most 1024)");
  expectError(replaced("num_heads", "3"),
              "field 'num_heads' (3) must divide d_model (16)");
}

TEST(ConfigTest, LayerNormEps) {
  expectError(withBase(R"("layer_norm_eps": 0)"),
              "field 'layer_norm_eps' must be > 0, got 0");
  expectError(withBase(R"("layer_norm_eps": -1e-5)"),
              "field 'layer_norm_eps' must be > 0, got -1e-05");
  expectError(withBase(R"("layer_norm_eps": 0.0)"),
              "field 'layer_norm_eps' must be > 0, got 0.0");
}

TEST(ConfigTest, SpecialIds) {
  // pad must be in both vocabularies of an encoder-decoder model.
  parseOk(withBase(R"("pad_id": 99)"));
  expectError(withBase(R"("pad_id": 100)"),
              "field 'pad_id' is 100, outside the vocabulary (src_vocab_size "
              "is 100)");
  // bos/eos belong to the target vocabulary.
  parseOk(withBase(R"("bos_id": 199, "eos_id": 150)"));
  expectError(withBase(R"("bos_id": 200)"),
              "field 'bos_id' is 200, outside the vocabulary (tgt_vocab_size "
              "is 200)");
  expectError(withBase(R"("eos_id": 1000)"),
              "field 'eos_id' is 1000, outside the vocabulary (tgt_vocab_size "
              "is 200)");
  expectError(withBase(R"("eos_id": -1)"),
              "field 'eos_id' must be a non-negative integer, got -1");
  expectError(R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
                  "d_ff": 16, "num_decoder_layers": 3, "tgt_vocab_size": 10,
                  "max_seq_len": 5, "pad_id": 10})",
              "field 'pad_id' is 10, outside the vocabulary (tgt_vocab_size "
              "is 10)");
}

TEST(ConfigTest, InvalidJson) {
  expectError("{\"architecture\": \"encoder\",}",
              "invalid JSON: line 1, column 28: expected a string key");
  expectError(withBase(R"("d_model": 32)"), "invalid JSON: line 1, column");
  expectError(withBase(R"("d_model": 32)"), "duplicate key \"d_model\"");
}

TEST(ConfigTest, LoadConfig) {
  std::string path = absl::StrCat(::testing::TempDir(), "tfm_config_", getpid(),
                                  "_config.json");
  std::ofstream(path) << withBase(R"("activation": "gelu")");
  absl::StatusOr<ModelConfig> config = loadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->activation, Activation::Gelu);

  std::ofstream(path) << withBase(R"("d_model": 32)");
  config = loadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message())
                .find(absl::StrCat(path, ": invalid JSON: line")),
            0u)
      << config.status();

  std::ofstream(path) << withBase(R"("typo": 1)");
  config = loadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            absl::StrCat(path, ": unknown field 'typo'"));
  std::remove(path.c_str());

  config = loadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(std::string(config.status().message())
                .find(absl::StrCat(path, ": cannot open")),
            std::string::npos)
      << config.status();

  config = loadConfig(::testing::TempDir());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(std::string(config.status().message()).find("is a directory"),
            std::string::npos)
      << config.status();
}

//===----------------------------------------------------------------------===//
// expectedWeights
//===----------------------------------------------------------------------===//

/// The weights as a name -> shape lookup, checking names are unique.
std::map<std::string, std::vector<int64_t>>
weightMap(const std::vector<WeightSpec> &weights) {
  std::map<std::string, std::vector<int64_t>> map;
  for (const WeightSpec &w : weights)
    EXPECT_TRUE(map.emplace(w.name, w.shape).second) << "duplicate " << w.name;
  return map;
}

TEST(ExpectedWeightsTest, EncoderDecoder) {
  ModelConfig config = parseOk(withBase(""));
  std::vector<WeightSpec> weights = expectedWeights(config);
  // 12 per encoder layer, 18 per decoder layer, 2 final norms of 2, the two
  // embeddings and the generator's weight and bias.
  EXPECT_EQ(weights.size(), 2u * 12 + 3u * 18 + 4 + 2 + 2);
  auto map = weightMap(weights);
  using Shape = std::vector<int64_t>;
  EXPECT_EQ(map["src_embed.weight"], (Shape{100, 16}));
  EXPECT_EQ(map["tgt_embed.weight"], (Shape{200, 16}));
  EXPECT_EQ(map["generator.weight"], (Shape{200, 16}));
  EXPECT_EQ(map["generator.bias"], (Shape{200}));
  EXPECT_EQ(map["encoder.layers.0.self_attn.in_proj_weight"], (Shape{48, 16}));
  EXPECT_EQ(map["encoder.layers.1.self_attn.in_proj_bias"], (Shape{48}));
  EXPECT_EQ(map["encoder.layers.1.self_attn.out_proj.weight"], (Shape{16, 16}));
  EXPECT_EQ(map["encoder.layers.1.self_attn.out_proj.bias"], (Shape{16}));
  EXPECT_EQ(map["encoder.layers.0.linear1.weight"], (Shape{32, 16}));
  EXPECT_EQ(map["encoder.layers.0.linear1.bias"], (Shape{32}));
  EXPECT_EQ(map["encoder.layers.0.linear2.weight"], (Shape{16, 32}));
  EXPECT_EQ(map["encoder.layers.0.linear2.bias"], (Shape{16}));
  EXPECT_EQ(map["encoder.layers.0.norm2.bias"], (Shape{16}));
  EXPECT_EQ(map["decoder.layers.2.multihead_attn.in_proj_weight"],
            (Shape{48, 16}));
  EXPECT_EQ(map["decoder.layers.2.multihead_attn.out_proj.bias"], (Shape{16}));
  EXPECT_EQ(map["decoder.layers.2.norm3.weight"], (Shape{16}));
  EXPECT_EQ(map["encoder.norm.weight"], (Shape{16}));
  EXPECT_EQ(map["decoder.norm.bias"], (Shape{16}));
  EXPECT_EQ(map.count("encoder.layers.2.norm1.weight"), 0u);
  EXPECT_EQ(map.count("encoder.layers.0.norm3.weight"), 0u);
  EXPECT_EQ(map.count("encoder.layers.0.multihead_attn.in_proj_bias"), 0u);
  EXPECT_EQ(map.count("src_pos_embed.weight"), 0u);

  // Fixed order: the src side, then the tgt side, then the generator; each
  // layer in state_dict order.
  EXPECT_EQ(weights.front().name, "src_embed.weight");
  EXPECT_EQ(weights[1].name, "encoder.layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(weights[12].name, "encoder.layers.0.norm2.bias");
  EXPECT_EQ(weights[13].name, "encoder.layers.1.self_attn.in_proj_weight");
  EXPECT_EQ(weights[25].name, "encoder.norm.weight");
  EXPECT_EQ(weights[27].name, "tgt_embed.weight");
  EXPECT_EQ(weights[28].name, "decoder.layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(weights[32].name, "decoder.layers.0.multihead_attn.in_proj_weight");
  EXPECT_EQ(weights[36].name, "decoder.layers.0.linear1.weight");
  EXPECT_EQ(weights[45].name, "decoder.layers.0.norm3.bias");
  EXPECT_EQ(weights[weights.size() - 2].name, "generator.weight");
  EXPECT_EQ(weights.back().name, "generator.bias");
}

TEST(ExpectedWeightsTest, Options) {
  ModelConfig config = parseOk(
      withBase(R"("final_norm": false, "positional_encoding": "learned")"));
  auto map = weightMap(expectedWeights(config));
  EXPECT_EQ(map.size(), 2u * 12 + 3u * 18 + 2 + 2 + 2);
  EXPECT_EQ(map.count("encoder.norm.weight"), 0u);
  EXPECT_EQ(map.count("decoder.norm.bias"), 0u);
  EXPECT_EQ(map["src_pos_embed.weight"], (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(map["tgt_pos_embed.weight"], (std::vector<int64_t>{64, 16}));
  // norm_first, activation, eps and embed_scale do not change the weights.
  ModelConfig other = parseOk(withBase(
      R"("norm_first": true, "activation": "gelu", "embed_scale": false)"));
  EXPECT_EQ(expectedWeights(other).size(), 2u * 12 + 3u * 18 + 4 + 2 + 2);
}

TEST(ExpectedWeightsTest, Encoder) {
  ModelConfig config = parseOk(
      R"({"architecture": "encoder", "d_model": 8, "num_heads": 2,
          "d_ff": 24, "num_encoder_layers": 3, "src_vocab_size": 10,
          "max_seq_len": 5, "positional_encoding": "learned"})");
  std::vector<WeightSpec> weights = expectedWeights(config);
  auto map = weightMap(weights);
  EXPECT_EQ(weights.size(), 3u * 12 + 2 + 2);
  EXPECT_EQ(map["src_embed.weight"], (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(map["src_pos_embed.weight"], (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(map["encoder.layers.2.linear2.weight"],
            (std::vector<int64_t>{8, 24}));
  EXPECT_EQ(map.count("encoder.norm.bias"), 1u);
  for (const WeightSpec &w : weights) {
    EXPECT_EQ(w.name.rfind("decoder", 0), std::string::npos) << w.name;
    EXPECT_EQ(w.name.rfind("tgt_", 0), std::string::npos) << w.name;
    EXPECT_EQ(w.name.rfind("generator", 0), std::string::npos) << w.name;
  }
}

TEST(ExpectedWeightsTest, Decoder) {
  ModelConfig config = parseOk(
      R"({"architecture": "decoder", "d_model": 8, "num_heads": 2,
          "d_ff": 24, "num_decoder_layers": 2, "tgt_vocab_size": 10,
          "max_seq_len": 5})");
  std::vector<WeightSpec> weights = expectedWeights(config);
  auto map = weightMap(weights);
  // Laid out like encoder layers: no cross-attention, no norm3.
  EXPECT_EQ(weights.size(), 2u * 12 + 2 + 1 + 2);
  EXPECT_EQ(map["tgt_embed.weight"], (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(map["decoder.layers.1.self_attn.in_proj_weight"],
            (std::vector<int64_t>{24, 8}));
  EXPECT_EQ(map["decoder.layers.1.norm2.weight"], (std::vector<int64_t>{8}));
  EXPECT_EQ(map["decoder.norm.weight"], (std::vector<int64_t>{8}));
  EXPECT_EQ(map["generator.bias"], (std::vector<int64_t>{10}));
  EXPECT_EQ(map.count("decoder.layers.0.multihead_attn.in_proj_weight"), 0u);
  EXPECT_EQ(map.count("decoder.layers.0.norm3.weight"), 0u);
  EXPECT_EQ(map.count("src_embed.weight"), 0u);
  EXPECT_EQ(map.count("tgt_pos_embed.weight"), 0u);

  config.positionalEncoding = PositionalEncoding::Learned;
  map = weightMap(expectedWeights(config));
  EXPECT_EQ(map["tgt_pos_embed.weight"], (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(map.count("src_pos_embed.weight"), 0u);
}

TEST(ExpectedWeightsTest, DescribeConfig) {
  EXPECT_EQ(describeConfig(parseOk(withBase(""))),
            "an encoder-decoder model with d_model 16, 2 encoder layers, 3 "
            "decoder layers, final_norm true, sinusoidal positions");
}

} // namespace
