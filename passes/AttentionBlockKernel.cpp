//===- AttentionBlockKernel.cpp - A block of query rows against a chunk ---===//
//
// The attention kernel's path for blocks of queryBlock rows: the chunk's
// keys packed into 32-key panels, then per tile of keyBlock keys three steps
// that each run at the speed of their own kind of work:
//   1. scores S = scale Q Kᵀ of the tile into the stack scratch, a
//      queryBlock x 32 register tile of vector FMAs per panel;
//   2. per row, the online softmax over its S row (independent vectors, no
//      reduction inside the products);
//   3. out = alpha out + P V, a queryBlock x 32 register tile per 32 value
//      columns.
//
// test/Transforms/tfm-lower-attention.mlir checks, in the kernel of @plain:
// the packing (16 row reads, 64 shuffles, 16 writes per 16 x 16 block), the
// 16 accumulators of step 1 over d, the vector<8> maxima and rescale factors
// of step 2 with the inline exp, and step 3's broadcast FMAs by 4 keys.
//
//===----------------------------------------------------------------------===//

#include "passes/AttentionKernel.h"

#include "passes/KernelSupport.h"
#include "passes/VectorSoftmax.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tfm;

/// Keys [start, start + count) of this (batch, head) into 32-key panels of
/// the scratch, packed[p][d][j] = K[start + 32 p + j][d]: the score tile
/// reads one contiguous 128-byte line per d. With D a multiple of 16, 16 x
/// 16 blocks are transposed in registers; else by linalg.transpose, the last
/// panel padded with zeros.
Value AttentionKernelBuilder::packKeys(const GroupState &group, Value start,
                                       Value count, Value packed) {
  if (headDim % 16 == 0)
    return packKeysByBlocks(group, start, count, packed);
  Value panels = ceilDiv(b, count, kPanelKeys);
  OpFoldResult dDim = b.getIndexAttr(headDim);
  SmallVector<OpFoldResult> ones3(3, b.getIndexAttr(1));
  auto panelType = RankedTensorType::get({headDim, ShapedType::kDynamic}, f32);
  return forLoop(b, c0, panels, c1, packed, [&](Value p, Value packed) {
    Value first = mul(b, p, kPanelKeys);
    Value keysInPanel = min(b, index(b, kPanelKeys), sub(b, count, first));
    auto keysType = RankedTensorType::get({ShapedType::kDynamic, headDim}, f32);
    Value keys = b.create<tensor::ExtractSliceOp>(
        keysType, in.key,
        SmallVector<OpFoldResult>{group.batch, group.kvHead,
                                  add(b, start, first), b.getIndexAttr(0)},
        SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                  keysInPanel, dDim},
        SmallVector<OpFoldResult>(4, b.getIndexAttr(1)));
    auto panelSlice = [&](Value tensor, Value from, Value size) {
      return b.create<tensor::ExtractSliceOp>(
          panelType, tensor,
          SmallVector<OpFoldResult>{p, b.getIndexAttr(0), from},
          SmallVector<OpFoldResult>{b.getIndexAttr(1), dDim, size}, ones3);
    };
    auto insertPanel = [&](Value slice, Value tensor, Value from, Value size) {
      return b.create<tensor::InsertSliceOp>(
          slice, tensor, SmallVector<OpFoldResult>{p, b.getIndexAttr(0), from},
          SmallVector<OpFoldResult>{b.getIndexAttr(1), dDim, size}, ones3);
    };
    Value transposed =
        b.create<linalg::TransposeOp>(keys, panelSlice(packed, c0, keysInPanel),
                                      ArrayRef<int64_t>{1, 0})
            .getResult()[0];
    packed = insertPanel(transposed, packed, c0, keysInPanel);
    // The keys past the end: zeros (their scores are masked), so that the
    // tile never multiplies stale or uninitialized memory.
    Value rest = sub(b, index(b, kPanelKeys), keysInPanel);
    Value tail = panelSlice(packed, keysInPanel, rest);
    Value zeros = b.create<linalg::FillOp>(zero, tail).getResult(0);
    return insertPanel(zeros, packed, keysInPanel, rest).getResult();
  });
}

