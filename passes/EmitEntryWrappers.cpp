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
using namespace mlir::tfm;

/// One manifest line: "entry NAME in f32[..] inout f32[..] ... out f32[..]".
static std::string manifestLine(StringRef name, DictionaryAttr entry) {
  std::string line = ("entry " + name).str();
  ArrayRef<int64_t> inout = cast<DenseI64ArrayAttr>(entry.get("inout"));
  for (auto [i, t] : llvm::enumerate(cast<ArrayAttr>(entry.get("inputs"))))
    line += (llvm::is_contained(inout, int64_t(i)) ? " inout " : " in ") +
            cast<StringAttr>(t).getValue().str();
  for (Attribute t : cast<ArrayAttr>(entry.get("results")))
    line += " out " + cast<StringAttr>(t).getValue().str();
  return line + "\n";
}

/// The number of memref results an LLVM function returns: none, one
/// descriptor (a struct that starts with the allocated pointer), or a struct
/// of descriptors.
static unsigned numReturnedDescriptors(LLVM::LLVMFuncOp func) {
  auto structType =
      dyn_cast<LLVM::LLVMStructType>(func.getFunctionType().getReturnType());
  if (!structType)
    return 0;
  ArrayRef<Type> body = structType.getBody();
  if (!body.empty() && isa<LLVM::LLVMPointerType>(body.front()))
    return 1;
  return body.size();
}

/// The declaration of `name` in `module`, created if missing.
static LLVM::LLVMFuncOp getOrDeclare(ModuleOp module, OpBuilder &b,
                                     StringRef name,
                                     LLVM::LLVMFunctionType type) {
  if (auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return func;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  return b.create<LLVM::LLVMFuncOp>(module.getLoc(), name, type);
}

/// A function the compiled code calls that the runtime provides: slot
/// `slot` of an exported table, or `fallback` while that slot is null.
struct Hook {
  StringRef name, fallback;
  int64_t slot;
  LLVM::LLVMFunctionType type;
};

/// Defines each hook that `module` declares (and nobody defined) as a call
/// through the exported, writable table `tableName` (zero-initialized; the
/// runtime fills it in when it loads the module), or to its fallback while
/// the slot is null. Nothing is emitted when no hook is declared.
static void defineHooks(ModuleOp module, OpBuilder &b, StringRef tableName,
                        ArrayRef<Hook> hooks) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto declared = [&](const Hook &hook) {
    auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(hook.name);
    return func && func.isExternal() ? func : LLVM::LLVMFuncOp();
  };
  if (llvm::none_of(hooks, declared))
    return;
  {
    auto tableType = LLVM::LLVMArrayType::get(ptr, hooks.size());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(module.getBody());
    auto table = b.create<LLVM::GlobalOp>(loc, tableType, /*isConstant=*/false,
                                          LLVM::Linkage::External, tableName,
                                          Attribute());
    Block *init = b.createBlock(&table.getInitializerRegion());
    b.setInsertionPointToStart(init);
    b.create<LLVM::ReturnOp>(
        loc, b.create<LLVM::ZeroOp>(loc, tableType).getResult());
  }
  for (const Hook &hook : hooks) {
    LLVM::LLVMFuncOp func = declared(hook);
    if (!func)
      continue;
    LLVM::LLVMFuncOp fallback =
        getOrDeclare(module, b, hook.fallback, hook.type);
    func.setLinkage(LLVM::Linkage::Internal);
    OpBuilder::InsertionGuard guard(b);
    Block *entry = func.addEntryBlock(b);
    Block *viaFallback = b.createBlock(&func.getBody());
    Block *viaHook = b.createBlock(&func.getBody());
    b.setInsertionPointToStart(entry);
    Value table = b.create<LLVM::AddressOfOp>(loc, ptr, tableName);
    Value slot = b.create<LLVM::GEPOp>(
        loc, ptr, ptr, table, ArrayRef<LLVM::GEPArg>{int32_t(hook.slot)});
    Value fn = b.create<LLVM::LoadOp>(loc, ptr, slot);
    Value null = b.create<LLVM::ZeroOp>(loc, ptr);
    Value isNull =
        b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::eq, fn, null);
    b.create<LLVM::CondBrOp>(loc, isNull, viaFallback, viaHook);
    Value arg = entry->getArgument(0);
    bool returns = !isa<LLVM::LLVMVoidType>(hook.type.getReturnType());
    b.setInsertionPointToStart(viaFallback);
    auto direct = b.create<LLVM::CallOp>(loc, fallback, ValueRange{arg});
    b.create<LLVM::ReturnOp>(loc, returns ? direct.getResults() : ValueRange());
    b.setInsertionPointToStart(viaHook);
    auto indirect = b.create<LLVM::CallOp>(loc, hook.type, ValueRange{fn, arg});
    b.create<LLVM::ReturnOp>(loc,
                             returns ? indirect.getResults() : ValueRange());
  }
}

/// The fallback of a failed check outside the runtime: the message and a
/// newline on stderr, then abort().
static constexpr StringLiteral kCheckFailedFallback =
    "__tfm_check_failed_abort";

