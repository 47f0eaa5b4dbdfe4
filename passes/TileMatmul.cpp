//===- TileMatmul.cpp - tfm.packed_linear as cache and register tiles -----===//
//
// Each tfm.packed_linear becomes a call to a kernel function, one per
// signature (K, N, panel, bias, activation, residual), so that the six
// layers of a model that share a shape share one kernel. The kernel computes
// C[M, N] = A[M, K] . W^T on the packed weight, M dynamic, N and K static,
// in BLIS order:
//
//   for jc: blocks of n-block panels                  (B block in L2)
//    for pc: blocks of k-block steps of K              (first: C = bias,
//     for ic: blocks of m-block rows                    last: epilogue)
//      for each panel jp of the block, each full tile of row-tile rows:
//        row-tile x 1 panel micro-kernel
//      the rows left over (< row-tile): 2 x 4 and 1 x 4 panel tiles, then
//        1 x 1 for the panels left over
//
// The micro-kernel keeps its accumulators (rows x panels x panel/16 vectors
// of 16 floats) in registers for its whole K block: per step of k one load
// of each 16-float vector of the panel row, one broadcast of A per row, and
// one vector FMA per accumulator; C is read (or initialized with the bias)
// once before the K block and written once after it. In the last K block
// the epilogue (activation, then residual add) is applied before the write.
//
// Rows left over use tiles that are wider in N, so that even one row (a
// decode step, M = 1) has 8 independent accumulators: enough FMAs in flight
// to stream the weight at memory speed.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMTILEMATMUL
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

constexpr int64_t kLanes = 16; // f32 lanes of a zmm register

/// Everything that makes two packed_linear ops share a kernel.
struct KernelSignature {
  int64_t k, n, panel;
  int64_t leading; // leading dimensions of the input and result
  bool bias, residual;
  Activation activation;

  std::string name() const {
    std::string s = "__tfm_linear_k" + std::to_string(k) + "_n" +
                    std::to_string(n) + "_p" + std::to_string(panel) + "_r" +
                    std::to_string(leading + 1);
    if (bias)
      s += "_bias";
    if (activation != Activation::None)
      s += "_" + stringifyActivation(activation).str();
    if (residual)
      s += "_residual";
    return s;
  }
};

struct Tiling {
  int64_t rowTile, kBlock, mBlock, nBlockPanels, parallelMinFlops;
};

/// Emits the body of one kernel function.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, const KernelSignature &sig,
                const Tiling &tiling)
      : b(b), loc(loc), sig(sig), tiling(tiling) {
    f32 = b.getF32Type();
    vecType = VectorType::get({kLanes}, f32);
    vecsPerPanel = sig.panel / kLanes;
    numPanels = (sig.n + sig.panel - 1) / sig.panel;
    // Columns past N exist only in the last panel when N is not a multiple
    // of the panel; then accesses to C, bias and residual are masked.
    columnsInBounds = sig.n % sig.panel == 0;
    kBlock = std::min(tiling.kBlock, sig.k);
  }

  void build(func::FuncOp func) {
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    a = body->getArgument(0);
    w = body->getArgument(1);
    unsigned next = 2;
    if (sig.bias)
      bias = body->getArgument(next++);
    if (sig.residual)
      residual = body->getArgument(next++);
    Value c = body->getArgument(next);

    c0 = index(0);
    c1 = index(1);
    zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
    zeroVec = b.create<vector::BroadcastOp>(loc, vecType, zero);
    numRows = b.create<tensor::DimOp>(loc, a, 0);
    for (int64_t d = 0; d < sig.leading; ++d)
      leadingSizes.push_back(b.create<tensor::DimOp>(loc, c, d));

    // Blocks of panels, shared among the threads when the problem is big
    // enough: the chunk loop (marked tfm.parallel, each chunk writes its own
    // columns of C) has one chunk per block, or a single chunk of every
    // block, which tfm-lower-parallel-loops runs on the calling thread.
    int64_t numBlocks =
        (numPanels + tiling.nBlockPanels - 1) / tiling.nBlockPanels;
    Value blocks = index(numBlocks), chunks = c1;
    if (numBlocks > 1) {
      int64_t minRows = std::max<int64_t>(
          1, (tiling.parallelMinFlops + 2 * sig.n * sig.k - 1) /
                 (2 * sig.n * sig.k));
      Value big = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                          numRows, index(minRows));
      chunks = b.create<arith::SelectOp>(loc, big, blocks, c1);
    }
    c = buildPartitionedLoop(
        b, loc, blocks, chunks, c, /*parallel=*/numBlocks > 1,
        [&](Value first, Value last, Value c) {
          return forLoop(first, last, c1, c, [&](Value jb, Value c) {
            Value jc = mulI(jb, tiling.nBlockPanels);
            Value jEnd =
                minI(addI(jc, index(tiling.nBlockPanels)), index(numPanels));
            return forLoop(
                c0, index(sig.k), index(kBlock), c,
                [&](Value pc, Value c) { return emitKBlock(jc, jEnd, pc, c); });
          });
        });
    b.create<func::ReturnOp>(loc, c);
  }

