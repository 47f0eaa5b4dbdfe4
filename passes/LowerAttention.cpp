//===- LowerAttention.cpp - tfm.attention as a tiled online softmax -------===//
//
// FlashAttention on the CPU: for each (batch, head), a block of query rows
// goes over successive blocks of keys, keeping per row a running maximum m,
// a running sum l and an output accumulator that is rescaled by
// exp(m_old - m_new) as the maximum grows. No seq x seq buffer exists.
//
//   for b, h (pairs shared among the threads when the call is big enough):
//     kend = key_lengths[b] (or Sk)
//     for each chunk of C keys (512): KT = its transpose, [D, C] scratch, so
//       that a block of keys is one contiguous vector for each d
//      for each block of R query rows (then single rows for the tail),
//      with m, l, acc loaded from [Sq] arrays and the output:
//       for k0 in the chunk, up to the last key any row of the block sees,
//           step BK:
//         s[r] = scale * sum_d q[r, d] * KT[d, k0:k0+BK]       (vector FMAs)
//         (+ additive mask; -inf past each row's limit, only on blocks
//          that straddle a limit)
//         m' = max(m, max(s)); p = exp(s - m'); l = l exp(m - m') + sum(p)
//         acc = acc exp(m - m') + sum_j p[j] V[k0 + j, :]
//     out = acc / l   (0 for a row that saw no key)
//
// Extra memory: the [D, C] scratch and two [Sq] arrays (at Sq = 8192, D = 64:
// 128 KiB + 64 KiB), whatever the sequence length.
//
// Causal rows see keys j <= i + (Sk - Sq): key blocks past the last row's
// limit are never visited. Key padding ends the key loop at kend.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Emits the loop nest for one tfm.attention.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, AttentionOp op, int64_t rows, int64_t keys,
                int64_t chunk, int64_t parallelMinFlops, int64_t maxParts)
      : b(b), loc(op.getLoc()), op(op), blockRows(rows), blockKeys(keys),
        chunkKeys(chunk), parallelMinFlops(parallelMinFlops),
        maxParts(maxParts) {
    headDim = op.getQuery().getType().getDimSize(3);
    valueDim = op.getValue().getType().getDimSize(3);
    f32 = b.getF32Type();
  }

  Value build() {
    Value q = op.getQuery(), k = op.getKey();
    c0 = index(0);
    c1 = index(1);
    auto dim = [&](Value t, int64_t i) {
      return b.create<tensor::DimOp>(loc, t, i).getResult();
    };
    Value batch = dim(q, 0), heads = dim(q, 1);
    numQueries = dim(q, 2);
    numKeys = dim(k, 2);
    negInf = b.create<arith::ConstantOp>(
        loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
    scale = b.create<arith::ConstantOp>(loc, op.getScaleAttr());
    // Causal offset: query i sits at absolute position i + (Sk - Sq).
    offset = b.create<arith::SubIOp>(loc, numKeys, numQueries);

    // The output doubles as the unnormalized accumulator.
    SmallVector<OpFoldResult> outSizes = tensor::getMixedSizes(b, loc, q);
    outSizes[3] = b.getIndexAttr(valueDim);
    Value out = b.create<tensor::EmptyOp>(loc, outSizes, f32);

    // The (batch, head) pairs, shared among the threads when the call has at
    // least `parallelMinFlops` of work (4 Sq Sk D per pair): the part loop
    // (marked tfm.parallel; each part writes the output rows of its own
    // contiguous pairs, with its own scratch) has up to `maxParts` parts, or
    // a single part of every pair, which tfm-lower-parallel-loops runs on the
    // calling thread (a decode step).
    Value pairs = b.create<arith::MulIOp>(loc, batch, heads);
    Value work = b.create<arith::MulIOp>(
        loc, b.create<arith::MulIOp>(loc, pairs, numQueries),
        b.create<arith::MulIOp>(loc, numKeys, index(4 * headDim)));
    Value big = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, work,
                                        index(parallelMinFlops));
    Value parts = b.create<arith::SelectOp>(
        loc, big, maxI(c1, minI(pairs, index(maxParts))), c1);
    return buildPartitionedLoop(
        b, loc, pairs, parts, out, /*parallel=*/true,
        [&](Value first, Value last, Value out) {
          // A part's own scratch (so that parts may run on different
          // threads), reused across its pairs: m and l live in [Sq] arrays
          // between key chunks; a chunk of K is transposed into a
          // [D, chunk] scratch.
          Value kt = b.create<tensor::EmptyOp>(
              loc, ArrayRef<int64_t>{headDim, chunkKeys}, f32);
          // m and l start filled (-inf, 0) rather than empty: two empties of
          // one shape are one value after CSE, and loop-carried copies of
          // one value would share a buffer after bufferization.
          Value mBuf =
              fill(b.create<tensor::EmptyOp>(
                       loc, SmallVector<OpFoldResult>{numQueries}, f32),
                   negInf);
          Value lBuf =
              fill(b.create<tensor::EmptyOp>(
                       loc, SmallVector<OpFoldResult>{numQueries}, f32),
                   zero);
          // The probabilities of a block go through a small stack buffer:
          // P.V broadcasts p[r][j] from memory (a load) instead of
          // extracting a lane from a register (two shuffles). Once per
          // part: an alloca in the inner loops would grow the stack at
          // every iteration.
          pBuf = b.create<memref::AllocaOp>(
              loc, MemRefType::get({blockRows, blockKeys}, f32));
          SmallVector<Value> state{out, kt, mBuf, lBuf};
          state =
              forLoop(first, last, c1, state, [&](Value pair, ValueRange st) {
                batchIdx = b.create<arith::DivUIOp>(loc, pair, heads);
                headIdx = b.create<arith::RemUIOp>(loc, pair, heads);
                return emitHead(st);
              });
          return state[0];
        });
  }

