//===- LowerToLinalg.cpp - Reference lowering of tfm ops ------------------===//
//
// Each tfm op becomes linalg/tensor/arith/math on its own: no fusion, no
// tiling. This is the lowering every optimized path is checked against, so it
// favours being obviously right (and numerically careful) over being fast.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>
#include <limits>

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERTOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// An empty tensor of exactly `type` (a size that is static in `sizes` but
/// dynamic in `type` stays dynamic, so that the lowered value has the type
/// of the op it replaces; canonicalization refines it later).
static Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                         ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::zip_equal(type.getShape(), sizes))
    if (ShapedType::isDynamic(dim))
      dynamicSizes.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  return b.create<tensor::EmptyOp>(loc, type, dynamicSizes);
}

static Value f32Const(OpBuilder &b, Location loc, double value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}

static Value negInf(OpBuilder &b, Location loc) {
  return f32Const(b, loc, -std::numeric_limits<double>::infinity());
}

static Value filled(OpBuilder &b, Location loc, RankedTensorType type,
                    ArrayRef<OpFoldResult> sizes, Value value) {
  Value empty = emptyTensor(b, loc, type, sizes);
  return b.create<linalg::FillOp>(loc, value, empty).getResult(0);
}

/// A linalg.generic whose body yields the single value `body` returns (the
/// body receives the input elements followed by the output element).
static Value generic(OpBuilder &b, Location loc, Value init, ValueRange inputs,
                     ArrayRef<AffineMap> maps,
                     ArrayRef<utils::IteratorType> iterators, BodyFn body) {
  auto op = b.create<linalg::GenericOp>(
      loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args));
      });
  return op.getResult(0);
}

/// An element-wise generic over `init`'s shape; every input has `init`'s
/// shape unless `inputMaps` says otherwise.
static Value elementwise(OpBuilder &b, Location loc, Value init,
                         ValueRange inputs, BodyFn body,
                         ArrayRef<AffineMap> inputMaps = {}) {
  int64_t rank = cast<RankedTensorType>(init.getType()).getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputMaps);
  if (maps.empty())
    maps.assign(inputs.size(), id);
  maps.push_back(id);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return generic(b, loc, init, inputs, maps, iterators, body);
}

/// The identity map of `rank` dimensions with dimension `axis` dropped.
static AffineMap dropDimMap(OpBuilder &b, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      exprs.push_back(b.getAffineDimExpr(i));
  return AffineMap::get(rank, 0, exprs, b.getContext());
}

/// The type and sizes of `type` with dimension `axis` dropped.
static std::pair<RankedTensorType, SmallVector<OpFoldResult>>
dropDim(RankedTensorType type, ArrayRef<OpFoldResult> sizes, int64_t axis) {
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + axis);
  SmallVector<OpFoldResult> reduced(sizes);
  reduced.erase(reduced.begin() + axis);
  return {RankedTensorType::get(shape, type.getElementType()), reduced};
}

/// Reduces `input` along `axis`: starting from `initValue`, each element,
/// mapped by `map` (which also sees `broadcastInputs`, indexed without
/// `axis`), is folded in with `combine(accumulator, mapped)`.
static Value
reduce(OpBuilder &b, Location loc, Value input, int64_t axis, Value initValue,
       ValueRange broadcastInputs, BodyFn map,
       function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  auto [redType, redSizes] =
      dropDim(type, tensor::getMixedSizes(b, loc, input), axis);
  Value init = filled(b, loc, redType, redSizes, initValue);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap red = dropDimMap(b, rank, axis);
  SmallVector<AffineMap> maps{id};
  SmallVector<Value> inputs{input};
  for (Value v : broadcastInputs) {
    inputs.push_back(v);
    maps.push_back(red);
  }
  maps.push_back(red);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[axis] = utils::IteratorType::reduction;
  return generic(b, loc, init, inputs, maps, iterators,
                 [&](OpBuilder &nb, Location nloc, ValueRange args) {
                   return combine(nb, nloc, args.back(),
                                  map(nb, nloc, args.drop_back()));
                 });
}

static Value identityMap(OpBuilder &, Location, ValueRange args) {
  return args[0];
}

/// Sum of `map(elements)` along `axis`. The additions may be reassociated
/// (LLVM then sums in vector lanes); the order of a sum of f32 is not part
/// of any op's contract.
static Value reduceSum(OpBuilder &b, Location loc, Value input, int64_t axis,
                       ValueRange broadcastInputs, BodyFn map) {
  return reduce(b, loc, input, axis, f32Const(b, loc, 0.0), broadcastInputs,
                map, [](OpBuilder &nb, Location l, Value acc, Value v) {
                  return nb.create<arith::AddFOp>(
                      l, acc, v, arith::FastMathFlags::reassoc);
                });
}

/// Size of dimension `dim` of `value` as an index value.
static Value dimValue(OpBuilder &b, Location loc, Value value, int64_t dim) {
  return getValueOrCreateConstantIndexOp(
      b, loc, tensor::getMixedSize(b, loc, value, dim));
}

