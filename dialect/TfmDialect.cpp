//===- TfmDialect.cpp - The tfm dialect -----------------------------------===//
//
// Registers the tfm ops with the dialect.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmDialect.h"
#include "dialect/TfmOps.h"

using namespace mlir;
using namespace mlir::tfm;

#include "dialect/TfmDialect.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/TfmOps.cpp.inc"
      >();
}
