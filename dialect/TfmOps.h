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

#endif // TFM_DIALECT_TFMOPS_H
