//===- LowerAttention.cpp - tfm.attention as a tiled online softmax -------===//
//
// FlashAttention on the CPU: for each (batch, head), a block of query rows
// goes over successive blocks of keys, keeping per row a running maximum m,
// a running sum l and an output accumulator that is rescaled by
// exp(m_old - m_new) as the maximum grows. No seq x seq buffer exists.
//
//   for b, h (pairs shared among the threads when the call is big enough):
//     kend = key_lengths[b] (or Sk)
//     for each chunk of C keys (1024): pack them into 32-key panels,
//      KT[p][d][j] = K[32 p + j][d] (L2-resident, one line per d)
//      for each block of R query rows (8), over tiles of T keys (1024) up to
//      the last key any row of the block sees:
//        1. S[r][j] = scale q[r] . k[j] into a stack scratch (L1), an R x 32
//           register tile of vector FMAs per panel; -inf past each row's
//           limit, only on panels that straddle a limit
//        2. per row: m' = max(m, max S[r]); S[r] = exp(S[r] - m');
//           l = l a + sum S[r]; a[r] = exp(m - m')
//        3. out[r] = a[r] out[r] + sum_j S[r][j] V[j], an R x 32 register
//           tile per 32 columns of V
//      the remaining rows one at a time, everything in registers, K read as
//      it is (a decode step takes this path and packs nothing)
//     out = out / l   (0 for a row that saw no key)
//
// Keeping the three steps apart lets each run at the speed of its own kind
// of work: the products are the matmul kernel's register tile, the softmax
// has 2 x T / 16 independent vectors a row. Interleaving them in registers
// (the first version of this kernel) spilled and waited on the softmax's
// dependency chain: 47% of the FMA peak against ~80% now (bench/attention.sh).
//
// Extra memory: the packed chunk, the score tile and two [Sq] arrays (at
// Sq = 8192, D = 64: 256 KiB + 33 KiB + 64 KiB), whatever the length.
//
// Causal rows see keys j <= i + (Sk - Sq): key tiles past the last row's
// limit are never visited. Key padding ends the key loop at kend.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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
      : b(b), loc(op.getLoc()), op(op), blockRows(rows), tileKeys(keys),
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
          // between key chunks; a chunk of K is packed into 32-key panels,
          // [chunk / 32, D, 32].
          Value kt = b.create<tensor::EmptyOp>(
              loc,
              ArrayRef<int64_t>{chunkKeys / kPanelKeys, headDim, kPanelKeys},
              f32);
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
          // A block's scores, then probabilities, on the stack (L1): R rows
          // of a key tile, 16 floats of padding so that the rows do not
          // fall on the same cache sets; a single row's probabilities use
          // the first row. The rescale factors of a block's rows. Once per
          // part: an alloca in the inner loops would grow the stack at
          // every iteration.
          sBuf = b.create<memref::AllocaOp>(
              loc, MemRefType::get(
                       {blockRows, std::max(tileKeys, rowKeys) + 16}, f32));
          auto rowsType = MemRefType::get({blockRows}, f32);
          alphaBuf = b.create<memref::AllocaOp>(loc, rowsType);
          baseBuf = b.create<memref::AllocaOp>(loc, rowsType);
          sumBuf = b.create<memref::AllocaOp>(loc, rowsType);
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
    if (init.empty()) {
      // The builder gave the body its terminator.
      b.setInsertionPoint(loop.getBody()->getTerminator());
      body(loop.getInductionVar(), loop.getRegionIterArgs());
      return {};
    }
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

  /// Keys [c, c + n) with n = min(chunk, end - c): pack them into the
  /// scratch, then every block of query rows against them.
  SmallVector<Value> emitChunk(Value c, Value end, ValueRange state) {
    Value out = state[0], kt = state[1], mBuf = state[2], lBuf = state[3];
    Value n = minI(index(chunkKeys), subI(end, c));
    // Only blocks of rows read the packed keys: a call with fewer rows than
    // a block (a decode step) skips the packing.
    Value blocks = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                           numQueries, index(blockRows));
    kt = buildIfElse(
        b, loc, blocks, [&] { return SmallVector<Value>{packKeys(c, n, kt)}; },
        [&] { return SmallVector<Value>{kt}; })[0];
    chunkStart = c;
    chunkLimit = addI(c, n);
    ktChunk = kt;

    // Full blocks of rows, then the remaining rows one at a time.
    Value rows = index(blockRows);
    Value full = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, numQueries, rows), rows);
    SmallVector<Value> st{out, mBuf, lBuf};
    st = forLoop(c0, full, rows, st, [&](Value q0, ValueRange s) {
      return ifSeesChunk(q0, blockRows, s,
                         [&](ValueRange s) { return emitBlock(q0, s); });
    });
    st = forLoop(full, numQueries, c1, st, [&](Value q0, ValueRange s) {
      return ifSeesChunk(q0, 1, s,
                         [&](ValueRange s) { return emitRow(q0, s); });
    });
    return {st[0], kt, st[1], st[2]};
  }

  /// Keys [c, c + n) of this (batch, head) into 32-key panels of the
  /// scratch, kt[p][d][j] = K[c + 32 p + j][d]: the score tile reads one
  /// contiguous 128-byte line per d. With D a multiple of 16, 16 x 16
  /// blocks are transposed in registers; else by linalg.transpose, the
  /// last panel padded with zeros.
  Value packKeys(Value c, Value n, Value kt) {
    if (headDim % 16 == 0)
      return packKeysByBlocks(c, n, kt);
    Value panels = ceilDiv(n, kPanelKeys);
    OpFoldResult dDim = b.getIndexAttr(headDim);
    SmallVector<OpFoldResult> ones3(3, b.getIndexAttr(1));
    auto panelType =
        RankedTensorType::get({headDim, ShapedType::kDynamic}, f32);
    SmallVector<Value> st{kt};
    st = forLoop(c0, panels, c1, st, [&](Value p, ValueRange s) {
      Value first = b.create<arith::MulIOp>(loc, p, index(kPanelKeys));
      Value count = minI(index(kPanelKeys), subI(n, first));
      auto keysType =
          RankedTensorType::get({ShapedType::kDynamic, headDim}, f32);
      Value keys = b.create<tensor::ExtractSliceOp>(
          loc, keysType, op.getKey(),
          SmallVector<OpFoldResult>{batchIdx, headIdx, addI(c, first),
                                    b.getIndexAttr(0)},
          SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1), count,
                                    dDim},
          SmallVector<OpFoldResult>(4, b.getIndexAttr(1)));
      auto panelSlice = [&](Value tensor, Value from, Value size) {
        return b.create<tensor::ExtractSliceOp>(
            loc, panelType, tensor,
            SmallVector<OpFoldResult>{p, b.getIndexAttr(0), from},
            SmallVector<OpFoldResult>{b.getIndexAttr(1), dDim, size}, ones3);
      };
      auto insertPanel = [&](Value slice, Value tensor, Value from,
                             Value size) {
        return b.create<tensor::InsertSliceOp>(
            loc, slice, tensor,
            SmallVector<OpFoldResult>{p, b.getIndexAttr(0), from},
            SmallVector<OpFoldResult>{b.getIndexAttr(1), dDim, size}, ones3);
      };
      Value transposed =
          b.create<linalg::TransposeOp>(loc, keys, panelSlice(s[0], c0, count),
                                        ArrayRef<int64_t>{1, 0})
              .getResult()[0];
      Value packed = insertPanel(transposed, s[0], c0, count);
      // The keys past the end: zeros (their scores are masked), so that
      // the tile never multiplies stale or uninitialized memory.
      Value rest = subI(index(kPanelKeys), count);
      Value zeros = fill(panelSlice(packed, count, rest), zero);
      return SmallVector<Value>{insertPanel(zeros, packed, count, rest)};
    });
    return st[0];
  }

  /// packKeys for D a multiple of 16: each 16 keys x 16 dimensions block
  /// is read as 16 row vectors and transposed by 4 rounds of interleaving
  /// rows i and i + 8 (vector.shuffle: one two-source permute each), 64
  /// shuffles for 256 floats. (LLVM vectorized the transpose loop with
  /// gathers, 3.5% of a causal call's time.) Keys past the end are read
  /// clamped to the last key: their scores are masked.
  Value packKeysByBlocks(Value c, Value n, Value kt) {
    VectorType vec = VectorType::get({16}, f32);
    SmallVector<int64_t> lo, hi;
    for (int64_t i = 0; i < 8; ++i) {
      lo.append({i, 16 + i});
      hi.append({8 + i, 24 + i});
    }
    Value lastKey = subI(numKeys, c1);
    // Whole panels: the score tile reads all 32 keys of the last one.
    Value blocks = b.create<arith::MulIOp>(loc, ceilDiv(n, kPanelKeys),
                                           index(kPanelKeys / 16));
    SmallVector<Value> st{kt};
    st = forLoop(c0, blocks, c1, st, [&](Value blk, ValueRange s) {
      Value first = addI(c, b.create<arith::MulIOp>(loc, blk, index(16)));
      Value panel = b.create<arith::DivUIOp>(loc, blk, index(2));
      Value lane = b.create<arith::MulIOp>(
          loc, b.create<arith::RemUIOp>(loc, blk, index(2)), index(16));
      return forLoop(
          c0, index(headDim), index(16), s, [&](Value d, ValueRange t) {
            SmallVector<Value> rows;
            for (int64_t i = 0; i < 16; ++i)
              rows.push_back(b.create<vector::TransferReadOp>(
                  loc, vec, op.getKey(),
                  ValueRange{batchIdx, headIdx,
                             minI(addI(first, index(i)), lastKey), d},
                  zero, ArrayRef<bool>{true}));
            for (int round = 0; round < 4; ++round) {
              SmallVector<Value> next;
              for (int64_t i = 0; i < 8; ++i) {
                next.push_back(
                    b.create<vector::ShuffleOp>(loc, rows[i], rows[i + 8], lo));
                next.push_back(
                    b.create<vector::ShuffleOp>(loc, rows[i], rows[i + 8], hi));
              }
              rows = next;
            }
            Value packed = t[0];
            for (int64_t i = 0; i < 16; ++i)
              packed = b.create<vector::TransferWriteOp>(
                            loc, rows[i], packed,
                            ValueRange{panel, addI(d, index(i)), lane},
                            ArrayRef<bool>{true})
                           .getResult();
            return SmallVector<Value>{packed};
          });
    });
    return st[0];
  }

  /// `body(state)` for rows [q0, q0 + count) when they see any key of the
  /// chunk: with a causal mask, early rows see none of a late chunk (no
  /// state traffic then); state = {out, m, l}.
  SmallVector<Value>
  ifSeesChunk(Value q0, int64_t count, ValueRange state,
              function_ref<SmallVector<Value>(ValueRange)> body) {
    if (!op.getCausal())
      return body(state);
    Value lastRow = addI(q0, index(count - 1));
    Value seesChunk = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                              rowLimit(lastRow), chunkStart);
    return buildIfElse(
        b, loc, seesChunk, [&] { return body(state); },
        [&] { return SmallVector<Value>(state); });
  }

  /// The `blockRows` rows [q0, q0 + R) against the keys of the chunk they
  /// see, `tileKeys` keys at a time, in three steps that each run at the
  /// speed of their own kind of work (state = {out, m, l}):
  ///   1. S = scale Q Kᵀ of the tile into the stack scratch, an R x 32
  ///      register tile per panel of packed keys (FMAs only);
  ///   2. per row, the online softmax over its S row (independent vectors,
  ///      no reduction inside the products);
  ///   3. out = alpha out + P V, an R x 32 register tile per 32 columns.
  SmallVector<Value> emitBlock(Value q0, ValueRange state) {
    Value lastRow = addI(q0, index(blockRows - 1));
    Value loopEnd = minI(rowLimit(lastRow), chunkLimit);
    return forLoop(chunkStart, loopEnd, index(tileKeys), state,
                   [&](Value k0, ValueRange s) {
                     Value count = minI(index(tileKeys), subI(loopEnd, k0));
                     Value panels = ceilDiv(count, kPanelKeys);
                     Value rowMax = emitScores(q0, k0, panels);
                     SmallVector<Value> ml =
                         emitSoftmax(q0, panels, rowMax, s[1], s[2]);
                     Value out = emitProbsTimesValues(q0, k0, count, s[0]);
                     return SmallVector<Value>{out, ml[0], ml[1]};
                   });
  }

  /// Step 1: sBuf[r][32 p + j] = scale q[q0 + r] . K[k0 + 32 p + j] for
  /// the `panels` panels from k0, -inf where the key is past the row's
  /// limit (only on panels that reach past the first row's). Returns the
  /// rows' maxima, vector<R>, taken while the scores are in registers.
  Value emitScores(Value q0, Value k0, Value panels) {
    VectorType vec = VectorType::get({16}, f32);
    int64_t halves = kPanelKeys / 16;
    Value firstPanel =
        b.create<arith::DivUIOp>(loc, subI(k0, chunkStart), index(kPanelKeys));
    Value unmaskedEnd = rowLimit(q0);
    Value vZero =
        b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(vec, 0.0f));
    Value scaleV = b.create<vector::BroadcastOp>(loc, vec, scale);
    Value negInfV = b.create<vector::BroadcastOp>(loc, vec, negInf);
    SmallVector<Value> maxInit(blockRows, negInfV);
    SmallVector<Value> maxes =
        forLoop(c0, panels, c1, maxInit, [&](Value p, ValueRange mx) {
          Value panel = addI(firstPanel, p);
          Value col = b.create<arith::MulIOp>(loc, p, index(kPanelKeys));
          Value key = addI(k0, col);
          // Unrolled by up to 4 d steps: 16 FMAs a step, 2R + 2 loads.
          int64_t unroll = headDim % 4 == 0 ? 4 : headDim % 2 == 0 ? 2 : 1;
          SmallVector<Value> acc(blockRows * halves, vZero);
          acc = forLoop(
              c0, index(headDim), index(unroll), acc,
              [&](Value d, ValueRange a) {
                SmallVector<Value> next(a);
                for (int64_t u = 0; u < unroll; ++u) {
                  Value dd = addI(d, index(u));
                  SmallVector<Value> keys;
                  for (int64_t h = 0; h < halves; ++h)
                    keys.push_back(b.create<vector::TransferReadOp>(
                        loc, vec, ktChunk, ValueRange{panel, dd, index(16 * h)},
                        zero, ArrayRef<bool>{true}));
                  for (int64_t r = 0; r < blockRows; ++r) {
                    Value qd = b.create<tensor::ExtractOp>(
                        loc, op.getQuery(),
                        ValueRange{batchIdx, headIdx, addI(q0, index(r)), dd});
                    Value qv = b.create<vector::BroadcastOp>(loc, vec, qd);
                    for (int64_t h = 0; h < halves; ++h)
                      next[r * halves + h] = b.create<vector::FMAOp>(
                          loc, qv, keys[h], next[r * halves + h]);
                  }
                }
                return next;
              });
          for (int64_t r = 0; r < blockRows; ++r) {
            for (int64_t h = 0; h < halves; ++h) {
              Value &s = acc[r * halves + h];
              s = b.create<arith::MulFOp>(loc, s, scaleV);
              if (op.getMask())
                s = b.create<arith::AddFOp>(
                    loc, s,
                    maskRow(addI(q0, index(r)), addI(key, index(16 * h)), 16));
            }
          }
          Value straddles = b.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::sgt, addI(key, index(kPanelKeys)),
              unmaskedEnd);
          SmallVector<Value> scores = buildIfElse(
              b, loc, straddles,
              [&] {
                SmallVector<Value> masked;
                for (int64_t r = 0; r < blockRows; ++r) {
                  Value limit = rowLimit(addI(q0, index(r)));
                  for (int64_t h = 0; h < halves; ++h)
                    masked.push_back(hidePastLimit(
                        acc[r * halves + h], addI(key, index(16 * h)), limit));
                }
                return masked;
              },
              [&] { return acc; });
          SmallVector<Value> nextMax(mx);
          for (int64_t r = 0; r < blockRows; ++r) {
            for (int64_t h = 0; h < halves; ++h) {
              Value sv = scores[r * halves + h];
              b.create<vector::StoreOp>(
                  loc, sv, sBuf,
                  ValueRange{index(r), addI(col, index(16 * h))});
              nextMax[r] =
                  b.create<arith::MaximumFOp>(loc, nextMax[r], sv, nnan);
            }
          }
          return nextMax;
        });
    SmallVector<Value> rowMax;
    for (Value mx : maxes)
      rowMax.push_back(b.create<vector::ReductionOp>(
          loc, vector::CombiningKind::MAXIMUMF, mx, Value(), nnan));
    return b.create<vector::FromElementsOp>(
        loc, VectorType::get({blockRows}, f32), rowMax);
  }

  /// Step 2: for the block's rows at once (vector<R>), m' = max(m, rowMax)
  /// and alpha = exp(m - m'); then row by row S[r] = exp(S[r] - m'[r]) and
  /// its sum; l = l alpha + sums. Returns {m, l}.
  SmallVector<Value> emitSoftmax(Value q0, Value panels, Value rowMax,
                                 Value mBuf, Value lBuf) {
    VectorType vec = VectorType::get({16}, f32);
    VectorType rowsType = VectorType::get({blockRows}, f32);
    int64_t halves = kPanelKeys / 16;
    Value vZero =
        b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(vec, 0.0f));
    auto readRows = [&](Value t) {
      return b.create<vector::TransferReadOp>(loc, rowsType, t, q0, zero,
                                              ArrayRef<bool>{true});
    };
    Value mOld = readRows(mBuf);
    Value mNew = b.create<arith::MaximumFOp>(loc, mOld, rowMax, nnan);
    Value base = softmaxBase(mNew);
    Value alpha = fastExp(b.create<arith::SubFOp>(loc, mOld, base));
    b.create<vector::StoreOp>(loc, alpha, alphaBuf, c0);
    b.create<vector::StoreOp>(loc, base, baseBuf, c0);
    forLoop(c0, index(blockRows), c1, {}, [&](Value r, ValueRange) {
      auto at = [&](Value p, int64_t h) {
        return SmallVector<Value>{
            r, addI(b.create<arith::MulIOp>(loc, p, index(kPanelKeys)),
                    index(16 * h))};
      };
      Value baseV = b.create<vector::BroadcastOp>(
          loc, vec, b.create<memref::LoadOp>(loc, baseBuf, r));
      SmallVector<Value> sums(halves, vZero);
      sums = forLoop(c0, panels, c1, sums, [&](Value p, ValueRange sm) {
        SmallVector<Value> next;
        for (int64_t h = 0; h < halves; ++h) {
          Value pv = probabilities(
              b.create<vector::LoadOp>(loc, vec, sBuf, at(p, h)), baseV);
          b.create<vector::StoreOp>(loc, pv, sBuf, at(p, h));
          next.push_back(b.create<arith::AddFOp>(loc, sm[h], pv));
        }
        return next;
      });
      Value sum = sums[0];
      for (int64_t h = 1; h < halves; ++h)
        sum = b.create<arith::AddFOp>(loc, sum, sums[h]);
      Value total =
          b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, sum,
                                        Value(), arith::FastMathFlags::reassoc);
      b.create<memref::StoreOp>(loc, total, sumBuf, r);
      return SmallVector<Value>{};
    });
    Value lNew = b.create<vector::FMAOp>(
        loc, readRows(lBuf), alpha,
        b.create<vector::LoadOp>(loc, rowsType, sumBuf, c0));
    auto writeRows = [&](Value v, Value t) {
      return b
          .create<vector::TransferWriteOp>(loc, v, t, q0, ArrayRef<bool>{true})
          .getResult();
    };
    return {writeRows(mNew, mBuf), writeRows(lNew, lBuf)};
  }

  /// Step 3: out[q0 + r] = alpha[r] out[q0 + r] + sum_j P[r][j] V[k0 + j]
  /// over the `count` keys of the tile, 32 columns at a time (then the
  /// remaining columns); returns the output.
  Value emitProbsTimesValues(Value q0, Value k0, Value count, Value out) {
    int64_t width = 32;
    int64_t fullTiles = valueDim / width;
    SmallVector<Value> st{out};
    if (fullTiles > 0)
      st = forLoop(c0, index(fullTiles * width), index(width), st,
                   [&](Value col, ValueRange s) {
                     return SmallVector<Value>{
                         emitValueTile(q0, k0, count, col, width, s[0])};
                   });
    if (int64_t rest = valueDim % width)
      st[0] =
          emitValueTile(q0, k0, count, index(fullTiles * width), rest, st[0]);
    return st[0];
  }

  /// Step 3 for the columns [col, col + width).
  Value emitValueTile(Value q0, Value k0, Value count, Value col, int64_t width,
                      Value out) {
    // The tile's columns as vectors of at most 16 lanes.
    SmallVector<std::pair<int64_t, int64_t>> pieces;
    for (int64_t at = 0; at < width; at += 16)
      pieces.push_back({at, std::min<int64_t>(16, width - at)});
    auto outAt = [&](int64_t r, int64_t at) {
      return SmallVector<Value>{batchIdx, headIdx, addI(q0, index(r)),
                                addI(col, index(at))};
    };
    SmallVector<Value> acc;
    for (int64_t r = 0; r < blockRows; ++r) {
      Value alpha = b.create<memref::LoadOp>(loc, alphaBuf, index(r));
      for (auto [at, lanes] : pieces) {
        VectorType type = VectorType::get({lanes}, f32);
        Value o = b.create<vector::TransferReadOp>(loc, type, out, outAt(r, at),
                                                   zero, ArrayRef<bool>{true});
        acc.push_back(b.create<arith::MulFOp>(
            loc, o, b.create<vector::BroadcastOp>(loc, type, alpha)));
      }
    }
    auto step = [&](Value j, SmallVector<Value> &a) {
      SmallVector<Value> values;
      for (auto [at, lanes] : pieces)
        values.push_back(b.create<vector::TransferReadOp>(
            loc, VectorType::get({lanes}, f32), op.getValue(),
            ValueRange{batchIdx, headIdx, addI(k0, j), addI(col, index(at))},
            zero, ArrayRef<bool>{true}));
      for (int64_t r = 0; r < blockRows; ++r) {
        Value pj = b.create<memref::LoadOp>(loc, sBuf, ValueRange{index(r), j});
        for (auto [i, piece] : llvm::enumerate(pieces)) {
          Value pv = b.create<vector::BroadcastOp>(
              loc, VectorType::get({piece.second}, f32), pj);
          Value &x = a[r * pieces.size() + i];
          x = b.create<vector::FMAOp>(loc, pv, values[i], x);
        }
      }
    };
    // Keys by 4, then one at a time.
    int64_t unroll = 4;
    Value full = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, count, index(unroll)),
        index(unroll));
    acc = forLoop(c0, full, index(unroll), acc, [&](Value j, ValueRange a) {
      SmallVector<Value> next(a);
      for (int64_t u = 0; u < unroll; ++u)
        step(addI(j, index(u)), next);
      return next;
    });
    acc = forLoop(full, count, c1, acc, [&](Value j, ValueRange a) {
      SmallVector<Value> next(a);
      step(j, next);
      return next;
    });
    for (int64_t r = 0; r < blockRows; ++r)
      for (auto [i, piece] : llvm::enumerate(pieces))
        out = b.create<vector::TransferWriteOp>(loc, acc[r * pieces.size() + i],
                                                out, outAt(r, piece.first),
                                                ArrayRef<bool>{true})
                  .getResult();
    return out;
  }

  /// exp(x) of a scalar through the vector exp: a scalar math.exp is a
  /// libm call, around which every live zmm register would be spilled, as
  /// all are caller-saved.
  Value scalarExp(Value x) {
    VectorType lane = VectorType::get({16}, f32);
    return b.create<vector::ExtractOp>(
        loc, fastExp(b.create<vector::BroadcastOp>(loc, lane, x)), 0);
  }

  /// exp(x) on an f32 vector, for the kernel's arguments x <= 0 (scores
  /// minus their running maximum), in 14 vector operations (MLIR's
  /// polynomial approximation takes ~28, with the cases this kernel never
  /// meets): x = k ln2 + r with |r| <= ln2 / 2, exp(r) by its degree-6
  /// Taylor polynomial, 2^k added to the exponent bits: at most 2.3e-7
  /// relative error over [-86, 0] (3M points against exp in double). k is
  /// rounded by the float addition of 1.5 * 2^23, whose low bits are then
  /// k itself (no rounding or conversion instruction). x is clamped to
  /// >= -86 (exp: 4e-38) so that 2^k stays normal; -inf gives 4e-38,
  /// which callers that need an exact 0 select away.
  Value fastExp(Value x) {
    auto type = cast<VectorType>(x.getType());
    auto intType = VectorType::get(type.getShape(), b.getI32Type());
    auto c = [&](float v) -> Value {
      return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(type, v));
    };
    auto fma = [&](Value a, Value m, Value c) -> Value {
      return b.create<vector::FMAOp>(loc, a, m, c);
    };
    x = b.create<arith::MaximumFOp>(loc, x, c(-86.0f), nnan);
    Value magic = c(12582912.0f); // 1.5 * 2^23
    Value y = fma(x, c(1.44269504088896341f), magic);
    Value k = b.create<arith::SubFOp>(loc, y, magic);
    // ln2 = 0.693359375 - 2.12194440e-4: the high part has 9 significant
    // bits (Cody and Waite).
    Value r = fma(k, c(-0.693359375f), x);
    r = fma(k, c(2.12194440e-4f), r);
    Value p = c(1.0f / 720);
    for (float coefficient :
         {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
      p = fma(p, r, c(coefficient));
    Value twoK = b.create<arith::ShLIOp>(
        loc, b.create<arith::BitcastOp>(loc, intType, y),
        b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(intType, 23)));
    return b.create<arith::BitcastOp>(
        loc, type,
        b.create<arith::AddIOp>(
            loc, b.create<arith::BitcastOp>(loc, intType, p), twoK));
  }

  /// A constant of `type` (f32 or a vector of f32) holding v.
  Value splat(Type type, float v) {
    if (auto vector = dyn_cast<VectorType>(type))
      return b.create<arith::ConstantOp>(loc,
                                         DenseElementsAttr::get(vector, v));
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v));
  }

  /// The running maximum the scores are shifted by: m, or 0 where nothing
  /// has been seen yet (m = -inf), so that exp(-inf - m) stays 0, not NaN.
  Value softmaxBase(Value m) {
    float inf = std::numeric_limits<float>::infinity();
    Value none = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, m,
                                         splat(m.getType(), -inf));
    return b.create<arith::SelectOp>(loc, none, splat(m.getType(), 0.0f), m);
  }

  /// exp(s - base), exactly 0 for a hidden key (s = -inf: the exp of -inf
  /// is ~4e-38).
  Value probabilities(Value s, Value base) {
    float inf = std::numeric_limits<float>::infinity();
    Value e = fastExp(b.create<arith::SubFOp>(loc, s, base));
    Value hidden = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, s,
                                           splat(s.getType(), -inf));
    return b.create<arith::SelectOp>(loc, hidden, splat(s.getType(), 0.0f), e);
  }

  /// The scores `s` of keys firstKey, firstKey + 1, ..., with -inf for the
  /// keys from `limit` on.
  Value hidePastLimit(Value s, Value firstKey, Value limit) {
    float inf = std::numeric_limits<float>::infinity();
    int64_t width = cast<VectorType>(s.getType()).getDimSize(0);
    Value limits = b.create<vector::BroadcastOp>(
        loc, VectorType::get({width}, b.getIndexType()), limit);
    Value visible = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                            keyIota(firstKey, width), limits);
    return b.create<arith::SelectOp>(loc, visible, s, splat(s.getType(), -inf));
  }

  Value ceilDiv(Value a, int64_t d) {
    return b.create<arith::DivUIOp>(loc, addI(a, index(d - 1)), index(d));
  }

  /// One query row `row` against the keys of the current chunk, `rowKeys`
  /// keys at a time with everything in registers: scores as dot products
  /// with K's rows as they are (no packed keys), online softmax, P.V into
  /// a vector<Dv> accumulator. The path of a decode step (one query) and of
  /// the rows after the last full block; state = {out, m, l}.
  SmallVector<Value> emitRow(Value row, ValueRange state) {
    Value out = state[0], mBuf = state[1], lBuf = state[2];
    VectorType sType = VectorType::get({rowKeys}, f32);
    VectorType accType = VectorType::get({valueDim}, f32);
    Value limit = rowLimit(row);
    Value loopEnd = minI(limit, chunkLimit);

    SmallVector<Value> init{
        b.create<tensor::ExtractOp>(loc, mBuf, row),
        b.create<tensor::ExtractOp>(loc, lBuf, row),
        b.create<vector::TransferReadOp>(loc, accType, out,
                                         ValueRange{batchIdx, headIdx, row, c0},
                                         zero, ArrayRef<bool>{true})};
    Value keysPerBlock = index(rowKeys);
    // Software pipelining: the scores of the next block are computed between
    // this block's softmax and its P.V, so that their FMAs fill the latency
    // of the softmax chain (max, exp, rescale) instead of waiting behind it.
    init.push_back(rowScores(row, chunkStart));
    auto loop =
        b.create<scf::ForOp>(loc, chunkStart, loopEnd, keysPerBlock, init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value k0 = loop.getInductionVar();
      ValueRange st = loop.getRegionIterArgs();
      Value m = st[0], l = st[1], acc = st[2], s = st[3];
      s = b.create<arith::MulFOp>(
          loc, s, b.create<vector::BroadcastOp>(loc, sType, scale));
      if (op.getMask())
        s = b.create<arith::AddFOp>(loc, s, maskRow(row, k0, rowKeys));

      // Keys past the row's limit get -inf; only on the block that reaches
      // past it.
      Value straddles = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                addI(k0, keysPerBlock), limit);
      s = buildIfElse(
          b, loc, straddles,
          [&] { return SmallVector<Value>{hidePastLimit(s, k0, limit)}; },
          [&] { return SmallVector<Value>{s}; })[0];

      // Online softmax.
      Value blockMax = b.create<vector::ReductionOp>(
          loc, vector::CombiningKind::MAXIMUMF, s);
      Value newM = b.create<arith::MaximumFOp>(loc, m, blockMax);
      Value base = softmaxBase(newM);
      Value alpha = scalarExp(b.create<arith::SubFOp>(loc, m, base));
      Value p =
          probabilities(s, b.create<vector::BroadcastOp>(loc, sType, base));
      // reassoc: a tree of adds; in order, the sum is a chain of dependent
      // scalar adds.
      Value sum =
          b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, p,
                                        Value(), arith::FastMathFlags::reassoc);
      Value newL = b.create<arith::AddFOp>(
          loc, b.create<arith::MulFOp>(loc, l, alpha), sum);
      Value newAcc = b.create<arith::MulFOp>(
          loc, acc, b.create<vector::BroadcastOp>(loc, accType, alpha));

      // The probabilities go through the stack: P.V broadcasts p[j] from
      // memory (a load) instead of extracting a lane (two shuffles).
      b.create<vector::StoreOp>(loc, p, sBuf, ValueRange{c0, c0});
      Value next = rowScores(row, addI(k0, keysPerBlock));

      // acc += sum_j p[j] V[k0 + j, :]. Keys past the end are read clamped
      // (always in bounds); their p is 0.
      Value lastKey = subI(numKeys, c1);
      for (int64_t j = 0; j < rowKeys; ++j) {
        Value key = minI(addI(k0, index(j)), lastKey);
        Value vRow = b.create<vector::TransferReadOp>(
            loc, accType, op.getValue(), ValueRange{batchIdx, headIdx, key, c0},
            zero, ArrayRef<bool>{true});
        Value pj =
            b.create<memref::LoadOp>(loc, sBuf, ValueRange{c0, index(j)});
        Value pv = b.create<vector::BroadcastOp>(loc, accType, pj);
        newAcc = b.create<vector::FMAOp>(loc, pv, vRow, newAcc);
      }
      b.create<scf::YieldOp>(loc, ValueRange{newM, newL, newAcc, next});
    }

    ValueRange results = loop.getResults();
    mBuf = b.create<tensor::InsertOp>(loc, results[0], mBuf, row);
    lBuf = b.create<tensor::InsertOp>(loc, results[1], lBuf, row);
    out = b.create<vector::TransferWriteOp>(
               loc, results[2], out, ValueRange{batchIdx, headIdx, row, c0},
               ArrayRef<bool>{true})
              .getResult();
    return {out, mBuf, lBuf};
  }

  /// The unscaled scores of one query row against keys [k0, k0 + BK), read
  /// from K as it is (row-major): a dot product per key. Single rows (a
  /// decode step, the tail of longer queries) take this path, so that a
  /// call whose rows are all single never transposes K. Keys past the end
  /// are read clamped; their scores are masked by the caller.
  Value rowScores(Value row, Value k0) {
    VectorType sType = VectorType::get({rowKeys}, f32);
    VectorType rowType = VectorType::get({headDim}, f32);
    Value qv = b.create<vector::TransferReadOp>(
        loc, rowType, op.getQuery(), ValueRange{batchIdx, headIdx, row, c0},
        zero, ArrayRef<bool>{true});
    Value lastKey = subI(numKeys, c1);
    Value init =
        b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(sType, 0.0f));
    SmallVector<Value> result =
        forLoop(c0, index(rowKeys), c1, init, [&](Value j, ValueRange acc) {
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

  /// Key indices k0, k0 + 1, ..., k0 + width - 1, as a vector of index.
  Value keyIota(Value k0, int64_t width) {
    SmallVector<int64_t> iota(width);
    for (int64_t i = 0; i < width; ++i)
      iota[i] = i;
    auto type = VectorType::get({width}, b.getIndexType());
    Value base = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(type, ArrayRef<int64_t>(iota)));
    return b.create<arith::AddIOp>(
        loc, base, b.create<vector::BroadcastOp>(loc, type, k0));
  }

  /// The additive mask for row `row`, keys [k0, k0 + width); its dimensions
  /// are aligned to the trailing ones of [B, H, Sq, Sk], a static 1
  /// broadcasts.
  Value maskRow(Value row, Value k0, int64_t width) {
    Value mask = op.getMask();
    auto type = cast<RankedTensorType>(mask.getType());
    int64_t rank = type.getRank();
    Value full[4] = {batchIdx, headIdx, row, k0};
    SmallVector<Value> indices;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = 4 - rank + i;
      indices.push_back(type.getDimSize(i) == 1 ? c0 : full[d]);
    }
    VectorType sType = VectorType::get({width}, f32);
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
  /// Keys of a packed panel: the width of the score tile (2 vectors).
  static constexpr int64_t kPanelKeys = 32;
  /// Keys a single row takes at a time, in registers.
  static constexpr int64_t rowKeys = 64;
  int64_t blockRows, tileKeys, chunkKeys, parallelMinFlops, maxParts;
  int64_t headDim = 0, valueDim = 0;
  Type f32;
  Value c0, c1, negInf, zero, scale, offset;
  Value numQueries, numKeys;
  Value batchIdx, headIdx, keyEnd;
  Value chunkStart, chunkLimit, ktChunk, sBuf, alphaBuf, baseBuf, sumBuf;
  /// No NaN reaches a maximum (scores of finite inputs, -inf for hidden
  /// keys): plain vmaxps, without the NaN-propagating fix-up.
  static constexpr arith::FastMathFlags nnan = arith::FastMathFlags::nnan;
};