/// Size of dimension `dim` of `value` as an f32 (the count a mean divides
/// by).
static Value dimAsF32(OpBuilder &b, Location loc, Value value, int64_t dim) {
  return b.create<arith::UIToFPOp>(
      loc, b.getF32Type(),
      b.create<arith::IndexCastOp>(loc, b.getI64Type(),
                                   dimValue(b, loc, value, dim)));
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

namespace {

template <typename OpTy> struct ElementwisePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpTy::Adaptor;

  /// The scalar computation for one element.
  virtual Value scalar(OpBuilder &b, Location loc, OpTy op,
                       ValueRange args) const = 0;

  LogicalResult
  matchAndRewrite(OpTy op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value first = adaptor.getOperands().front();
    Value init = emptyTensor(rewriter, loc, op.getType(),
                             tensor::getMixedSizes(rewriter, loc, first));
    Value result = elementwise(rewriter, loc, init, adaptor.getOperands(),
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return scalar(b, l, op, args.drop_back());
                               });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerAdd : ElementwisePattern<AddOp> {
  using ElementwisePattern::ElementwisePattern;
  Value scalar(OpBuilder &b, Location loc, AddOp,
               ValueRange args) const override {
    return b.create<arith::AddFOp>(loc, args[0], args[1]);
  }
};

struct LowerMul : ElementwisePattern<MulOp> {
  using ElementwisePattern::ElementwisePattern;
  Value scalar(OpBuilder &b, Location loc, MulOp,
               ValueRange args) const override {
    return b.create<arith::MulFOp>(loc, args[0], args[1]);
  }
};

/// An activation op, element by element (buildActivation's math).
template <typename OpTy, Activation kind>
struct LowerActivation : ElementwisePattern<OpTy> {
  using ElementwisePattern<OpTy>::ElementwisePattern;
  Value scalar(OpBuilder &b, Location loc, OpTy,
               ValueRange args) const override {
    return buildActivation(b, loc, kind, args[0]);
  }
};
using LowerRelu = LowerActivation<ReluOp, Activation::Relu>;
using LowerGelu = LowerActivation<GeluOp, Activation::Gelu>;
using LowerGeluTanh = LowerActivation<GeluTanhOp, Activation::GeluTanh>;
using LowerSilu = LowerActivation<SiluOp, Activation::Silu>;
using LowerTanh = LowerActivation<TanhOp, Activation::Tanh>;

struct LowerScale : ElementwisePattern<ScaleOp> {
  using ElementwisePattern::ElementwisePattern;
  Value scalar(OpBuilder &b, Location loc, ScaleOp op,
               ValueRange args) const override {
    Value factor = b.create<arith::ConstantOp>(loc, op.getFactorAttr());
    return b.create<arith::MulFOp>(loc, args[0], factor);
  }
};

//===----------------------------------------------------------------------===//
// Embedding and positions
//===----------------------------------------------------------------------===//

struct LowerEmbedding : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value ids = adaptor.getIds(), table = adaptor.getTable();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, ids);
    auto tableType = cast<RankedTensorType>(table.getType());
    // A k-pair table [NP, ceil(d / 2), P, 2]: d is the result's (static).
    bool pairs = tableType.getRank() == 4;
    sizes.push_back(pairs ? rewriter.getIndexAttr(op.getType().getDimSize(2))
                          : tensor::getMixedSize(rewriter, loc, table, 1));
    Value init = emptyTensor(rewriter, loc, op.getType(), sizes);
    // A packed table [NP, d, P] holds NP * P rows (the last panel padded).
    bool packed = tableType.getRank() >= 3;
    Value rows = dimValue(rewriter, loc, table, 0);
    Value panel;
    if (packed) {
      panel =
          rewriter.create<arith::ConstantIndexOp>(loc, tableType.getDimSize(2));
      rows = rewriter.create<arith::MulIOp>(loc, rows, panel);
    }
    // The runtime rejects out-of-range ids before the call; clamping here
    // only guarantees that memory is never read out of bounds.
    Value last = rewriter.create<arith::SubIOp>(
        loc, rows, rewriter.create<arith::ConstantIndexOp>(loc, 1));
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap idsMap = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    Value scales = adaptor.getScales();
    if (scales) // Rows past the scales' are padding (never looked up).
      last = rewriter.create<arith::MinSIOp>(
          loc, last,
          rewriter.create<arith::SubIOp>(
              loc, dimValue(rewriter, loc, scales, 0),
              rewriter.create<arith::ConstantIndexOp>(loc, 1)));
    Value result = elementwise(
        rewriter, loc, init, ids,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value id = b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          id = b.create<arith::MinSIOp>(
              l, b.create<arith::MaxSIOp>(l, id, zero), last);
          Value col = b.create<linalg::IndexOp>(l, 2);
          Value v;
          if (pairs) {
            Value two = b.create<arith::ConstantIndexOp>(l, 2);
            v = b.create<tensor::ExtractOp>(
                l, table,
                ValueRange{b.create<arith::DivUIOp>(l, id, panel),
                           b.create<arith::DivUIOp>(l, col, two),
                           b.create<arith::RemUIOp>(l, id, panel),
                           b.create<arith::RemUIOp>(l, col, two)});
          } else if (packed) {
            v = b.create<tensor::ExtractOp>(
                l, table,
                ValueRange{b.create<arith::DivUIOp>(l, id, panel), col,
                           b.create<arith::RemUIOp>(l, id, panel)});
          } else {
            v = b.create<tensor::ExtractOp>(l, table, ValueRange{id, col});
          }
          v = widenToF32(b, l, v);
          if (scales)
            v = b.create<arith::MulFOp>(
                l, v, b.create<tensor::ExtractOp>(l, scales, ValueRange{id}));
          return v;
        },
        {idsMap});
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerPositionalEncoding : OpConversionPattern<PositionalEncodingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PositionalEncodingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Value table = adaptor.getTable(), offsets = adaptor.getOffsets();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    Value init = emptyTensor(rewriter, loc, op.getType(), sizes);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(3);
    if (table && !offsets) {
      // Learned: add the table's first `seq` rows, broadcast over the batch.
      Value rows = rewriter.create<tensor::ExtractSliceOp>(
          loc, table, SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(0)),
          SmallVector<OpFoldResult>{sizes[1], sizes[2]},
          SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
      AffineMap rowMap = AffineMap::get(
          3, 0, {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx)}, ctx);
      rewriter.replaceOp(
          op, elementwise(rewriter, loc, init, {input, rows},
                          [](OpBuilder &b, Location l, ValueRange args) {
                            return b.create<arith::AddFOp>(l, args[0], args[1]);
                          },
                          {id, rowMap}));
      return success();
    }
    // Position of element (b, s, i): s, plus offsets[b] when given.
    SmallVector<Value> inputs{input};
    SmallVector<AffineMap> maps{id};
    if (offsets) {
      inputs.push_back(offsets);
      maps.push_back(AffineMap::get(3, 0, {getAffineDimExpr(0, ctx)}, ctx));
    }
    auto position = [&](OpBuilder &b, Location l, ValueRange args) -> Value {
      Value pos = b.create<linalg::IndexOp>(l, 1);
      if (!offsets)
        return pos;
      Value offset = b.create<arith::IndexCastOp>(l, b.getIndexType(), args[1]);
      return b.create<arith::AddIOp>(l, pos, offset);
    };
    if (table) {
      // Learned, at given positions: one table row per (b, s), clamped so
      // that memory is never read out of bounds.
      Value last = rewriter.create<arith::SubIOp>(
          loc, dimValue(rewriter, loc, table, 0),
          rewriter.create<arith::ConstantIndexOp>(loc, 1));
      Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      rewriter.replaceOp(
          op,
          elementwise(
              rewriter, loc, init, inputs,
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value row = b.create<arith::MinSIOp>(
                    l, b.create<arith::MaxSIOp>(l, position(b, l, args), zero),
                    last);
                Value col = b.create<linalg::IndexOp>(l, 2);
                Value pe =
                    b.create<tensor::ExtractOp>(l, table, ValueRange{row, col});
                return b.create<arith::AddFOp>(l, args[0], pe);
              },
              maps));
      return success();
    }
    Type f64 = rewriter.getF64Type();
    Type i64 = rewriter.getI64Type();
    Value dModel = rewriter.create<arith::UIToFPOp>(
        loc, f64,
        rewriter.create<arith::IndexCastOp>(loc, i64,
                                            dimValue(rewriter, loc, input, 2)));
    // The angle is computed in f64: positions times frequencies reach the
    // thousands, where f32 rounding alone would cost ~1e-4 in sin/cos.
    Value result = elementwise(
        rewriter, loc, init, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto asI64 = [&](Value index) {
            return b.create<arith::IndexCastOp>(l, i64, index);
          };
          Value pos = asI64(position(b, l, args));
          Value feat = asI64(b.create<linalg::IndexOp>(l, 2));
          Value one = b.create<arith::ConstantIntOp>(l, 1, 64);
          Value isOdd = b.create<arith::AndIOp>(l, feat, one);
          Value pair = b.create<arith::SubIOp>(l, feat, isOdd);
          // 1 / 10000^(pair / d) = exp(-pair * ln(10000) / d)
          Value expo = b.create<arith::DivFOp>(
              l,
              b.create<arith::MulFOp>(
                  l, b.create<arith::UIToFPOp>(l, f64, pair),
                  b.create<arith::ConstantOp>(
                      l, b.getF64FloatAttr(-std::log(10000.0)))),
              dModel);
          Value angle =
              b.create<arith::MulFOp>(l, b.create<arith::SIToFPOp>(l, f64, pos),
                                      b.create<math::ExpOp>(l, expo));
          Value odd =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, isOdd,
                                      b.create<arith::ConstantIntOp>(l, 0, 64));
          Value pe =
              b.create<arith::SelectOp>(l, odd, b.create<math::CosOp>(l, angle),
                                        b.create<math::SinOp>(l, angle));
          Value pe32 = b.create<arith::TruncFOp>(l, b.getF32Type(), pe);
          return b.create<arith::AddFOp>(l, args[0], pe32);
        },
        maps);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// One scf.for over the batch, each sequence's rows inserted at its own
