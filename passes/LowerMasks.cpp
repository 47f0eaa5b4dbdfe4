//===- LowerMasks.cpp - Attention masks built on zeros -> loop bounds -----===//
//
// A mask tensor made by applying tfm.mask causal / key_padding to zeros says
// no more than the `causal` attribute and `key_lengths` operand of
// tfm.attention, which the kernel turns into loop bounds: no q_len x k_len
// tensor is built or read. Any other mask stays the additive operand.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERMASKS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

/// Whether `value` is a tensor of zeros: a splat-zero constant, or a
/// tensor.splat / linalg.fill of a zero constant.
static bool isZeroTensor(Value value) {
  Attribute attr;
  if (matchPattern(value, m_Constant(&attr)))
    return isZeroSplat(attr);
  if (auto splat = value.getDefiningOp<tensor::SplatOp>())
    return matchPattern(splat.getInput(), m_AnyZeroFloat());
  if (auto fill = value.getDefiningOp<linalg::FillOp>())
    return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
  return false;
}

/// Where the size of dimension `dim` of `tensor` comes from: {null, size} if
/// it is static; else the tensor and dimension it was read from (with
/// tensor.dim) when it was built, followed through ops that keep their
/// input's shape; else {the index value it was built from, -1}. Two
/// dimensions with the same source are equal.
static std::pair<Value, int64_t> dimSource(Value tensor, int64_t dim) {
  while (true) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(dim))
      return {Value(), type.getDimSize(dim)};
    Operation *def = tensor.getDefiningOp();
    Value size;
    if (auto mask = dyn_cast_or_null<MaskOp>(def)) {
      tensor = mask.getInput();
      continue;
    }
    if (auto fill = dyn_cast_or_null<linalg::FillOp>(def)) {
      tensor = fill.getOutputs()[0];
      continue;
    }
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(def))
      size = empty.getDynamicSize(dim);
    else if (auto splat = dyn_cast_or_null<tensor::SplatOp>(def))
      size = splat.getDynamicSizes()[type.getDynamicDimIndex(dim)];
    else
      return {tensor, dim};
    auto read = size.getDefiningOp<tensor::DimOp>();
    std::optional<int64_t> index =
        read ? read.getConstantIndex() : std::nullopt;
    auto source =
        read ? dyn_cast<RankedTensorType>(read.getSource().getType()) : nullptr;
    if (!index || !source || *index < 0 || *index >= source.getRank())
      return {size, -1};
    tensor = read.getSource();
    dim = *index;
  }
}

/// Whether dimension `dim` of `tensor` is provably one of `sizes`.
static bool sameSize(Value tensor, int64_t dim,
                     ArrayRef<std::pair<Value, int64_t>> sizes) {
  return llvm::is_contained(sizes, dimSource(tensor, dim));
}

namespace {

/// tfm.attention mask(chain of causal/key_padding masks on zeros) ->
/// tfm.attention {causal} key_lengths(...).
struct LowerBuiltMask : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value mask = op.getMask();
    if (!mask)
      return rewriter.notifyMatchFailure(op, "no mask");
    bool causal = false;
    Value lengths;
    Value base = mask;
    while (auto maskOp = base.getDefiningOp<MaskOp>()) {
      if (maskOp.getKind() == MaskKind::Additive)
        return rewriter.notifyMatchFailure(op, "mask adds a tensor");
      if (maskOp.getKind() == MaskKind::Causal) {
        causal = true;
      } else {
        if (lengths && lengths != maskOp.getValues())
          return rewriter.notifyMatchFailure(
              op, "mask has two key_padding masks with different lengths");
        lengths = maskOp.getValues();
      }
      base = maskOp.getInput();
    }
    if (!isZeroTensor(base))
      return rewriter.notifyMatchFailure(
          op, "mask is not built by causal/key_padding masks on zeros");

    // The attention's own sizes: what the mask's dimensions must be.
    auto sizesOf = [&](ArrayRef<std::pair<Value, int64_t>> dims) {
      SmallVector<std::pair<Value, int64_t>> sizes;
      for (auto [tensor, dim] : dims)
        sizes.push_back(dimSource(tensor, dim));
      return sizes;
    };
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    auto batch = sizesOf({{q, 0}, {k, 0}, {v, 0}});
    auto queries = sizesOf({{q, 2}});
    auto keys = sizesOf({{k, 2}, {v, 2}});
    auto type = cast<RankedTensorType>(mask.getType());
    int64_t rank = type.getRank();
    // The causal triangle is aligned to the end of the keys: a mask built
    // for other lengths (or broadcast over them) hides other positions.
    if (causal &&
        (!sameSize(mask, rank - 2, queries) || !sameSize(mask, rank - 1, keys)))
      return rewriter.notifyMatchFailure(
          op, "causal mask is not [.., q_len, k_len] of the attention");
    if (lengths) {
      if (op.getKeyLengths())
        return rewriter.notifyMatchFailure(op, "attention has key_lengths");
      // Dimension 0 must be the batch that the lengths index, dimension 3
      // the keys; a broadcast dimension there would mean other masking.
      if (rank != 4 || !sameSize(mask, 0, batch) || !sameSize(mask, 3, keys))
        return rewriter.notifyMatchFailure(
            op, "key_padding mask is not [batch, ., ., k_len] of the "
                "attention");
      // With dynamic sizes the mask may agree with Q's batch and the lengths
      // with the mask, yet the lengths not with K's static batch.
      int64_t count = cast<ShapedType>(lengths.getType()).getDimSize(0);
      if (!ShapedType::isDynamic(count) &&
          llvm::any_of(TypeRange{q.getType(), k.getType(), v.getType()},
                       [&](Type t) {
                         int64_t b = cast<ShapedType>(t).getDimSize(0);
                         return !ShapedType::isDynamic(b) && b != count;
                       }))
        return rewriter.notifyMatchFailure(
            op, "key lengths do not match the attention's batch");
    }

    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), q, k, v, lengths ? lengths : op.getKeyLengths(),
        Value(), op.getScale(), causal || op.getCausal());
    return success();
  }
};

struct TfmLowerMasks : mlir::tfm::impl::TfmLowerMasksBase<TfmLowerMasks> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowerMasksPatterns(patterns);
    auto countMasks = [&] {
      int64_t n = 0;
      getOperation().walk([&](AttentionOp op) { n += op.getMask() ? 1 : 0; });
      return n;
    };
    int64_t before = countMasks();
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numLowered += before - countMasks();
  }
};

} // namespace

void mlir::tfm::populateLowerMasksPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerBuiltMask>(patterns.getContext());
}