private:
  using LoopBody = function_ref<SmallVector<Value>(Value, ValueRange)>;

  /// scf.for carrying `init`.
  SmallVector<Value> forLoop(Value lb, Value ub, Value step, ValueRange init,
                             LoopBody body) {
    auto loop = b.create<scf::ForOp>(loc, lb, ub, step, init);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    b.create<scf::YieldOp>(
        loc, body(loop.getInductionVar(), loop.getRegionIterArgs()));
    return SmallVector<Value>(loop.getResults());
  }

  Value index(int64_t i) { return b.create<arith::ConstantIndexOp>(loc, i); }
  Value minI(Value a, Value c) { return b.create<arith::MinSIOp>(loc, a, c); }
  Value maxI(Value a, Value c) { return b.create<arith::MaxSIOp>(loc, a, c); }
  Value addI(Value a, Value c) { return b.create<arith::AddIOp>(loc, a, c); }
  Value subI(Value a, Value c) { return b.create<arith::SubIOp>(loc, a, c); }
  Value fill(Value t, Value v) {
    return b.create<linalg::FillOp>(loc, v, t).getResult(0);
  }

  /// Exclusive bound of the keys that query row `row` sees.
  Value rowLimit(Value row) {
    if (!op.getCausal())
      return keyEnd;
    return maxI(c0, minI(keyEnd, addI(addI(row, offset), c1)));
  }

  /// One (batch, head): state = {out, kt, m, l}.
  SmallVector<Value> emitHead(ValueRange state) {
    Value out = state[0], kt = state[1];
    Value mBuf = fill(state[2], negInf), lBuf = fill(state[3], zero);
    keyEnd = numKeys;
    if (Value lengths = op.getKeyLengths()) {
      Value len = b.create<tensor::ExtractOp>(loc, lengths, batchIdx);
      len = b.create<arith::IndexCastOp>(loc, b.getIndexType(), len);
      keyEnd = maxI(c0, minI(len, numKeys));
    }
    // Zero this head's accumulator rows.
    SmallVector<OpFoldResult> offsets{batchIdx, headIdx, b.getIndexAttr(0),
                                      b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                    numQueries, b.getIndexAttr(valueDim)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto rowsType =
        RankedTensorType::get({ShapedType::kDynamic, valueDim}, f32);
    Value rowsSlice = b.create<tensor::ExtractSliceOp>(loc, rowsType, out,
                                                       offsets, sizes, strides);
    out = b.create<tensor::InsertSliceOp>(loc, fill(rowsSlice, zero), out,
                                          offsets, sizes, strides);

    // Key chunks up to the last key any row sees.
    Value lastRow = subI(numQueries, c1);
    Value chunkEnd = rowLimit(lastRow);
    SmallVector<Value> st{out, kt, mBuf, lBuf};
    st =
        forLoop(c0, chunkEnd, index(chunkKeys), st, [&](Value c, ValueRange s) {
          return emitChunk(c, chunkEnd, s);
        });

    // Normalize: out = acc / l, or 0 for a row that saw no key.
    VectorType accType = VectorType::get({valueDim}, f32);
    SmallVector<Value> fin{st[0]};
    fin = forLoop(c0, numQueries, c1, fin, [&](Value row, ValueRange s) {
      Value l = b.create<tensor::ExtractOp>(loc, st[3], row);
      Value seen =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, l, zero);
      Value one = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f));
      Value inv = b.create<arith::SelectOp>(
          loc, seen, b.create<arith::DivFOp>(loc, one, l), zero);
      SmallVector<Value> at{batchIdx, headIdx, row, c0};
      Value acc = b.create<vector::TransferReadOp>(loc, accType, s[0], at, zero,
                                                   ArrayRef<bool>{true});
      Value o = b.create<arith::MulFOp>(
          loc, acc, b.create<vector::BroadcastOp>(loc, accType, inv));
      return SmallVector<Value>{b.create<vector::TransferWriteOp>(
                                     loc, o, s[0], at, ArrayRef<bool>{true})
                                    .getResult()};
    });
    return {fin[0], st[1], st[2], st[3]};
  }

  /// Keys [c, c + n) with n = min(chunk, end - c): transpose them into the
  /// scratch, then every block of query rows against them.
  SmallVector<Value> emitChunk(Value c, Value end, ValueRange state) {
    Value out = state[0], kt = state[1], mBuf = state[2], lBuf = state[3];
    Value n = minI(index(chunkKeys), subI(end, c));
    OpFoldResult dDim = b.getIndexAttr(headDim);
    auto keysType = RankedTensorType::get({ShapedType::kDynamic, headDim}, f32);
    Value keys = b.create<tensor::ExtractSliceOp>(
        loc, keysType, op.getKey(),
        SmallVector<OpFoldResult>{batchIdx, headIdx, c, b.getIndexAttr(0)},
        SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1), n,
                                  dDim},
        SmallVector<OpFoldResult>(4, b.getIndexAttr(1)));
    SmallVector<OpFoldResult> ktOffsets(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> ktSizes{dDim, n};
    SmallVector<OpFoldResult> ktStrides(2, b.getIndexAttr(1));
    // Only blocks of rows read the transposed keys: a call with fewer rows
    // than a block (a decode step) skips the transpose.
    Value blocks = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                           numQueries, index(blockRows));
    auto transposeIf = b.create<scf::IfOp>(
        loc, blocks,
        [&](OpBuilder &nb, Location) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value ktDst = b.create<tensor::ExtractSliceOp>(loc, kt, ktOffsets,
                                                         ktSizes, ktStrides);
          Value transposed = b.create<linalg::TransposeOp>(
                                  loc, keys, ktDst, ArrayRef<int64_t>{1, 0})
                                 .getResult()[0];
          b.create<scf::YieldOp>(
              loc, b.create<tensor::InsertSliceOp>(
                        loc, transposed, kt, ktOffsets, ktSizes, ktStrides)
                       .getResult());
        },
        [&](OpBuilder &nb, Location) { nb.create<scf::YieldOp>(loc, kt); });
    kt = transposeIf.getResult(0);
    chunkStart = c;
    chunkLimit = addI(c, n);
    ktChunk = kt;

    // Full blocks of rows, then the remaining rows one at a time.
    Value rows = index(blockRows);
    Value full = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, numQueries, rows), rows);
    SmallVector<Value> st{out, mBuf, lBuf};
    st = forLoop(c0, full, rows, st, [&](Value q0, ValueRange s) {
      return emitRows(blockRows, q0, s);
    });
    st = forLoop(full, numQueries, c1, st,
                 [&](Value q0, ValueRange s) { return emitRows(1, q0, s); });
    return {st[0], kt, st[1], st[2]};
  }

  /// Rows [q0, q0 + count) against the keys of the current chunk, when they
  /// see any (with a causal mask, early rows see none of a late chunk: skip
  /// their state traffic and the pipelined first block); state = {out, m, l}.
  SmallVector<Value> emitRows(int64_t count, Value q0, ValueRange state) {
    if (!op.getCausal())
      return emitRowsUnguarded(count, q0, state);
    Value lastRow = addI(q0, index(count - 1));
    Value seesChunk = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                              rowLimit(lastRow), chunkStart);
    auto ifOp = b.create<scf::IfOp>(
        loc, seesChunk,
        [&](OpBuilder &nb, Location) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          b.create<scf::YieldOp>(loc, emitRowsUnguarded(count, q0, state));
        },
        [&](OpBuilder &nb, Location) { nb.create<scf::YieldOp>(loc, state); });
    return SmallVector<Value>(ifOp.getResults());
  }

  SmallVector<Value> emitRowsUnguarded(int64_t count, Value q0,
                                       ValueRange state) {
    Value out = state[0], mBuf = state[1], lBuf = state[2];
    VectorType sType = VectorType::get({blockKeys}, f32);
    VectorType accType = VectorType::get({valueDim}, f32);
    SmallVector<Value> rows;
    for (int64_t r = 0; r < count; ++r)
      rows.push_back(addI(q0, index(r)));
    // Keys the last row sees bound the loop; below the first row's limit no
    // key of a block is masked for any row.
    Value loopEnd = minI(rowLimit(rows.back()), chunkLimit);
    Value unmaskedEnd = rowLimit(rows.front());

    SmallVector<Value> init;
    for (int64_t r = 0; r < count; ++r)
      init.push_back(b.create<tensor::ExtractOp>(loc, mBuf, rows[r]));
    for (int64_t r = 0; r < count; ++r)
      init.push_back(b.create<tensor::ExtractOp>(loc, lBuf, rows[r]));
    for (int64_t r = 0; r < count; ++r)
      init.push_back(b.create<vector::TransferReadOp>(
          loc, accType, out, ValueRange{batchIdx, headIdx, rows[r], c0}, zero,
          ArrayRef<bool>{true}));

    Value keysPerBlock = index(blockKeys);
    // Software pipelining: the scores of the next block are computed between
    // this block's softmax and its P.V, so that their FMAs fill the latency
    // of the softmax chain (max, exp, rescale) instead of waiting behind it.
    auto scores = [&](Value local) -> SmallVector<Value> {
      if (count == 1)
        return {rowScores(rows[0], addI(chunkStart, local))};
      SmallVector<Value> sc(count,
                            b.create<arith::ConstantOp>(
                                loc, DenseElementsAttr::get(sType, 0.0f)));
      for (int64_t d = 0; d < headDim; ++d) {
        Value dIdx = index(d);
        // Past the chunk's last block this reads past the scratch: masked
        // (padding 0); those scores are never used.
        Value keysRow = b.create<vector::TransferReadOp>(
            loc, sType, ktChunk, ValueRange{dIdx, local}, zero,
            ArrayRef<bool>{false});
        for (int64_t r = 0; r < count; ++r) {
          Value qd = b.create<tensor::ExtractOp>(
              loc, op.getQuery(), ValueRange{batchIdx, headIdx, rows[r], dIdx});
          Value qv = b.create<vector::BroadcastOp>(loc, sType, qd);
          sc[r] = b.create<vector::FMAOp>(loc, qv, keysRow, sc[r]);
        }
      }
      return sc;
    };
    for (Value first : scores(c0))
      init.push_back(first);
    auto loop =
        b.create<scf::ForOp>(loc, chunkStart, loopEnd, keysPerBlock, init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value k0 = loop.getInductionVar();
      Value local = subI(k0, chunkStart);
      ValueRange st = loop.getRegionIterArgs();
      SmallVector<Value> m(st.begin(), st.begin() + count);
      SmallVector<Value> l(st.begin() + count, st.begin() + 2 * count);
      SmallVector<Value> acc(st.begin() + 2 * count, st.begin() + 3 * count);
      // s[r] = q[r] . KT[:, k0:k0+BK], computed by the previous iteration.
      // Keys past the chunk's data are masked below.
      SmallVector<Value> s(st.begin() + 3 * count, st.end());
      Value sZero =
          b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(sType, 0.0f));
      Value scaleV = b.create<vector::BroadcastOp>(loc, sType, scale);
      for (int64_t r = 0; r < count; ++r) {
        s[r] = b.create<arith::MulFOp>(loc, s[r], scaleV);
        if (op.getMask())
          s[r] = b.create<arith::AddFOp>(loc, s[r], maskRow(rows[r], k0));
      }

      // Keys past a row's limit get -inf; only on blocks that reach past
      // the first row's limit.
      Value straddles = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sgt, addI(k0, keysPerBlock), unmaskedEnd);
      auto ifOp = b.create<scf::IfOp>(
          loc, straddles,
          [&](OpBuilder &nb, Location) {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            SmallVector<Value> masked;
            Value iota = keyIota(k0);
            Value negInfV = b.create<vector::BroadcastOp>(loc, sType, negInf);
            for (int64_t r = 0; r < count; ++r) {
              Value limit = b.create<vector::BroadcastOp>(
                  loc, VectorType::get({blockKeys}, b.getIndexType()),
                  rowLimit(rows[r]));
              Value visible = b.create<arith::CmpIOp>(
                  loc, arith::CmpIPredicate::slt, iota, limit);
              masked.push_back(
                  b.create<arith::SelectOp>(loc, visible, s[r], negInfV));
            }
            b.create<scf::YieldOp>(loc, masked);
          },
          [&](OpBuilder &nb, Location) { nb.create<scf::YieldOp>(loc, s); });
      for (int64_t r = 0; r < count; ++r)
        s[r] = ifOp.getResult(r);

      // Online softmax.
      SmallVector<Value> p(count), newM(count), newL(count), newAcc(count);
      Value negInfS = b.create<vector::BroadcastOp>(loc, sType, negInf);
      for (int64_t r = 0; r < count; ++r) {
        Value blockMax = b.create<vector::ReductionOp>(
            loc, vector::CombiningKind::MAXIMUMF, s[r]);
        newM[r] = b.create<arith::MaximumFOp>(loc, m[r], blockMax);
        // Nothing seen yet: subtract 0, so that exp(-inf) stays 0, not NaN.
        Value none = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ,
                                             newM[r], negInf);
        Value base = b.create<arith::SelectOp>(loc, none, zero, newM[r]);
        // exp(m - m') through the inline vector exp: a scalar math.exp is a
        // libm call, around which every live zmm register (the accumulators)
        // would be spilled, as all are caller-saved.
        VectorType lane = VectorType::get({16}, f32);
        Value alpha = b.create<vector::ExtractOp>(
            loc,
            b.create<math::ExpOp>(
                loc, b.create<vector::BroadcastOp>(
                         loc, lane, b.create<arith::SubFOp>(loc, m[r], base))),
            0);
        Value baseV = b.create<vector::BroadcastOp>(loc, sType, base);
        Value e = b.create<math::ExpOp>(
            loc, b.create<arith::SubFOp>(loc, s[r], baseV));
        // A hidden key contributes exactly 0 (the vector exp is a polynomial
        // that need not reach 0 at -inf).
        Value hidden = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ,
                                               s[r], negInfS);
        p[r] = b.create<arith::SelectOp>(loc, hidden, sZero, e);
        // reassoc: a tree of adds; in order, the 32-lane sum is a chain of
        // 32 dependent scalar adds per row and block.
        Value sum = b.create<vector::ReductionOp>(
            loc, vector::CombiningKind::ADD, p[r], Value(),
            arith::FastMathFlags::reassoc);
        newL[r] = b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, l[r], alpha), sum);
        newAcc[r] = b.create<arith::MulFOp>(
            loc, acc[r], b.create<vector::BroadcastOp>(loc, accType, alpha));
      }

      for (int64_t r = 0; r < count; ++r)
        b.create<vector::StoreOp>(loc, p[r], pBuf, ValueRange{index(r), c0});
      SmallVector<Value> next = scores(addI(local, keysPerBlock));

      // acc[r] += sum_j p[r][j] V[k0 + j, :]. Rows past the keys are read
      // clamped (always in bounds); their p is 0.
      Value lastKey = subI(numKeys, c1);
      for (int64_t j = 0; j < blockKeys; ++j) {
        Value key = minI(addI(k0, index(j)), lastKey);
        Value vRow = b.create<vector::TransferReadOp>(
            loc, accType, op.getValue(), ValueRange{batchIdx, headIdx, key, c0},
            zero, ArrayRef<bool>{true});
        for (int64_t r = 0; r < count; ++r) {
          Value pj = b.create<memref::LoadOp>(loc, pBuf,
                                              ValueRange{index(r), index(j)});
          Value pv = b.create<vector::BroadcastOp>(loc, accType, pj);
          newAcc[r] = b.create<vector::FMAOp>(loc, pv, vRow, newAcc[r]);
        }
      }
      SmallVector<Value> yields(newM);
      yields.append(newL);
      yields.append(newAcc);
      yields.append(next);
      b.create<scf::YieldOp>(loc, yields);
    }

    ValueRange results = loop.getResults();
    for (int64_t r = 0; r < count; ++r) {
      mBuf = b.create<tensor::InsertOp>(loc, results[r], mBuf, rows[r]);
      lBuf = b.create<tensor::InsertOp>(loc, results[count + r], lBuf, rows[r]);
      out =
          b.create<vector::TransferWriteOp>(
               loc, results[2 * count + r], out,
               ValueRange{batchIdx, headIdx, rows[r], c0}, ArrayRef<bool>{true})
              .getResult();
    }
    return {out, mBuf, lBuf};
  }

  /// The unscaled scores of one query row against keys [k0, k0 + BK), read
  /// from K as it is (row-major): a dot product per key. Single rows (a
  /// decode step, the tail of longer queries) take this path, so that a
  /// call whose rows are all single never transposes K. Keys past the end
  /// are read clamped; their scores are masked by the caller.
  Value rowScores(Value row, Value k0) {
    VectorType sType = VectorType::get({blockKeys}, f32);
    VectorType rowType = VectorType::get({headDim}, f32);
    Value qv = b.create<vector::TransferReadOp>(
        loc, rowType, op.getQuery(), ValueRange{batchIdx, headIdx, row, c0},
        zero, ArrayRef<bool>{true});
    Value lastKey = subI(numKeys, c1);
    Value init =
        b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(sType, 0.0f));
    SmallVector<Value> result =
        forLoop(c0, index(blockKeys), c1, init, [&](Value j, ValueRange acc) {
          Value key = minI(addI(k0, j), lastKey);
          Value kv = b.create<vector::TransferReadOp>(
              loc, rowType, op.getKey(), ValueRange{batchIdx, headIdx, key, c0},
              zero, ArrayRef<bool>{true});
          Value dot = b.create<vector::ReductionOp>(
              loc, vector::CombiningKind::ADD,
              b.create<arith::MulFOp>(loc, qv, kv), Value(),
              arith::FastMathFlags::reassoc);
          return SmallVector<Value>{
              b.create<vector::InsertElementOp>(loc, dot, acc[0], j)};
        });
    return result[0];
  }

  /// Key indices k0, k0 + 1, ..., as a vector of index.
  Value keyIota(Value k0) {
    SmallVector<int64_t> iota(blockKeys);
    for (int64_t i = 0; i < blockKeys; ++i)
      iota[i] = i;
    auto type = VectorType::get({blockKeys}, b.getIndexType());
    Value base = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(type, ArrayRef<int64_t>(iota)));
    return b.create<arith::AddIOp>(
        loc, base, b.create<vector::BroadcastOp>(loc, type, k0));
  }

  /// The additive mask for row `row`, keys [k0, k0 + BK); its dimensions are
  /// aligned to the trailing ones of [B, H, Sq, Sk], a static 1 broadcasts.
  Value maskRow(Value row, Value k0) {
    Value mask = op.getMask();
    auto type = cast<RankedTensorType>(mask.getType());
    int64_t rank = type.getRank();
    Value full[4] = {batchIdx, headIdx, row, k0};
    SmallVector<Value> indices;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = 4 - rank + i;
      indices.push_back(type.getDimSize(i) == 1 ? c0 : full[d]);
    }
    VectorType sType = VectorType::get({blockKeys}, f32);
    if (type.getShape().back() == 1) {
      Value scalar = b.create<tensor::ExtractOp>(loc, mask, indices);
      return b.create<vector::BroadcastOp>(loc, sType, scalar);
    }
    return b.create<vector::TransferReadOp>(loc, sType, mask, indices, zero,
                                            ArrayRef<bool>{false});
  }

  OpBuilder &b;
  Location loc;
  AttentionOp op;
  int64_t blockRows, blockKeys, chunkKeys, parallelMinFlops, maxParts;
  int64_t headDim = 0, valueDim = 0;
  Type f32;
  Value c0, c1, negInf, zero, scale, offset;
  Value numQueries, numKeys;
  Value batchIdx, headIdx, keyEnd;
  Value chunkStart, chunkLimit, ktChunk, pBuf;
};

