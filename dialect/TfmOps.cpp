//===- TfmOps.cpp - Verifiers, folders and canonicalizations --------------===//
//
// Shape rules between operands (the part ODS cannot say), and the folds that
// are obviously right.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfm;

#include "dialect/TfmEnums.cpp.inc"

#define GET_OP_CLASSES
#include "dialect/TfmOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

static constexpr int64_t kDyn = ShapedType::kDynamic;

static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The more precise of two compatible dimensions.
static int64_t refineDim(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) ? b : a;
}

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// Checks that `actual` has the rank of `expected` and that every dimension
/// is compatible (a dynamic dimension on either side matches anything);
/// reports a mismatch through `emitError` when given.
static LogicalResult expectShape(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, Type actual,
                                 ArrayRef<int64_t> expected) {
  auto shaped = cast<ShapedType>(actual);
  bool ok = shaped.getRank() == static_cast<int64_t>(expected.size()) &&
            llvm::all_of(llvm::zip(shaped.getShape(), expected), [](auto p) {
              return dimsCompatible(std::get<0>(p), std::get<1>(p));
            });
  if (ok)
    return success();
  if (!emitError)
    return failure();
  return emitError() << "expected " << name << " of shape "
                     << formatShape(expected) << ", got " << actual;
}

static LogicalResult expectShape(Operation *op, StringRef name, Type actual,
                                 ArrayRef<int64_t> expected) {
  return expectShape([op] { return op->emitOpError(); }, name, actual,
                     expected);
}

/// Checks that `operand` broadcasts to `shape`: trailing dimensions aligned,
/// each equal (or dynamic) or 1.
static LogicalResult
expectBroadcastable(function_ref<InFlightDiagnostic()> emitError,
                    StringRef name, Type operand, ArrayRef<int64_t> shape) {
  auto shaped = cast<ShapedType>(operand);
  int64_t rank = shaped.getRank();
  bool ok = rank <= static_cast<int64_t>(shape.size());
  for (int64_t i = 0; ok && i < rank; ++i) {
    int64_t d = shaped.getDimSize(rank - 1 - i);
    int64_t t = shape[shape.size() - 1 - i];
    ok = d == 1 || dimsCompatible(d, t);
  }
  if (ok)
    return success();
  if (!emitError)
    return failure();
  return emitError() << "expected " << name << " broadcastable to "
                     << formatShape(shape) << ", got " << operand;
}

static LogicalResult expectBroadcastable(Operation *op, StringRef name,
                                         Type operand,
                                         ArrayRef<int64_t> shape) {
  return expectBroadcastable([op] { return op->emitOpError(); }, name, operand,
                             shape);
}

bool mlir::tfm::isZeroSplat(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr);
  return dense && dense.isSplat() && dense.getSplatValue<APFloat>().isZero();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

