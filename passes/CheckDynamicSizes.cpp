//===- CheckDynamicSizes.cpp - Run-time checks of dynamic sizes -----------===//
//
// A linalg op reads each of its loop dimensions from several operands (an
// element-wise add reads dimension 0 of both inputs and of the output); the
// operands must agree on it, which the verifier of the tfm op it came from
// proved for static sizes only. This pass asserts the rest at run time (see
// Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMCHECKDYNAMICSIZES
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;

/// The op at `loc`, for a message: "the op at file.mlir:3:8" (the tfm op
/// a linalg op came from), "an op of 'encode'" (a model's graph, whose ops
/// are located by entry), else the location as MLIR prints it.
std::string mlir::tfm::describeOpAt(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      loc = fused.getLocations().front();
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    os << "the op at " << file.getFilename().getValue() << ":" << file.getLine()
       << ":" << file.getColumn();
  else if (auto name = dyn_cast<NameLoc>(loc))
    os << "an op of '" << name.getName().getValue() << "'";
  else
    os << "the op at " << loc;
  return text;
}

/// The message of every size check emitted for the op at `loc`.
static std::string checkMessage(Location loc) {
  return "the operands of " + mlir::tfm::describeOpAt(loc) +
         " have dynamic sizes that disagree";
}

bool mlir::tfm::emitSizeCheck(OpBuilder &builder, Location loc, Value x,
                              int64_t i, Value y, int64_t j) {
  auto size = [](Value v, int64_t d) {
    return cast<ShapedType>(v.getType()).getDimSize(d);
  };
  if (!ShapedType::isDynamic(size(x, i)) && !ShapedType::isDynamic(size(y, j)))
    return false; // Equal: the verifiers saw both.
  ImplicitLocOpBuilder b(loc, builder);
  Value agree = b.create<arith::CmpIOp>(
      arith::CmpIPredicate::eq, linalg::createOrFoldDimOp(b, loc, x, i),
      linalg::createOrFoldDimOp(b, loc, y, j));
  b.create<cf::AssertOp>(agree, checkMessage(loc));
  return true;
}

bool mlir::tfm::emitHeadsDivideCheck(OpBuilder &builder, Location loc,
                                     Value query, Value kv) {
  auto heads = [](Value v) { return cast<ShapedType>(v.getType()); };
  if (!heads(query).isDynamicDim(1) && !heads(kv).isDynamicDim(1))
    return false;
  ImplicitLocOpBuilder b(loc, builder);
  Value queryHeads = linalg::createOrFoldDimOp(b, loc, query, 1);
  Value kvHeads = linalg::createOrFoldDimOp(b, loc, kv, 1);
  Value zero = b.create<arith::ConstantIndexOp>(0);
  Value some =
      b.create<arith::CmpIOp>(arith::CmpIPredicate::sgt, kvHeads, zero);
  // A zero divisor is replaced by 1 for the remainder; `some` fails then.
  Value divisor = b.create<arith::SelectOp>(
      some, kvHeads, b.create<arith::ConstantIndexOp>(1));
  Value divides = b.create<arith::CmpIOp>(
      arith::CmpIPredicate::eq, b.create<arith::RemUIOp>(queryHeads, divisor),
      zero);
  b.create<cf::AssertOp>(b.create<arith::AndIOp>(some, divides),
                         "the key/value heads of " + describeOpAt(loc) +
                             " do not divide its query heads");
  return true;
}

/// Asserts, before `op`, that every operand dimension indexed by the same
/// loop dimension has the same size, where one of them is dynamic. Returns
/// the number of assertions.
static int64_t checkOperandSizes(linalg::LinalgOp op) {
  struct Use {
    OpOperand *operand;
    unsigned dim;
  };
  SmallVector<SmallVector<Use>> byLoop(op.getNumLoops());
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<ShapedType>(operand.get().getType());
    if (!type || !type.hasRank())
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [dim, expr] : llvm::enumerate(map.getResults()))
      if (auto loop = dyn_cast<AffineDimExpr>(expr))
        byLoop[loop.getPosition()].push_back({&operand, unsigned(dim)});
  }
  // The linalg op's operands are not the tfm op's (inits, reordering): the
  // message names the tfm op by its location.
  OpBuilder b(op);
  int64_t count = 0;
  for (ArrayRef<Use> uses : byLoop) {
    if (uses.empty())
      continue;
    for (const Use &other : uses.drop_front())
      count += mlir::tfm::emitSizeCheck(
          b, op.getLoc(), uses.front().operand->get(), uses.front().dim,
          other.operand->get(), other.dim);
  }
  return count;
}

/// A cast that makes dynamic sizes static (a kernel call's operand) asserts
/// that they are: one check per such dimension.
static int64_t checkCast(tensor::CastOp cast) {
  auto from = dyn_cast<RankedTensorType>(cast.getSource().getType());
  auto to = dyn_cast<RankedTensorType>(cast.getType());
  if (!from || !to)
    return 0;
  ImplicitLocOpBuilder b(cast.getLoc(), cast);
  int64_t count = 0;
  for (int64_t i = 0; i < from.getRank(); ++i) {
    if (!from.isDynamicDim(i) || to.isDynamicDim(i))
      continue;
    Value agree = b.create<arith::CmpIOp>(
        arith::CmpIPredicate::eq, b.create<tensor::DimOp>(cast.getSource(), i),
        b.create<arith::ConstantIndexOp>(to.getDimSize(i)));
    b.create<cf::AssertOp>(agree, checkMessage(cast.getLoc()));
    ++count;
  }
  return count;
}

namespace {
struct TfmCheckDynamicSizes
    : mlir::tfm::impl::TfmCheckDynamicSizesBase<TfmCheckDynamicSizes> {
  void runOnOperation() override {
    // The graph's ops, at the top level of the function; the linalg ops
    // inside the kernels' loops work on tiles the kernels sized themselves
    // (and a check there would run at every iteration, on every thread).
    for (Block &block : getOperation().getBody())
      for (Operation &op : llvm::make_early_inc_range(block))
        if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
          numChecks += checkOperandSizes(linalgOp);
        else if (auto cast = dyn_cast<tensor::CastOp>(op))
          numChecks += checkCast(cast);
  }
};
} // namespace
