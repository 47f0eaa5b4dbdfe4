//===- LowerChecks.cpp - cf.assert as a call of the runtime's error hook --===//
//
// A failed run-time check in a compiled model ends the entry call with an
// error, not the process: each `cf.assert` becomes a branch to a call of
// `__tfm_check_failed(message)`, which tfm-emit-entry-wrappers defines
// (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERCHECKS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

namespace {
struct TfmLowerChecks : mlir::tfm::impl::TfmLowerChecksBase<TfmLowerChecks> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<cf::AssertOp> asserts;
    module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
    if (asserts.empty())
      return;

    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    auto hook =
        module.lookupSymbol<LLVM::LLVMFuncOp>(mlir::tfm::kCheckFailedName);
    if (!hook)
      hook = b.create<LLVM::LLVMFuncOp>(
          module.getLoc(), mlir::tfm::kCheckFailedName,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}));

    // One constant string per distinct message.
    llvm::StringMap<LLVM::GlobalOp> messages;
    for (cf::AssertOp op : asserts) {
      LLVM::GlobalOp &global = messages[op.getMsg()];
      if (!global) {
        std::string text = (op.getMsg() + Twine('\0')).str();
        auto type =
            LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
        global = b.create<LLVM::GlobalOp>(
            module.getLoc(), type, /*isConstant=*/true, LLVM::Linkage::Private,
            ("__tfm_check_" + Twine(messages.size() - 1)).str(),
            b.getStringAttr(text));
      }
      OpBuilder::InsertionGuard guard(b);
      Block *before = op->getBlock();
      Block *after = before->splitBlock(op->getNextNode());
      Block *failed = b.createBlock(after);
      Location loc = op.getLoc();
      Value message = b.create<LLVM::AddressOfOp>(loc, global);
      b.create<LLVM::CallOp>(loc, hook, ValueRange{message});
      b.create<LLVM::UnreachableOp>(loc);
      b.setInsertionPoint(op);
      b.create<cf::CondBranchOp>(loc, op.getArg(), after, failed);
      op.erase();
      ++numLowered;
    }
  }
};
} // namespace
