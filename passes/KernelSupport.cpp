//===- KernelSupport.cpp - Loops and index arithmetic for kernels ---------===//

#include "passes/KernelSupport.h"

#include "dialect/TfmDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

Value mlir::tfm::index(ImplicitLocOpBuilder &b, int64_t value) {
  return b.create<arith::ConstantIndexOp>(value);
}

Value mlir::tfm::splat(ImplicitLocOpBuilder &b, Type type, float value) {
  if (auto vector = dyn_cast<VectorType>(type))
    return b.create<arith::ConstantOp>(DenseElementsAttr::get(vector, value));
  return b.create<arith::ConstantOp>(b.getF32FloatAttr(value));
}

Value mlir::tfm::add(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::AddIOp>(x, y);
}

Value mlir::tfm::add(ImplicitLocOpBuilder &b, Value x, int64_t y) {
  return add(b, x, index(b, y));
}

Value mlir::tfm::sub(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::SubIOp>(x, y);
}

Value mlir::tfm::mul(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::MulIOp>(x, y);
}

Value mlir::tfm::mul(ImplicitLocOpBuilder &b, Value x, int64_t y) {
  return mul(b, x, index(b, y));
}

Value mlir::tfm::min(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::MinSIOp>(x, y);
}

Value mlir::tfm::max(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::MaxSIOp>(x, y);
}

Value mlir::tfm::ceilDiv(ImplicitLocOpBuilder &b, Value x, Value y) {
  return b.create<arith::CeilDivUIOp>(x, y);
}

Value mlir::tfm::ceilDiv(ImplicitLocOpBuilder &b, Value x, int64_t y) {
  return ceilDiv(b, x, index(b, y));
}

Value mlir::tfm::roundDown(ImplicitLocOpBuilder &b, Value x, int64_t step) {
  return mul(b, b.create<arith::DivUIOp>(x, index(b, step)), step);
}

Value mlir::tfm::fullStepsEnd(ImplicitLocOpBuilder &b, Value from, Value to,
                              int64_t step) {
  return add(b, from, roundDown(b, sub(b, to, from), step));
}

SmallVector<Value>
mlir::tfm::forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
                   ValueRange init,
                   function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = b.create<scf::ForOp>(lb, ub, step, init);
  OpBuilder::InsertionGuard guard(b);
  if (init.empty()) {
    // The builder gave the body its terminator.
    b.setInsertionPoint(loop.getBody()->getTerminator());
    body(loop.getInductionVar(), loop.getRegionIterArgs());
    return {};
  }
  b.setInsertionPointToStart(loop.getBody());
  b.create<scf::YieldOp>(
      body(loop.getInductionVar(), loop.getRegionIterArgs()));
  return SmallVector<Value>(loop.getResults());
}

Value mlir::tfm::forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub,
                         Value step, Value init,
                         function_ref<Value(Value, Value)> body) {
  return forLoop(b, lb, ub, step, ValueRange{init},
                 [&](Value iv, ValueRange carried) {
                   return SmallVector<Value>{body(iv, carried[0])};
                 })[0];
}

void mlir::tfm::forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
                        function_ref<void(Value)> body) {
  forLoop(b, lb, ub, step, ValueRange{}, [&](Value iv, ValueRange) {
    body(iv);
    return SmallVector<Value>{};
  });
}

SmallVector<Value>
mlir::tfm::ifElse(ImplicitLocOpBuilder &b, Value cond,
                  function_ref<SmallVector<Value>()> thenValues,
                  function_ref<SmallVector<Value>()> elseValues) {
  // scf::IfOp's builder calls these with an OpBuilder at the start of each
  // branch; `b` builds there too, and gets its insertion point back.
  auto inBranch = [&](OpBuilder &branch,
                      function_ref<SmallVector<Value>()> values) {
    OpBuilder::InsertionGuard guard(b);
    b.restoreInsertionPoint(branch.saveInsertionPoint());
    b.create<scf::YieldOp>(values());
  };
  auto op = b.create<scf::IfOp>(
      cond, [&](OpBuilder &branch, Location) { inBranch(branch, thenValues); },
      [&](OpBuilder &branch, Location) { inBranch(branch, elseValues); });
  return SmallVector<Value>(op.getResults());
}

Value mlir::tfm::ifElse(ImplicitLocOpBuilder &b, Value cond,
                        function_ref<Value()> thenValue,
                        function_ref<Value()> elseValue) {
  return ifElse(
      b, cond, [&] { return SmallVector<Value>{thenValue()}; },
      [&] { return SmallVector<Value>{elseValue()}; })[0];
}

Value mlir::tfm::partitionedLoop(
    ImplicitLocOpBuilder &b, Value count, Value parts, Value init,
    bool parallel, function_ref<Value(Value, Value, Value)> body) {
  Value perPart = ceilDiv(b, count, parts);
  auto loop =
      b.create<scf::ForOp>(index(b, 0), parts, index(b, 1), ValueRange{init});
  if (parallel)
    loop->setAttr(TfmDialect::kParallelAttrName, b.getUnitAttr());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value first = mul(b, loop.getInductionVar(), perPart);
  Value last = min(b, add(b, first, perPart), count);
  b.create<scf::YieldOp>(body(first, last, loop.getRegionIterArgs()[0]));
  return loop.getResult(0);
}

func::FuncOp mlir::tfm::declareExternal(ImplicitLocOpBuilder &b, StringRef name,
                                        FunctionType type) {
  auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto callee = b.create<func::FuncOp>(name, type);
  callee.setPrivate();
  return callee;
}

func::FuncOp mlir::tfm::declareThreadCount(ImplicitLocOpBuilder &b) {
  return declareExternal(b, "omp_get_max_threads",
                         b.getFunctionType({}, {b.getI32Type()}));
}

Value mlir::tfm::threadCount(ImplicitLocOpBuilder &b, func::FuncOp declared) {
  Value threads = b.create<func::CallOp>(declared, ValueRange{}).getResult(0);
  return b.create<arith::IndexCastOp>(b.getIndexType(), threads);
}

void mlir::tfm::countWork(ImplicitLocOpBuilder &b, Value units) {
  func::FuncOp callee = declareExternal(
      b, "tfm_count_work", b.getFunctionType({b.getI64Type()}, {}));
  b.create<func::CallOp>(
      callee, ValueRange{b.create<arith::IndexCastOp>(b.getI64Type(), units)});
}
