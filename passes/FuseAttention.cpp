//===- FuseAttention.cpp - QKᵀ, scale, mask, softmax, ·V -> tfm.attention -===//
//
// The frontend writes attention the way the model is written down; this pass
// recognizes the chain from the P·V matmul back to Q Kᵀ and replaces it with
// one tfm.attention, which the kernel lowering computes without a seq x seq
// buffer. A chain is fused only if tfm.attention computes exactly what it
// computes (up to rounding of the combined scale); otherwise it is left alone
// and the pattern says why.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

//===----------------------------------------------------------------------===//
// Matching the chain
//===----------------------------------------------------------------------===//

/// K or V of a chain for `heads` query heads: the input of the
/// tfm.repeat_heads that repeats it for the query heads (tfm.attention reads
/// each key/value head once for its group), or `kv` itself. Only a repeat of
/// static heads to exactly `heads` is looked through.
static Value keyValueHeads(Value kv, int64_t heads) {
  auto repeat = kv.getDefiningOp<RepeatHeadsOp>();
  if (!repeat || ShapedType::isDynamic(heads))
    return kv;
  int64_t groups = repeat.getInput().getType().getDimSize(1);
  if (ShapedType::isDynamic(groups) || groups * repeat.getRepeats() != heads)
    return kv;
  return repeat.getInput();
}

namespace {

/// What the chain between the scores and the softmax amounts to, collected
/// while walking it backwards (from the softmax towards Q Kᵀ).
struct Chain {
  Value query, key;
  Value keyLengths, mask;
  bool causal = false;
  /// Product of every scale of the chain.
  double scale = 1.0;
  /// Product of the scales met so far, i.e. applied after the current op.
  double scaleAfter = 1.0;
  bool scaledAfter = false;
};

} // namespace

/// The factor by which `op` multiplies `operand` when it is a scale: a
/// tfm.scale, or an arith.mulf / arith.divf by a splat constant.
static std::optional<double> matchScale(Operation *op, Value &operand) {
  if (auto scale = dyn_cast<ScaleOp>(op)) {
    operand = scale.getInput();
    return scale.getFactor().convertToDouble();
  }
  auto splat = [](Value v) -> std::optional<double> {
    DenseFPElementsAttr attr;
    if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
      return std::nullopt;
    return attr.getSplatValue<APFloat>().convertToDouble();
  };
  if (auto mul = dyn_cast<arith::MulFOp>(op)) {
    if (std::optional<double> c = splat(mul.getRhs())) {
      operand = mul.getLhs();
      return c;
    }
    if (std::optional<double> c = splat(mul.getLhs())) {
      operand = mul.getRhs();
      return c;
    }
  }
  if (auto div = dyn_cast<arith::DivFOp>(op)) {
    if (std::optional<double> c = splat(div.getRhs())) {
      operand = div.getLhs();
      return 1.0 / *c;
    }
  }
  return std::nullopt;
}

/// Matches `scores`, the softmax input or one of its producers, back to
/// Q Kᵀ, filling `chain`. On failure returns why.
static FailureOr<Chain> matchScores(Value scores, Chain chain,
                                    std::string &why) {
  auto fail = [&](const Twine &reason) {
    why = reason.str();
    return failure();
  };
  while (true) {
    if (!scores.hasOneUse())
      return fail("scores have another user");
    Operation *op = scores.getDefiningOp();
    if (!op)
      return fail("scores are not computed by Q Kᵀ");

    Value input;
    if (std::optional<double> factor = matchScale(op, input)) {
      if (!std::isfinite(*factor))
        return fail("scale factor is not finite");
      chain.scale *= *factor;
      chain.scaleAfter *= *factor;
      chain.scaledAfter = true;
      scores = input;
      continue;
    }

    // A mask: -inf masks survive a later positive scale; an additive mask
    // would be scaled with the scores, which tfm.attention cannot express.
    auto checkAdditiveMask = [&]() -> LogicalResult {
      if (chain.mask)
        return fail("more than one additive mask");
      if (chain.scaledAfter)
        return fail("additive mask applied before a scale");
      return success();
    };
    auto checkInfMask = [&]() -> LogicalResult {
      if (chain.scaledAfter && !(chain.scaleAfter > 0.0))
        return fail("-inf mask applied before a scale that is not positive");
      return success();
    };
    if (auto mask = dyn_cast<MaskOp>(op)) {
      switch (mask.getKind()) {
      case MaskKind::Causal:
        if (failed(checkInfMask()))
          return failure();
        chain.causal = true;
        break;
      case MaskKind::KeyPadding:
        if (failed(checkInfMask()))
          return failure();
        if (chain.keyLengths && chain.keyLengths != mask.getValues())
          return fail("two key_padding masks with different lengths");
        chain.keyLengths = mask.getValues();
        break;
      case MaskKind::Additive:
        if (failed(checkAdditiveMask()))
          return failure();
        chain.mask = mask.getValues();
        break;
      }
      scores = mask.getInput();
      continue;
    }

    // tfm.add of scores and a mask: either operand may be the scores.
    if (auto add = dyn_cast<AddOp>(op)) {
      if (failed(checkAdditiveMask()))
        return failure();
      std::string lhsWhy;
      for (auto [s, m] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
        Chain attempt = chain;
        attempt.mask = m;
        FailureOr<Chain> matched = matchScores(s, attempt, why);
        if (succeeded(matched))
          return matched;
        if (lhsWhy.empty())
          lhsWhy = why;
      }
      return fail("neither operand of tfm.add is the scores (lhs: " + lhsWhy +
                  "; rhs: " + why + ")");
    }

    auto matmul = dyn_cast<MatmulOp>(op);
    if (!matmul)
      return fail("scores are not computed by Q Kᵀ");
    chain.key = matmul.getRhs();
    if (!matmul.getTransposeRhs()) {
      auto transpose = chain.key.getDefiningOp<TransposeOp>();
      if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 1, 3, 2})
        return fail("Q Kᵀ matmul neither has transpose_rhs nor reads a "
                    "transpose of the last two dimensions");
      chain.key = transpose.getInput();
    }
    // A scale of Q comes before every mask: it folds into `scale` freely.
    chain.query = matmul.getLhs();
    while (Operation *def = chain.query.getDefiningOp()) {
      std::optional<double> factor = matchScale(def, input);
      if (!factor || !std::isfinite(*factor))
        break;
      chain.scale *= *factor;
      chain.query = input;
    }
    return chain;
  }
}

