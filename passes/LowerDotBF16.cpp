//===- LowerDotBF16.cpp - tfm.dot_bf16 to vdpbf16ps -----------------------===//
//
// tfm.dot_bf16 is the vector-level op of the bf16 matmul kernels
// (tfm-tile-matmul on k-pair weights); here, after bufferization, each one
// becomes a call of AVX512-BF16's vdpbf16ps intrinsic.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERDOTBF16
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {
struct TfmLowerDotBF16 : mlir::tfm::impl::TfmLowerDotBF16Base<TfmLowerDotBF16> {
  void runOnOperation() override {
    // Counted here: Debian's LLVM is built without statistics, so the
    // statistic itself always reads 0.
    int64_t lowered = 0;
    getOperation()->walk([&](DotBF16Op dot) {
      OpBuilder b(dot);
      Value result = b.create<LLVM::CallIntrinsicOp>(
                          dot.getLoc(), dot.getType(),
                          b.getStringAttr("llvm.x86.avx512bf16.dpbf16ps.512"),
                          ValueRange{dot.getAcc(), dot.getLhs(), dot.getRhs()})
                         .getResult(0);
      dot.replaceAllUsesWith(result);
      dot.erase();
      ++numLowered;
      ++lowered;
    });
    // The module cannot run without the instruction: the manifest says so.
    auto module = dyn_cast<ModuleOp>(getOperation());
    if (!module)
      module = getOperation()->getParentOfType<ModuleOp>();
    if (lowered == 0 || !module)
      return;
    auto features =
        module->getAttrOfType<StringAttr>(TfmDialect::kCpuFeaturesAttrName);
    std::string list = features ? features.getValue().str() : "";
    if (!llvm::is_contained(llvm::split(list, ' '), "avx512bf16"))
      list += list.empty() ? "avx512bf16" : " avx512bf16";
    module->setAttr(TfmDialect::kCpuFeaturesAttrName,
                    StringAttr::get(module.getContext(), list));
  }
};
} // namespace