/// position (clamped into the cache): in place when the cache is writable.
struct LowerCacheUpdate : OpConversionPattern<CacheUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CacheUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cache = adaptor.getCache(), update = adaptor.getUpdate();
    Value positions = adaptor.getPositions();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, update);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value last = rewriter.create<arith::SubIOp>(
        loc, dimValue(rewriter, loc, cache, 2),
        getValueOrCreateConstantIndexOp(rewriter, loc, sizes[2]));
    auto loop = rewriter.create<scf::ForOp>(
        loc, zero, dimValue(rewriter, loc, update, 0), one, ValueRange{cache},
        [&](OpBuilder &b, Location l, Value batch, ValueRange iterArgs) {
          Value pos = b.create<arith::IndexCastOp>(
              l, b.getIndexType(),
              b.create<tensor::ExtractOp>(l, positions, batch));
          pos = b.create<arith::MinSIOp>(
              l, b.create<arith::MaxSIOp>(l, pos, zero), last);
          SmallVector<OpFoldResult> rowSizes{b.getIndexAttr(1), sizes[1],
                                             sizes[2], sizes[3]};
          SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
          OpFoldResult z = b.getIndexAttr(0);
          Value rows = b.create<tensor::ExtractSliceOp>(
              l, update, SmallVector<OpFoldResult>{batch, z, z, z}, rowSizes,
              strides);
          Value updated = b.create<tensor::InsertSliceOp>(
              l, rows, iterArgs[0], SmallVector<OpFoldResult>{batch, z, pos, z},
              rowSizes, strides);
          b.create<scf::YieldOp>(l, updated);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

/// `init + input . W^T` over the last dimension, for tfm.linear (W read
/// through `weightMap` of (n, k)) and tfm.packed_linear (W widened to f32,
/// times `scales[n]` if given), with the result initialized to the
/// broadcast bias (or zeros).
static Value lowerLinearContraction(ConversionPatternRewriter &rewriter,
                                    Location loc, RankedTensorType type,
                                    Value input, Value weight, Value bias,
                                    AffineMap weightMap,
                                    Value scales = Value()) {
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  sizes.back() = rewriter.getIndexAttr(type.getShape().back());
  if (ShapedType::isDynamic(type.getShape().back()))
    sizes.back() = tensor::getMixedSize(rewriter, loc, weight, 0);
  MLIRContext *ctx = rewriter.getContext();

  Value init;
  if (bias) {
    AffineMap biasMap =
        AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
    init = elementwise(
        rewriter, loc, emptyTensor(rewriter, loc, type, sizes), bias,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; },
        {biasMap});
  } else {
    init = filled(rewriter, loc, type, sizes, f32Const(rewriter, loc, 0.0));
  }

  // Loops: (leading..., n, k).
  int64_t loops = rank + 1;
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t i = 0; i < rank - 1; ++i) {
    inExprs.push_back(getAffineDimExpr(i, ctx));
    outExprs.push_back(getAffineDimExpr(i, ctx));
  }
  AffineExpr n = getAffineDimExpr(rank - 1, ctx);
  AffineExpr k = getAffineDimExpr(rank, ctx);
  inExprs.push_back(k);
  outExprs.push_back(n);
  SmallVector<AffineMap> maps{
      AffineMap::get(loops, 0, inExprs, ctx),
      AffineMap::get(
          loops, 0,
          weightMap.replaceDimsAndSymbols({n, k}, {}, 0, 0).getResults(), ctx)};
  SmallVector<Value> inputs{input, weight};
  if (scales) {
    maps.push_back(AffineMap::get(loops, 0, {n}, ctx));
    inputs.push_back(scales);
  }
  maps.push_back(AffineMap::get(loops, 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  return generic(rewriter, loc, init, inputs, maps, iterators,
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   Value w = widenToF32(b, l, args[1]);
                   if (scales)
                     w = b.create<arith::MulFOp>(l, w, args[2]);
                   Value p = b.create<arith::MulFOp>(l, args[0], w);
                   return b.create<arith::AddFOp>(l, args.back(), p);
                 });
}

struct LowerLinear : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    AffineMap weightMap = AffineMap::get(
        2, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    rewriter.replaceOp(
        op, lowerLinearContraction(rewriter, op.getLoc(), op.getType(),
                                   adaptor.getInput(), adaptor.getWeight(),
                                   adaptor.getBias(), weightMap));
    return success();
  }
};

