//===- TfmDialect.h - The tfm dialect ---------------------------*- C++ -*-===//
//
// Declares the tfm dialect (see TfmDialect.td for what it is).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFMDIALECT_H
#define TFM_DIALECT_TFMDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/TfmDialect.h.inc"

#endif // TFM_DIALECT_TFMDIALECT_H
