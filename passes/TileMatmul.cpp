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
// Weights stored as bf16 or int8 are read as 16 elements of their type per
// vector and widened in registers to f32 before the FMAs (a decode step
// streams 2 or 4 times fewer bytes than f32). An int8 weight's per-feature
// scales factor out of the sum over k: each K block accumulates from zero,
// and C = acc * scale + (bias, or C so far) once after it.
//
// bf16 weights in k-pair panels ([NP, ceil(K / 2), P, 2]) are multiplied
// with vdpbf16ps, two steps of k per instruction: A is first rounded to bf16
// (once per call, pairs of k as one 32-bit word per row), then per pair of
// k the micro-kernel loads each 32-value vector of the panel row (16
// features x 2 k), broadcasts A's pair per row and issues one vdpbf16ps per
// accumulator (f32); the loop nest is the one above over pairs of k.
//
// A tfm.packed_gated_linear (a gated MLP's act(A G^T) * (A W^T)) gets the
// same nest over two weights: per step of k the panel rows of both, two
// accumulators per output vector (half the rows per tile, half the panels
// per leftover tile, so the register count stays), one K block, and the
// gating as the epilogue of the one write of C.
//
// test/Transforms/tfm-tile-matmul.mlir checks the micro-kernel's loop body
// instruction by instruction (2 loads, a broadcast per row, 16 FMAs), the
// leftover tiles' accumulator counts, the epilogues, and when the blocks go
// to the threads.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/KernelSupport.h"
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
/// A matmul whose features fit in one n-block is cut into up to this many
/// blocks of whole panels instead, so that its blocks can still go to the
/// threads (the K/V projections of a grouped-query model: N = 256).
constexpr int64_t kMinBlocks = 8;

/// Everything that makes two packed_linear (or packed_gated_linear) ops
/// share a kernel.
struct KernelSignature {
  int64_t k, n, panel;
  int64_t leading; // leading dimensions of the input and result
  bool bias, residual;
  Activation activation;
  /// packed_gated_linear: act(A G^T + gate bias) * (A W^T + bias).
  bool gated = false, gateBias = false;
  /// The element type the weights are stored in: f32, bf16 or i8 (with
  /// one scale vector per weight).
  Type weightElement;
  /// bf16 weights in k-pair panels ([NP, ceil(K / 2), P, 2]): vdpbf16ps.
  bool pairs = false;

  /// The steps of the K loop: K, or its pairs.
  int64_t kSteps() const { return pairs ? (k + 1) / 2 : k; }

  /// The weights the kernel reads per step of k: 2 when gated.
  int64_t weights() const { return gated ? 2 : 1; }
  bool scaled() const { return weightElement.isInteger(8); }

  std::string name() const {
    std::string s = "__tfm_linear_k" + std::to_string(k) + "_n" +
                    std::to_string(n) + "_p" + std::to_string(panel) + "_r" +
                    std::to_string(leading + 1);
    if (weightElement.isBF16())
      s += pairs ? "_bf16pairs" : "_bf16";
    if (scaled())
      s += "_i8";
    if (gated)
      s += "_gated";
    if (gateBias)
      s += "_gatebias";
    if (bias)
      s += "_bias";
    if (activation != Activation::None)
      s += "_" + stringifyActivation(activation).str();
    if (residual)
      s += "_residual";
    return s;
  }
};

/// tfm-tile-matmul's options, for one kernel.
struct MatmulTiling {
  int64_t rowTile, kBlock, mBlock, nBlockPanels, parallelMinFlops,
      parallelMinWeightBytes, rowParts;
  bool countWork;
};