/// W[n, k] = weight[n floordiv P, k, n mod P]; then the epilogue as the
/// tfm ops it stands for (lowered by this same conversion).
struct LowerPackedLinear : OpConversionPattern<PackedLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackedLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t panel = weightType.getDimSize(2);
    AffineExpr n = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx);
    AffineMap weightMap =
        weightType.getRank() == 4
            ? AffineMap::get(
                  2, 0, {n.floorDiv(panel), k.floorDiv(2), n % panel, k % 2},
                  ctx)
            : AffineMap::get(2, 0, {n.floorDiv(panel), k, n % panel}, ctx);
    Value result = lowerLinearContraction(
        rewriter, loc, op.getType(), adaptor.getInput(), adaptor.getWeight(),
        adaptor.getBias(), weightMap, adaptor.getScales());
    if (op.getActivation() != Activation::None) {
      // The activation over the contraction's result, element by element.
      Value init = emptyTensor(rewriter, loc, op.getType(),
                               tensor::getMixedSizes(rewriter, loc, result));
      result = elementwise(rewriter, loc, init, result,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return buildActivation(b, l, op.getActivation(),
                                                    args[0]);
                           });
    }
    if (Value residual = adaptor.getResidual())
      result = rewriter.create<AddOp>(loc, result, residual);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// result[p, k, j] = weight[p * P + j, k], 0 past the last feature.
/// W[N, K] into panels [ceil(N / P), K, P], rows past N zero: what
/// tensor.pack with inner tile P on dimension 0 says. Not tensor.pack: MLIR
/// 19 lowers it (linalg::lowerPack) for static shapes only (a dynamic N
/// fails), and into a padded copy then a transpose, two passes over the
/// weight where this generic makes one. Only weights computed at run time
/// take this path: tfmc packs the model's parameters itself.
/// act(packed_linear(x, G, gate_bias)) * packed_linear(x, W, bias), each
/// part then lowered by its own pattern.
struct LowerPackedGatedLinear : OpConversionPattern<PackedGatedLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackedGatedLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value gate = rewriter.create<PackedLinearOp>(
        loc, op.getType(), adaptor.getInput(), adaptor.getGateWeight(),
        adaptor.getGateBias(), adaptor.getGateScales(), Value(),
        op.getActivation());
    Value up = rewriter.create<PackedLinearOp>(
        loc, op.getType(), adaptor.getInput(), adaptor.getWeight(),
        adaptor.getBias(), adaptor.getScales(), Value(), Activation::None);
    rewriter.replaceOpWithNewOp<MulOp>(op, gate, up);
    return success();
  }
};

/// `v` as int8 at `scale`: clamp(round_even(v / scale), -127, 127), 0 where
/// the scale is 0.
static Value quantize(OpBuilder &b, Location loc, Value v, Value scale) {
  Value zero = f32Const(b, loc, 0.0);
  Value isZero =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, scale, zero);
  Value divisor =
      b.create<arith::SelectOp>(loc, isZero, f32Const(b, loc, 1.0), scale);
  Value q = b.create<math::RoundEvenOp>(
      loc, b.create<arith::DivFOp>(loc, v, divisor));
  q = b.create<arith::MinimumFOp>(
      loc, b.create<arith::MaximumFOp>(loc, q, f32Const(b, loc, -127.0)),
      f32Const(b, loc, 127.0));
  q = b.create<arith::SelectOp>(loc, isZero, zero, q);
  return b.create<arith::FPToSIOp>(loc, b.getI8Type(), q);
}

/// The bf16 nearest to finite `v`, ties to even, in integer arithmetic:
/// arith.truncf to bf16 is a library call (__truncsfbf2, which compiled
/// models do not link) on targets without AVX512-BF16.
static Value roundToBF16(OpBuilder &b, Location loc, Value v) {
  Type i32 = b.getI32Type();
  auto constant = [&](int64_t c) {
    return b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(c));
  };
  Value bits = b.create<arith::BitcastOp>(loc, i32, v);
  Value high = b.create<arith::ShRUIOp>(loc, bits, constant(16));
  Value lsb = b.create<arith::AndIOp>(loc, high, constant(1));
  Value rounded = b.create<arith::AddIOp>(
      loc, bits, b.create<arith::AddIOp>(loc, lsb, constant(0x7fff)));
  Value top = b.create<arith::TruncIOp>(
      loc, b.getI16Type(),
      b.create<arith::ShRUIOp>(loc, rounded, constant(16)));
  return b.create<arith::BitcastOp>(loc, b.getBF16Type(), top);
}

/// result[n] = max_k |weight[n, k]| / 127.
struct LowerWeightScales : OpConversionPattern<WeightScalesOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WeightScalesOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value weight = adaptor.getWeight();
    RankedTensorType type = op.getType();
    Value init = filled(rewriter, loc, type,
                        {tensor::getMixedSize(rewriter, loc, weight, 0)},
                        f32Const(rewriter, loc, 0.0));
    MLIRContext *ctx = rewriter.getContext();
    Value max =
        generic(rewriter, loc, init, weight,
                {rewriter.getMultiDimIdentityMap(2),
                 AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx)},
                {utils::IteratorType::parallel, utils::IteratorType::reduction},
                [](OpBuilder &b, Location l, ValueRange args) {
                  return b.create<arith::MaximumFOp>(
                      l, args[1], b.create<math::AbsFOp>(l, args[0]));
                });
    Value scales = elementwise(
        rewriter, loc,
        emptyTensor(rewriter, loc, type,
                    tensor::getMixedSizes(rewriter, loc, max)),
        max, [](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::DivFOp>(l, args[0], f32Const(b, l, 127.0));
        });
    rewriter.replaceOp(op, scales);
    return success();
  }
};