/// `scales` is given with an int8 weight, and only then, with `n` elements
/// (a dynamic `n` checks nothing).
static LogicalResult verifyScales(Operation *op, StringRef name,
                                  Type weightType, Value scales, int64_t n) {
  Type element = cast<ShapedType>(weightType).getElementType();
  if (!element.isInteger(8)) {
    if (scales)
      return op->emitOpError("expected no ")
             << name << " with a weight of " << element << " (only int8 "
             << "weights take scales)";
    return success();
  }
  if (!scales)
    return op->emitOpError("expected ")
           << name << " with the int8 weight " << weightType;
  return expectShape(op, name, scales.getType(), {n});
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Checks that `panels` panels of `width` features cover `features`.
static LogicalResult expectPanels(Operation *op, int64_t features,
                                  int64_t panels, int64_t width) {
  if (ShapedType::isDynamic(features) || ShapedType::isDynamic(panels) ||
      panels == ceilDiv(features, width))
    return success();
  return op->emitOpError("expected ")
         << ceilDiv(features, width) << " panels of " << width << " for "
         << features << " output features, got " << panels;
}

LogicalResult EmbeddingOp::verify() {
  auto ids = getIds().getType();
  auto table = cast<RankedTensorType>(getTable().getType());
  // A k-pair table ([NP, ceil(d / 2), P, 2]) holds pairs of the row.
  bool pairs = table.getRank() == 4;
  if (failed(expectShape(*this, "result", getType(),
                         {ids.getDimSize(0), ids.getDimSize(1),
                          pairs ? kDyn : table.getDimSize(1)})))
    return failure();
  if (pairs) {
    int64_t d = getType().getDimSize(2);
    if (ShapedType::isDynamic(d) || ceilDiv(d, 2) != table.getDimSize(1))
      return emitOpError("expected a static row size d with ceil(d / 2) = ")
             << table.getDimSize(1) << " (the k-pair table's dimension 1), "
             << "got " << getType();
  }
  if (failed(verifyScales(*this, "scales", table, getScales(),
                          table.getRank() == 2 ? table.getDimSize(0) : kDyn)))
    return failure();
  if (getScales() && table.getRank() >= 3)
    return expectPanels(*this, getScales().getType().getDimSize(0),
                        table.getDimSize(0), table.getDimSize(2));
  return success();
}

//===----------------------------------------------------------------------===//
// PositionalEncodingOp
//===----------------------------------------------------------------------===//

LogicalResult PositionalEncodingOp::verify() {
  auto input = getInput().getType();
  if (getOffsets() &&
      failed(expectShape(*this, "offsets", getOffsets().getType(),
                         {input.getDimSize(0)})))
    return failure();
  if (!getTable())
    return success();
  auto table = getTable().getType();
  if (failed(expectShape(*this, "table", table, {kDyn, input.getDimSize(2)})))
    return failure();
  int64_t seq = input.getDimSize(1), positions = table.getDimSize(0);
  if (!ShapedType::isDynamic(seq) && !ShapedType::isDynamic(positions) &&
      seq > positions)
    return emitOpError("expected at most ")
           << positions << " positions (the table's rows), got " << seq;
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryOp
//===----------------------------------------------------------------------===//

LogicalResult RotaryOp::verify() {
  auto input = getInput().getType();
  int64_t d = input.getDimSize(3);
  if (ShapedType::isDynamic(d) || d % 2 != 0)
    return emitOpError("expected a static, even head size, got ") << input;
  if (getOffsets() &&
      failed(expectShape(*this, "offsets", getOffsets().getType(),
                         {input.getDimSize(0)})))
    return failure();
  float theta = getTheta().convertToFloat();
  if (!(theta > 0.0f) || !std::isfinite(theta))
    return emitOpError("expected a positive finite theta, got ") << theta;
  return success();
}

//===----------------------------------------------------------------------===//
// CacheUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult CacheUpdateOp::verify() {
  auto cache = getCache().getType();
  auto update = getUpdate().getType();
  if (failed(expectShape(*this, "update", update,
                         {cache.getDimSize(0), cache.getDimSize(1), kDyn,
                          cache.getDimSize(3)})) ||
      failed(
          expectShape(*this, "positions", getPositions().getType(),
                      {refineDim(cache.getDimSize(0), update.getDimSize(0))})))
    return failure();
  int64_t n = update.getDimSize(2), capacity = cache.getDimSize(2);
  if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(capacity) &&
      n > capacity)
    return emitOpError("expected at most ")
           << capacity << " new positions (the cache's capacity), got " << n;
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() < 1)
    return emitOpError("expected input of rank >= 1, got ") << input;
  int64_t k = input.getShape().back();
  auto weight = getWeight().getType();
  if (failed(expectShape(*this, "weight", weight, {kDyn, k})))
    return failure();
  int64_t n = weight.getDimSize(0);
  if (getBias() && failed(expectShape(*this, "bias", getBias().getType(), {n})))
    return failure();
  if (getBias())
    n = refineDim(n, getBias().getType().getDimSize(0));
  SmallVector<int64_t> expected(input.getShape().drop_back());
  expected.push_back(n);
  return expectShape(*this, "result", getType(), expected);
}

