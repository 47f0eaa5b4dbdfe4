//===- FuseLinearEpilogue.cpp - Element-wise ops into packed_linear -------===//
//
// The ops that follow a linear layer in a transformer go into the matmul's
// epilogue, so that its result is written once:
//
//   act(packed_linear(x, w, b))              -> packed_linear ... activation
//     (act: relu, gelu, gelu_tanh, silu, tanh)
//   add(r, packed_linear(x, w, b [, act]))   -> packed_linear ... residual r
//
// Only a packed_linear whose result has no other user is rewritten, an
// activation only if there is no residual yet (the residual is added after
// the activation), and a residual only of the result's own type.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSELINEAREPILOGUE
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// The packed_linear that defines `v` if `v` is its only use.
PackedLinearOp soleLinear(Value v) {
  auto linear = v.getDefiningOp<PackedLinearOp>();
  if (!linear || !linear->hasOneUse())
    return {};
  return linear;
}

template <typename ActivationOp, Activation kind>
struct FuseActivation : OpRewritePattern<ActivationOp> {
  using OpRewritePattern<ActivationOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    PackedLinearOp linear = soleLinear(op.getInput());
    if (!linear || linear.getResidual() ||
        linear.getActivation() != Activation::None)
      return rewriter.notifyMatchFailure(op, "no bare linear to fuse into");
    rewriter.replaceOpWithNewOp<PackedLinearOp>(
        op, linear.getType(), linear.getInput(), linear.getWeight(),
        linear.getBias(), Value(), kind);
    rewriter.eraseOp(linear);
    return success();
  }
};

struct FuseResidual : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    // The frontend writes add(x, sublayer(x)): try the right operand first.
    for (auto [lin, res] : {std::pair(op.getRhs(), op.getLhs()),
                            std::pair(op.getLhs(), op.getRhs())}) {
      PackedLinearOp linear = soleLinear(lin);
      if (!linear || linear.getResidual() || res.getType() != op.getType())
        continue;
      rewriter.replaceOpWithNewOp<PackedLinearOp>(
          op, linear.getType(), linear.getInput(), linear.getWeight(),
          linear.getBias(), res, linear.getActivation());
      rewriter.eraseOp(linear);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no linear to fuse into");
  }
};

struct TfmFuseLinearEpilogue
    : mlir::tfm::impl::TfmFuseLinearEpilogueBase<TfmFuseLinearEpilogue> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseLinearEpiloguePatterns(patterns);
    FailureOr<int64_t> fused =
        applyPatternsCounted(getOperation(), std::move(patterns));
    if (failed(fused))
      return signalPassFailure();
    numFused += *fused;
  }
};

} // namespace

void mlir::tfm::populateFuseLinearEpiloguePatterns(
    RewritePatternSet &patterns) {
  patterns.add<FuseActivation<ReluOp, Activation::Relu>,
               FuseActivation<GeluOp, Activation::Gelu>,
               FuseActivation<GeluTanhOp, Activation::GeluTanh>,
               FuseActivation<SiluOp, Activation::Silu>,
               FuseActivation<TanhOp, Activation::Tanh>, FuseResidual>(
      patterns.getContext());
}