/// Emits the body of one kernel function.
class MatmulKernelBuilder {
public:
  MatmulKernelBuilder(ImplicitLocOpBuilder &b, const KernelSignature &sig,
                      const MatmulTiling &tiling, Block *entry)
      : b(b), sig(sig), tiling(tiling),
        vecType(VectorType::get({kLanes}, b.getF32Type())),
        vecsPerPanel(sig.panel / kLanes),
        numPanels((sig.n + sig.panel - 1) / sig.panel),
        // A gated kernel keeps both accumulators for the whole of K (C holds
        // the gated product, not the partial sums): one K block.
        kBlock(sig.gated ? sig.kSteps()
                         : std::min(tiling.kBlock, sig.kSteps())),
        // Twice the accumulators per row when gated: half the rows per tile
        // and half the panels per leftover tile, so that a tile has as many
        // accumulators as an ungated one.
        rowTile(sig.gated && tiling.rowTile % 2 == 0 ? tiling.rowTile / 2
                                                     : tiling.rowTile),
        groupPanels(sig.gated ? 2 : 4),
        blockPanels(numPanels <= tiling.nBlockPanels
                        ? (numPanels + kMinBlocks - 1) / kMinBlocks
                        : tiling.nBlockPanels),
        // Columns past N exist only in the last panel when N is not a
        // multiple of the panel; then accesses to C, bias and residual are
        // masked.
        columnsInBounds(sig.n % sig.panel == 0), a(entry->getArgument(0)),
        weights(kernelArguments(entry, 1, sig.weights())),
        scales(kernelArguments(entry, 1 + sig.weights(),
                               sig.scaled() ? sig.weights() : 0)),
        biases(kernelBiases(sig, entry)),
        residual(sig.residual
                     ? entry->getArgument(1 + sig.weights() + scales.size() +
                                          sig.bias + sig.gateBias)
                     : Value()),
        c0(index(b, 0)), c1(index(b, 1)), zero(splat(b, b.getF32Type(), 0.0f)),
        weightZero(
            b.create<arith::ConstantOp>(b.getZeroAttr(sig.weightElement))),
        zeroVec(b.create<vector::BroadcastOp>(vecType, zero)),
        numRows(b.create<tensor::DimOp>(a, 0)) {}