//===----------------------------------------------------------------------===//
// SplitHeadsOp / MergeHeadsOp
//===----------------------------------------------------------------------===//

LogicalResult SplitHeadsOp::verify() {
  auto input = getInput().getType();
  int64_t heads = getHeads();
  int64_t d = input.getDimSize(2);
  int64_t dh = kDyn;
  if (!ShapedType::isDynamic(d)) {
    if (d % heads != 0)
      return emitOpError("expected feature size divisible by heads = ")
             << heads << ", got " << d;
    dh = d / heads;
  }
  return expectShape(*this, "result", getType(),
                     {input.getDimSize(0), heads, input.getDimSize(1), dh});
}

LogicalResult MergeHeadsOp::verify() {
  auto input = getInput().getType();
  int64_t heads = input.getDimSize(1), dh = input.getDimSize(3);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dh))
    return emitOpError("expected static head count and head size, got ")
           << input;
  return expectShape(*this, "result", getType(),
                     {input.getDimSize(0), input.getDimSize(2), heads * dh});
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto input = getInput().getType();
  ArrayRef<int64_t> perm = getPerm();
  int64_t rank = input.getRank();
  SmallVector<bool> seen(rank, false);
  bool isPermutation = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    isPermutation = isPermutation && p >= 0 && p < rank && !seen[p];
    if (isPermutation)
      seen[p] = true;
  }
  if (!isPermutation)
    return emitOpError("expected perm to be a permutation of [0, ")
           << rank << "), got " << formatShape(perm);
  SmallVector<int64_t> expected;
  for (int64_t p : perm)
    expected.push_back(input.getDimSize(p));
  return expectShape(*this, "result", getType(), expected);
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType();
  auto rhs = getRhs().getType();
  int64_t rank = lhs.getRank();
  if (rank < 2)
    return emitOpError("expected lhs of rank >= 2, got ") << lhs;
  ArrayRef<int64_t> l = lhs.getShape();
  int64_t m = l[rank - 2], k = l[rank - 1];
  SmallVector<int64_t> expectedRhs(l.drop_back(2));
  if (getTransposeRhs())
    expectedRhs.append({kDyn, k});
  else
    expectedRhs.append({k, kDyn});
  if (failed(expectShape(*this, "rhs", rhs, expectedRhs)))
    return failure();
  ArrayRef<int64_t> r = rhs.getShape();
  SmallVector<int64_t> expected;
  for (int64_t i = 0; i < rank - 2; ++i)
    expected.push_back(refineDim(l[i], r[i]));
  expected.push_back(m);
  expected.push_back(getTransposeRhs() ? r[rank - 2] : r[rank - 1]);
  return expectShape(*this, "result", getType(), expected);
}

//===----------------------------------------------------------------------===//
// ScaleOp
//===----------------------------------------------------------------------===//

LogicalResult ScaleOp::verify() {
  if (!getFactor().isFinite())
    return emitOpError("expected a finite factor, got ")
           << getFactor().convertToFloat();
  return success();
}

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (getFactor().isExactlyValue(1.0))
    return getInput();
  return {};
}

namespace {
/// scale(scale(x, a), b) -> scale(x, a * b).
struct ComposeScales : OpRewritePattern<ScaleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ScaleOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a scale");
    APFloat factor = op.getFactor();
    factor.multiply(inner.getFactor(), APFloat::rmNearestTiesToEven);
    rewriter.replaceOpWithNewOp<ScaleOp>(op, op.getType(), inner.getInput(),
                                         factor);
    return success();
  }
};
} // namespace

void ScaleOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<ComposeScales>(context);
}

//===----------------------------------------------------------------------===//
// MaskOp
//===----------------------------------------------------------------------===//

