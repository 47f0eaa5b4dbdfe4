//===- TfmOps.h - Operations of the tfm dialect -----------------*- C++ -*-===//
//
// Declares the ops generated from TfmOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFMOPS_H
#define TFM_DIALECT_TFMOPS_H

#include "dialect/TfmDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/TfmEnums.h.inc"

#define GET_OP_CLASSES
#include "dialect/TfmOps.h.inc"

namespace mlir::tfm {

/// The shape rules of tfm.attention (see its description): whether q, k,
/// v, the key lengths and the mask (either may be null) and the result
/// agree, a dynamic size agreeing with any. The first disagreement is
/// reported through `emitError` when it is given. AttentionOp::verify and
/// tfm-fuse-attention (before it builds the op) both ask it.
LogicalResult
verifyAttentionShapes(ShapedType query, ShapedType key, ShapedType value,
                      Type keyLengths, Type mask, ShapedType result,
                      function_ref<InFlightDiagnostic()> emitError = {});

/// Whether `attr` is a floating-point splat of zero (a tensor of zeros).
bool isZeroSplat(Attribute attr);

} // namespace mlir::tfm

#endif // TFM_DIALECT_TFMOPS_H