/// packKeys for D a multiple of 16: each 16 keys x 16 dimensions block is
/// read as 16 row vectors and transposed by 4 rounds of interleaving rows i
/// and i + 8 (vector.shuffle: one two-source permute each), 64 shuffles for
/// 256 floats. (LLVM vectorized the transpose loop with gathers, 3.5% of a
/// causal call's time.) Keys past the end are read clamped to the last key:
/// their scores are masked.
Value AttentionKernelBuilder::packKeysByBlocks(const GroupState &group,
                                               Value start, Value count,
                                               Value packed) {
  VectorType vec = VectorType::get({16}, f32);
  SmallVector<int64_t> lo, hi;
  for (int64_t i = 0; i < 8; ++i) {
    lo.append({i, 16 + i});
    hi.append({8 + i, 24 + i});
  }
  Value lastKey = sub(b, numKeys, c1);
  // Whole panels: the score tile reads all 32 keys of the last one.
  Value blocks = mul(b, ceilDiv(b, count, kPanelKeys), kPanelKeys / 16);
  return forLoop(b, c0, blocks, c1, packed, [&](Value block, Value packed) {
    Value first = add(b, start, mul(b, block, 16));
    Value panel = b.create<arith::DivUIOp>(block, index(b, 2));
    Value lane = mul(b, b.create<arith::RemUIOp>(block, index(b, 2)), 16);
    return forLoop(b, c0, index(b, headDim), index(b, 16), packed,
                   [&](Value d, Value packed) {
                     SmallVector<Value> rows;
                     for (int64_t i = 0; i < 16; ++i)
                       rows.push_back(b.create<vector::TransferReadOp>(
                           vec, in.key,
                           ValueRange{group.batch, group.kvHead,
                                      min(b, add(b, first, i), lastKey), d},
                           zero, ArrayRef<bool>{true}));
                     for (int round = 0; round < 4; ++round) {
                       SmallVector<Value> next;
                       for (int64_t i = 0; i < 8; ++i) {
                         next.push_back(b.create<vector::ShuffleOp>(
                             rows[i], rows[i + 8], lo));
                         next.push_back(b.create<vector::ShuffleOp>(
                             rows[i], rows[i + 8], hi));
                       }
                       rows = next;
                     }
                     for (int64_t i = 0; i < 16; ++i)
                       packed = b.create<vector::TransferWriteOp>(
                                     rows[i], packed,
                                     ValueRange{panel, add(b, d, i), lane},
                                     ArrayRef<bool>{true})
                                    .getResult();
                     return packed;
                   });
  });
}

/// The queryBlock rows [q0, q0 + R) against the keys of the chunk they see,
/// keyBlock keys at a time, in the three steps of the file's header.
AttentionKernelBuilder::RowState
AttentionKernelBuilder::emitBlock(const HeadState &head,
                                  const ChunkState &chunk, Value q0,
                                  const RowState &state) {
  Value lastRow = add(b, q0, tiling.queryBlock - 1);
  Value loopEnd = min(b, rowLimit(head, lastRow), chunk.limit);
  return RowState::of(forLoop(
      b, chunk.start, loopEnd, index(b, tiling.keyBlock), state.values(),
      [&](Value k0, ValueRange s) {
        RowState st = RowState::of(s);
        Value count = min(b, index(b, tiling.keyBlock), sub(b, loopEnd, k0));
        Value panels = ceilDiv(b, count, kPanelKeys);
        Value rowMax = emitScores(head, chunk, q0, k0, panels);
        st = emitSoftmax(head, q0, panels, rowMax, st);
        st.out = emitProbsTimesValues(head, q0, k0, count, st.out);
        return st.values();
      }));
}