  /// The loop nest over C (the last argument); returns C.
  Value build(Value c) {
    for (int64_t d = 0; d < sig.leading; ++d)
      leadingSizes.push_back(b.create<tensor::DimOp>(c, d));
    if (sig.pairs) {
      pairsOfA = roundAToPairs();
      // Each weight as [NP, ceil(K / 2), 2P]: a panel row of a pair of k is
      // 2P contiguous values.
      for (Value &w : weights) {
        auto type = cast<RankedTensorType>(w.getType());
        w = b.create<tensor::CollapseShapeOp>(
            RankedTensorType::get(
                {type.getDimSize(0), type.getDimSize(1), 2 * sig.panel},
                type.getElementType()),
            w, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
      }
    }
    // Blocks of panels, shared among the threads when the problem is big
    // enough: the part loop (marked tfm.parallel, each part writes its own
    // columns of C) has one part per block, or a single part of every
    // block, which tfm-lower-parallel-loops runs on the calling thread.
    // Enough weights to stream make it big whatever M; else enough flops,
    // which depend on M, known at run time.
    int64_t numBlocks = (numPanels + blockPanels - 1) / blockPanels;
    Value blocks = index(b, numBlocks), parts = c1;
    int64_t nk = sig.weights() * sig.n * sig.k;
    int64_t weightBytes =
        nk * static_cast<int64_t>(sig.weightElement.getIntOrFloatBitWidth()) /
        8;
    if (numBlocks > 1 && weightBytes >= tiling.parallelMinWeightBytes) {
      parts = blocks;
    } else if (numBlocks > 1) {
      int64_t minRows = std::max<int64_t>(
          1, (tiling.parallelMinFlops + 2 * nk - 1) / (2 * nk));
      Value big = b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, numRows,
                                          index(b, minRows));
      parts = b.create<arith::SelectOp>(big, blocks, c1);
    }
    // Shared, the work is cut in two dimensions: each block's rows in
    // `row-parts` parts (at least a row tile each; fewer rows leave parts
    // empty), tasks block by block, so that the blocks x row parts tasks
    // divide evenly among up to row-parts threads whatever N makes of the
    // blocks (a 768-wide matmul has 3 blocks: of two threads one had two)
    // and more threads than blocks all get rows. A thread's consecutive
    // tasks are row parts of one block, whose weights stay in its cache; a
    // decode step's single row is in each block's first part, and the
    // threads share the blocks as before. The count is a constant: a count
    // from the thread count at run time (omp_get_max_threads) made the
    // loop bounds dynamic, and a 1 x 512 x 512 call took 9 us instead of
    // 7.3 on two threads.
    Value single = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, parts, c1);
    Value rowParts = c1;
    if (numBlocks > 1 && tiling.rowParts > 1)
      rowParts =
          b.create<arith::SelectOp>(single, c1, index(b, tiling.rowParts));
    Value rowsPerPart =
        mul(b, ceilDiv(b, ceilDiv(b, numRows, rowParts), rowTile), rowTile);
    Value tasks = mul(b, blocks, rowParts);
    Value taskParts = b.create<arith::SelectOp>(single, c1, tasks);
    return partitionedLoop(
        b, tasks, taskParts, c, /*parallel=*/numBlocks > 1,
        [&](Value first, Value last, Value c) {
          return forLoop(b, first, last, c1, c, [&](Value task, Value c) {
            Value block = b.create<arith::DivUIOp>(task, rowParts);
            Value rowPart = b.create<arith::RemUIOp>(task, rowParts);
            Rows rows;
            rows.begin = min(b, mul(b, rowPart, rowsPerPart), numRows);
            rows.end = min(b, add(b, rows.begin, rowsPerPart), numRows);
            Value firstPanel = mul(b, block, blockPanels);
            Value endPanel =
                min(b, add(b, firstPanel, blockPanels), index(b, numPanels));
            if (tiling.countWork)
              countWork(b, mul(b, b.create<arith::SubIOp>(rows.end, rows.begin),
                               b.create<arith::SubIOp>(endPanel, firstPanel)));
            return forLoop(b, c0, index(b, sig.kSteps()), index(b, kBlock), c,
                           [&](Value kBegin, Value c) {
                             KBlock steps{kBegin, min(b, add(b, kBegin, kBlock),
                                                      index(b, sig.kSteps()))};
                             return emitKBlock(firstPanel, endPanel, steps,
                                               rows, c);
                           });
          });
        });
  }

