//===- Artifact.h - What tfmc writes for a model ----------------*- C++ -*-===//
//
// A compiled model is a directory:
//
//   model.so      native code (runtime/tfm_abi.h)
//   weights.bin   every weight the entries take, prepared ahead of time
//                 (attention projections split, Conv1D matrices transposed,
//                 F16/BF16 widened, linear weights packed into
//                 tfm.pack_weight's panels), f32, each 64-byte aligned; a
//                 weight tied to another (same values, same layout) once
//   model.json    what the runtime needs: the config's run-time fields, the
//                 weight index (name, shape, byte offset) and each entry's
//                 arguments by name, in call order; its "version" is the
//                 runtime's ::tfm::kArtifactVersion (runtime/Artifact.h), the
//                 one definition both sides use
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TOOLS_TFMC_ARTIFACT_H
#define TFM_TOOLS_TFMC_ARTIFACT_H

#include "frontend/GraphBuilder.h"
#include "frontend/ModelDirectory.h"
#include "runtime/Artifact.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace mlir::tfm {

/// Records in `model` which weight arguments of its entry functions
/// tfm-pack-weights packed ahead of time (their `tfm.packed` attribute).
void recordPackedWeights(ModuleOp module, BuiltModel &model);

/// Writes `dir`/weights.bin and `dir`/model.json for the entries of `model`,
/// taking the weights from `source`. `dir` must exist. A weight with a NaN
/// or an infinity is an error naming it, or with `allowNonFinite` a warning.
LogicalResult writeArtifactData(const std::string &dir,
                                const ::tfm::ModelDirectory &source,
                                const BuiltModel &model,
                                bool allowNonFinite = false);

} // namespace mlir::tfm

#endif // TFM_TOOLS_TFMC_ARTIFACT_H