LogicalResult MaskOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() < 2)
    return emitOpError("expected input of rank >= 2, got ") << input;
  Value operand = getValues();
  switch (getKind()) {
  case MaskKind::Causal:
    if (operand)
      return emitOpError("expected no operand for a causal mask");
    return success();
  case MaskKind::KeyPadding: {
    if (!operand)
      return emitOpError("expected key lengths operand for a key_padding mask");
    if (input.getRank() < 3)
      return emitOpError("expected input of rank >= 3 for a key_padding "
                         "mask, got ")
             << input;
    auto type = cast<ShapedType>(operand.getType());
    if (!type.getElementType().isSignlessInteger())
      return emitOpError("expected integer key lengths, got ") << type;
    return expectShape(*this, "key lengths", type, {input.getDimSize(0)});
  }
  case MaskKind::Additive: {
    if (!operand)
      return emitOpError("expected mask values operand for an additive mask");
    auto type = cast<ShapedType>(operand.getType());
    if (!type.getElementType().isF32())
      return emitOpError("expected f32 mask values, got ") << type;
    return expectBroadcastable(*this, "mask values", type, input.getShape());
  }
  }
  llvm_unreachable("unknown mask kind");
}

OpFoldResult MaskOp::fold(FoldAdaptor adaptor) {
  auto type = getInput().getType();
  int64_t rank = type.getRank();
  switch (getKind()) {
  case MaskKind::Causal:
    // The single query is the last position: it sees every key.
    if (type.getDimSize(rank - 2) == 1)
      return getInput();
    break;
  case MaskKind::KeyPadding: {
    // Every length covers all keys: nothing is masked.
    int64_t keys = type.getDimSize(rank - 1);
    auto lengths = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getValues());
    if (lengths && !ShapedType::isDynamic(keys) &&
        llvm::all_of(lengths.getValues<APInt>(), [&](const APInt &len) {
          return len.getSExtValue() >= keys;
        }))
      return getInput();
    break;
  }
  case MaskKind::Additive:
    // Adding zeros of the input's own shape; a broadcast zero too, since the
    // result type is the input's.
    if (isZeroSplat(adaptor.getValues()))
      return getInput();
    break;
  }
  return {};
}

//===----------------------------------------------------------------------===//
// SoftmaxOp / LayerNormOp
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getType().getRank();
  int64_t axis = getAxis();
  if (rank < 1 || axis < -rank || axis >= rank)
    return emitOpError("expected axis in [")
           << -rank << ", " << rank << "), got " << axis;
  return success();
}

/// A normalization over the last dimension: `params` (weight, bias) of
/// shape [d], a positive finite epsilon.
static LogicalResult verifyNorm(Operation *op, RankedTensorType input,
                                ArrayRef<std::pair<StringRef, Value>> params,
                                APFloat epsilon) {
  if (input.getRank() < 1)
    return op->emitOpError("expected input of rank >= 1, got ") << input;
  int64_t d = input.getShape().back();
  for (auto [name, value] : params)
    if (failed(expectShape(op, name, value.getType(), {d})))
      return failure();
  float eps = epsilon.convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return op->emitOpError("expected a positive finite epsilon, got ") << eps;
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput().getType(),
                    {{"weight", getWeight()}, {"bias", getBias()}},
                    getEpsilon());
}

//===----------------------------------------------------------------------===//
// RmsNormOp
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, getInput().getType(), {{"weight", getWeight()}},
                    getEpsilon());
}

//===----------------------------------------------------------------------===//
// LastTokenOp
//===----------------------------------------------------------------------===//

LogicalResult LastTokenOp::verify() {
  auto input = getInput().getType();
  if (failed(expectShape(*this, "lengths", getLengths().getType(),
                         {input.getDimSize(0)})))
    return failure();
  return expectShape(*this, "result", getType(),
                     {input.getDimSize(0), 1, input.getDimSize(2)});
}

//===----------------------------------------------------------------------===//
// RepeatHeadsOp
//===----------------------------------------------------------------------===//