struct LowerPackWeight : OpConversionPattern<PackWeightOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackWeightOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value weight = adaptor.getWeight();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(); // 4: k pairs
    int64_t panel = type.getDimSize(2);
    Value features = rewriter.create<tensor::DimOp>(loc, weight, 0);
    Value panelC = rewriter.create<arith::ConstantIndexOp>(loc, panel);
    Value panels = rewriter.create<arith::CeilDivUIOp>(loc, features, panelC);
    Value steps = rewriter.create<tensor::DimOp>(loc, weight, 1);
    Value two = rewriter.create<arith::ConstantIndexOp>(loc, 2);
    SmallVector<OpFoldResult> sizes{
        panels,
        rank == 4
            ? rewriter.create<arith::CeilDivUIOp>(loc, steps, two).getResult()
            : OpFoldResult(steps),
        rewriter.getIndexAttr(panel)};
    if (rank == 4)
      sizes.push_back(rewriter.getIndexAttr(2));
    for (int64_t i = 0; i < 2; ++i)
      if (!type.isDynamicDim(i))
        sizes[i] = rewriter.getIndexAttr(type.getDimSize(i));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange(), emptyTensor(rewriter, loc, type, sizes),
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value p = b.create<linalg::IndexOp>(l, 0);
          Value k = b.create<linalg::IndexOp>(l, 1);
          Value j = b.create<linalg::IndexOp>(l, 2);
          Value n = b.create<arith::AddIOp>(
              l, b.create<arith::MulIOp>(l, p, panelC), j);
          Value rowInside = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::ult, n, features);
          Value zeroIndex = b.create<arith::ConstantIndexOp>(l, 0);
          // Clamp the row read past the end (its value is not used).
          Value row = b.create<arith::SelectOp>(l, rowInside, n, zeroIndex);
          Value inside = rowInside;
          if (rank == 4) { // k = 2 h + r, inside only below K
            k = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, k, two),
                                        b.create<linalg::IndexOp>(l, 3));
            Value kInside =
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, k, steps);
            inside = b.create<arith::AndIOp>(l, inside, kInside);
            k = b.create<arith::SelectOp>(l, kInside, k, zeroIndex);
          }
          Value w = b.create<tensor::ExtractOp>(l, weight, ValueRange{row, k});
          Value v =
              b.create<arith::SelectOp>(l, inside, w, f32Const(b, l, 0.0));
          if (Value scales = adaptor.getScales())
            v = quantize(
                b, l, v,
                b.create<tensor::ExtractOp>(l, scales, ValueRange{row}));
          else if (!type.getElementType().isF32())
            v = roundToBF16(b, l, v);
          b.create<linalg::YieldOp>(l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct LowerMatmul : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    bool transposed = op.getTransposeRhs();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, lhs);
    sizes.back() = tensor::getMixedSize(rewriter, loc, rhs,
                                        transposed ? rank - 2 : rank - 1);
    Value init =
        filled(rewriter, loc, type, sizes, f32Const(rewriter, loc, 0.0));

    // Loops: (batch..., m, n, k).
    MLIRContext *ctx = rewriter.getContext();
    int64_t loops = rank + 1;
    SmallVector<AffineExpr> batch;
    for (int64_t i = 0; i < rank - 2; ++i)
      batch.push_back(getAffineDimExpr(i, ctx));
    AffineExpr m = getAffineDimExpr(rank - 2, ctx);
    AffineExpr n = getAffineDimExpr(rank - 1, ctx);
    AffineExpr k = getAffineDimExpr(rank, ctx);
    auto map = [&](AffineExpr a, AffineExpr b) {
      SmallVector<AffineExpr> exprs(batch);
      exprs.append({a, b});
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps{map(m, k), transposed ? map(n, k) : map(k, n),
                                map(m, n)};
    SmallVector<utils::IteratorType> iterators(loops,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value result = generic(rewriter, loc, init, {lhs, rhs}, maps, iterators,
                           [](OpBuilder &b, Location l, ValueRange args) {
                             Value p =
                                 b.create<arith::MulFOp>(l, args[0], args[1]);
                             return b.create<arith::AddFOp>(l, args[2], p);
                           });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Head reshapes
//===----------------------------------------------------------------------===//

struct LowerSplitHeads : OpConversionPattern<SplitHeadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SplitHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = op.getType(); // [B, H, S, Dh]
    int64_t heads = op.getHeads();
    SmallVector<OpFoldResult> in = tensor::getMixedSizes(rewriter, loc, input);
    OpFoldResult dh =
        type.isDynamicDim(3)
            ? OpFoldResult(rewriter.create<arith::DivUIOp>(
                  loc, dimValue(rewriter, loc, input, 2),
                  rewriter.create<arith::ConstantIndexOp>(loc, heads)))
            : OpFoldResult(rewriter.getIndexAttr(type.getDimSize(3)));
    // [B, S, D] -> [B, S, H, Dh] -> [B, H, S, Dh]
    SmallVector<int64_t> expandedShape{type.getDimSize(0), type.getDimSize(2),
                                       heads, type.getDimSize(3)};
    auto expandedType =
        RankedTensorType::get(expandedShape, type.getElementType());
    SmallVector<OpFoldResult> expandedSizes{in[0], in[1],
                                            rewriter.getIndexAttr(heads), dh};
    Value expanded = rewriter.create<tensor::ExpandShapeOp>(
        loc, expandedType, input,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}}, expandedSizes);
    Value init = emptyTensor(rewriter, loc, type,
                             {in[0], rewriter.getIndexAttr(heads), in[1], dh});
    rewriter.replaceOp(
        op, rewriter
                .create<linalg::TransposeOp>(loc, expanded, init,
                                             ArrayRef<int64_t>{0, 2, 1, 3})
                .getResult());
    return success();
  }
};

struct LowerMergeHeads : OpConversionPattern<MergeHeadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MergeHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType()); // [B, H, S, Dh]
    SmallVector<OpFoldResult> in = tensor::getMixedSizes(rewriter, loc, input);
    auto transposedType =
        RankedTensorType::get({inType.getDimSize(0), inType.getDimSize(2),
                               inType.getDimSize(1), inType.getDimSize(3)},
                              inType.getElementType());
    Value init = emptyTensor(rewriter, loc, transposedType,
                             {in[0], in[2], in[1], in[3]});
    Value transposed = rewriter
                           .create<linalg::TransposeOp>(
                               loc, input, init, ArrayRef<int64_t>{0, 2, 1, 3})
                           .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getType(), transposed,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

