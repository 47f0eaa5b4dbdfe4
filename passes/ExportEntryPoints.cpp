//===- ExportEntryPoints.cpp - Mark public functions as entry points ------===//
//
// Records the tensor-level signature of every public function before
// bufferization erases the static shapes the runtime must check.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMEXPORTENTRYPOINTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

/// Spells a tensor type the way the manifest of runtime/tfm_abi.h does
/// ("f32[?,8,?,64]"), or fails if the runtime cannot pass it.
static FailureOr<std::string> manifestType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  Type elt = tensor.getElementType();
  std::string s;
  llvm::raw_string_ostream os(s);
  if (elt.isF32())
    os << "f32";
  else if (elt.isSignlessInteger(32))
    os << "i32";
  else if (elt.isSignlessInteger(64))
    os << "i64";
  else
    return failure();
  os << "[";
  llvm::interleave(
      tensor.getShape(), os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ",");
  os << "]";
  return s;
}

/// The runtime frees every result it receives, so each must be a buffer of
/// its own: a returned argument, or a value returned twice, is copied.
static void copyAliasedResults(func::FuncOp func) {
  func.walk([](func::ReturnOp ret) {
    OpBuilder b(ret);
    llvm::SmallPtrSet<Value, 4> seen;
    for (OpOperand &operand : ret->getOpOperands()) {
      Value value = operand.get();
      if (!isa<BlockArgument>(value) && seen.insert(value).second)
        continue;
      operand.set(b.create<bufferization::AllocTensorOp>(
          ret.getLoc(), cast<RankedTensorType>(value.getType()), ValueRange(),
          value));
    }
  });
}

namespace {
struct TfmExportEntryPoints
    : mlir::tfm::impl::TfmExportEntryPointsBase<TfmExportEntryPoints> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(&getContext());
    bool failedAny = false;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isDeclaration())
        continue;
      auto spell =
          [&](TypeRange types,
              StringRef what) -> std::optional<SmallVector<Attribute>> {
        SmallVector<Attribute> spelled;
        for (auto [i, type] : llvm::enumerate(types)) {
          FailureOr<std::string> s = manifestType(type);
          if (failed(s)) {
            func.emitError("entry point ")
                << what << " #" << i << " has type " << type
                << "; expected a ranked tensor of f32, i32 or i64";
            return std::nullopt;
          }
          spelled.push_back(b.getStringAttr(*s));
        }
        return spelled;
      };
      auto inputs = spell(func.getArgumentTypes(), "argument");
      auto results = spell(func.getResultTypes(), "result");
      if (!inputs || !results) {
        failedAny = true;
        continue;
      }
      func->setAttr("tfm.entry",
                    b.getDictionaryAttr(
                        {b.getNamedAttr("inputs", b.getArrayAttr(*inputs)),
                         b.getNamedAttr("results", b.getArrayAttr(*results))}));
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
      copyAliasedResults(func);
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