static void defineCheckFailedFallback(ModuleOp module, OpBuilder &b) {
  if (!module.lookupSymbol<LLVM::LLVMFuncOp>(kCheckFailedFallback))
    return;
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto i32 = IntegerType::get(ctx, 32);
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  LLVM::LLVMFuncOp strlenFn = getOrDeclare(
      module, b, "strlen", LLVM::LLVMFunctionType::get(i64, {ptr}));
  LLVM::LLVMFuncOp writeFn = getOrDeclare(
      module, b, "write", LLVM::LLVMFunctionType::get(i64, {i32, ptr, i64}));
  LLVM::LLVMFuncOp abortFn = getOrDeclare(
      module, b, "abort", LLVM::LLVMFunctionType::get(voidType, {}));
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(kCheckFailedFallback);
  func.setLinkage(LLVM::Linkage::Internal);
  OpBuilder::InsertionGuard guard(b);
  Block *entry = func.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  Value message = entry->getArgument(0);
  Value stderrFd = b.create<LLVM::ConstantOp>(loc, i32, 2);
  Value length =
      b.create<LLVM::CallOp>(loc, strlenFn, ValueRange{message}).getResult();
  b.create<LLVM::CallOp>(loc, writeFn, ValueRange{stderrFd, message, length});
  Value newline = LLVM::createGlobalString(loc, b, "__tfm_newline", "\n",
                                           LLVM::Linkage::Private);
  Value one = b.create<LLVM::ConstantOp>(loc, i64, 1);
  b.create<LLVM::CallOp>(loc, writeFn, ValueRange{stderrFd, newline, one});
  b.create<LLVM::CallOp>(loc, abortFn, ValueRange{});
  b.create<LLVM::UnreachableOp>(loc);
}

/// The runtime's hooks: the generic allocation functions the memref
/// lowering calls (_mlir_memref_to_llvm_alloc/free) through `tfm_allocator`
/// = {alloc, free}, malloc/free while it is empty; the failed-check call of
/// tfm-lower-checks through `tfm_error_hook` = {fail}.
static void defineRuntimeHooks(ModuleOp module, OpBuilder &b) {
  MLIRContext *ctx = module.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  defineHooks(module, b, TFM_ALLOCATOR_SYMBOL,
              {{"_mlir_memref_to_llvm_alloc", "malloc", 0,
                LLVM::LLVMFunctionType::get(ptr, {i64})},
               {"_mlir_memref_to_llvm_free", "free", 1,
                LLVM::LLVMFunctionType::get(voidType, {ptr})}});
  defineHooks(module, b, TFM_ERROR_HOOK_SYMBOL,
              {{mlir::tfm::kCheckFailedName, kCheckFailedFallback, 0,
                LLVM::LLVMFunctionType::get(voidType, {ptr})}});
  defineCheckFailedFallback(module, b);
  // Every buffer is a fresh block (malloc's, or the runtime pool's, which
  // hands out a block only while no one holds it): the allocation function
  // returns memory that no other live pointer reaches. Said on a function
  // kept out of line (inlined, its result would be an indirect call's,
  // unknown), LLVM sees it at every call: a reduction's accumulator stays in
  // a register and the loops over two buffers need no overlap checks.
  if (auto alloc =
          module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_memref_to_llvm_alloc");
      alloc && !alloc.isExternal()) {
    alloc.setNoInline(true);
    alloc.setResultAttr(0, LLVM::LLVMDialect::getNoAliasAttrName(),
                        b.getUnitAttr());
  }
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
    // The ABI's symbols are the module's only exports (the wrappers below
    // are created with external linkage).
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (!func.isExternal())
        func.setLinkage(LLVM::Linkage::Internal);
    SmallVector<LLVM::LLVMFuncOp> entries;
    // The LLVM conversion copies the attribute onto the C interface wrapper
    // as well; only the original function is an entry.
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      if (!func->hasAttr(TfmDialect::kEntryAttrName))
        continue;
      if (func.getSymName().starts_with("_mlir_ciface_"))
        func->removeAttr(TfmDialect::kEntryAttrName);
      else
        entries.push_back(func);
    }

    for (LLVM::LLVMFuncOp func : entries) {
      // Its form is the dialect's to verify (TfmDialect.cpp).
      auto entry =
          cast<DictionaryAttr>(func->getAttr(TfmDialect::kEntryAttrName));
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
      size_t numResults = cast<ArrayAttr>(entry.get("results")).size();
      bool hasResults = numResults != 0;
      // An inout argument that bufferization could not update in place is
      // still returned: the caller would get a result it does not expect.
      if (numReturnedDescriptors(func) != numResults) {
        func.emitError("entry point returns ")
            << numReturnedDescriptors(func) << " buffers, the manifest "
            << numResults << "; an inout argument was not updated in place";
        return signalPassFailure();
      }
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
      func->removeAttr(TfmDialect::kEntryAttrName);
      ++numEntries;
    }

    // A model's configuration and the hashes of its weights, for the
    // runtime to check the artifact against: one manifest line each.
    for (auto [attr, line] :
         {std::pair(TfmDialect::kModelConfigAttrName, "config "),
          std::pair(TfmDialect::kWeightsAttrName, "weights "),
          std::pair(TfmDialect::kCpuFeaturesAttrName, "requires ")}) {
      // One line: the dialect verifies it (TfmDialect.cpp).
      auto value = module->getAttrOfType<StringAttr>(attr);
      if (!value)
        continue;
      manifest += (line + value.getValue() + "\n").str();
    }

    defineRuntimeHooks(module, b);
    b.setInsertionPointToEnd(module.getBody());
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
