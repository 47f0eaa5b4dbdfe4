//===- PackWeights.cpp - tfm.linear on panel-packed weights ---------------===//
//
// Every tfm.linear with a static weight becomes tfm.packed_linear on
// tfm.pack_weight of it. A weight that is a function argument marked
// `tfm.weight` (what the frontend does for the model's parameters) and is
// used only through such packs is packed ahead of time instead: the argument
// takes the packed type and the attribute `tfm.packed = P`, and tfmc writes
// the packed layout into the artifact. Any other weight is packed by the
// compiled code at each call (correct, but it costs a pass over the weight).
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMPACKWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Rewrites `linear` into packed_linear(pack_weight(weight)); false if its
/// weight cannot be packed statically.
bool packLinear(LinearOp linear, int64_t panel) {
  auto weight = linear.getWeight().getType();
  auto result = linear.getType();
  if (!weight.hasStaticShape() ||
      ShapedType::isDynamic(result.getShape().back()))
    return false;
  int64_t n = weight.getDimSize(0), k = weight.getDimSize(1);
  OpBuilder b(linear);
  auto packedType = RankedTensorType::get({(n + panel - 1) / panel, k, panel},
                                          weight.getElementType());
  Value packed =
      b.create<PackWeightOp>(linear.getLoc(), packedType, linear.getWeight());
  Value replacement = b.create<PackedLinearOp>(
      linear.getLoc(), result, linear.getInput(), packed, linear.getBias(),
      /*residual=*/Value(), Activation::None);
  linear.replaceAllUsesWith(replacement);
  linear.erase();
  return true;
}

/// Packs argument `arg` of `func` ahead of time if it is a marked weight
/// whose every use is a pack_weight of one type.
bool prepackArgument(func::FuncOp func, BlockArgument arg) {
  unsigned index = arg.getArgNumber();
  if (!func.getArgAttr(index, "tfm.weight") || arg.use_empty())
    return false;
  Type packedType;
  for (Operation *user : arg.getUsers()) {
    auto pack = dyn_cast<PackWeightOp>(user);
    if (!pack || (packedType && pack.getType() != packedType))
      return false;
    packedType = pack.getType();
  }
  for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
    user->getResult(0).replaceAllUsesWith(arg);
    user->erase();
  }
  arg.setType(packedType);
  // The panel width of the layout actually used (a pack_weight already in
  // the input may have another width than the pass option).
  func.setArgAttr(
      index, "tfm.packed",
      IntegerAttr::get(IntegerType::get(func.getContext(), 64),
                       cast<RankedTensorType>(packedType).getDimSize(2)));
  return true;
}

struct TfmPackWeights : mlir::tfm::impl::TfmPackWeightsBase<TfmPackWeights> {
  using TfmPackWeightsBase::TfmPackWeightsBase;

  void runOnOperation() override {
    if (panel <= 0 || panel % 16 != 0) {
      getOperation().emitError("tfm-pack-weights: panel must be a positive "
                               "multiple of 16, got ")
          << static_cast<int64_t>(panel);
      return signalPassFailure();
    }
    getOperation().walk([&](LinearOp linear) {
      if (packLinear(linear, panel))
        ++numPacked;
    });
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      // A function with callers keeps its signature (the callers pass
      // unpacked weights).
      if (func.isExternal() ||
          !SymbolTable::symbolKnownUseEmpty(func, getOperation()))
        continue;
      bool changed = false;
      for (BlockArgument arg : func.getArguments())
        if (prepackArgument(func, arg)) {
          ++numPrepacked;
          changed = true;
        }
      if (changed)
        func.setType(FunctionType::get(&getContext(),
                                       func.getBody().getArgumentTypes(),
                                       func.getResultTypes()));
    }
  }
};

} // namespace
