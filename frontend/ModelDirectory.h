//===- ModelDirectory.h - A model directory, whatever its format -*- C++
//-*-===//
//
// tfmc's input: a directory with config.json and its weights, in tfm's own
// format (DESIGN.md: torch.nn.Transformer names, F32) or as a Hugging Face
// checkpoint (config.json with `model_type`; frontend/HuggingFace.h). Both
// end as a ModelConfig for the graph builder and a source for every weight
// the graph asks for.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_MODELDIRECTORY_H
#define TFM_FRONTEND_MODELDIRECTORY_H

#include "frontend/Checkpoint.h"
#include "frontend/Config.h"

#include "absl/status/statusor.h"

#include <map>
#include <memory>
#include <string>

namespace tfm {

struct ModelDirectory {
  /// "tfm", or the Hugging Face class ("BertModel", "GPT2LMHeadModel", ...).
  std::string format;
  ModelConfig config;
  std::unique_ptr<Checkpoint> checkpoint;

  /// Where graph weight `name` (GraphBuilder.h) comes from: for tfm's
  /// format the tensor of that name, except `P.{q,k,v}_proj.{weight,bias}`,
  /// which are rows of `P.in_proj_{weight,bias}`.
  WeightSource source(const std::string &name) const;

  /// Hugging Face checkpoints: every weight's source, by graph name.
  std::map<std::string, WeightSource, std::less<>> sources;
};

/// Reads `dir`/config.json (and generation_config.json), opens the weights
/// and checks that they are exactly what the config asks for. Errors are one
/// message naming the file and the field or tensor.
absl::StatusOr<ModelDirectory> loadModelDirectory(const std::string &dir);

} // namespace tfm

#endif // TFM_FRONTEND_MODELDIRECTORY_H
