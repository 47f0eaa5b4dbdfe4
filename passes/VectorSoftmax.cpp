//===- VectorSoftmax.cpp - exp and online-softmax steps on vectors --------===//

#include "passes/VectorSoftmax.h"

#include "passes/KernelSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::tfm;

static constexpr float kInf = std::numeric_limits<float>::infinity();

// x = k ln2 + r with |r| <= ln2 / 2, exp(r) by its degree-6 Taylor
// polynomial, 2^k added to the exponent bits (MLIR's polynomial
// approximation takes ~28 operations, with the cases this kernel never
// meets). Checked at 3M points against exp in double. k is rounded by the
// float addition of 1.5 * 2^23, whose low bits are then k itself (no
// rounding or conversion instruction). x is clamped to >= -86 (exp: 4e-38)
// so that 2^k stays normal.
Value mlir::tfm::fastExp(ImplicitLocOpBuilder &b, Value x) {
  auto type = cast<VectorType>(x.getType());
  auto intType = VectorType::get(type.getShape(), b.getI32Type());
  auto c = [&](float v) { return splat(b, type, v); };
  auto fma = [&](Value a, Value m, Value c) -> Value {
    return b.create<vector::FMAOp>(a, m, c);
  };
  x = b.create<arith::MaximumFOp>(x, c(-86.0f), kNoNaN);
  Value magic = c(12582912.0f); // 1.5 * 2^23
  Value y = fma(x, c(1.44269504088896341f), magic);
  Value k = b.create<arith::SubFOp>(y, magic);
  // ln2 = 0.693359375 - 2.12194440e-4: the high part has 9 significant
  // bits (Cody and Waite).
  Value r = fma(k, c(-0.693359375f), x);
  r = fma(k, c(2.12194440e-4f), r);
  Value p = c(1.0f / 720);
  for (float coefficient : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = fma(p, r, c(coefficient));
  Value twoK = b.create<arith::ShLIOp>(
      b.create<arith::BitcastOp>(intType, y),
      b.create<arith::ConstantOp>(DenseElementsAttr::get(intType, 23)));
  return b.create<arith::BitcastOp>(
      type,
      b.create<arith::AddIOp>(b.create<arith::BitcastOp>(intType, p), twoK));
}

// A scalar math.exp is a libm call, around which every live zmm register
// would be spilled, as all are caller-saved.
Value mlir::tfm::scalarExp(ImplicitLocOpBuilder &b, Value x) {
  VectorType lanes = VectorType::get({16}, b.getF32Type());
  return b.create<vector::ExtractOp>(
      fastExp(b, b.create<vector::BroadcastOp>(lanes, x)), 0);
}

Value mlir::tfm::softmaxBase(ImplicitLocOpBuilder &b, Value m) {
  Value none = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, m,
                                       splat(b, m.getType(), -kInf));
  return b.create<arith::SelectOp>(none, splat(b, m.getType(), 0.0f), m);
}

Value mlir::tfm::probabilities(ImplicitLocOpBuilder &b, Value s, Value base) {
  Value e = fastExp(b, b.create<arith::SubFOp>(s, base));
  Value hidden = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, s,
                                         splat(b, s.getType(), -kInf));
  return b.create<arith::SelectOp>(hidden, splat(b, s.getType(), 0.0f), e);
}

/// Key indices k0, k0 + 1, ..., k0 + width - 1, as a vector of index.
static Value keyIota(ImplicitLocOpBuilder &b, Value k0, int64_t width) {
  SmallVector<int64_t> iota(width);
  for (int64_t i = 0; i < width; ++i)
    iota[i] = i;
  auto type = VectorType::get({width}, b.getIndexType());
  Value base = b.create<arith::ConstantOp>(
      DenseElementsAttr::get(type, ArrayRef<int64_t>(iota)));
  return b.create<arith::AddIOp>(base, b.create<vector::BroadcastOp>(type, k0));
}

Value mlir::tfm::hidePastLimit(ImplicitLocOpBuilder &b, Value s, Value firstKey,
                               Value limit) {
  int64_t width = cast<VectorType>(s.getType()).getDimSize(0);
  Value limits = b.create<vector::BroadcastOp>(
      VectorType::get({width}, b.getIndexType()), limit);
  Value visible = b.create<arith::CmpIOp>(arith::CmpIPredicate::slt,
                                          keyIota(b, firstKey, width), limits);
  return b.create<arith::SelectOp>(visible, s, splat(b, s.getType(), -kInf));
}