/// Step 1: scores[r][32 p + j] = scale q[q0 + r] . K[k0 + 32 p + j] for the
/// `panels` panels from k0, -inf where the key is past the row's limit
/// (only on panels that reach past the first row's). Returns the rows'
/// maxima, vector<queryBlock>, taken while the scores are in registers.
Value AttentionKernelBuilder::emitScores(const HeadState &head,
                                         const ChunkState &chunk, Value q0,
                                         Value k0, Value panels) {
  int64_t rows = tiling.queryBlock;
  VectorType vec = VectorType::get({16}, f32);
  int64_t halves = kPanelKeys / 16;
  Value firstPanel =
      b.create<arith::DivUIOp>(sub(b, k0, chunk.start), index(b, kPanelKeys));
  Value unmaskedEnd = rowLimit(head, q0);
  Value vZero = splat(b, vec, 0.0f);
  Value scaleV = b.create<vector::BroadcastOp>(vec, scale);
  Value negInfV = b.create<vector::BroadcastOp>(vec, negInf);
  SmallVector<Value> maxInit(rows, negInfV);
  SmallVector<Value> maxes =
      forLoop(b, c0, panels, c1, maxInit, [&](Value p, ValueRange runningMax) {
        Value panel = add(b, firstPanel, p);
        Value col = mul(b, p, kPanelKeys);
        Value key = add(b, k0, col);
        // Unrolled by up to 4 d steps: 16 FMAs a step, 2R + 2 loads.
        int64_t unroll = headDim % 4 == 0 ? 4 : headDim % 2 == 0 ? 2 : 1;
        SmallVector<Value> acc(rows * halves, vZero);
        acc = forLoop(b, c0, index(b, headDim), index(b, unroll), acc,
                      [&](Value d, ValueRange a) {
                        SmallVector<Value> next(a);
                        for (int64_t u = 0; u < unroll; ++u) {
                          Value du = add(b, d, u);
                          SmallVector<Value> keys;
                          for (int64_t h = 0; h < halves; ++h)
                            keys.push_back(b.create<vector::TransferReadOp>(
                                vec, chunk.packedKeys,
                                ValueRange{panel, du, index(b, 16 * h)}, zero,
                                ArrayRef<bool>{true}));
                          for (int64_t r = 0; r < rows; ++r) {
                            Value qd = b.create<tensor::ExtractOp>(
                                in.query, ValueRange{head.batch, head.head,
                                                     add(b, q0, r), du});
                            Value qv = b.create<vector::BroadcastOp>(vec, qd);
                            for (int64_t h = 0; h < halves; ++h)
                              next[r * halves + h] = b.create<vector::FMAOp>(
                                  qv, keys[h], next[r * halves + h]);
                          }
                        }
                        return next;
                      });
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t h = 0; h < halves; ++h) {
            Value &s = acc[r * halves + h];
            s = b.create<arith::MulFOp>(s, scaleV);
            if (in.mask)
              s = b.create<arith::AddFOp>(
                  s, maskScores(head, add(b, q0, r), add(b, key, 16 * h), 16));
          }
        }
        Value straddles = b.create<arith::CmpIOp>(
            arith::CmpIPredicate::sgt, add(b, key, kPanelKeys), unmaskedEnd);
        SmallVector<Value> scores = ifElse(
            b, straddles,
            [&] {
              SmallVector<Value> masked;
              for (int64_t r = 0; r < rows; ++r) {
                Value limit = rowLimit(head, add(b, q0, r));
                for (int64_t h = 0; h < halves; ++h)
                  masked.push_back(hidePastLimit(b, acc[r * halves + h],
                                                 add(b, key, 16 * h), limit));
              }
              return masked;
            },
            [&] { return acc; });
        SmallVector<Value> nextMax(runningMax);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t h = 0; h < halves; ++h) {
            Value sv = scores[r * halves + h];
            b.create<vector::StoreOp>(
                sv, head.scratch.scores,
                ValueRange{index(b, r), add(b, col, 16 * h)});
            nextMax[r] = b.create<arith::MaximumFOp>(nextMax[r], sv, kNoNaN);
          }
        }
        return nextMax;
      });
  SmallVector<Value> rowMax;
  for (Value mx : maxes)
    rowMax.push_back(b.create<vector::ReductionOp>(
        vector::CombiningKind::MAXIMUMF, mx, Value(), kNoNaN));
  return b.create<vector::FromElementsOp>(VectorType::get({rows}, f32), rowMax);
}

