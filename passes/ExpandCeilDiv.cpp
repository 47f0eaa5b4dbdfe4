//===- ExpandCeilDiv.cpp - arith.ceildivui for the LLVM lowering ----------===//
//
// Upstream's ceil/floor division expansions, alone (see Passes.td: the rest
// of arith-expand would rewrite the kernels' maxima).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMEXPANDCEILDIV
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

namespace {
struct TfmExpandCeilDiv
    : mlir::tfm::impl::TfmExpandCeilDivBase<TfmExpandCeilDiv> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<arith::CeilDivUIOp, arith::CeilDivSIOp, arith::FloorDivSIOp>(op))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    numExpanded += ops.size();
    RewritePatternSet patterns(&getContext());
    arith::populateCeilFloorDivExpandOpsPatterns(patterns);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingOps;
    if (failed(applyOpPatternsAndFold(ops, std::move(patterns), config)))
      return signalPassFailure();
  }
};
} // namespace
