//===- DeallocAfterLastUse.cpp - Free each buffer after its last use ------===//
//
// MLIR's ownership-based buffer deallocation frees a block's buffers right
// before the block's terminator: every intermediate buffer of an entry point
// lives until the entry returns. A forward pass then holds all of its
// layers' activations at once (a 512-token prefill of a 16-layer model took
// ~450 MB, every page of it faulted in fresh), and the runtime's buffer pool
// (runtime/BufferPool.h) can never hand a later layer the blocks an earlier
// layer is done with. This pass moves each `memref.dealloc` of a buffer
// allocated in the same block to right after the last operation of that
// block that uses the buffer or a view of it (as BufferViewFlowAnalysis
// finds them).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMDEALLOCAFTERLASTUSE
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// The last operation of `block` that uses `buffer` or a view of it, other
/// than `dealloc`; null when one of them is used outside the block or its
/// address escapes into a value that is not a buffer (after which uses
/// cannot be followed).
Operation *lastUseInBlock(const BufferViewFlowAnalysis &views, Value buffer,
                          Operation *dealloc, Block *block) {
  Operation *last = buffer.getDefiningOp();
  for (Value view : views.resolve(buffer)) {
    for (Operation *user : view.getUsers()) {
      if (user == dealloc)
        continue;
      if (isa<memref::ExtractAlignedPointerAsIndexOp,
              memref::ExtractStridedMetadataOp>(user))
        return nullptr;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return nullptr;
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  }
  return last;
}

struct TfmDeallocAfterLastUse
    : mlir::tfm::impl::TfmDeallocAfterLastUseBase<TfmDeallocAfterLastUse> {
  void runOnOperation() override {
    BufferViewFlowAnalysis views(getOperation());
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk(
        [&](memref::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    for (memref::DeallocOp dealloc : deallocs) {
      Value buffer = dealloc.getMemref();
      Block *block = dealloc->getBlock();
      auto alloc = buffer.getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != block)
        continue;
      Operation *last = lastUseInBlock(views, buffer, dealloc, block);
      if (!last || !last->isBeforeInBlock(dealloc) ||
          last->getNextNode() == dealloc.getOperation())
        continue;
      dealloc->moveAfter(last);
      ++numMoved;
    }
  }
};

} // namespace
