//===- Artifact.h - What tfmc writes for a model ----------------*- C++ -*-===//
//
// A compiled model is a directory:
//
//   model.so      native code (runtime/tfm_abi.h)
//   weights.bin   every weight the entries take, prepared ahead of time
//                 (attention projections split, Conv1D matrices transposed,
//                 F16/BF16 widened, linear weights packed into
//                 tfm.pack_weight's panels), f32 or, packed weights with
//                 --weight-type, bf16 or int8 (then with their f32 scales),
//                 each 64-byte aligned; a weight tied to another (same
//                 values, same layout) once
//   model.json    what the runtime needs: the config's run-time fields (also
//                 in model.so's manifest), the XXH3 hashes of model.so and
//                 weights.bin, the weight index (name, shape, byte offset)
//                 and each entry's arguments by name, in call order; its
//                 "version" is the runtime's ::tfm::kArtifactVersion
//                 (runtime/Artifact.h), the one definition both sides use
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TOOLS_TFMC_ARTIFACT_H
#define TFM_TOOLS_TFMC_ARTIFACT_H

#include "frontend/GraphBuilder.h"
#include "frontend/ModelDirectory.h"
#include "runtime/Artifact.h"

#include <utility>
#include <vector>

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace mlir::tfm {

/// The "config" object of model.json: the run-time fields of `config`.
llvm::json::Object artifactConfig(const ::tfm::ModelConfig &config);

/// Puts that object, as one line of JSON, in `module`'s `tfm.model_config`
/// attribute: tfm-emit-entry-wrappers writes it into the manifest, and the
/// runtime checks model.json against it.
void recordModelConfig(ModuleOp module, const ::tfm::ModelConfig &config);

/// Records in `model` which weight arguments of its entry functions
/// tfm-pack-weights packed ahead of time (their `tfm.packed` attribute), in
/// which element type and layout (k pairs: rank 4), and the scales
/// arguments it added for int8 weights.
void recordPackedWeights(ModuleOp module, BuiltModel &model);

/// One weight of weights.bin.
struct PlacedWeight {
  std::string name; // The first graph name of the weight.
  ::tfm::WeightSource source;
  std::vector<int64_t> sourceShape; // as the graph asks for it
  std::vector<int64_t> shape;       // as stored
  int64_t packedPanel;              // 0: stored as is
  ::tfm::DType dtype;               // as stored
  bool kPairs;                      // bf16 in k-pair panels
  bool scales;                      // the int8 scales of the source weight
  uint64_t offset;
  uint64_t bytes;
};

/// What writeWeights() wrote.
struct WrittenWeights {
  std::vector<PlacedWeight> placed;
  /// Every graph name, with the placement it reads (tied names share one).
  std::vector<std::pair<std::string, size_t>> names;
  uint64_t bytes = 0;
  /// XXH3 of weights.bin.
  std::string checksum;
  /// The index model.json lists, in its order.
  std::vector<::tfm::WeightRecord> index;
};

/// Writes `dir`/weights.bin for the entries of `model`, taking the weights
/// from `source` (after recordPackedWeights: in the layouts the module
/// takes). `dir` must exist. A weight with a NaN or an infinity is an error
/// naming it, or with `allowNonFinite` a warning.
FailureOr<WrittenWeights> writeWeights(const std::string &dir,
                                       const ::tfm::ModelDirectory &source,
                                       const BuiltModel &model,
                                       bool allowNonFinite = false);

/// Puts the hashes of weights.bin and of its index in `module`'s
/// `tfm.weights` attribute, which tfm-emit-entry-wrappers writes into the
/// manifest: the module itself then names the weights it was compiled
/// with, and the runtime checks weights.bin and model.json against it.
void recordWeights(ModuleOp module, const WrittenWeights &weights);

/// The tokenizer files copied into the artifact (`dir`/tokenizer/): the
/// class and each file's name and XXH3 hash.
struct CopiedTokenizer {
  std::string className;
  std::vector<std::pair<std::string, std::string>> files;
};

/// Checks the tokenizer of checkpoint directory `modelDir`, if it has one
/// (tokenizer_config.json): it must load and its ids must lie in the
/// model's vocabulary (`vocabSize`). Returns its files (none: no
/// tokenizer).
FailureOr<std::vector<std::string>> checkTokenizer(const std::string &modelDir,
                                                   int64_t vocabSize);

/// Copies `files` of `modelDir` into `dir`/tokenizer/ (replacing what was
/// there; removing it when `files` is empty).
FailureOr<CopiedTokenizer> copyTokenizer(const std::string &modelDir,
                                         const std::vector<std::string> &files,
                                         const std::string &dir);

/// Writes `dir`/model.json (after model.so, whose hash it records);
/// `weightType` is tfmc's --weight-type (f32, bf16, int8).
LogicalResult
writeModelJson(const std::string &dir, const ::tfm::ModelDirectory &source,
               const BuiltModel &model, const WrittenWeights &weights,
               llvm::StringRef weightType, const CopiedTokenizer &tokenizer);

} // namespace mlir::tfm

#endif // TFM_TOOLS_TFMC_ARTIFACT_H