LogicalResult RepeatHeadsOp::verify() {
  auto input = getInput().getType();
  int64_t groups = input.getDimSize(1);
  int64_t heads = ShapedType::isDynamic(groups) ? kDyn : groups * getRepeats();
  int64_t resultHeads = getType().getDimSize(1);
  if (!ShapedType::isDynamic(resultHeads) && resultHeads % getRepeats() != 0)
    return emitOpError("expected result heads divisible by repeats = ")
           << getRepeats() << ", got " << resultHeads;
  return expectShape(
      *this, "result", getType(),
      {input.getDimSize(0), heads, input.getDimSize(2), input.getDimSize(3)});
}

//===----------------------------------------------------------------------===//
// AddOp
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  // x + 0 -> x. (The sign of a zero result is not preserved: -0 + 0 is +0.)
  if (isZeroSplat(adaptor.getRhs()))
    return getLhs();
  if (isZeroSplat(adaptor.getLhs()))
    return getRhs();
  return {};
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult
mlir::tfm::verifyAttentionShapes(ShapedType q, ShapedType k, ShapedType v,
                                 Type keyLengths, Type mask, ShapedType result,
                                 function_ref<InFlightDiagnostic()> emitError) {
  int64_t b = q.getDimSize(0), h = q.getDimSize(1), sq = q.getDimSize(2),
          d = q.getDimSize(3);
  if (d == 0 || v.getDimSize(3) == 0) {
    if (emitError)
      emitError() << "expected non-empty heads, got query " << q
                  << " and value " << v;
    return failure();
  }
  if (failed(expectShape(emitError, "key", k, {b, kDyn, kDyn, d})))
    return failure();
  b = refineDim(b, k.getDimSize(0));
  // Grouped-query attention: the key/value heads divide the query heads.
  int64_t kvHeads = k.getDimSize(1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || h % kvHeads != 0)) {
    if (emitError)
      emitError() << "expected key/value heads that divide the " << h
                  << " query heads, got " << kvHeads;
    return failure();
  }
  int64_t sk = k.getDimSize(2);
  if (failed(expectShape(emitError, "value", v, {b, kvHeads, sk, kDyn})))
    return failure();
  sk = refineDim(sk, v.getDimSize(2));
  if (keyLengths &&
      failed(expectShape(emitError, "key_lengths", keyLengths, {b})))
    return failure();
  if (mask &&
      failed(expectBroadcastable(emitError, "mask", mask, {b, h, sq, sk})))
    return failure();
  return expectShape(emitError, "result", result, {b, h, sq, v.getDimSize(3)});
}

LogicalResult AttentionOp::verify() {
  if (!getScale().isFinite())
    return emitOpError("expected a finite scale, got ")
           << getScale().convertToFloat();
  auto typeOf = [](Value v) { return v ? v.getType() : Type(); };
  return verifyAttentionShapes(getQuery().getType(), getKey().getType(),
                               getValue().getType(), typeOf(getKeyLengths()),
                               typeOf(getMask()), getType(),
                               [&] { return emitOpError(); });
}

namespace {
/// A single query is the last position, so a causal mask hides nothing.
struct DropCausalForSingleQuery : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getCausal())
      return rewriter.notifyMatchFailure(op, "not causal");
    if (op.getQuery().getType().getDimSize(2) != 1)
      return rewriter.notifyMatchFailure(op, "query length is not 1");
    rewriter.modifyOpInPlace(op, [&] { op.setCausal(false); });
    return success();
  }
};
} // namespace

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<DropCausalForSingleQuery>(context);
}

//===----------------------------------------------------------------------===//
// PackWeightOp / PackedLinearOp
//===----------------------------------------------------------------------===//

LogicalResult PackWeightOp::verify() {
  auto weight = getWeight().getType();
  auto packed = cast<RankedTensorType>(getType());
  int64_t width = packed.getDimSize(2);
  if (ShapedType::isDynamic(width) || width == 0)
    return emitOpError("expected a static, non-zero panel width, got ")
           << packed;
  int64_t k = weight.getDimSize(1);
  if (failed(expectShape(*this, "result", packed,
                         packed.getRank() == 4
                             ? SmallVector<int64_t>{kDyn,
                                                    ShapedType::isDynamic(k)
                                                        ? kDyn
                                                        : ceilDiv(k, 2),
                                                    width, 2}
                             : SmallVector<int64_t>{kDyn, k, width})))
    return failure();
  if (failed(verifyScales(*this, "scales", packed, getScales(),
                          weight.getDimSize(0))))
    return failure();
  return expectPanels(*this, weight.getDimSize(0), packed.getDimSize(0), width);
}

