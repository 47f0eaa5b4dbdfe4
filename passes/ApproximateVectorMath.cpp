//===- ApproximateVectorMath.cpp - Polynomial math on vectors -------------===//
//
// On vectors, math.exp (and its kin) would lower to one libm call per lane;
// MLIR's polynomial approximations give straight-line vector code instead.
// Scalars keep libm's accuracy: only math ops on f32 vectors are rewritten.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMAPPROXIMATEVECTORMATH
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

namespace {
struct TfmApproximateVectorMath
    : mlir::tfm::impl::TfmApproximateVectorMathBase<TfmApproximateVectorMath> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (!isa<math::MathDialect>(op->getDialect()) || op->getNumResults() != 1)
        return;
      auto type = dyn_cast<VectorType>(op->getResult(0).getType());
      if (type && type.getElementType().isF32())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    numApproximated += ops.size();
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingAndNewOps;
    if (failed(applyOpPatternsAndFold(ops, std::move(patterns), config)))
      return signalPassFailure();
  }
};
} // namespace
