//===- VectorSoftmax.h - exp and online-softmax steps -----------*- C++ -*-===//
//
// The arithmetic of the attention kernels' online softmax on f32 vectors
// (and scalars, where noted), built with the kernel support functions.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_VECTORSOFTMAX_H
#define TFM_PASSES_VECTORSOFTMAX_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::tfm {

/// No NaN reaches the attention kernels' maxima (scores of finite inputs,
/// -inf for hidden keys): plain vmaxps, without the NaN-propagating fix-up.
inline constexpr arith::FastMathFlags kNoNaN = arith::FastMathFlags::nnan;

/// exp(x) on an f32 vector, for arguments x <= 0 (scores minus their
/// running maximum), in 14 vector operations; at most 2.3e-7 relative error
/// over [-86, 0]. -inf gives ~4e-38, not 0 (see `probabilities`).
Value fastExp(ImplicitLocOpBuilder &b, Value x);

/// exp(x) of an f32 scalar through the vector exp.
Value scalarExp(ImplicitLocOpBuilder &b, Value x);

/// The running maximum the scores are shifted by: m, or 0 where nothing has
/// been seen yet (m = -inf), so that exp(-inf - m) stays 0, not NaN. `m` is
/// an f32 or a vector of f32.
Value softmaxBase(ImplicitLocOpBuilder &b, Value m);

/// exp(s - base), exactly 0 for a hidden key (s = -inf).
Value probabilities(ImplicitLocOpBuilder &b, Value s, Value base);

/// The scores `s` (vector<W x f32>) of keys firstKey, firstKey + 1, ...,
/// with -inf for the keys from `limit` on.
Value hidePastLimit(ImplicitLocOpBuilder &b, Value s, Value firstKey,
                    Value limit);

} // namespace mlir::tfm

#endif // TFM_PASSES_VECTORSOFTMAX_H
