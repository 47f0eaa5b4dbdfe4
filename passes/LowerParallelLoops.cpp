//===- LowerParallelLoops.cpp - Marked scf.for loops onto OpenMP threads --===//
//
// A kernel marks a loop whose iterations are independent (they write
// disjoint parts of their buffers) with `tfm.parallel`; after bufferization,
// when the loop carries nothing, it becomes
//
//   scf.if (trip count > 1) {
//     omp.parallel {
//       omp.wsloop { omp.loop_nest (%i) = (lb) to (ub) step (s) { body } }
//     }
//   } else {
//     the loop as it was
//   }
//
// so that its iterations are shared among the OpenMP threads (a static
// schedule: contiguous iterations per thread). A loop of one iteration runs
// on the calling thread without calling the OpenMP runtime at all: that is
// how a kernel keeps small problems serial (it asks for one iteration). (An
// `omp.parallel if(false)` would still enter libomp, which allocates a
// serialized team at every call: a decode step would not be allocation-free.)
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERPARALLELLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

SmallVector<scf::ForOp> mlir::tfm::getParallelLoops(Operation *root) {
  SmallVector<scf::ForOp> loops;
  root->walk([&](scf::ForOp loop) {
    if (loop->hasAttr(TfmDialect::kParallelAttrName))
      loops.push_back(loop);
  });
  return loops;
}

namespace {

void lowerToOpenMP(scf::ForOp loop) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  // More than one iteration: (ub - lb) > step.
  Value span =
      b.create<arith::SubIOp>(loc, loop.getUpperBound(), loop.getLowerBound());
  Value several = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, span,
                                          loop.getStep());
  auto ifOp = b.create<scf::IfOp>(loc, several, /*withElseRegion=*/true);
  b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
  b.clone(*loop)->removeAttr(TfmDialect::kParallelAttrName);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  auto parallel = b.create<omp::ParallelOp>(loc, omp::ParallelClauseOps());
  b.createBlock(&parallel.getRegion());
  auto wsloop = b.create<omp::WsloopOp>(loc, omp::WsloopClauseOps());
  b.create<omp::TerminatorOp>(loc);
  b.createBlock(&wsloop.getRegion());
  omp::LoopNestClauseOps nestClauses;
  nestClauses.loopLBVar.push_back(loop.getLowerBound());
  nestClauses.loopUBVar.push_back(loop.getUpperBound());
  nestClauses.loopStepVar.push_back(loop.getStep());
  auto nest = b.create<omp::LoopNestOp>(loc, nestClauses);
  b.create<omp::TerminatorOp>(loc);

  // The body moves into the loop nest; scf.yield becomes omp.yield.
  Block *body = loop.getBody();
  Region &nestRegion = nest.getRegion();
  nestRegion.getBlocks().splice(nestRegion.end(), loop.getRegion().getBlocks());
  body->getTerminator()->erase();
  b.setInsertionPointToEnd(body);
  b.create<omp::YieldOp>(loc);
  loop.erase();
}

struct TfmLowerParallelLoops
    : mlir::tfm::impl::TfmLowerParallelLoopsBase<TfmLowerParallelLoops> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops = getParallelLoops(getOperation());
    for (scf::ForOp loop : loops) {
      // A worker thread cannot report a failed allocation to the caller.
      WalkResult allocates = loop.getBody()->walk([](memref::AllocOp alloc) {
        alloc.emitError("allocation inside a tfm.parallel loop: the worker "
                        "threads must not allocate (run "
                        "tfm-hoist-parallel-allocs after bufferization)");
        return WalkResult::interrupt();
      });
      if (allocates.wasInterrupted())
        return signalPassFailure();
      if (loop.getNumResults() != 0) {
        // Still carrying values: not provably independent; stays serial.
        loop->removeAttr(TfmDialect::kParallelAttrName);
        continue;
      }
      lowerToOpenMP(loop);
      ++numLowered;
    }
  }
};

} // namespace