/// The kernel reads q, k, v, the key lengths and the mask with the sizes of
/// q (batch, heads, queries, head size) and k (keys): where the types leave
/// a size open, it is checked at run time before the kernel.
void checkSizes(PatternRewriter &rewriter, AttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  for (int64_t d : {0, 1}) {
    mlir::tfm::emitSizeCheck(rewriter, loc, q, d, k, d);
    mlir::tfm::emitSizeCheck(rewriter, loc, q, d, v, d);
  }
  mlir::tfm::emitSizeCheck(rewriter, loc, k, 2, v, 2);
  mlir::tfm::emitSizeCheck(rewriter, loc, q, 3, k, 3);
  if (Value lengths = op.getKeyLengths())
    mlir::tfm::emitSizeCheck(rewriter, loc, q, 0, lengths, 0);
  if (Value mask = op.getMask()) {
    // Aligned to the trailing dimensions of [batch, heads, queries, keys];
    // a static 1 broadcasts.
    auto type = cast<RankedTensorType>(mask.getType());
    std::pair<Value, int64_t> full[] = {{q, 0}, {q, 1}, {q, 2}, {k, 2}};
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (type.getDimSize(i) != 1) {
        auto [of, d] = full[4 - type.getRank() + i];
        mlir::tfm::emitSizeCheck(rewriter, loc, mask, i, of, d);
      }
  }
}

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
    checkSizes(rewriter, op);
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
    if (queryBlock < 1 || keyBlock < 32 || keyBlock % 32 != 0 ||
        keyChunk < keyBlock || keyChunk % keyBlock != 0 || parallelParts < 1) {
      getOperation().emitError(
          "tfm-lower-attention: expected query-block >= 1, key-block a "
          "multiple of 32, key-chunk a multiple of key-block and "
          "parallel-parts >= 1");
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateLowerAttentionPatterns(patterns, queryBlock, keyBlock, keyChunk,
                                   parallelMinFlops, parallelParts);
    FailureOr<int64_t> lowered =
        applyPatternsCounted(getOperation(), std::move(patterns));
    if (failed(lowered))
      return signalPassFailure();
    numKernels += *lowered;
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