private:
  using Body = function_ref<Value(Value, Value)>;

  /// scf.for over [lb, ub) carrying one tensor.
  Value forLoop(Value lb, Value ub, Value step, Value init, Body body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, step, ValueRange{init});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    b.create<scf::YieldOp>(
        loc, body(loop.getInductionVar(), loop.getRegionIterArgs()[0]));
    return loop.getResult(0);
  }

  Value index(int64_t i) { return b.create<arith::ConstantIndexOp>(loc, i); }
  Value minI(Value x, Value y) { return b.create<arith::MinSIOp>(loc, x, y); }
  Value addI(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value subI(Value x, Value y) { return b.create<arith::SubIOp>(loc, x, y); }
  Value mulI(Value x, int64_t y) {
    return b.create<arith::MulIOp>(loc, x, index(y));
  }
  /// `start + floor((end - start) / step) * step`: the end of the full
  /// steps from `start`.
  Value fullEnd(Value start, Value end, int64_t step) {
    Value n = b.create<arith::DivSIOp>(loc, subI(end, start), index(step));
    return addI(start, mulI(n, step));
  }

  /// One K block [pc, pc + kBlock) of panels [jc, jEnd), all rows.
  Value emitKBlock(Value jc, Value jEnd, Value pc, Value c) {
    kBegin = pc;
    kEnd = minI(addI(pc, index(kBlock)), index(sig.k));
    return forLoop(
        c0, numRows, index(tiling.mBlock), c, [&](Value ic, Value c) {
          Value iEnd = minI(addI(ic, index(tiling.mBlock)), numRows);
          Value rowsEnd = fullEnd(ic, iEnd, tiling.rowTile);
          // Full row tiles, one panel at a time.
          c = forLoop(jc, jEnd, c1, c, [&](Value jp, Value c) {
            return forLoop(ic, rowsEnd, index(tiling.rowTile), c,
                           [&](Value ir, Value c) {
                             return emitTile(tiling.rowTile, 1, ir, jp, c);
                           });
          });
          // Rows left over: pairs and a single row, four panels at a time.
          Value pairsEnd = fullEnd(rowsEnd, iEnd, 2);
          Value groupsEnd = fullEnd(jc, jEnd, 4);
          c = forLoop(jc, groupsEnd, index(4), c, [&](Value jp, Value c) {
            c = forLoop(rowsEnd, pairsEnd, index(2), c, [&](Value ir, Value c) {
              return emitTile(2, 4, ir, jp, c);
            });
            return forLoop(pairsEnd, iEnd, c1, c, [&](Value ir, Value c) {
              return emitTile(1, 4, ir, jp, c);
            });
          });
          // ... and the panels left over after the groups of four.
          return forLoop(groupsEnd, jEnd, c1, c, [&](Value jp, Value c) {
            return forLoop(rowsEnd, iEnd, c1, c, [&](Value ir, Value c) {
              return emitTile(1, 1, ir, jp, c);
            });
          });
        });
  }

  /// Column of vector `v` of panel `jp + q`.
  Value column(Value jp, int64_t q, int64_t v) {
    return addI(mulI(addI(jp, index(q)), sig.panel), index(v * kLanes));
  }

  Value readRow(Value source, ValueRange row, Value col) {
    SmallVector<Value> at(row);
    at.push_back(col);
    return b.create<vector::TransferReadOp>(loc, vecType, source, at, zero,
                                            ArrayRef<bool>{columnsInBounds});
  }

  /// The indices into C's leading dimensions of rows ir .. ir + rows - 1
  /// (C keeps the input's leading dimensions; A and the residual are seen
  /// as [M, .] matrices). One division per leading dimension for the first
  /// row, then a carried increment.
  SmallVector<SmallVector<Value>> leadingIndices(Value ir, int64_t rows) {
    SmallVector<SmallVector<Value>> all;
    if (sig.leading == 0) {
      all.assign(rows, {});
      return all;
    }
    SmallVector<Value> idx(sig.leading);
    Value rest = ir;
    for (int64_t d = sig.leading - 1; d > 0; --d) {
      idx[d] = b.create<arith::RemSIOp>(loc, rest, leadingSizes[d]);
      rest = b.create<arith::DivSIOp>(loc, rest, leadingSizes[d]);
    }
    idx[0] = rest;
    all.push_back(idx);
    for (int64_t r = 1; r < rows; ++r) {
      Value carry;
      for (int64_t d = sig.leading - 1; d >= 0; --d) {
        Value next = carry ? b.create<arith::SelectOp>(loc, carry,
                                                       addI(idx[d], c1), idx[d])
                           : addI(idx[d], c1);
        if (d == 0) {
          idx[d] = next;
          break;
        }
        Value wrap = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                             next, leadingSizes[d]);
        idx[d] = b.create<arith::SelectOp>(loc, wrap, c0, next);
        carry = carry ? b.create<arith::AndIOp>(loc, carry, wrap).getResult()
                      : wrap;
      }
      all.push_back(idx);
    }
    return all;
  }

  /// C[ir : ir + rows, panels jp .. jp + panels) over the current K block.
  Value emitTile(int64_t rows, int64_t panels, Value ir, Value jp, Value c) {
    int64_t perRow = panels * vecsPerPanel;
    SmallVector<Value> cols;
    for (int64_t q = 0; q < panels; ++q)
      for (int64_t v = 0; v < vecsPerPanel; ++v)
        cols.push_back(column(jp, q, v));
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(addI(ir, index(r)));
    SmallVector<SmallVector<Value>> cRow = leadingIndices(ir, rows);

    // Accumulators: the bias (or 0) in the first K block, else C so far.
    auto initial = [&] {
      SmallVector<Value> start;
      for (int64_t i = 0; i < perRow; ++i)
        start.push_back(bias ? b.create<vector::TransferReadOp>(
                                   loc, vecType, bias, ValueRange{cols[i]},
                                   zero, ArrayRef<bool>{columnsInBounds})
                             : zeroVec);
      SmallVector<Value> acc;
      for (int64_t r = 0; r < rows; ++r)
        acc.append(start);
      return acc;
    };
    auto partial = [&] {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < perRow; ++i)
          acc.push_back(readRow(c, cRow[r], cols[i]));
      return acc;
    };
    bool oneKBlock = kBlock == sig.k;
    SmallVector<Value> acc =
        oneKBlock ? initial()
                  : buildIfElse(b, loc,
                                b.create<arith::CmpIOp>(
                                    loc, arith::CmpIPredicate::eq, kBegin, c0),
                                initial, partial);

    // The K loop: accumulators in registers.
    auto loop = b.create<scf::ForOp>(loc, kBegin, kEnd, c1, acc);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value k = loop.getInductionVar();
      SmallVector<Value> wv;
      for (int64_t q = 0; q < panels; ++q)
        for (int64_t v = 0; v < vecsPerPanel; ++v)
          wv.push_back(b.create<vector::TransferReadOp>(
              loc, vecType, w,
              ValueRange{addI(jp, index(q)), k, index(v * kLanes)}, zero,
              ArrayRef<bool>{true}));
      SmallVector<Value> next;
      for (int64_t r = 0; r < rows; ++r) {
        Value s = b.create<tensor::ExtractOp>(loc, a, ValueRange{rowIdx[r], k});
        Value av = b.create<vector::BroadcastOp>(loc, vecType, s);
        for (int64_t i = 0; i < perRow; ++i)
          next.push_back(b.create<vector::FMAOp>(
              loc, av, wv[i], loop.getRegionIterArgs()[r * perRow + i]));
      }
      b.create<scf::YieldOp>(loc, next);
    }
    acc.assign(loop.getResults().begin(), loop.getResults().end());

    // The epilogue, in the last K block.
    auto finished = [&] {
      SmallVector<Value> out;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < perRow; ++i)
          out.push_back(epilogue(acc[r * perRow + i], rowIdx[r], cols[i]));
      return out;
    };
    if (sig.activation != Activation::None || residual) {
      if (oneKBlock) {
        acc = finished();
      } else {
        Value last = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                             kEnd, index(sig.k));
        acc = buildIfElse(b, loc, last, finished, [&] { return acc; });
      }
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < perRow; ++i) {
        SmallVector<Value> at(cRow[r]);
        at.push_back(cols[i]);
        c = b.create<vector::TransferWriteOp>(loc, acc[r * perRow + i], c, at,
                                              ArrayRef<bool>{columnsInBounds})
                .getResult();
      }
    return c;
  }

  /// act(x) + residual[row, col].
  Value epilogue(Value x, Value row, Value col) {
    x = buildActivation(b, loc, sig.activation, x);
    if (residual)
      x = b.create<arith::AddFOp>(loc, x, readRow(residual, {row}, col));
    return x;
  }

  OpBuilder &b;
  Location loc;
  KernelSignature sig;
  Tiling tiling;
  Type f32;
  VectorType vecType;
  int64_t vecsPerPanel, numPanels, kBlock;
  bool columnsInBounds;
  Value a, w, bias, residual;
  Value c0, c1, zero, zeroVec, numRows, kBegin, kEnd;
  SmallVector<Value> leadingSizes;
};

