//===- EmitEntryWrappers.cpp - The runtime's entry symbols ----------------===//
//
// Emits what runtime/tfm_abi.h promises a compiled module exports: the
// version, the manifest, and one packed `tfm_entry_NAME(void **)` per entry.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/tfm_abi.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMEMITENTRYWRAPPERS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

/// One manifest line: "entry NAME in f32[..] ... out f32[..] ...".
static std::string manifestLine(StringRef name, DictionaryAttr entry) {
  std::string line = ("entry " + name).str();
  for (auto [key, word] :
       {std::pair{"inputs", " in "}, std::pair{"results", " out "}})
    for (Attribute t : cast<ArrayAttr>(entry.get(key)))
      line += word + cast<StringAttr>(t).getValue().str();
  return line + "\n";
}

namespace {
struct TfmEmitEntryWrappers
    : mlir::tfm::impl::TfmEmitEntryWrappersBase<TfmEmitEntryWrappers> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);

    std::string manifest = "tfm-abi " + std::to_string(TFM_ABI_VERSION) + "\n";
    SmallVector<LLVM::LLVMFuncOp> entries;
    // The LLVM conversion copies the attribute onto the C interface wrapper
    // as well; only the original function is an entry.
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      if (!func->hasAttr("tfm.entry"))
        continue;
      if (func.getSymName().starts_with("_mlir_ciface_"))
        func->removeAttr("tfm.entry");
      else
        entries.push_back(func);
    }

    for (LLVM::LLVMFuncOp func : entries) {
      auto entry = func->getAttrOfType<DictionaryAttr>("tfm.entry");
      if (!entry || !isa_and_nonnull<ArrayAttr>(entry.get("inputs")) ||
          !isa_and_nonnull<ArrayAttr>(entry.get("results"))) {
        func.emitError("malformed tfm.entry attribute");
        return signalPassFailure();
      }
      StringRef name = func.getSymName();
      std::string cifaceName = ("_mlir_ciface_" + name).str();
      auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
      if (!ciface) {
        func.emitError("entry point has no C interface '")
            << cifaceName << "'; run tfm-export-entry-points before the "
            << "LLVM conversion";
        return signalPassFailure();
      }
      int64_t numInputs = cast<ArrayAttr>(entry.get("inputs")).size();
      bool hasResults = !cast<ArrayAttr>(entry.get("results")).empty();
      unsigned numParams = ciface.getFunctionType().getNumParams();
      if (numParams != numInputs + (hasResults ? 1 : 0)) {
        func.emitError("C interface takes ")
            << numParams << " parameters, expected " << numInputs
            << (hasResults ? " inputs and a result pointer" : " inputs");
        return signalPassFailure();
      }
      manifest += manifestLine(name, entry);

      // void tfm_entry_NAME(void **args): args[0] results, args[1+i] inputs.
      auto wrapper = b.create<LLVM::LLVMFuncOp>(
          loc, (TFM_ENTRY_PREFIX + name).str(),
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), ptrType));
      OpBuilder::InsertionGuard guard(b);
      Block *body = wrapper.addEntryBlock(b);
      b.setInsertionPointToStart(body);
      Value args = body->getArgument(0);
      SmallVector<Value> operands;
      for (int64_t i = hasResults ? 0 : 1; i <= numInputs; ++i) {
        Value slot = b.create<LLVM::GEPOp>(
            loc, ptrType, ptrType, args,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        operands.push_back(b.create<LLVM::LoadOp>(loc, ptrType, slot));
      }
      b.create<LLVM::CallOp>(loc, ciface, operands);
      b.create<LLVM::ReturnOp>(loc, ValueRange());
      func->removeAttr("tfm.entry");
      ++numEntries;
    }

    auto i32 = IntegerType::get(ctx, 32);
    b.create<LLVM::GlobalOp>(loc, i32, /*isConstant=*/true,
                             LLVM::Linkage::External, TFM_ABI_VERSION_SYMBOL,
                             b.getI32IntegerAttr(TFM_ABI_VERSION));
    manifest.push_back('\0');
    auto manifestType =
        LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), manifest.size());
    b.create<LLVM::GlobalOp>(loc, manifestType, /*isConstant=*/true,
                             LLVM::Linkage::External, TFM_MANIFEST_SYMBOL,
                             b.getStringAttr(manifest));
  }
};
} // namespace
