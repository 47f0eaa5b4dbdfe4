//===- Activation.cpp - The math of the epilogue activations --------------===//
//
// One definition of each element-wise activation, on f32 scalars and f32
// vectors alike: the reference lowering applies it per element, the matmul
// kernels per vector of their epilogue. Vector math ops are later rewritten
// into polynomials by tfm-approximate-vector-math; scalars go to libm.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfm;

Value mlir::tfm::buildActivation(OpBuilder &b, Location loc,
                                 Activation activation, Value x) {
  Type type = x.getType();
  auto constant = [&](double v) -> Value {
    FloatAttr value = b.getF32FloatAttr(static_cast<float>(v));
    if (auto vector = dyn_cast<VectorType>(type))
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(vector, ArrayRef<Attribute>(value)));
    return b.create<arith::ConstantOp>(loc, value);
  };
  auto mul = [&](Value l, Value r) -> Value {
    return b.create<arith::MulFOp>(loc, l, r);
  };
  auto add = [&](Value l, Value r) -> Value {
    return b.create<arith::AddFOp>(loc, l, r);
  };
  switch (activation) {
  case Activation::None:
    return x;
  case Activation::Relu:
    // maximumf propagates NaN, as torch.relu does.
    return b.create<arith::MaximumFOp>(loc, x, constant(0.0));
  case Activation::Gelu: {
    // 0.5 x (1 + erf(x / sqrt(2))), the exact form.
    Value erf = b.create<math::ErfOp>(loc, mul(x, constant(M_SQRT1_2)));
    return mul(mul(x, constant(0.5)), add(erf, constant(1.0)));
  }
  case Activation::GeluTanh: {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch's
    // gelu(approximate='tanh') and GPT-2's gelu_new spell it.
    Value cube = mul(mul(x, x), x);
    Value inner = mul(constant(std::sqrt(2.0 / M_PI)),
                      add(x, mul(constant(0.044715), cube)));
    Value tanh = b.create<math::TanhOp>(loc, inner);
    return mul(mul(x, constant(0.5)), add(tanh, constant(1.0)));
  }
  case Activation::Silu: {
    // x / (1 + exp(-x)): exp overflows to +inf for x < -88, which gives the
    // right limit (-0), never NaN.
    Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
    return b.create<arith::DivFOp>(loc, x, add(e, constant(1.0)));
  }
  case Activation::Tanh:
    return b.create<math::TanhOp>(loc, x);
  }
  llvm_unreachable("unknown activation");
}

Value mlir::tfm::widenToF32(OpBuilder &b, Location loc, Value x) {
  Type element = getElementTypeOrSelf(x.getType());
  Type f32 = b.getF32Type();
  if (element.isF32())
    return x;
  Type type = f32;
  if (auto vector = dyn_cast<VectorType>(x.getType()))
    type = vector.clone(f32);
  if (element.isInteger(8))
    return b.create<arith::SIToFPOp>(loc, type, x);
  return b.create<arith::ExtFOp>(loc, type, x);
}
