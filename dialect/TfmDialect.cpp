//===- TfmDialect.cpp - The tfm dialect -----------------------------------===//
//
// Registers the tfm ops with the dialect and verifies its discardable
// attributes (tfm.weight, tfm.packed, tfm.inout, tfm.entry, tfm.parallel,
// tfm.model_config, tfm.weights; see TfmDialect.td).
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmDialect.h"
#include "dialect/TfmOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tfm;

#include "dialect/TfmDialect.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/TfmOps.cpp.inc"
      >();
}

/// An entry's type strings: an array of strings.
static bool isStringArray(Attribute attr) {
  auto array = dyn_cast_or_null<ArrayAttr>(attr);
  return array &&
         llvm::all_of(array, [](Attribute a) { return isa<StringAttr>(a); });
}

/// A manifest line's text: no line break, no NUL.
static bool isOneLine(StringRef text) {
  return !text.contains('\n') && !text.contains('\0');
}

LogicalResult TfmDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  if (name == kEntryAttrName) {
    auto entry = dyn_cast<DictionaryAttr>(value);
    if (!isa<FunctionOpInterface>(op) || !entry ||
        !isStringArray(entry.get("inputs")) ||
        !isa_and_nonnull<DenseI64ArrayAttr>(entry.get("inout")) ||
        !isStringArray(entry.get("results")) || entry.size() != 3)
      return op->emitError()
             << name
             << " must be {inputs = [...], inout = array<i64: ...>, "
                "results = [...]} on a function";
    int64_t inputs = cast<ArrayAttr>(entry.get("inputs")).size();
    for (int64_t i : cast<DenseI64ArrayAttr>(entry.get("inout")).asArrayRef())
      if (i < 0 || i >= inputs)
        return op->emitError()
               << name << ": inout index " << i << " is not an input";
    return success();
  }
  if (name == kParallelAttrName) {
    if (!isa<scf::ForOp>(op) || !isa<UnitAttr>(value))
      return op->emitError() << name << " must be a unit attribute on scf.for";
    return success();
  }
  if (name == kModelConfigAttrName || name == kWeightsAttrName ||
      name == kCpuFeaturesAttrName) {
    auto text = dyn_cast<StringAttr>(value);
    if (!isa<ModuleOp>(op) || !text)
      return op->emitError() << name << " must be a string on the module";
    if (!isOneLine(text.getValue()))
      return op->emitError() << name << " must be one line";
    if (name == kWeightsAttrName) {
      SmallVector<StringRef> words;
      text.getValue().split(words, ' ');
      if (words.size() != 2 || llvm::any_of(words, [](StringRef w) {
            return w.size() != 16 || !llvm::all_of(w, llvm::isHexDigit);
          }))
        return op->emitError()
               << name << " must be two hashes of 16 hex digits";
    }
    return success();
  }
  return op->emitError() << "unknown tfm attribute '" << name
                         << "' on an operation";
}

LogicalResult TfmDialect::verifyRegionArgAttribute(Operation *op,
                                                   unsigned region,
                                                   unsigned argIndex,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Attribute value = attr.getValue();
  if (!isa<FunctionOpInterface>(op))
    return op->emitError() << name << " must be on a function argument";
  if (name == kWeightAttrName || name == kScalesOfAttrName) {
    auto weight = dyn_cast<StringAttr>(value);
    if (!weight || weight.getValue().empty())
      return op->emitError() << name << " of argument " << argIndex
                             << " must be a non-empty string";
    return success();
  }
  if (name == kPackedAttrName) {
    auto panel = dyn_cast<IntegerAttr>(value);
    if (!panel || panel.getValue().getSExtValue() < 1)
      return op->emitError() << name << " of argument " << argIndex
                             << " must be a positive integer";
    return success();
  }
  if (name == kInoutAttrName) {
    if (!isa<UnitAttr>(value))
      return op->emitError() << name << " of argument " << argIndex
                             << " must be a unit attribute";
    return success();
  }
  return op->emitError() << "unknown tfm attribute '" << name
                         << "' on argument " << argIndex;
}
