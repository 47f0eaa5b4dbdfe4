//===- PackWeights.cpp - tfm.linear on panel-packed weights ---------------===//
//
// Every tfm.linear with a static weight becomes tfm.packed_linear on
// tfm.pack_weight of it. A weight that is a function argument marked
// `tfm.weight` (what the frontend does for the model's parameters) and is
// used only through such packs is packed ahead of time instead: the argument
// takes the packed type and the attribute `tfm.packed = P`, and tfmc writes
// the packed layout into the artifact. Embeddings that look rows up in such
// a weight (a table tied to the logits projection) read the packed layout,
// in every entry, so that the weight is stored once. Any other weight is
// packed by the compiled code at each call (correct, but it costs a pass
// over the weight).
//
// With weight-type=bf16 or i8 the packs store that type (bf16 in k-pair
// panels with bf16-pairs, for vdpbf16ps); int8 ones take the
// weight's tfm.weight_scales beside them, and so do the packed_linear and
// the embeddings that read them. Ahead of time, an int8 weight's scales
// become an argument of their own, right after the weight's.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMPACKWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Rewrites `linear` into packed_linear(pack_weight(weight)), packed as
/// `elementType` (with tfm.weight_scales for i8; bf16 in k pairs with
/// `pairs`); false if its weight cannot be packed statically.
bool packLinear(LinearOp linear, int64_t panel, Type elementType, bool pairs) {
  auto weight = linear.getWeight().getType();
  auto result = linear.getType();
  if (!weight.hasStaticShape() ||
      ShapedType::isDynamic(result.getShape().back()))
    return false;
  int64_t n = weight.getDimSize(0), k = weight.getDimSize(1);
  OpBuilder b(linear);
  Location loc = linear.getLoc();
  int64_t panels = (n + panel - 1) / panel;
  auto packedType =
      pairs && elementType.isBF16()
          ? RankedTensorType::get({panels, (k + 1) / 2, panel, 2}, elementType)
          : RankedTensorType::get({panels, k, panel}, elementType);
  Value scales;
  if (elementType.isInteger(8))
    scales = b.create<WeightScalesOp>(
        loc, RankedTensorType::get({n}, b.getF32Type()), linear.getWeight());
  Value packed =
      b.create<PackWeightOp>(loc, packedType, linear.getWeight(), scales);
  Value replacement = b.create<PackedLinearOp>(
      loc, result, linear.getInput(), packed, linear.getBias(), scales,
      /*residual=*/Value(), Activation::None);
  linear.replaceAllUsesWith(replacement);
  linear.erase();
  return true;
}

/// The packed type `arg`'s pack_weight users agree on; null when it has none
/// or they disagree.
Type packedTypeOfUses(BlockArgument arg) {
  Type packedType;
  for (Operation *user : arg.getUsers())
    if (auto pack = dyn_cast<PackWeightOp>(user)) {
      if (packedType && pack.getType() != packedType)
        return {};
      packedType = pack.getType();
    }
  return packedType;
}

/// Packs argument `arg` of `func` ahead of time, as `packedType`, if it is
/// a marked weight whose every use is a pack_weight of that type, the
/// table of an embedding (which reads the packed layout as well) or, for
/// int8, its tfm.weight_scales. An int8 weight's scales become the argument
/// after it.
bool prepackArgument(func::FuncOp func, BlockArgument arg, Type packedType) {
  unsigned index = arg.getArgNumber();
  auto name =
      func.getArgAttrOfType<StringAttr>(index, TfmDialect::kWeightAttrName);
  if (!packedType || !name || arg.use_empty())
    return false;
  bool int8 = getElementTypeOrSelf(packedType).isInteger(8);
  for (OpOperand &use : arg.getUses()) {
    auto pack = dyn_cast<PackWeightOp>(use.getOwner());
    auto embedding = dyn_cast<EmbeddingOp>(use.getOwner());
    if (!(pack && pack.getType() == packedType) &&
        !(embedding && use.getOperandNumber() == 1) &&
        !(int8 && isa<WeightScalesOp>(use.getOwner())))
      return false;
  }
  Value scales;
  if (int8) {
    MLIRContext *ctx = func.getContext();
    auto weight = cast<RankedTensorType>(arg.getType());
    NamedAttrList attrs;
    attrs.set(TfmDialect::kWeightAttrName,
              StringAttr::get(ctx, name.getValue() + ".scales"));
    attrs.set(TfmDialect::kScalesOfAttrName, name);
    func.insertArgument(
        index + 1,
        RankedTensorType::get({weight.getDimSize(0)}, Float32Type::get(ctx)),
        attrs.getDictionary(ctx), arg.getLoc());
    scales = func.getArgument(index + 1);
  }
  for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
    if (auto embedding = dyn_cast<EmbeddingOp>(user)) {
      if (scales)
        embedding.getScalesMutable().assign(scales);
      continue;
    }
    user->getResult(0).replaceAllUsesWith(isa<WeightScalesOp>(user) ? scales
                                                                    : arg);
    user->erase();
  }
  arg.setType(packedType);
  // The panel width of the layout actually used (a pack_weight already in
  // the input may have another width than the pass option).
  func.setArgAttr(
      index, TfmDialect::kPackedAttrName,
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
    Builder builder(&getContext());
    Type elementType = llvm::StringSwitch<Type>(weightType)
                           .Case("f32", builder.getF32Type())
                           .Case("bf16", builder.getBF16Type())
                           .Case("i8", builder.getI8Type())
                           .Default(Type());
    if (!elementType) {
      getOperation().emitError("tfm-pack-weights: weight-type must be f32, "
                               "bf16 or i8, got '")
          << weightType << "'";
      return signalPassFailure();
    }
    getOperation().walk([&](LinearOp linear) {
      if (packLinear(linear, panel, elementType, bf16Pairs))
        ++numPacked;
    });
    // A function with callers keeps its signature (the callers pass
    // unpacked weights).
    SmallVector<func::FuncOp> entries;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() &&
          SymbolTable::symbolKnownUseEmpty(func, getOperation()))
        entries.push_back(func);
    // A weight (by its tfm.weight name) is one tensor of the artifact: where
    // one entry packs it for a matmul, every entry that only looks rows up
    // in it (a tied embedding table) takes it packed too, so that it is
    // stored once.
    llvm::StringMap<Type> packedWeights;
    for (func::FuncOp func : entries)
      for (BlockArgument arg : func.getArguments())
        if (auto name = func.getArgAttrOfType<StringAttr>(
                arg.getArgNumber(), TfmDialect::kWeightAttrName))
          if (Type packed = packedTypeOfUses(arg))
            packedWeights.try_emplace(name.getValue(), packed);
    for (func::FuncOp func : entries) {
      bool changed = false;
      // By index: an int8 weight inserts its scales after it.
      for (unsigned i = 0; i < func.getNumArguments(); ++i) {
        BlockArgument arg = func.getArgument(i);
        auto name =
            func.getArgAttrOfType<StringAttr>(i, TfmDialect::kWeightAttrName);
        if (!name || func.getArgAttr(i, TfmDialect::kScalesOfAttrName))
          continue;
        Type packed = packedTypeOfUses(arg);
        if (!packed)
          packed = packedWeights.lookup(name.getValue());
        if (prepackArgument(func, arg, packed)) {
          ++numPrepacked;
          changed = true;
        }
      }
      if (changed)
        func.setType(FunctionType::get(&getContext(),
                                       func.getBody().getArgumentTypes(),
                                       func.getResultTypes()));
    }
  }
};

} // namespace
