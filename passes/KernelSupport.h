//===- KernelSupport.h - Loops and index arithmetic for kernels -*- C++ -*-===//
//
// The small vocabulary the kernel emitters (the attention and matmul
// kernels) build their loop nests with, on an ImplicitLocOpBuilder: index
// constants and arithmetic, scf.for and scf.if whose bodies are lambdas that
// return what the region yields, and the partitioned loop that shares
// independent work among threads. Each body runs with the builder's
// insertion point inside the new region and gets it back afterwards.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_KERNELSUPPORT_H
#define TFM_PASSES_KERNELSUPPORT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::tfm {

/// An index constant.
Value index(ImplicitLocOpBuilder &b, int64_t value);
/// A constant of `type` (f32 or a vector of f32) holding `value`.
Value splat(ImplicitLocOpBuilder &b, Type type, float value);

/// Index arithmetic. Sizes and positions are non-negative; min and max are
/// the signed forms, which LLVM folds best.
Value add(ImplicitLocOpBuilder &b, Value x, Value y);
Value add(ImplicitLocOpBuilder &b, Value x, int64_t y);
Value sub(ImplicitLocOpBuilder &b, Value x, Value y);
Value mul(ImplicitLocOpBuilder &b, Value x, Value y);
Value mul(ImplicitLocOpBuilder &b, Value x, int64_t y);
Value min(ImplicitLocOpBuilder &b, Value x, Value y);
Value max(ImplicitLocOpBuilder &b, Value x, Value y);
/// ⌈x / y⌉ (arith.ceildivui; tfm-expand-ceil-div lowers it).
Value ceilDiv(ImplicitLocOpBuilder &b, Value x, Value y);
Value ceilDiv(ImplicitLocOpBuilder &b, Value x, int64_t y);
/// x rounded down to a multiple of `step`: the end of the full steps of a
/// loop over [0, x).
Value roundDown(ImplicitLocOpBuilder &b, Value x, int64_t step);
/// `from + roundDown(to - from, step)`: the end of the full steps of a loop
/// over [from, to).
Value fullStepsEnd(ImplicitLocOpBuilder &b, Value from, Value to, int64_t step);

/// scf.for over [lb, ub) by `step` carrying `init`; `body(iv, carried)`
/// returns what an iteration yields. Returns the loop's results.
SmallVector<Value>
forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
        ValueRange init,
        function_ref<SmallVector<Value>(Value, ValueRange)> body);
/// scf.for carrying one value.
Value forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
              Value init, function_ref<Value(Value, Value)> body);
/// scf.for carrying nothing (its body stores to memory).
void forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
             function_ref<void(Value)> body);

/// scf.if on `cond` yielding `thenValues()` or `elseValues()`. Returns its
/// results.
SmallVector<Value> ifElse(ImplicitLocOpBuilder &b, Value cond,
                          function_ref<SmallVector<Value>()> thenValues,
                          function_ref<SmallVector<Value>()> elseValues);
/// The external function `name` of `type`, declared private in the module
/// of the builder's insertion point on first use (call it where that
/// block is in the module, not inside a region being built).
func::FuncOp declareExternal(ImplicitLocOpBuilder &b, StringRef name,
                             FunctionType type);
/// omp_get_max_threads (declareExternal), and its result as an index: the
/// OpenMP thread count. A thread's first call into libomp registers it:
/// call it only where OpenMP is entered.
func::FuncOp declareThreadCount(ImplicitLocOpBuilder &b);
Value threadCount(ImplicitLocOpBuilder &b, func::FuncOp declared);
/// tfm_count_work(units): test builds' count of a task's work (the passes'
/// count-work option; test/Tools/work/work_count.c adds it up per thread).
void countWork(ImplicitLocOpBuilder &b, Value units);

/// scf.if yielding one value.
Value ifElse(ImplicitLocOpBuilder &b, Value cond,
             function_ref<Value()> thenValue, function_ref<Value()> elseValue);

/// An scf.for carrying `init` whose iterations each take one of `parts`
/// contiguous ranges of [0, count) (`parts` >= 1; a range may be empty):
/// `body(first, last, carried)` returns the carried value's update. Marked
/// TfmDialect::kParallelAttrName when `parallel` (for
/// tfm-lower-parallel-loops), so the ranges must write disjoint parts of the
/// carried tensor. Returns the loop's result.
///
/// Not scf.forall: a part's range of attention groups (batch, key/value
/// head) is not a
/// rectangular slice of the attention output, which tensor.parallel_insert_
/// slice needs, and its lowering to OpenMP always enters the OpenMP runtime,
/// where a loop of one part here runs on the calling thread.
Value partitionedLoop(ImplicitLocOpBuilder &b, Value count, Value parts,
                      Value init, bool parallel,
                      function_ref<Value(Value, Value, Value)> body);

} // namespace mlir::tfm

#endif // TFM_PASSES_KERNELSUPPORT_H