/// result[b, 0, i] = input[b, clamp(lengths[b] - 1, 0, S - 1), i].
struct LowerLastToken : OpConversionPattern<LastTokenOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LastTokenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    Value last = rewriter.create<arith::SubIOp>(
        loc, dimValue(rewriter, loc, input, 1),
        rewriter.create<arith::ConstantIndexOp>(loc, 1));
    sizes[1] = rewriter.getIndexAttr(1);
    MLIRContext *ctx = rewriter.getContext();
    Value result = elementwise(
        rewriter, loc, emptyTensor(rewriter, loc, op.getType(), sizes),
        adaptor.getLengths(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value length =
              b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value row = b.create<arith::SubIOp>(
              l, length, b.create<arith::ConstantIndexOp>(l, 1));
          row = b.create<arith::MaxSIOp>(
              l, b.create<arith::MinSIOp>(l, row, last), zero);
          return b.create<tensor::ExtractOp>(
              l, input,
              ValueRange{b.create<linalg::IndexOp>(l, 0), row,
                         b.create<linalg::IndexOp>(l, 2)});
        },
        AffineMap::get(3, 0, {getAffineDimExpr(0, ctx)}, ctx));
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// [B, G, S, D] -> broadcast to [B, G, R, S, D] -> collapse to [B, G*R, S, D].
struct LowerRepeatHeads : OpConversionPattern<RepeatHeadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RepeatHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t repeats = op.getRepeats();
    SmallVector<OpFoldResult> in = tensor::getMixedSizes(rewriter, loc, input);
    auto broadcastType = RankedTensorType::get(
        {inType.getDimSize(0), inType.getDimSize(1), repeats,
         inType.getDimSize(2), inType.getDimSize(3)},
        inType.getElementType());
    Value init = emptyTensor(
        rewriter, loc, broadcastType,
        {in[0], in[1], rewriter.getIndexAttr(repeats), in[2], in[3]});
    Value broadcast =
        rewriter
            .create<linalg::BroadcastOp>(loc, input, init, ArrayRef<int64_t>{2})
            .getResult()[0];
    Value collapsed = rewriter.create<tensor::CollapseShapeOp>(
        loc, broadcast,
        SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
    if (collapsed.getType() != op.getType())
      collapsed = rewriter.create<tensor::CastOp>(loc, op.getType(), collapsed);
    rewriter.replaceOp(op, collapsed);
    return success();
  }
};

struct LowerTranspose : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> perm = op.getPerm();
    SmallVector<OpFoldResult> in = tensor::getMixedSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : perm)
      sizes.push_back(in[p]);
    // linalg.transpose wants the init to be exactly the permuted input type;
    // the op's result type may know more (or less) statically.
    auto inputType = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> permuted;
    for (int64_t p : perm)
      permuted.push_back(inputType.getDimSize(p));
    auto initType = RankedTensorType::get(permuted, inputType.getElementType());
    Value result =
        rewriter
            .create<linalg::TransposeOp>(
                loc, input, emptyTensor(rewriter, loc, initType, sizes), perm)
            .getResult()[0];
    if (result.getType() != op.getType())
      result = rewriter.create<tensor::CastOp>(loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

struct LowerMask : OpConversionPattern<MaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    Value init = emptyTensor(rewriter, loc, type, sizes);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    Value result;
    switch (op.getKind()) {
    case MaskKind::Causal: {
      // Query i sits at absolute position i + (k_len - q_len).
      Value minusInf = negInf(rewriter, loc);
      Value offset = rewriter.create<arith::SubIOp>(
          loc, getValueOrCreateConstantIndexOp(rewriter, loc, sizes[rank - 1]),
          getValueOrCreateConstantIndexOp(rewriter, loc, sizes[rank - 2]));
      result = elementwise(
          rewriter, loc, init, input,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value i = b.create<linalg::IndexOp>(l, rank - 2);
            Value j = b.create<linalg::IndexOp>(l, rank - 1);
            Value last = b.create<arith::AddIOp>(l, i, offset);
            Value hidden =
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, j, last);
            return b.create<arith::SelectOp>(l, hidden, minusInf, args[0]);
          });
      break;
    }
    case MaskKind::KeyPadding: {
      Value minusInf = negInf(rewriter, loc);
      AffineMap lengthsMap =
          AffineMap::get(rank, 0, {getAffineDimExpr(0, ctx)}, ctx);
      result = elementwise(
          rewriter, loc, init, {input, adaptor.getValues()},
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value j = b.create<arith::IndexCastOp>(
                l, args[1].getType(), b.create<linalg::IndexOp>(l, rank - 1));
            Value hidden = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge,
                                                   j, args[1]);
            return b.create<arith::SelectOp>(l, hidden, minusInf, args[0]);
          },
          {id, lengthsMap});
      break;
    }
    case MaskKind::Additive: {
      Value values = adaptor.getValues();
      auto valuesType = cast<RankedTensorType>(values.getType());
      int64_t vRank = valuesType.getRank();
      // Trailing-aligned broadcast: a static 1 against a larger dimension
      // reads index 0.
      SmallVector<AffineExpr> exprs;
      for (int64_t i = 0; i < vRank; ++i) {
        int64_t d = rank - vRank + i;
        bool broadcast =
            valuesType.getDimSize(i) == 1 && type.getDimSize(d) != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(d, ctx));
      }
      result =
          elementwise(rewriter, loc, init, {input, values},
                      [](OpBuilder &b, Location l, ValueRange args) {
                        return b.create<arith::AddFOp>(l, args[0], args[1]);
                      },
                      {id, AffineMap::get(rank, 0, exprs, ctx)});
      break;
    }
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

