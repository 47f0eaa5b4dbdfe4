//===- HoistParallelAllocs.cpp - Scratch buffers before parallel loops ----===//
//
// After bufferization, a `tfm.parallel` loop's iterations allocate their own
// scratch (an attention part's packed keys and its m/l rows). This pass
// allocates one buffer before the loop instead, a slot per iteration, and
// turns each allocation into a `memref.view` of its iteration's slot, so
// that the OpenMP worker threads never call the allocator (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/KernelSupport.h"
#include "passes/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMHOISTPARALLELALLOCS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

/// Slots are aligned to at least a cache line, like every buffer the
/// runtime hands out.
static constexpr int64_t kSlotAlignment = 64;

/// Whether `alloc` can live in a slot of a buffer allocated before `loop`:
/// its sizes are known before the loop, and it is a plain identity-layout
/// buffer of whole bytes (memref.view makes nothing else).
static bool canHoist(memref::AllocOp alloc, scf::ForOp loop) {
  MemRefType type = alloc.getType();
  Type element = type.getElementType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
    return false;
  if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
      !alloc.getSymbolOperands().empty())
    return false;
  if (alloc.getAlignment().value_or(0) > kSlotAlignment)
    return false;
  return llvm::all_of(alloc.getDynamicSizes(), [&](Value size) {
    return loop.isDefinedOutsideOfLoop(size);
  });
}

/// Bytes of `alloc`'s buffer, computed from its sizes.
static Value bufferBytes(ImplicitLocOpBuilder &b, memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  int64_t staticBytes = type.getElementTypeBitWidth() / 8;
  for (int64_t size : type.getShape())
    if (!ShapedType::isDynamic(size))
      staticBytes *= size;
  Value bytes = b.create<arith::ConstantIndexOp>(staticBytes);
  for (Value size : alloc.getDynamicSizes())
    bytes = b.create<arith::MulIOp>(bytes, size);
  return bytes;
}

/// Hoists the allocations at the top level of `loop`'s body; returns how
/// many.
static int64_t hoistAllocations(scf::ForOp loop) {
  SmallVector<memref::AllocOp> allocs;
  for (Operation &op : *loop.getBody())
    if (auto alloc = dyn_cast<memref::AllocOp>(op))
      if (canHoist(alloc, loop))
        allocs.push_back(alloc);
  if (allocs.empty() || !loop.getInductionVar().getType().isIndex())
    return 0;

  // One iteration's frame: the slots back to back, each rounded up to the
  // alignment.
  ImplicitLocOpBuilder b(loop.getLoc(), loop);
  Value alignment = index(b, kSlotAlignment);
  Value frame = index(b, 0);
  SmallVector<Value> slotOffsets;
  for (memref::AllocOp alloc : allocs) {
    slotOffsets.push_back(frame);
    Value lines = ceilDiv(b, bufferBytes(b, alloc), alignment);
    frame = add(b, frame, mul(b, lines, alignment));
  }
  // Iterations: ceil((ub - lb) / step), none when ub <= lb.
  Value span =
      max(b, sub(b, loop.getUpperBound(), loop.getLowerBound()), index(b, 0));
  Value trips = ceilDiv(b, span, loop.getStep());
  auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  Value buffer =
      b.create<memref::AllocOp>(bytesType, ValueRange{mul(b, trips, frame)},
                                b.getI64IntegerAttr(kSlotAlignment));

  // In the body: this iteration's frame, then a view per allocation.
  b.setInsertionPointToStart(loop.getBody());
  Value iteration = b.create<arith::DivUIOp>(
      b.create<arith::SubIOp>(loop.getInductionVar(), loop.getLowerBound()),
      loop.getStep());
  Value frameStart = b.create<arith::MulIOp>(iteration, frame);
  for (auto [alloc, offset] : llvm::zip(allocs, slotOffsets)) {
    b.setInsertionPoint(alloc);
    b.setLoc(alloc.getLoc());
    Value shift = b.create<arith::AddIOp>(frameStart, offset);
    Value view = b.create<memref::ViewOp>(alloc.getType(), buffer, shift,
                                          alloc.getDynamicSizes());
    alloc.replaceAllUsesWith(view);
    alloc.erase();
  }
  return allocs.size();
}

namespace {
struct TfmHoistParallelAllocs
    : mlir::tfm::impl::TfmHoistParallelAllocsBase<TfmHoistParallelAllocs> {
  void runOnOperation() override {
    // Inner loops first (a post-order walk), so that what an inner parallel
    // loop hoists can move out of an outer one too.
    SmallVector<scf::ForOp> loops = getParallelLoops(getOperation());
    for (scf::ForOp loop : loops)
      numHoisted += hoistAllocations(loop);
  }
};
} // namespace