/// Step 2: for the block's rows at once (vector<queryBlock>), m' = max(m,
/// rowMax) and alpha = exp(m - m'); then row by row S[r] = exp(S[r] -
/// m'[r]) and its sum; l = l alpha + sums.
AttentionKernelBuilder::RowState
AttentionKernelBuilder::emitSoftmax(const HeadState &head, Value q0,
                                    Value panels, Value rowMax,
                                    const RowState &state) {
  const Scratch &scratch = head.scratch;
  VectorType vec = VectorType::get({16}, f32);
  VectorType rowsType = VectorType::get({tiling.queryBlock}, f32);
  int64_t halves = kPanelKeys / 16;
  Value vZero = splat(b, vec, 0.0f);
  // The block's rows in the group's m and l.
  Value at = add(b, q0, head.stateOffset);
  auto readRows = [&](Value t) {
    return b.create<vector::TransferReadOp>(rowsType, t, at, zero,
                                            ArrayRef<bool>{true});
  };
  Value mOld = readRows(state.m);
  Value mNew = b.create<arith::MaximumFOp>(mOld, rowMax, kNoNaN);
  Value base = softmaxBase(b, mNew);
  Value alpha = fastExp(b, b.create<arith::SubFOp>(mOld, base));
  b.create<vector::StoreOp>(alpha, scratch.alpha, c0);
  b.create<vector::StoreOp>(base, scratch.base, c0);
  forLoop(b, c0, index(b, tiling.queryBlock), c1, [&](Value r) {
    auto at = [&](Value p, int64_t h) {
      return SmallVector<Value>{r, add(b, mul(b, p, kPanelKeys), 16 * h)};
    };
    Value baseV = b.create<vector::BroadcastOp>(
        vec, b.create<memref::LoadOp>(scratch.base, r));
    SmallVector<Value> sums(halves, vZero);
    sums = forLoop(b, c0, panels, c1, sums, [&](Value p, ValueRange partial) {
      SmallVector<Value> next;
      for (int64_t h = 0; h < halves; ++h) {
        Value pv = probabilities(
            b, b.create<vector::LoadOp>(vec, scratch.scores, at(p, h)), baseV);
        b.create<vector::StoreOp>(pv, scratch.scores, at(p, h));
        next.push_back(b.create<arith::AddFOp>(partial[h], pv));
      }
      return next;
    });
    Value sum = sums[0];
    for (int64_t h = 1; h < halves; ++h)
      sum = b.create<arith::AddFOp>(sum, sums[h]);
    Value total =
        b.create<vector::ReductionOp>(vector::CombiningKind::ADD, sum, Value(),
                                      arith::FastMathFlags::reassoc);
    b.create<memref::StoreOp>(total, scratch.sum, r);
  });
  Value lNew = b.create<vector::FMAOp>(
      readRows(state.l), alpha,
      b.create<vector::LoadOp>(rowsType, scratch.sum, c0));
  auto writeRows = [&](Value v, Value t) {
    return b.create<vector::TransferWriteOp>(v, t, at, ArrayRef<bool>{true})
        .getResult();
  };
  Value m = writeRows(mNew, state.m);
  Value l = writeRows(lNew, state.l);
  return {state.out, m, l};
}