struct LowerSoftmax : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    int64_t axis = op.getNormalizedAxis();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap red = dropDimMap(rewriter, rank, axis);

    // 1. Row maximum.
    Value minusInf = negInf(rewriter, loc);
    Value max = reduce(rewriter, loc, input, axis, minusInf, {}, identityMap,
                       [](OpBuilder &b, Location l, Value acc, Value v) {
                         return b.create<arith::MaximumFOp>(l, v, acc);
                       });

    // 2. exp(x - max); a row that is all -inf subtracts 0 instead, so its
    //    exponentials are all 0 rather than NaN.
    Value zero = f32Const(rewriter, loc, 0.0);
    Value exps = elementwise(
        rewriter, loc, emptyTensor(rewriter, loc, type, sizes), {input, max},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value empty = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                args[1], minusInf);
          Value m = b.create<arith::SelectOp>(l, empty, zero, args[1]);
          return b.create<math::ExpOp>(l,
                                       b.create<arith::SubFOp>(l, args[0], m));
        },
        {id, red});

    // 3. Row sum, then normalize; a zero sum (nothing visible) gives zeros.
    Value sum = reduceSum(rewriter, loc, exps, axis, {}, identityMap);
    Value result = elementwise(
        rewriter, loc, emptyTensor(rewriter, loc, type, sizes), {exps, sum},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value none = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                               args[1], zero);
          Value p = b.create<arith::DivFOp>(l, args[0], args[1]);
          return b.create<arith::SelectOp>(l, none, zero, p);
        },
        {id, red});
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerLayerNorm : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    int64_t axis = rank - 1;
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap red = dropDimMap(rewriter, rank, axis);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap lastDim =
        AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx);
    Value count = dimAsF32(rewriter, loc, input, axis);
    auto byCount = [&](Value sum) {
      auto [redType, redSizes] = dropDim(type, sizes, axis);
      return elementwise(rewriter, loc,
                         emptyTensor(rewriter, loc, redType, redSizes), sum,
                         [&](OpBuilder &b, Location l, ValueRange args) {
                           return b.create<arith::DivFOp>(l, args[0], count);
                         });
    };

    // Two passes: the mean, then the mean squared deviation from it.
    Value mean =
        byCount(reduceSum(rewriter, loc, input, axis, {}, identityMap));
    Value var =
        byCount(reduceSum(rewriter, loc, input, axis, mean,
                          [](OpBuilder &b, Location l, ValueRange args) {
                            Value d =
                                b.create<arith::SubFOp>(l, args[0], args[1]);
                            return b.create<arith::MulFOp>(l, d, d);
                          }));
    Value eps = rewriter.create<arith::ConstantOp>(loc, op.getEpsilonAttr());
    Value result = elementwise(
        rewriter, loc, emptyTensor(rewriter, loc, type, sizes),
        {input, mean, var, adaptor.getWeight(), adaptor.getBias()},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value centered = b.create<arith::SubFOp>(l, args[0], args[1]);
          Value stddev = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, args[2], eps));
          Value normed = b.create<arith::DivFOp>(l, centered, stddev);
          return b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, normed, args[3]), args[4]);
        },
        {id, red, red, lastDim, lastDim});
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerRmsNorm : OpConversionPattern<RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    int64_t axis = rank - 1;
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap lastDim =
        AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx);
    Value count = dimAsF32(rewriter, loc, input, axis);
    // The mean square, then x / sqrt(ms + eps) * weight.
    Value sumSquares =
        reduceSum(rewriter, loc, input, axis, {},
                  [](OpBuilder &b, Location l, ValueRange args) {
                    return b.create<arith::MulFOp>(l, args[0], args[0]);
                  });
    Value eps = rewriter.create<arith::ConstantOp>(loc, op.getEpsilonAttr());
    Value result =
        elementwise(rewriter, loc, emptyTensor(rewriter, loc, type, sizes),
                    {input, sumSquares, adaptor.getWeight()},
                    [&](OpBuilder &b, Location l, ValueRange args) {
                      Value meanSquare =
                          b.create<arith::DivFOp>(l, args[1], count);
                      Value rms = b.create<math::SqrtOp>(
                          l, b.create<arith::AddFOp>(l, meanSquare, eps));
                      Value normed = b.create<arith::DivFOp>(l, args[0], rms);
                      return b.create<arith::MulFOp>(l, args[2], normed);
                    },
                    {rewriter.getMultiDimIdentityMap(rank),
                     dropDimMap(rewriter, rank, axis), lastDim});
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// inv_freq of tfm.rotary, [d / 2], computed as transformers computes it in
/// f32: 1 / theta^(f32(2 i) / f32(d)).
static DenseElementsAttr rotaryFrequencies(MLIRContext *ctx, float theta,
                                           int64_t d) {
  SmallVector<float> freq;
  for (int64_t i = 0; i < d / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(d);
    freq.push_back(1.0f / std::pow(theta, exponent));
  }
  auto type = RankedTensorType::get({d / 2}, Float32Type::get(ctx));
  return DenseElementsAttr::get(type, ArrayRef<float>(freq));
}

/// Rotary positions in two steps, so that cos and sin are computed once per
/// token and frequency, not once per head and element:
///
///   table[t, s, i] = cos(p * inv_freq[i]), sin(...)  i < d/2; p = s, or
///                    offsets[t] + s (t over the batch with offsets, one row
///                    without)
///   y[.., :h] = x[.., :h] cos - x[.., h:] sin        (h = d/2)
///   y[.., h:] = x[.., h:] cos + x[.., :h] sin
///
/// The rotation is one element-wise generic over [batch, heads, seq, h] with
/// two results, written into the two halves of the result in place. It reads
/// the tables with tensor.extract rather than as operands: as operands, the
/// element-wise fusion of the pipeline would fold the tables back into the
/// rotation and recompute cos and sin for every head.
struct LowerRotary : OpConversionPattern<RotaryOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RotaryOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), offsets = adaptor.getOffsets();
    RankedTensorType type = op.getType();
    int64_t d = type.getDimSize(3), half = d / 2;
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    MLIRContext *ctx = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    Value freqs = rewriter.create<arith::ConstantOp>(
        loc, rotaryFrequencies(ctx, op.getTheta().convertToFloat(), d));

    // The tables: [batch, seq, h] with offsets, [seq, h] without.
    SmallVector<int64_t> tableShape{type.getDimSize(2), half};
    SmallVector<OpFoldResult> tableSizes{sizes[2], rewriter.getIndexAttr(half)};
    if (offsets) {
      tableShape.insert(tableShape.begin(), type.getDimSize(0));
      tableSizes.insert(tableSizes.begin(), sizes[0]);
    }
    auto tableType = RankedTensorType::get(tableShape, f32);
    int64_t tableRank = tableType.getRank();
    auto table = [&](bool sine) {
      SmallVector<Value> inputs;
      SmallVector<AffineMap> maps;
      if (offsets) {
        inputs.push_back(offsets);
        maps.push_back(
            AffineMap::get(tableRank, 0, {getAffineDimExpr(0, ctx)}, ctx));
      }
      return elementwise(
          rewriter, loc, emptyTensor(rewriter, loc, tableType, tableSizes),
          inputs,
          [&](OpBuilder &b, Location l, ValueRange args) {
            // The token's position: s, plus offsets[t] when given.
            Value pos = b.create<linalg::IndexOp>(l, tableRank - 2);
            if (offsets)
              pos = b.create<arith::AddIOp>(
                  l, pos,
                  b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]));
            Value p = b.create<arith::SIToFPOp>(
                l, f32, b.create<arith::IndexCastOp>(l, b.getI64Type(), pos));
            Value i = b.create<linalg::IndexOp>(l, tableRank - 1);
            Value f = b.create<arith::MulFOp>(
                l, p, b.create<tensor::ExtractOp>(l, freqs, i));
            return sine ? b.create<math::SinOp>(l, f).getResult()
                        : b.create<math::CosOp>(l, f).getResult();
          },
          maps);
    };
    Value cosTable = table(false), sinTable = table(true);

    // The halves of the input, and of the result (written in place).
    SmallVector<OpFoldResult> halfSizes(sizes);
    halfSizes[3] = rewriter.getIndexAttr(half);
    SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
    auto offsetsAt = [&](int64_t col) {
      SmallVector<OpFoldResult> at(3, rewriter.getIndexAttr(0));
      at.push_back(rewriter.getIndexAttr(col));
      return at;
    };
    auto halfType = RankedTensorType::get(
        {type.getDimSize(0), type.getDimSize(1), type.getDimSize(2), half},
        f32);
    auto slice = [&](Value v, int64_t col) -> Value {
      return rewriter.create<tensor::ExtractSliceOp>(
          loc, halfType, v, offsetsAt(col), halfSizes, strides);
    };
    Value dest = emptyTensor(rewriter, loc, type, sizes);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    auto rotation = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{halfType, halfType},
        ValueRange{slice(input, 0), slice(input, half)},
        ValueRange{slice(dest, 0), slice(dest, half)},
        SmallVector<AffineMap>(4, id), iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          if (offsets)
            at.push_back(b.create<linalg::IndexOp>(l, 0));
          at.push_back(b.create<linalg::IndexOp>(l, 2));
          at.push_back(b.create<linalg::IndexOp>(l, 3));
          Value c = b.create<tensor::ExtractOp>(l, cosTable, at);
          Value sn = b.create<tensor::ExtractOp>(l, sinTable, at);
          Value x1 = args[0], x2 = args[1];
          Value y1 =
              b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, x1, c),
                                      b.create<arith::MulFOp>(l, x2, sn));
          Value y2 =
              b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, x2, c),
                                      b.create<arith::MulFOp>(l, x1, sn));
          b.create<linalg::YieldOp>(l, ValueRange{y1, y2});
        });
    Value result = rewriter.create<tensor::InsertSliceOp>(
        loc, rotation.getResult(0), dest, offsetsAt(0), halfSizes, strides);
    result = rewriter.create<tensor::InsertSliceOp>(loc, rotation.getResult(1),
                                                    result, offsetsAt(half),
                                                    halfSizes, strides);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// `kv` ([B, Hkv, S, E]) with its heads repeated to the query heads of