/// `value` ([..., X]) as a matrix [?, X].
Value asMatrix(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  auto matrix = RankedTensorType::get(
      {ShapedType::kDynamic, type.getShape().back()}, type.getElementType());
  if (rank == 1) {
    value = b.create<tensor::ExpandShapeOp>(
        loc,
        RankedTensorType::get({1, type.getShape().back()},
                              type.getElementType()),
        value, ArrayRef<ReassociationIndices>{{0, 1}});
  } else if (rank > 2) {
    ReassociationIndices leading;
    for (int64_t i = 0; i < rank - 1; ++i)
      leading.push_back(i);
    value = b.create<tensor::CollapseShapeOp>(
        loc, value, ArrayRef<ReassociationIndices>{leading, {rank - 1}});
  }
  if (value.getType() != matrix)
    value = b.create<tensor::CastOp>(loc, matrix, value);
  return value;
}

struct TfmTileMatmul : mlir::tfm::impl::TfmTileMatmulBase<TfmTileMatmul> {
  using TfmTileMatmulBase::TfmTileMatmulBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rowTile < 1 || kBlock < 1 || mBlock < rowTile ||
        mBlock % rowTile != 0 || nBlock < 1) {
      module.emitError("tfm-tile-matmul: expected row-tile >= 1, k-block >= "
                       "1, m-block a multiple of row-tile, n-block >= 1");
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    SmallVector<PackedLinearOp> ops;
    module.walk([&](PackedLinearOp op) { ops.push_back(op); });
    for (PackedLinearOp op : ops) {
      int64_t panel = op.getWeight().getType().getDimSize(2);
      if (panel % kLanes != 0)
        continue; // The reference lowering takes it.
      KernelSignature sig{op.getWeight().getType().getDimSize(1),
                          op.getType().getShape().back(),
                          panel,
                          op.getType().getRank() - 1,
                          static_cast<bool>(op.getBias()),
                          static_cast<bool>(op.getResidual()),
                          op.getActivation()};
      func::FuncOp kernel = getOrCreateKernel(module, symbols, sig);
      replaceWithCall(op, kernel);
      ++numTiled;
    }
  }

  func::FuncOp getOrCreateKernel(ModuleOp module, SymbolTable &symbols,
                                 const KernelSignature &sig) {
    std::string name = sig.name();
    if (auto existing = symbols.lookup<func::FuncOp>(name))
      return existing;
    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx);
    int64_t dyn = ShapedType::kDynamic;
    SmallVector<Type> inputs{
        RankedTensorType::get({dyn, sig.k}, f32),
        RankedTensorType::get(
            {(sig.n + sig.panel - 1) / sig.panel, sig.k, sig.panel}, f32)};
    if (sig.bias)
      inputs.push_back(RankedTensorType::get({sig.n}, f32));
    if (sig.residual)
      inputs.push_back(RankedTensorType::get({dyn, sig.n}, f32));
    // The result is written into a destination of the input's leading
    // dimensions: no reshape of the result (MLIR 19 folds tensor.dim of an
    // expand_shape with two dynamic sizes in one group wrongly).
    SmallVector<int64_t> outShape(sig.leading, dyn);
    outShape.push_back(sig.n);
    auto out = RankedTensorType::get(outShape, f32);
    inputs.push_back(out);
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    Location loc = NameLoc::get(StringAttr::get(ctx, name));
    auto func = b.create<func::FuncOp>(loc, name,
                                       FunctionType::get(ctx, inputs, {out}));
    func.setPrivate();
    symbols.insert(func);
    Tiling tiling{rowTile, kBlock, mBlock,
                  std::max<int64_t>(1, nBlock / sig.panel)};
    KernelBuilder(b, loc, sig, tiling).build(func);
    return func;
  }

  void replaceWithCall(PackedLinearOp op, func::FuncOp kernel) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    // The kernel takes the residual's rows to be the input's: where the
    // types leave that open, it is checked at run time.
    if (Value residual = op.getResidual())
      for (int64_t i = 0; i + 1 < op.getType().getRank(); ++i)
        emitSizeCheck(b, loc, op.getInput(), i, residual, i);
    SmallVector<Value> args{asMatrix(b, loc, op.getInput()), op.getWeight()};
    if (Value bias = op.getBias())
      args.push_back(bias);
    if (Value residual = op.getResidual())
      args.push_back(asMatrix(b, loc, residual));
    RankedTensorType type = op.getType();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(b, loc, op.getInput());
    sizes.back() = b.getIndexAttr(type.getShape().back());
    Value dest = b.create<tensor::EmptyOp>(loc, sizes, f32());
    Type destType = kernel.getFunctionType().getInputs().back();
    if (dest.getType() != destType)
      dest = b.create<tensor::CastOp>(loc, destType, dest);
    args.push_back(dest);
    Value result = b.create<func::CallOp>(loc, kernel, args).getResult(0);
    if (result.getType() != type)
      result = b.create<tensor::CastOp>(loc, type, result);
    op.replaceAllUsesWith(result);
    op.erase();
  }

  Type f32() { return Float32Type::get(&getContext()); }
};

} // namespace
