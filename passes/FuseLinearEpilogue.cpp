//===- FuseLinearEpilogue.cpp - Element-wise ops into packed_linear -------===//
//
// The ops that follow a linear layer in a transformer go into the matmul's
// epilogue, so that its result is written once:
//
//   act(packed_linear(x, w, b))              -> packed_linear ... activation
//     (act: relu, gelu, gelu_tanh, silu, tanh)
//   add(r, packed_linear(x, w, b [, act]))   -> packed_linear ... residual r
//   mul(packed_linear(x, g, bg, act), packed_linear(x, w, b))
//                                            -> packed_gated_linear x, g, w
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
        linear.getBias(), linear.getScales(), Value(), kind);
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
          linear.getBias(), linear.getScales(), res, linear.getActivation());
      rewriter.eraseOp(linear);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no linear to fuse into");
  }
};

/// A gated MLP's act(x G^T + bg) * (x W^T + b): one matmul over both
/// weights.
struct FuseGate : OpRewritePattern<MulOp> {
  FuseGate(MLIRContext *ctx, int64_t maxK)
      : OpRewritePattern(ctx), maxK(maxK) {}
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [g, u] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      PackedLinearOp gate = soleLinear(g), up = soleLinear(u);
      if (!gate || !up || gate == up || gate.getResidual() ||
          up.getResidual() || gate.getActivation() == Activation::None ||
          up.getActivation() != Activation::None ||
          gate.getInput() != up.getInput() ||
          gate.getWeight().getType() != up.getWeight().getType() ||
          gate.getType() != op.getType() || up.getType() != op.getType())
        continue;
      // The limit is for f32 weights: narrower ones have proportionally
      // smaller K x P slices.
      auto weight = cast<RankedTensorType>(gate.getWeight().getType());
      int64_t bytes = weight.getElementTypeBitWidth() / 8;
      if (weight.getDimSize(1) * bytes > maxK * 4)
        return rewriter.notifyMatchFailure(op, "K above gated-max-k");
      rewriter.replaceOpWithNewOp<PackedGatedLinearOp>(
          op, op.getType(), gate.getInput(), gate.getWeight(), up.getWeight(),
          gate.getBias(), up.getBias(), gate.getScales(), up.getScales(),
          gate.getActivation());
      rewriter.eraseOp(gate);
      rewriter.eraseOp(up);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a gated pair of linears");
  }
  int64_t maxK;
};

struct TfmFuseLinearEpilogue
    : mlir::tfm::impl::TfmFuseLinearEpilogueBase<TfmFuseLinearEpilogue> {
  using TfmFuseLinearEpilogueBase::TfmFuseLinearEpilogueBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseLinearEpiloguePatterns(patterns, gatedMaxK);
    FailureOr<int64_t> fused =
        applyPatternsCounted(getOperation(), std::move(patterns));
    if (failed(fused))
      return signalPassFailure();
    numFused += *fused;
  }
};

} // namespace

void mlir::tfm::populateFuseLinearEpiloguePatterns(RewritePatternSet &patterns,
                                                   int64_t gatedMaxK) {
  patterns.add<FuseActivation<ReluOp, Activation::Relu>,
               FuseActivation<GeluOp, Activation::Gelu>,
               FuseActivation<GeluTanhOp, Activation::GeluTanh>,
               FuseActivation<SiluOp, Activation::Silu>,
               FuseActivation<TanhOp, Activation::Tanh>, FuseResidual>(
      patterns.getContext());
  patterns.add<FuseGate>(patterns.getContext(), gatedMaxK);
}