/// `query` ([B, H, ., .]): head h of the result is head h / (H / Hkv) of
/// `kv` (grouped-query attention; the reference lowering copies it). `kv`
/// itself when the heads are the same.
static Value repeatHeads(OpBuilder &b, Location loc, Value kv, Value query) {
  auto kvType = cast<RankedTensorType>(kv.getType());
  auto queryType = cast<RankedTensorType>(query.getType());
  int64_t heads = queryType.getDimSize(1), kvHeads = kvType.getDimSize(1);
  if (heads == kvHeads && !ShapedType::isDynamic(heads))
    return kv;
  SmallVector<int64_t> shape(kvType.getShape());
  shape[1] = heads;
  auto type = RankedTensorType::get(shape, kvType.getElementType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < 4; ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(b.create<tensor::DimOp>(loc, i == 1 ? query : kv, i));
  Value group =
      b.create<arith::DivUIOp>(loc, b.create<tensor::DimOp>(loc, query, 1),
                               b.create<tensor::DimOp>(loc, kv, 1));
  Value empty = b.create<tensor::EmptyOp>(loc, type, sizes);
  auto generic = b.create<linalg::GenericOp>(
      loc, type, ValueRange(), empty,
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(4)},
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t i = 0; i < 4; ++i)
          at.push_back(nb.create<linalg::IndexOp>(l, i));
        at[1] = nb.create<arith::DivUIOp>(l, at[1], group);
        nb.create<linalg::YieldOp>(
            l, nb.create<tensor::ExtractOp>(l, kv, at).getResult());
      });
  return generic.getResult(0);
}

/// Writes tfm.attention back as the unfused chain; the other patterns of this
/// pass then lower the chain.
struct DecomposeAttention : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto q = cast<RankedTensorType>(adaptor.getQuery().getType());
    auto k = cast<RankedTensorType>(adaptor.getKey().getType());
    auto scoresType = RankedTensorType::get(
        {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), k.getDimSize(2)},
        q.getElementType());
    // Heads only known at run time must divide (the group size below).
    emitHeadsDivideCheck(rewriter, loc, adaptor.getQuery(), adaptor.getKey());
    emitSizeCheck(rewriter, loc, adaptor.getKey(), 1, adaptor.getValue(), 1);
    Value key =
        repeatHeads(rewriter, loc, adaptor.getKey(), adaptor.getQuery());
    Value value =
        repeatHeads(rewriter, loc, adaptor.getValue(), adaptor.getQuery());
    Value s =
        rewriter.create<MatmulOp>(loc, scoresType, adaptor.getQuery(), key,
                                  /*transpose_rhs=*/true);
    s = rewriter.create<ScaleOp>(loc, scoresType, s, op.getScaleAttr());
    if (Value mask = adaptor.getMask())
      s = rewriter.create<MaskOp>(loc, scoresType, MaskKind::Additive, s, mask);
    if (Value lengths = adaptor.getKeyLengths())
      s = rewriter.create<MaskOp>(loc, scoresType, MaskKind::KeyPadding, s,
                                  lengths);
    if (op.getCausal())
      s = rewriter.create<MaskOp>(loc, scoresType, MaskKind::Causal, s,
                                  Value());
    Value p =
        rewriter.create<SoftmaxOp>(loc, s, rewriter.getI64IntegerAttr(-1));
    rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getType(), p, value,
                                          /*transpose_rhs=*/false);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct TfmLowerToLinalg
    : mlir::tfm::impl::TfmLowerToLinalgBase<TfmLowerToLinalg> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int64_t before = 0;
    func.walk([&](Operation *op) {
      if (isa<TfmDialect>(op->getDialect()))
        ++before;
    });
    ConversionTarget target(getContext());
    target.addIllegalDialect<TfmDialect>();
    // The vector-level op of the bf16 matmul kernels stays until after
    // bufferization (tfm-lower-dot-bf16).
    target.addLegalOp<DotBF16Op>();
    // Run-time checks (cf.assert) come with some lowerings.
    target.addLegalDialect<arith::ArithDialect, cf::ControlFlowDialect,
                           linalg::LinalgDialect, math::MathDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    RewritePatternSet patterns(&getContext());
    populateLowerToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(func, target, std::move(patterns))))
      return signalPassFailure();
    numLowered += before;
  }
};

} // namespace

void mlir::tfm::populateLowerToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeAttention, LowerAdd, LowerCacheUpdate, LowerEmbedding,
               LowerGelu, LowerGeluTanh, LowerSilu, LowerTanh, LowerLayerNorm,
               LowerLinear, LowerMask, LowerMatmul, LowerMergeHeads,
               LowerPackedGatedLinear, LowerPackedLinear, LowerPackWeight,
               LowerWeightScales, LowerPositionalEncoding, LowerLastToken,
               LowerMul, LowerRepeatHeads, LowerRmsNorm, LowerRelu, LowerRotary,
               LowerScale, LowerSoftmax, LowerSplitHeads, LowerTranspose>(
      patterns.getContext());
}