/// Step 3: out[q0 + r] = alpha[r] out[q0 + r] + sum_j P[r][j] V[k0 + j]
/// over the `count` keys of the tile, 32 columns at a time (then the
/// remaining columns); returns the output.
Value AttentionKernelBuilder::emitProbsTimesValues(const HeadState &head,
                                                   Value q0, Value k0,
                                                   Value count, Value out) {
  int64_t width = 32;
  int64_t fullTiles = valueDim / width;
  if (fullTiles > 0)
    out = forLoop(b, c0, index(b, fullTiles * width), index(b, width), out,
                  [&](Value col, Value out) {
                    return emitValueTile(head, q0, k0, count, col, width, out);
                  });
  if (int64_t rest = valueDim % width)
    out = emitValueTile(head, q0, k0, count, index(b, fullTiles * width), rest,
                        out);
  return out;
}

/// Step 3 for the columns [col, col + width).
Value AttentionKernelBuilder::emitValueTile(const HeadState &head, Value q0,
                                            Value k0, Value count, Value col,
                                            int64_t width, Value out) {
  int64_t rows = tiling.queryBlock;
  // The tile's columns as vectors of at most 16 lanes.
  SmallVector<std::pair<int64_t, int64_t>> pieces;
  for (int64_t at = 0; at < width; at += 16)
    pieces.push_back({at, std::min<int64_t>(16, width - at)});
  auto outAt = [&](int64_t r, int64_t at) {
    return SmallVector<Value>{head.batch, head.head, add(b, q0, r),
                              add(b, col, at)};
  };
  SmallVector<Value> acc;
  for (int64_t r = 0; r < rows; ++r) {
    Value alpha = b.create<memref::LoadOp>(head.scratch.alpha, index(b, r));
    for (auto [at, lanes] : pieces) {
      VectorType type = VectorType::get({lanes}, f32);
      Value o = b.create<vector::TransferReadOp>(type, out, outAt(r, at), zero,
                                                 ArrayRef<bool>{true});
      acc.push_back(b.create<arith::MulFOp>(
          o, b.create<vector::BroadcastOp>(type, alpha)));
    }
  }
  auto step = [&](Value j, SmallVector<Value> &a) {
    SmallVector<Value> values;
    for (auto [at, lanes] : pieces)
      values.push_back(b.create<vector::TransferReadOp>(
          VectorType::get({lanes}, f32), in.value,
          ValueRange{head.batch, head.kvHead, add(b, k0, j), add(b, col, at)},
          zero, ArrayRef<bool>{true}));
    for (int64_t r = 0; r < rows; ++r) {
      Value pj = b.create<memref::LoadOp>(head.scratch.scores,
                                          ValueRange{index(b, r), j});
      for (auto [i, piece] : llvm::enumerate(pieces)) {
        Value pv = b.create<vector::BroadcastOp>(
            VectorType::get({piece.second}, f32), pj);
        Value &x = a[r * pieces.size() + i];
        x = b.create<vector::FMAOp>(pv, values[i], x);
      }
    }
  };
  // Keys by 4, then one at a time.
  int64_t unroll = 4;
  Value full = roundDown(b, count, unroll);
  acc = forLoop(b, c0, full, index(b, unroll), acc, [&](Value j, ValueRange a) {
    SmallVector<Value> next(a);
    for (int64_t u = 0; u < unroll; ++u)
      step(add(b, j, u), next);
    return next;
  });
  acc = forLoop(b, full, count, c1, acc, [&](Value j, ValueRange a) {
    SmallVector<Value> next(a);
    step(j, next);
    return next;
  });
  for (int64_t r = 0; r < rows; ++r)
    for (auto [i, piece] : llvm::enumerate(pieces))
      out = b.create<vector::TransferWriteOp>(acc[r * pieces.size() + i], out,
                                              outAt(r, piece.first),
                                              ArrayRef<bool>{true})
                .getResult();
  return out;
}
