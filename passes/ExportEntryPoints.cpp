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
using namespace mlir::tfm;

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
  else if (elt.isBF16()) // stored weights
    os << "bf16";
  else if (elt.isSignlessInteger(8))
    os << "i8";
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
/// its own: a returned argument, or a value returned twice, is copied. The
/// last `numTied` results are the updated inout arguments and stay as they
/// are.
static void copyAliasedResults(func::FuncOp func, unsigned numTied) {
  func.walk([&](func::ReturnOp ret) {
    OpBuilder b(ret);
    llvm::SmallPtrSet<Value, 4> seen;
    unsigned numOwned = ret->getNumOperands() - numTied;
    for (OpOperand &operand : ret->getOpOperands().take_front(numOwned)) {
      Value value = operand.get();
      if (!isa<BlockArgument>(value) && seen.insert(value).second)
        continue;
      operand.set(b.create<bufferization::AllocTensorOp>(
          ret.getLoc(), cast<RankedTensorType>(value.getType()), ValueRange(),
          value));
    }
  });
}

/// The arguments marked `tfm.inout`, in order. Each must be matched by one
/// of the trailing results, of the same type: the argument's new value,
/// which bufferization writes in place and the LLVM lowering drops.
static FailureOr<SmallVector<int64_t>> tiedArguments(func::FuncOp func) {
  SmallVector<int64_t> tied;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, TfmDialect::kInoutAttrName))
      tied.push_back(i);
  unsigned numResults = func.getNumResults();
  if (tied.size() > numResults)
    return func.emitError("entry point has ")
           << tied.size() << " inout arguments but only " << numResults
           << " results; each inout argument needs a trailing result";
  for (auto [k, arg] : llvm::enumerate(tied)) {
    unsigned result = numResults - tied.size() + k;
    if (func.getArgumentTypes()[arg] != func.getResultTypes()[result])
      return func.emitError("inout argument #")
             << arg << " has type " << func.getArgumentTypes()[arg]
             << " but its result #" << result << " has type "
             << func.getResultTypes()[result];
  }
  return tied;
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
                << "; expected a ranked tensor of f32, i32 or i64 (bf16 or "
                   "i8 for weights)";
            return std::nullopt;
          }
          spelled.push_back(b.getStringAttr(*s));
        }
        return spelled;
      };
      FailureOr<SmallVector<int64_t>> tied = tiedArguments(func);
      if (failed(tied)) {
        failedAny = true;
        continue;
      }
      auto inputs = spell(func.getArgumentTypes(), "argument");
      auto results =
          spell(func.getResultTypes().drop_back(tied->size()), "result");
      if (!inputs || !results) {
        failedAny = true;
        continue;
      }
      for (int64_t arg : *tied)
        func.setArgAttr(arg,
                        bufferization::BufferizationDialect::kWritableAttrName,
                        b.getBoolAttr(true));
      func->setAttr(TfmDialect::kEntryAttrName,
                    b.getDictionaryAttr(
                        {b.getNamedAttr("inputs", b.getArrayAttr(*inputs)),
                         b.getNamedAttr("inout", b.getDenseI64ArrayAttr(*tied)),
                         b.getNamedAttr("results", b.getArrayAttr(*results))}));
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
      copyAliasedResults(func, tied->size());
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
