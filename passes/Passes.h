//===- Passes.h - tfm passes and pipelines ----------------------*- C++ -*-===//
//
// Declares every tfm pass (generated from Passes.td) and the pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_PASSES_H
#define TFM_PASSES_PASSES_H

#include "dialect/TfmDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;
namespace tfm {

enum class Activation : uint32_t; // dialect/TfmOps.td

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Patterns that lower every tfm op to linalg/tensor/arith/math.
void populateLowerToLinalgPatterns(RewritePatternSet &patterns);

/// The pattern that replaces a QKᵀ/scale/mask/softmax/PV chain by
/// tfm.attention.
void populateFuseAttentionPatterns(RewritePatternSet &patterns);

/// The patterns that fold relu/gelu and residual adds into the epilogue of
/// tfm.packed_linear, and gated pairs of linear layers of K up to
/// `gatedMaxK` into tfm.packed_gated_linear.
void populateFuseLinearEpiloguePatterns(RewritePatternSet &patterns,
                                        int64_t gatedMaxK);

/// The pattern that turns an attention mask built from causal/key_padding
/// masks on zeros into the `causal` attribute and `key_lengths`.
void populateLowerMasksPatterns(RewritePatternSet &patterns);

/// Applies `patterns` greedily to `op`; returns how many rewrites the
/// patterns made (successful applications; folds are not counted), which
/// is what the passes' statistics report.
FailureOr<int64_t>
applyPatternsCounted(Operation *op, const FrozenRewritePatternSet &patterns);

/// Emits at `b`'s insertion point a run-time check (`cf.assert`) that
/// dimension `i` of `x` equals dimension `j` of `y`, for the op at `loc`,
/// unless both sizes are static (the verifiers compared them); returns
/// whether it did. Kernels state their size assumptions with it.
bool emitSizeCheck(OpBuilder &b, Location loc, Value x, int64_t i, Value y,
                   int64_t j);

/// Emits at `b`'s insertion point a run-time check that the key/value heads
/// (dimension 1 of `kv`) divide the query heads (dimension 1 of `query`) of
/// an attention op at `loc`, unless both are static (the verifier checked
/// them); returns whether it did.
bool emitHeadsDivideCheck(OpBuilder &b, Location loc, Value query, Value kv);

/// How run-time check messages name the op at `loc`: "the op at FILE:L:C",
/// or "an op of 'ENTRY'" for a model's graph.
std::string describeOpAt(Location loc);

/// The loops marked TfmDialect::kParallelAttrName below `root`, inner loops
/// first (a post-order walk).
SmallVector<scf::ForOp> getParallelLoops(Operation *root);

/// What a failed run-time check calls (tfm-lower-checks), with its message;
/// tfm-emit-entry-wrappers defines it through the runtime's error hook.
inline constexpr llvm::StringLiteral kCheckFailedName = "__tfm_check_failed";

/// `activation` (the math of the tfm op of that name) applied to `x`, an f32
/// scalar or vector of f32: one definition for the reference lowering and
/// the matmul kernels' epilogues.
Value buildActivation(OpBuilder &b, Location loc, Activation activation,
                      Value x);

/// A stored weight element (or vector of them) as f32: bf16 widened, int8
/// converted (its scale is applied by the caller), f32 as is.
Value widenToF32(OpBuilder &b, Location loc, Value x);

/// The pattern that lowers tfm.attention (static head sizes) to a call of
/// the tiled online-softmax kernel for its signature, a private function
/// named kAttentionKernelPrefix + the signature (built by the first op of
/// that signature).
void populateLowerAttentionPatterns(RewritePatternSet &patterns,
                                    const TfmLowerAttentionOptions &options);

/// The names of tfm-lower-attention's kernel functions start with this.
inline constexpr llvm::StringLiteral kAttentionKernelPrefix = "__tfm_attention";

/// Options of the tfm-to-llvm pipeline.
struct TfmPipelineOptions : public PassPipelineOptions<TfmPipelineOptions> {
  PassOptions::Option<bool> fuse{
      *this, "fuse",
      llvm::cl::desc("Fuse attention chains and lower tfm.attention to the "
                     "tiled kernel (off: the unfused reference lowering)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tileMatmul{
      *this, "tile-matmul",
      llvm::cl::desc("Lower linear layers to the tiled, vectorized matmul "
                     "kernels (off: the reference lowering, on the same "
                     "packed weights)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> weightType{
      *this, "weight-type",
      llvm::cl::desc("Element type of the packed linear weights: f32, bf16 "
                     "or i8 (tfm-pack-weights' option)"),
      llvm::cl::init("f32")};
  PassOptions::Option<bool> bf16Pairs{
      *this, "bf16-pairs",
      llvm::cl::desc("bf16 weights in k-pair panels for vdpbf16ps (the "
                     "target must have avx512bf16)"),
      llvm::cl::init(false)};
};

/// The whole path from the tfm dialect to the LLVM dialect (what `tfmc`
/// runs): the three stages below, in order.
void buildTfmToLLVMPipeline(OpPassManager &pm,
                            const TfmPipelineOptions &options);

/// Stage 1, on tensors: weight packing, entry-point export, attention fusion
/// and its kernel (with `fuse`), matmul epilogues and kernels (with
/// `tile-matmul`), lowering of the rest to linalg, element-wise fusion.
void buildTfmTensorPipeline(OpPassManager &pm,
                            const TfmPipelineOptions &options);
/// Stage 2: one-shot bufferization and buffer deallocation.
void buildTfmBufferizePipeline(OpPassManager &pm,
                               const TfmPipelineOptions &options);
/// Stage 3: loops, then the LLVM dialect and the runtime's entry symbols.
void buildTfmLLVMLoweringPipeline(OpPassManager &pm,
                                  const TfmPipelineOptions &options);

/// A named stage of the tfm-to-llvm pipeline (tfmc -v times each).
struct PipelineStage {
  const char *name;
  void (*build)(OpPassManager &, const TfmPipelineOptions &);
};
ArrayRef<PipelineStage> getTfmToLLVMStages();

/// Registers the passes and the pipelines with the global registry (for
/// tfm-opt and tfmc's command line).
void registerTfmPassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace tfm
} // namespace mlir

#endif // TFM_PASSES_PASSES_H
