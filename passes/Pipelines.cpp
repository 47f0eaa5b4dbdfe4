//===- Pipelines.cpp - The pipelines tfm-opt and tfmc share ---------------===//
//
// Every pipeline is assembled here and registered under a name, so that
// `tfm-opt --tfm-to-llvm` and `tfmc` run exactly the same passes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::tfm::buildTfmTensorPipeline(OpPassManager &pm,
                                       const TfmPipelineOptions &options) {
  // Linear layers on panel-packed weights (model parameters packed ahead of
  // time, which changes their argument types: before the signatures are
  // recorded), then the entry signatures.
  TfmPackWeightsOptions pack;
  pack.weightType = options.weightType;
  pack.bf16Pairs = options.bf16Pairs;
  pm.addPass(createTfmPackWeights(pack));
  pm.addPass(createTfmExportEntryPoints());
  // Attention chains into tfm.attention, its masks into loop bounds, the
  // kernel; activations and residual adds into the matmuls' epilogues, the
  // tiled matmul kernels; the rest by the reference lowering (which also
  // takes tfm.attention when not fusing, tfm.packed_linear when not tiling).
  if (options.fuse) {
    pm.addNestedPass<func::FuncOp>(createTfmFuseAttention());
    pm.addNestedPass<func::FuncOp>(createTfmLowerMasks());
    pm.addPass(createTfmLowerAttention());
  }
  pm.addNestedPass<func::FuncOp>(createTfmFuseLinearEpilogue());
  if (options.tileMatmul)
    pm.addPass(createTfmTileMatmul());
  pm.addNestedPass<func::FuncOp>(createTfmLowerToLinalg());
  // Dynamic sizes that must agree between operands are checked at run time.
  pm.addNestedPass<func::FuncOp>(createTfmCheckDynamicSizes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Element-wise producers with one use go into their consumer's loop: fewer
  // loops, fewer intermediate buffers (residual adds, masks, scales).
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
}

namespace {
/// Counts the pattern applications that succeeded.
struct RewriteCounter : RewriterBase::Listener {
  void notifyPatternEnd(const Pattern &, LogicalResult result) override {
    applied += succeeded(result);
  }
  int64_t applied = 0;
};
} // namespace

FailureOr<int64_t>
mlir::tfm::applyPatternsCounted(Operation *op,
                                const FrozenRewritePatternSet &patterns) {
  RewriteCounter counter;
  GreedyRewriteConfig config;
  config.listener = &counter;
  if (failed(applyPatternsAndFoldGreedily(op, patterns, config)))
    return failure();
  return counter.applied;
}

void mlir::tfm::buildTfmBufferizePipeline(OpPassManager &pm,
                                          const TfmPipelineOptions &) {
  // Buffers: function arguments and results become identity-layout memrefs
  // (the descriptors of runtime/tfm_abi.h); results are owned by the caller,
  // inout arguments are written in place. The attention kernels state the
  // layouts of their inputs themselves (bufferization.buffer_layout): views
  // of a KV cache are passed as they are.
  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  // A copy between strided views (rows written into a KV cache) becomes
  // loops: the LLVM lowering would call MLIR's runner library for it, which
  // compiled models do not link. Contiguous copies stay memcpy.
  bufferization.memCpyFn = [](OpBuilder &b, Location loc, Value from,
                              Value to) {
    auto contiguous = [](Value v) {
      return cast<MemRefType>(v.getType()).getLayout().isIdentity();
    };
    if (contiguous(from) && contiguous(to))
      b.create<memref::CopyOp>(loc, from, to);
    else
      b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  // A strided view passed where the identity layout, or a static stride, is
  // assumed (a kernel call) is copied first: the cast bufferization inserts
  // does not check.
  pm.addNestedPass<func::FuncOp>(createTfmCopyStridedCasts());
  // The threads of a parallel loop allocate nothing: its iterations'
  // scratch is allocated before it (allocation failures are reported from
  // the calling thread).
  pm.addNestedPass<func::FuncOp>(createTfmHoistParallelAllocs());
  // Inout arguments (KV caches) are updated in place: once the loops that
  // carry them fold away, an entry returns the argument itself, and that
  // result is dropped (tfm-emit-entry-wrappers checks that it was).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  bufferization::buildBufferDeallocationPipeline(
      pm, bufferization::BufferDeallocationPipelineOptions());
  pm.addPass(createBufferizationToMemRefPass());
  // Each buffer freed after its last use, not at the end of the entry: a
  // later layer's buffers reuse an earlier layer's pooled blocks.
  pm.addNestedPass<func::FuncOp>(createTfmDeallocAfterLastUse());
}

void mlir::tfm::buildTfmLLVMLoweringPipeline(OpPassManager &pm,
                                             const TfmPipelineOptions &) {
  // Parallel loops onto OpenMP threads, loops, then the LLVM dialect.
  pm.addPass(createTfmLowerParallelLoops());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createTfmApproximateVectorMath());
  pm.addPass(createTfmExpandCeilDiv());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  // Failed checks end the call through the runtime, not the process.
  pm.addPass(createTfmLowerChecks());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // vdpbf16ps of the bf16 matmul kernels, as its LLVM intrinsic.
  pm.addPass(createTfmLowerDotBF16());
  pm.addPass(createConvertVectorToLLVMPass());
  // Buffers through _mlir_memref_to_llvm_alloc/free, which
  // tfm-emit-entry-wrappers routes to the runtime's allocator (tfm_allocator
  // of runtime/tfm_abi.h).
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  // Intrinsics where LLVM has them; libm calls for the rest (erf).
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createTfmEmitEntryWrappers());
}

void mlir::tfm::buildTfmToLLVMPipeline(OpPassManager &pm,
                                       const TfmPipelineOptions &options) {
  for (const PipelineStage &stage : getTfmToLLVMStages())
    stage.build(pm, options);
}

ArrayRef<mlir::tfm::PipelineStage> mlir::tfm::getTfmToLLVMStages() {
  static const PipelineStage stages[] = {
      {"tensor", buildTfmTensorPipeline},
      {"bufferize", buildTfmBufferizePipeline},
      {"to-llvm", buildTfmLLVMLoweringPipeline},
  };
  return stages;
}

void mlir::tfm::registerTfmPassesAndPipelines() {
  registerTfmPasses();
  PassPipelineRegistration<TfmPipelineOptions>(
      "tfm-to-llvm",
      "Lower the tfm dialect to the LLVM dialect with the runtime's entry "
      "points (the pipeline tfmc runs)",
      buildTfmToLLVMPipeline);
  PassPipelineRegistration<TfmPipelineOptions>(
      "tfm-bufferize",
      "Stage 2 of tfm-to-llvm alone: one-shot bufferization with tfm's "
      "function boundaries (identity layouts; strided views into the "
      "attention kernels), then buffer deallocation",
      buildTfmBufferizePipeline);
}