//===----------------------------------------------------------------------===//
// Pattern and pass
//===----------------------------------------------------------------------===//

namespace {

/// Rooted at the P·V matmul: matmul(softmax(chain(Q Kᵀ)), V).
struct FuseAttentionChain : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTransposeRhs())
      return rewriter.notifyMatchFailure(op, "P·V matmul has transpose_rhs");
    auto softmax = op.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax)
      return rewriter.notifyMatchFailure(op, "lhs is not a softmax");
    if (!softmax.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(op, "probabilities have another user");
    RankedTensorType probs = softmax.getType();
    if (probs.getRank() != 4)
      return rewriter.notifyMatchFailure(
          op, "scores are not [batch, heads, q_len, k_len]");
    if (softmax.getNormalizedAxis() != 3)
      return rewriter.notifyMatchFailure(op, "softmax is not over the keys");

    std::string why;
    FailureOr<Chain> chain = matchScores(softmax.getInput(), Chain(), why);
    if (failed(chain))
      return rewriter.notifyMatchFailure(op, why);
    // Grouped-query attention: K and V as the chain repeated them.
    int64_t heads = cast<ShapedType>(chain->query.getType()).getDimSize(1);
    Value key = keyValueHeads(chain->key, heads);
    Value value = keyValueHeads(op.getRhs(), heads);
    // Q, K and V have the rank of the scores (the matmul verifiers say so).
    // The chain's ops check their operands pairwise, and with dynamic sizes
    // pairwise compatibility is not transitive (2 ~ ? ~ 3): ask the
    // attention op's own rules before building it.
    auto typeOf = [](Value v) { return v ? v.getType() : Type(); };
    if (failed(verifyAttentionShapes(
            cast<ShapedType>(chain->query.getType()),
            cast<ShapedType>(key.getType()), cast<ShapedType>(value.getType()),
            typeOf(chain->keyLengths), typeOf(chain->mask), op.getType())))
      return rewriter.notifyMatchFailure(
          op, "Q, K, V, masks and result shapes do not line up");
    auto scale = static_cast<float>(chain->scale);
    if (!std::isfinite(scale))
      return rewriter.notifyMatchFailure(op, "scale overflows f32");

    // The chain's matmuls take Q, K and V with equal heads; tfm.attention
    // also takes fewer key/value heads (grouped-query attention), so heads
    // only known at run time are checked to be equal here, as the matmuls'
    // sizes would have been. (Heads read through a tfm.repeat_heads are
    // static: keyValueHeads says so.)
    for (Value kv : {key, value})
      if (cast<ShapedType>(kv.getType()).getDimSize(1) != heads ||
          ShapedType::isDynamic(heads))
        emitSizeCheck(rewriter, op.getLoc(), chain->query, 1, kv, 1);
    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), chain->query, key, value, chain->keyLengths,
        chain->mask, APFloat(scale), chain->causal);
    return success();
  }
};

struct TfmFuseAttention
    : mlir::tfm::impl::TfmFuseAttentionBase<TfmFuseAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseAttentionPatterns(patterns);
    FailureOr<int64_t> fused =
        applyPatternsCounted(getOperation(), std::move(patterns));
    if (failed(fused))
      return signalPassFailure();
    numFused += *fused;
  }
};

} // namespace

void mlir::tfm::populateFuseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseAttentionChain>(patterns.getContext());
}
