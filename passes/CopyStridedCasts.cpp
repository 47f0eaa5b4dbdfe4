//===- CopyStridedCasts.cpp - Contiguous copies for layout-dropping casts -===//
//
// After one-shot bufferization, `memref.cast` from a strided view to the
// identity layout asserts, without a check, that the view is contiguous
// with offset 0. Where that cannot be proved from the types, the view is
// copied into a fresh contiguous buffer instead (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMCOPYSTRIDEDCASTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

/// Whether a buffer of type `type` is laid out as the identity layout of
/// its shape: static strides and offset equal to those of a contiguous
/// row-major array.
static bool provablyIdentity(MemRefType type) {
  if (type.getLayout().isIdentity())
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) || offset != 0)
    return false;
  int64_t expected = 1;
  for (int64_t i = type.getRank() - 1; i >= 0; --i) {
    if (strides[i] != expected)
      return false;
    if (i > 0 && ShapedType::isDynamic(type.getDimSize(i)))
      return false; // The next stride would depend on it.
    expected *= type.getDimSize(i);
  }
  return true;
}

namespace {
struct TfmCopyStridedCasts
    : mlir::tfm::impl::TfmCopyStridedCastsBase<TfmCopyStridedCasts> {
  void runOnOperation() override {
    SmallVector<memref::CastOp> casts;
    getOperation().walk([&](memref::CastOp cast) {
      auto from = dyn_cast<MemRefType>(cast.getSource().getType());
      auto to = dyn_cast<MemRefType>(cast.getType());
      if (from && to && to.getLayout().isIdentity() && !provablyIdentity(from))
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
      // The identity layout at the cast's static sizes: the cast checked
      // that they agree with the source's.
      Value copy =
          b.create<memref::AllocOp>(loc, type, sizes, b.getI64IntegerAttr(64));
      b.create<linalg::CopyOp>(loc, castOp.getSource(), copy);
      castOp.replaceAllUsesWith(copy);
      castOp.erase();
      ++numCopied;
    }
  }
};
} // namespace