private:
  /// A [M, K] rounded to bf16, pairs of k as one 32-bit word:
  /// [M, ceil(K / 2)] i32, word h of a row = bf16(A[m, 2h]) in its low half
  /// and bf16(A[m, 2h + 1]) (0 past K) in its high half: what vdpbf16ps
  /// multiplies a k-pair panel row by, broadcast.
  Value roundAToPairs() {
    int64_t half = sig.kSteps();
    Type i32 = b.getI32Type();
    Value out = b.create<tensor::EmptyOp>(
        ArrayRef<OpFoldResult>{numRows, b.getIndexAttr(half)}, i32);
    auto wide = VectorType::get({2 * kLanes}, b.getF32Type());
    auto narrow = VectorType::get({2 * kLanes}, b.getBF16Type());
    auto words = VectorType::get({kLanes}, i32);
    return forLoop(b, c0, numRows, c1, out, [&](Value row, Value out) {
      return forLoop(b, c0, index(b, half), index(b, kLanes), out,
                     [&](Value h, Value out) {
                       Value x = b.create<vector::TransferReadOp>(
                           wide, a, ValueRange{row, mul(b, h, 2)}, zero,
                           ArrayRef<bool>{false});
                       Value w = b.create<vector::BitCastOp>(
                           words, b.create<arith::TruncFOp>(narrow, x));
                       return b
                           .create<vector::TransferWriteOp>(
                               w, out, ValueRange{row, h},
                               ArrayRef<bool>{false})
                           .getResult();
                     });
    });
  }

  /// The steps [begin, end) of K of one K block.
  struct KBlock {
    Value begin, end;
  };

  /// Rows [begin, end) of A and C.
  struct Rows {
    Value begin, end;
  };

  /// One K block of panels [firstPanel, endPanel), rows `rows`.
  Value emitKBlock(Value firstPanel, Value endPanel, KBlock steps, Rows rows,
                   Value c) {
    return forLoop(
        b, rows.begin, rows.end, index(b, tiling.mBlock), c,
        [&](Value ic, Value c) {
          Value iEnd = min(b, add(b, ic, tiling.mBlock), rows.end);
          Value rowsEnd = fullStepsEnd(b, ic, iEnd, rowTile);
          // Full row tiles, one panel at a time.
          c = forLoop(b, firstPanel, endPanel, c1, c, [&](Value jp, Value c) {
            return forLoop(b, ic, rowsEnd, index(b, rowTile), c,
                           [&](Value ir, Value c) {
                             return emitTile(rowTile, 1, ir, jp, steps, c);
                           });
          });
          // Rows left over: pairs and a single row, four panels at a time
          // (two when gated).
          Value pairsEnd = fullStepsEnd(b, rowsEnd, iEnd, 2);
          Value groupsEnd = fullStepsEnd(b, firstPanel, endPanel, groupPanels);
          c = forLoop(b, firstPanel, groupsEnd, index(b, groupPanels), c,
                      [&](Value jp, Value c) {
                        c = forLoop(b, rowsEnd, pairsEnd, index(b, 2), c,
                                    [&](Value ir, Value c) {
                                      return emitTile(2, groupPanels, ir, jp,
                                                      steps, c);
                                    });
                        return forLoop(
                            b, pairsEnd, iEnd, c1, c, [&](Value ir, Value c) {
                              return emitTile(1, groupPanels, ir, jp, steps, c);
                            });
                      });
          // ... and the panels left over after the groups.
          return forLoop(b, groupsEnd, endPanel, c1, c, [&](Value jp, Value c) {
            return forLoop(b, rowsEnd, iEnd, c1, c, [&](Value ir, Value c) {
              return emitTile(1, 1, ir, jp, steps, c);
            });
          });
        });
  }

  /// Column of vector `v` of panel `jp + q`.
  Value column(Value jp, int64_t q, int64_t v) {
    return add(b, mul(b, add(b, jp, q), sig.panel), v * kLanes);
  }

  Value readRow(Value source, ValueRange row, Value col) {
    SmallVector<Value> at(row);
    at.push_back(col);
    return b.create<vector::TransferReadOp>(vecType, source, at, zero,
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
      idx[d] = b.create<arith::RemSIOp>(rest, leadingSizes[d]);
      rest = b.create<arith::DivSIOp>(rest, leadingSizes[d]);
    }
    idx[0] = rest;
    all.push_back(idx);
    for (int64_t r = 1; r < rows; ++r) {
      Value carry;
      for (int64_t d = sig.leading - 1; d >= 0; --d) {
        Value next =
            carry ? b.create<arith::SelectOp>(carry, add(b, idx[d], c1), idx[d])
                  : add(b, idx[d], c1);
        if (d == 0) {
          idx[d] = next;
          break;
        }
        Value wrap = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, next,
                                             leadingSizes[d]);
        idx[d] = b.create<arith::SelectOp>(wrap, c0, next);
        carry = carry ? b.create<arith::AndIOp>(carry, wrap).getResult() : wrap;
      }
      all.push_back(idx);
    }
    return all;
  }

  /// C[ir : ir + rows, panels jp .. jp + panels) over the K block `steps`.
  /// The accumulators of row r, weight w (gate, then up, when gated) and
  /// vector i are acc[(r * weights + w) * perWeight + i].
  Value emitTile(int64_t rows, int64_t panels, Value ir, Value jp, KBlock steps,
                 Value c) {
    int64_t perWeight = panels * vecsPerPanel;
    int64_t numWeights = sig.weights();
    int64_t perRow = numWeights * perWeight;
    SmallVector<Value> cols;
    for (int64_t q = 0; q < panels; ++q)
      for (int64_t v = 0; v < vecsPerPanel; ++v)
        cols.push_back(column(jp, q, v));
    auto col = [&](int64_t i) { return cols[i % perWeight]; };
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(add(b, ir, r));
    SmallVector<SmallVector<Value>> cRow = leadingIndices(ir, rows);

    // Accumulators: the bias (or 0) in the first K block, else C so far.
    auto initial = [&] {
      SmallVector<Value> start;
      for (int64_t i = 0; i < perRow; ++i) {
        Value bias = biases[i / perWeight];
        start.push_back(bias ? b.create<vector::TransferReadOp>(
                                   vecType, bias, ValueRange{col(i)}, zero,
                                   ArrayRef<bool>{columnsInBounds})
                             : zeroVec);
      }
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
    bool oneKBlock = kBlock == sig.kSteps();
    auto start = [&] {
      return oneKBlock ? initial()
                       : ifElse(b,
                                b.create<arith::CmpIOp>(
                                    arith::CmpIPredicate::eq, steps.begin, c0),
                                initial, partial);
    };
    // Scaled (int8) weights: the K block's sum from zero, scaled after it.
    SmallVector<Value> acc =
        sig.scaled() ? SmallVector<Value>(rows * perRow, zeroVec) : start();
    auto weightVec = VectorType::get({kLanes}, sig.weightElement);

    // The K loop: accumulators in registers.
    acc = forLoop(
        b, steps.begin, steps.end, c1, acc,
        [&](Value k, ValueRange accumulators) {
          if (sig.pairs)
            return pairStep(rows, panels, jp, k, rowIdx, accumulators);
          SmallVector<Value> wv;
          for (Value w : weights)
            for (int64_t q = 0; q < panels; ++q)
              for (int64_t v = 0; v < vecsPerPanel; ++v)
                wv.push_back(widenToF32(
                    b, b.getLoc(),
                    b.create<vector::TransferReadOp>(
                        weightVec, w,
                        ValueRange{add(b, jp, q), k, index(b, v * kLanes)},
                        weightZero, ArrayRef<bool>{true})));
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            Value s = b.create<tensor::ExtractOp>(a, ValueRange{rowIdx[r], k});
            Value av = b.create<vector::BroadcastOp>(vecType, s);
            for (int64_t i = 0; i < perRow; ++i)
              next.push_back(b.create<vector::FMAOp>(
                  av, wv[i], accumulators[r * perRow + i]));
          }
          return next;
        });
    if (sig.scaled()) {
      SmallVector<Value> base = start();
      SmallVector<Value> scale;
      for (int64_t i = 0; i < perRow; ++i)
        scale.push_back(b.create<vector::TransferReadOp>(
            vecType, scales[i / perWeight], ValueRange{col(i)}, zero,
            ArrayRef<bool>{columnsInBounds}));
      for (int64_t j = 0; j < rows * perRow; ++j)
        acc[j] = b.create<vector::FMAOp>(acc[j], scale[j % perRow], base[j]);
    }

    // The epilogue, in the last K block.
    if (sig.gated) {
      // act(gate) * up, the one write of C (there is one K block).
      SmallVector<Value> out;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < perWeight; ++i)
          out.push_back(b.create<arith::MulFOp>(
              buildActivation(b, b.getLoc(), sig.activation,
                              acc[r * perRow + i]),
              acc[r * perRow + perWeight + i]));
      acc = out;
      perRow = perWeight;
    }
    auto finished = [&] {
      SmallVector<Value> out;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < perRow; ++i)
          out.push_back(epilogue(acc[r * perRow + i], rowIdx[r], cols[i]));
      return out;
    };
    if (!sig.gated && (sig.activation != Activation::None || residual)) {
      if (oneKBlock) {
        acc = finished();
      } else {
        Value last = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq,
                                             steps.end, index(b, sig.kSteps()));
        acc = ifElse(b, last, finished, [&] { return acc; });
      }
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < perRow; ++i) {
        SmallVector<Value> at(cRow[r]);
        at.push_back(cols[i]);
        c = b.create<vector::TransferWriteOp>(acc[r * perRow + i], c, at,
                                              ArrayRef<bool>{columnsInBounds})
                .getResult();
      }
    return c;
  }

  /// One pair of k (`h`) of a tile on k-pair weights: per 32-value vector
  /// of the panel rows, one load; per row, A's pair broadcast; one
  /// vdpbf16ps per accumulator (ordered as emitTile's).
  SmallVector<Value> pairStep(int64_t rows, int64_t panels, Value jp, Value h,
                              ArrayRef<Value> rowIdx, ValueRange accumulators) {
    auto pairVec = VectorType::get({2 * kLanes}, b.getBF16Type());
    auto words = VectorType::get({kLanes}, b.getI32Type());
    SmallVector<Value> wv;
    for (Value w : weights)
      for (int64_t q = 0; q < panels; ++q)
        for (int64_t v = 0; v < vecsPerPanel; ++v)
          wv.push_back(b.create<vector::TransferReadOp>(
              pairVec, w,
              ValueRange{add(b, jp, q), h, index(b, 2 * v * kLanes)},
              weightZero, ArrayRef<bool>{true}));
    int64_t perRow = static_cast<int64_t>(wv.size());
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      Value word =
          b.create<tensor::ExtractOp>(pairsOfA, ValueRange{rowIdx[r], h});
      Value av = b.create<vector::BitCastOp>(
          pairVec, b.create<vector::BroadcastOp>(words, word));
      for (int64_t i = 0; i < perRow; ++i)
        next.push_back(
            b.create<DotBF16Op>(accumulators[r * perRow + i], av, wv[i]));
    }
    return next;
  }

  /// act(x) + residual[row, col].
  Value epilogue(Value x, Value row, Value col) {
    x = buildActivation(b, b.getLoc(), sig.activation, x);
    if (residual)
      x = b.create<arith::AddFOp>(x, readRow(residual, {row}, col));
    return x;
  }

  /// Arguments first .. first + count - 1 of the kernel.
  static SmallVector<Value> kernelArguments(Block *entry, unsigned first,
                                            unsigned count) {
    return SmallVector<Value>(entry->getArguments().slice(first, count));
  }

  /// The kernel's bias arguments, one per weight (null where none).
  static SmallVector<Value> kernelBiases(const KernelSignature &sig,
                                         Block *entry) {
    unsigned next = 1 + sig.weights() * (sig.scaled() ? 2 : 1);
    SmallVector<Value> biases;
    if (sig.gated)
      biases.push_back(sig.gateBias ? entry->getArgument(next++) : Value());
    biases.push_back(sig.bias ? entry->getArgument(next) : Value());
    return biases;
  }

  ImplicitLocOpBuilder &b;
  const KernelSignature sig;
  const MatmulTiling tiling;
  const VectorType vecType;
  const int64_t vecsPerPanel, numPanels, kBlock, rowTile, groupPanels,
      blockPanels;
  const bool columnsInBounds;
  // The kernel's arguments (the gate's and the weight's, in that order; the
  // biases and residual may be null) and what is defined once at its entry.
  const Value a;
  /// The weights (collapsed to [NP, ceil(K / 2), 2P] when in k pairs).
  SmallVector<Value> weights;
  const SmallVector<Value> scales, biases;
  /// A rounded to bf16 pairs (roundAToPairs), with k-pair weights.
  Value pairsOfA;
  const Value residual;
  const Value c0, c1, zero, weightZero, zeroVec, numRows;
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
        mBlock % rowTile != 0 || nBlock < 1 || rowParts < 1) {
      module.emitError("tfm-tile-matmul: expected row-tile >= 1, k-block >= "
                       "1, m-block a multiple of row-tile, n-block >= 1, "
                       "row-parts >= 1");
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<PackedLinearOp, PackedGatedLinearOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      auto linear = dyn_cast<PackedLinearOp>(op);
      auto gated = dyn_cast<PackedGatedLinearOp>(op);
      auto weight = cast<RankedTensorType>(
          (linear ? linear.getWeight() : gated.getWeight()).getType());
      int64_t panel = weight.getDimSize(2);
      if (panel % kLanes != 0)
        continue; // The reference lowering takes it.
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      KernelSignature sig{
          cast<RankedTensorType>(
              (linear ? linear.getInput() : gated.getInput()).getType())
              .getShape()
              .back(),
          type.getShape().back(),
          panel,
          type.getRank() - 1,
          static_cast<bool>(linear ? linear.getBias() : gated.getBias()),
          linear && linear.getResidual(),
          linear ? linear.getActivation() : gated.getActivation()};
      sig.gated = static_cast<bool>(gated);
      sig.gateBias = gated && gated.getGateBias();
      sig.weightElement = weight.getElementType();
      sig.pairs = weight.getRank() == 4;
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
    SmallVector<Type> inputs{RankedTensorType::get({dyn, sig.k}, f32)};
    int64_t panels = (sig.n + sig.panel - 1) / sig.panel;
    for (int64_t w = 0; w < sig.weights(); ++w)
      inputs.push_back(
          sig.pairs
              ? RankedTensorType::get({panels, sig.kSteps(), sig.panel, 2},
                                      sig.weightElement)
              : RankedTensorType::get({panels, sig.k, sig.panel},
                                      sig.weightElement));
    if (sig.scaled())
      for (int64_t w = 0; w < sig.weights(); ++w)
        inputs.push_back(RankedTensorType::get({sig.n}, f32));
    if (sig.gateBias)
      inputs.push_back(RankedTensorType::get({sig.n}, f32));
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
    Location loc = NameLoc::get(StringAttr::get(ctx, name));
    ImplicitLocOpBuilder b =
        ImplicitLocOpBuilder::atBlockEnd(loc, module.getBody());
    auto func =
        b.create<func::FuncOp>(name, FunctionType::get(ctx, inputs, {out}));
    func.setPrivate();
    symbols.insert(func);
    MatmulTiling tiling{
        rowTile,          kBlock,
        mBlock,           std::max<int64_t>(1, nBlock / sig.panel),
        parallelMinFlops, parallelMinWeightBytes,
        rowParts,         countWork};
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value c = MatmulKernelBuilder(b, sig, tiling, entry)
                  .build(entry->getArguments().back());
    b.create<func::ReturnOp>(c);
    return func;
  }

  /// Replaces a packed_linear or packed_gated_linear `op` with a call of
  /// `kernel`.
  void replaceWithCall(Operation *op, func::FuncOp kernel) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto linear = dyn_cast<PackedLinearOp>(op);
    auto gated = dyn_cast<PackedGatedLinearOp>(op);
    Value input = linear ? linear.getInput() : gated.getInput();
    Value residual = linear ? linear.getResidual() : Value();
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    // The kernel takes the residual's rows to be the input's: where the
    // types leave that open, it is checked at run time.
    if (residual)
      for (int64_t i = 0; i + 1 < type.getRank(); ++i)
        emitSizeCheck(b, loc, input, i, residual, i);
    SmallVector<Value> args{asMatrix(b, loc, input)};
    if (linear) {
      args.push_back(linear.getWeight());
      for (Value v : {linear.getScales(), linear.getBias()})
        if (v)
          args.push_back(v);
    } else {
      args.append({gated.getGateWeight(), gated.getWeight()});
      for (Value v : {gated.getGateScales(), gated.getScales(),
                      gated.getGateBias(), gated.getBias()})
        if (v)
          args.push_back(v);
    }
    if (residual)
      args.push_back(asMatrix(b, loc, residual));
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
    sizes.back() = b.getIndexAttr(type.getShape().back());
    Value dest = b.create<tensor::EmptyOp>(loc, sizes, f32());
    Type destType = kernel.getFunctionType().getInputs().back();
    if (dest.getType() != destType)
      dest = b.create<tensor::CastOp>(loc, destType, dest);
    args.push_back(dest);
    Value result = b.create<func::CallOp>(loc, kernel, args).getResult(0);
    if (result.getType() != type)
      result = b.create<tensor::CastOp>(loc, type, result);
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
  }

  Type f32() { return Float32Type::get(&getContext()); }
};

} // namespace