LogicalResult WeightScalesOp::verify() {
  return expectShape(*this, "result", getType(),
                     {getWeight().getType().getDimSize(0)});
}

/// The shapes a linear layer on packed weights ([NP, K, P], or k-pair
/// [NP, ceil(K / 2), P, 2]) shares between tfm.packed_linear and
/// tfm.packed_gated_linear: a result of the input's rank with a static N,
/// NP = ceil(N / P), the input's last dimension K (static for k pairs).
/// Sets `n`.
static LogicalResult verifyPackedLinearShapes(Operation *op,
                                              RankedTensorType input,
                                              RankedTensorType weight,
                                              RankedTensorType result,
                                              int64_t &n) {
  if (input.getRank() < 1)
    return op->emitOpError("expected input of rank >= 1, got ") << input;
  if (result.getRank() != input.getRank() ||
      ShapedType::isDynamic(result.getShape().back()))
    return op->emitOpError("expected a result of the input's rank with a "
                           "static last dimension, got ")
           << result;
  if (!weight.hasStaticShape() || weight.getDimSize(2) == 0)
    return op->emitOpError("expected a static packed weight with non-zero "
                           "panel width, got ")
           << weight;
  n = result.getShape().back();
  int64_t k = weight.getDimSize(1), width = weight.getDimSize(2);
  if (weight.getRank() == 4) {
    k = input.getShape().back();
    if (ShapedType::isDynamic(k))
      return op->emitOpError("expected a static K with a k-pair weight, got ")
             << input;
    if (failed(expectShape(op, "weight", weight,
                           {ceilDiv(n, width), ceilDiv(k, 2), width, 2})))
      return failure();
  } else if (failed(expectShape(op, "weight", weight,
                                {ceilDiv(n, width), k, width}))) {
    return failure();
  }
  SmallVector<int64_t> expected(input.getShape().drop_back());
  expected.push_back(k);
  if (failed(expectShape(op, "input", input, expected)))
    return failure();
  expected.back() = n;
  return expectShape(op, "result", result, expected);
}

LogicalResult PackedGatedLinearOp::verify() {
  auto weight = cast<RankedTensorType>(getWeight().getType());
  int64_t n;
  if (failed(verifyPackedLinearShapes(*this, getInput().getType(), weight,
                                      getType(), n)))
    return failure();
  if (getGateWeight().getType() != weight)
    return emitOpError("expected the gate weight of the weight's type ")
           << weight << ", got " << getGateWeight().getType();
  if (failed(verifyScales(*this, "gate scales", weight, getGateScales(), n)) ||
      failed(verifyScales(*this, "scales", weight, getScales(), n)))
    return failure();
  for (auto [name, bias] : {std::pair(StringRef("gate bias"), getGateBias()),
                            std::pair(StringRef("bias"), getBias())})
    if (bias && failed(expectShape(*this, name, bias.getType(), {n})))
      return failure();
  if (getActivation() == Activation::None)
    return emitOpError("expected a gate activation, got none");
  return success();
}

LogicalResult PackedLinearOp::verify() {
  int64_t n;
  if (failed(verifyPackedLinearShapes(
          *this, getInput().getType(),
          cast<RankedTensorType>(getWeight().getType()), getType(), n)))
    return failure();
  if (getBias() && failed(expectShape(*this, "bias", getBias().getType(), {n})))
    return failure();
  if (failed(
          verifyScales(*this, "scales", getWeight().getType(), getScales(), n)))
    return failure();
  if (getResidual() &&
      failed(expectShape(*this, "residual", getResidual().getType(),
                         getType().getShape())))
    return failure();
  return success();
}
