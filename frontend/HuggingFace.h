//===- HuggingFace.h - Hugging Face checkpoint directories ------*- C++ -*-===//
//
// What transformers' save_pretrained writes for the families tfm compiles:
// BERT (BertModel, BertForMaskedLM), GPT-2 (GPT2LMHeadModel) and Marian
// (MarianMTModel). Their config.json (with `model_type`) and
// generation_config.json are read into tfm's ModelConfig, and each weight
// the graph asks for is mapped to the checkpoint's tensor as transformers
// names and lays it out (tied weights read from the one tensor the file
// holds, GPT-2's Conv1D matrices transposed, its fused q|k|v projection
// split by rows).
//
// Every key of the config is known: it is read, checked to be a value tfm
// implements (otherwise one error naming the key and its value), or ignored
// because it only matters for training (dropouts, initialisation) or for
// decoding modes tfm-run chooses itself (beams, sampling).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_HUGGINGFACE_H
#define TFM_FRONTEND_HUGGINGFACE_H

#include "frontend/Checkpoint.h"
#include "frontend/Config.h"
#include "support/Json.h"

#include "absl/status/statusor.h"

#include <map>
#include <string>

namespace tfm {

/// A Hugging Face checkpoint in tfm's terms.
struct HuggingFaceModel {
  /// The transformers class: "BertModel", "BertForMaskedLM",
  /// "GPT2LMHeadModel" or "MarianMTModel".
  std::string modelClass;
  ModelConfig config;
  /// The tensors the checkpoint must (and may) hold.
  CheckpointSpec spec;
  /// Each weight the graph asks for (GraphBuilder.h's names), by name.
  std::map<std::string, WeightSource, std::less<>> sources;
};

/// Whether a parsed config.json is a Hugging Face one (it has `model_type`).
bool isHuggingFaceConfig(const json::Value &config);

/// Reads config.json (`config`) and, when the directory has one,
/// generation_config.json (`generation`, else null: the generation keys of
/// config.json apply, as transformers does). `checkpoint` answers what the
/// config leaves open (whether a BertModel was saved with its pooler).
/// Errors name the key: "field 'position_embedding_type' is
/// \"relative_key\"; tfm implements only \"absolute\"".
absl::StatusOr<HuggingFaceModel>
readHuggingFaceModel(const json::Value &config, const json::Value *generation,
                     const Checkpoint &checkpoint);

} // namespace tfm

#endif // TFM_FRONTEND_HUGGINGFACE_H
