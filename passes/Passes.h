//===- Passes.h - tfm passes and pipelines ----------------------*- C++ -*-===//
//
// Declares every tfm pass (generated from Passes.td) and the pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_PASSES_H
#define TFM_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;
namespace tfm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Patterns that lower every tfm op to linalg/tensor/arith/math.
void populateLowerToLinalgPatterns(RewritePatternSet &patterns);

/// The whole path from the tfm dialect to the LLVM dialect (what `tfmc`
/// runs): entry-point export, lowering, bufferization, LLVM conversion.
void buildTfmToLLVMPipeline(OpPassManager &pm);

/// Registers the passes and the pipelines with the global registry (for
/// tfm-opt and tfmc's command line).
void registerTfmPassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace tfm
} // namespace mlir

#endif // TFM_PASSES_PASSES_H