struct LowerAttentionPattern : OpRewritePattern<AttentionOp> {
  LowerAttentionPattern(MLIRContext *ctx, int64_t rows, int64_t keys,
                        int64_t chunk, int64_t parallelMinFlops,
                        int64_t maxParts)
      : OpRewritePattern(ctx), rows(rows), keys(keys), chunk(chunk),
        parallelMinFlops(parallelMinFlops), maxParts(maxParts) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getType();
    auto v = op.getValue().getType();
    if (q.isDynamicDim(3) || v.isDynamicDim(3))
      return rewriter.notifyMatchFailure(
          op, "head sizes must be static for the vectorized kernel");
    if (auto mask = op.getMask()) {
      auto type = cast<RankedTensorType>(mask.getType());
      if (type.getRank() > 4)
        return rewriter.notifyMatchFailure(op, "mask of rank > 4");
    }
    KernelBuilder builder(rewriter, op, rows, keys, chunk, parallelMinFlops,
                          maxParts);
    rewriter.replaceOp(op, builder.build());
    return success();
  }

  int64_t rows, keys, chunk, parallelMinFlops, maxParts;
};

struct TfmLowerAttention
    : mlir::tfm::impl::TfmLowerAttentionBase<TfmLowerAttention> {
  using TfmLowerAttentionBase::TfmLowerAttentionBase;

  void runOnOperation() override {
    if (queryBlock < 1 || keyBlock < 1 || keyChunk < keyBlock ||
        keyChunk % keyBlock != 0 || parallelParts < 1) {
      getOperation().emitError(
          "tfm-lower-attention: expected query-block >= 1, key-block >= 1, "
          "key-chunk a multiple of key-block and parallel-parts >= 1");
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateLowerAttentionPatterns(patterns, queryBlock, keyBlock, keyChunk,
                                   parallelMinFlops, parallelParts);
    int64_t before = 0;
    getOperation().walk([&](AttentionOp) { ++before; });
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    int64_t after = 0;
    getOperation().walk([&](AttentionOp) { ++after; });
    numKernels += before - after;
  }
};

} // namespace

void mlir::tfm::populateLowerAttentionPatterns(
    RewritePatternSet &patterns, int64_t queryBlock, int64_t keyBlock,
    int64_t keyChunk, int64_t parallelMinFlops, int64_t parallelParts) {
  patterns.add<LowerAttentionPattern>(patterns.getContext(), queryBlock,
                                      keyBlock, keyChunk, parallelMinFlops,
                                      parallelParts);
}
