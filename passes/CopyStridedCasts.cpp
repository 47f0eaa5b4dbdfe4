//===- CopyStridedCasts.cpp - Contiguous copies for layout-dropping casts -===//
//
// After one-shot bufferization, `memref.cast` from a strided view to the
// identity layout asserts, without a check, that the view is contiguous
// with offset 0; a cast to a layout with static strides (the attention
// kernels' unit innermost stride) asserts those. Where that cannot be
// proved from the types, the view is copied into a fresh contiguous buffer
// instead (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMCOPYSTRIDEDCASTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

/// Whether a buffer of type `from` provably has the layout of `to`: each
/// stride and the offset that `to` states statically are those of `from`
/// (for the identity layout: those of a contiguous row-major array of
/// `from`'s shape).
static bool provablyConforms(MemRefType from, MemRefType to) {
  if (from.getLayout() == to.getLayout())
    return true;
  SmallVector<int64_t> fromStrides, toStrides;
  int64_t fromOffset, toOffset;
  if (failed(getStridesAndOffset(from, fromStrides, fromOffset)) ||
      failed(getStridesAndOffset(to, toStrides, toOffset)))
    return false;
  if (to.getLayout().isIdentity()) {
    // The identity layout's strides follow from the sizes, which may be
    // dynamic: state them from `from`'s static sizes.
    int64_t expected = 1;
    for (int64_t i = to.getRank() - 1; i >= 0; --i) {
      toStrides[i] = expected;
      if (i == 0)
        break;
      if (from.isDynamicDim(i))
        return false; // The next stride would depend on it.
      expected *= from.getDimSize(i);
    }
    toOffset = 0;
  }
  auto agrees = [](int64_t want, int64_t have) {
    return ShapedType::isDynamic(want) || want == have;
  };
  for (auto [want, have] : llvm::zip_equal(toStrides, fromStrides))
    if (!agrees(want, have))
      return false;
  return agrees(toOffset, fromOffset);
}

namespace {
struct TfmCopyStridedCasts
    : mlir::tfm::impl::TfmCopyStridedCastsBase<TfmCopyStridedCasts> {
  void runOnOperation() override {
    SmallVector<memref::CastOp> casts;
    getOperation().walk([&](memref::CastOp cast) {
      auto from = dyn_cast<MemRefType>(cast.getSource().getType());
      auto to = dyn_cast<MemRefType>(cast.getType());
      if (from && to && !provablyConforms(from, to))
        casts.push_back(cast);
    });
    for (memref::CastOp castOp : casts) {
      OpBuilder b(castOp);
      Location loc = castOp.getLoc();
      auto type = mlir::cast<MemRefType>(castOp.getType());
      SmallVector<Value> sizes;
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          sizes.push_back(b.create<memref::DimOp>(loc, castOp.getSource(), i));
      // A contiguous buffer at the cast's static sizes (the cast checked
      // that they agree with the source's), cast to the target layout where
      // that is not the identity (strides that a contiguous buffer has).
      auto contiguous =
          MemRefType::get(type.getShape(), type.getElementType(),
                          MemRefLayoutAttrInterface(), type.getMemorySpace());
      if (!provablyConforms(contiguous, type)) {
        castOp.emitError("cannot pass a view as a buffer of layout ")
            << type.getLayout() << ": not even a contiguous copy has it";
        return signalPassFailure();
      }
      Value copy = b.create<memref::AllocOp>(loc, contiguous, sizes,
                                             b.getI64IntegerAttr(64));
      b.create<linalg::CopyOp>(loc, castOp.getSource(), copy);
      if (contiguous != type)
        copy = b.create<memref::CastOp>(loc, type, copy);
      castOp.replaceAllUsesWith(copy);
      castOp.erase();
      ++numCopied;
    }
  }
};
} // namespace
