//===- AttentionRowKernel.cpp - One query row against a chunk -------------===//
//
// The attention kernel's single-row path: the path of a decode step (one
// query, which then packs no keys) and of the rows after the last full
// block. kRowKeys keys at a time with everything in registers: scores as
// dot products with K's rows as they are, the online softmax, P·V into a
// vector<Dv> accumulator; the next keys' scores are computed between this
// block's softmax and its P·V (software pipelining). For grouped-query
// attention, a row of every head of the group goes block by block with the
// heads inside (emitRowGroup).
//
// test/Transforms/tfm-lower-attention.mlir checks the dot products against
// K's rows (@plain: vector<64> reads, reassociated reductions, insertions
// into the block's scores; the loop carrying m, l, the accumulator and the
// next scores) and, in @grouped, the group's loop order.
//
//===----------------------------------------------------------------------===//

#include "passes/AttentionKernel.h"

#include "passes/KernelSupport.h"
#include "passes/VectorSoftmax.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tfm;

AttentionKernelBuilder::RowState
AttentionKernelBuilder::emitRow(const HeadState &head, const ChunkState &chunk,
                                Value row, const RowState &state) {
  VectorType accType = VectorType::get({valueDim}, f32);
  Value limit = rowLimit(head, row);
  Value loopEnd = min(b, limit, chunk.limit);

  // The row in the group's m and l.
  Value stateRow = add(b, row, head.stateOffset);
  Value m = b.create<tensor::ExtractOp>(state.m, stateRow);
  Value l = b.create<tensor::ExtractOp>(state.l, stateRow);
  Value acc = b.create<vector::TransferReadOp>(
      accType, state.out, ValueRange{head.batch, head.head, row, c0}, zero,
      ArrayRef<bool>{true});
  Value keysPerBlock = index(b, kRowKeys);
  // Software pipelining: the scores of the next block are computed between
  // this block's softmax and its P.V, so that their FMAs fill the latency
  // of the softmax chain (max, exp, rescale) instead of waiting behind it.
  Value firstScores = rowScores(head, row, chunk.start);
  SmallVector<Value> results = forLoop(
      b, chunk.start, loopEnd, keysPerBlock, ValueRange{m, l, acc, firstScores},
      [&](Value k0, ValueRange st) {
        return rowStep(head, row, k0, loopEnd, st[0], st[1], st[2], st[3], [&] {
          return rowScores(head, row, add(b, k0, keysPerBlock));
        });
      });

  RowState result;
  result.m = b.create<tensor::InsertOp>(results[0], state.m, stateRow);
  result.l = b.create<tensor::InsertOp>(results[1], state.l, stateRow);
  result.out =
      b.create<vector::TransferWriteOp>(
           results[2], state.out, ValueRange{head.batch, head.head, row, c0},
           ArrayRef<bool>{true})
          .getResult();
  return result;
}

/// One block of kRowKeys keys from k0 for one query row: its unscaled
/// scores `s` scaled, masked and hidden from `limit` on (where the row's
/// keys in this chunk end: a block may reach into the next chunk, which
/// counts those keys), the online softmax update of (m, l, acc), and acc +=
/// P V. `between` runs between the softmax and P V (emitRow computes the
/// next block's scores there, to fill the softmax's latency). Returns {m,
/// l, acc}, then what `between` returned unless null.
SmallVector<Value>
AttentionKernelBuilder::rowStep(const HeadState &head, Value row, Value k0,
                                Value limit, Value m, Value l, Value acc,
                                Value s, function_ref<Value()> between) {
  VectorType scoresType = VectorType::get({kRowKeys}, f32);
  VectorType accType = VectorType::get({valueDim}, f32);
  Value probs = head.scratch.scores;
  Value keysPerBlock = index(b, kRowKeys);
  s = b.create<arith::MulFOp>(s,
                              b.create<vector::BroadcastOp>(scoresType, scale));
  if (in.mask)
    s = b.create<arith::AddFOp>(s, maskScores(head, row, k0, kRowKeys));

  // Keys past the row's limit get -inf; only on the block that reaches past
  // it.
  Value straddles = b.create<arith::CmpIOp>(arith::CmpIPredicate::sgt,
                                            add(b, k0, keysPerBlock), limit);
  s = ifElse(
      b, straddles, [&] { return hidePastLimit(b, s, k0, limit); },
      [&] { return s; });

  // Online softmax.
  Value blockMax =
      b.create<vector::ReductionOp>(vector::CombiningKind::MAXIMUMF, s);
  Value newM = b.create<arith::MaximumFOp>(m, blockMax);
  Value base = softmaxBase(b, newM);
  Value alpha = scalarExp(b, b.create<arith::SubFOp>(m, base));
  Value p =
      probabilities(b, s, b.create<vector::BroadcastOp>(scoresType, base));
  // reassoc: a tree of adds; in order, the sum is a chain of dependent
  // scalar adds.
  Value sum = b.create<vector::ReductionOp>(
      vector::CombiningKind::ADD, p, Value(), arith::FastMathFlags::reassoc);
  Value newL = b.create<arith::AddFOp>(b.create<arith::MulFOp>(l, alpha), sum);
  Value newAcc = b.create<arith::MulFOp>(
      acc, b.create<vector::BroadcastOp>(accType, alpha));

  // The probabilities go through the stack: P.V broadcasts p[j] from memory
  // (a load) instead of extracting a lane (two shuffles).
  b.create<vector::StoreOp>(p, probs, ValueRange{c0, c0});
  Value fromBetween = between();

  // acc += sum_j p[j] V[k0 + j, :]. Keys past the end are read clamped
  // (always in bounds); their p is 0.
  Value lastKey = sub(b, numKeys, c1);
  for (int64_t j = 0; j < kRowKeys; ++j) {
    Value key = min(b, add(b, k0, j), lastKey);
    Value vRow = b.create<vector::TransferReadOp>(
        accType, in.value, ValueRange{head.batch, head.kvHead, key, c0}, zero,
        ArrayRef<bool>{true});
    Value pj = b.create<memref::LoadOp>(probs, ValueRange{c0, index(b, j)});
    Value pv = b.create<vector::BroadcastOp>(accType, pj);
    newAcc = b.create<vector::FMAOp>(pv, vRow, newAcc);
  }
  SmallVector<Value> result{newM, newL, newAcc};
  if (fromBetween)
    result.push_back(fromBetween);
  return result;
}

/// One query row of every query head of the group (grouped-query attention:
/// a decode step's row, or a row after the last full block), key blocks
/// outside and heads inside: each block of keys and values is read from
/// memory once for the group, then from cache by its other heads. Each
/// head's m, l and output row go through memory between blocks.
AttentionKernelBuilder::RowState
AttentionKernelBuilder::emitRowGroup(const GroupState &group,
                                     const ChunkState &chunk, Value row,
                                     const RowState &state) {
  VectorType accType = VectorType::get({valueDim}, f32);
  Value limit = rowLimit(group, row);
  Value loopEnd = min(b, limit, chunk.limit);
  return RowState::of(forLoop(
      b, chunk.start, loopEnd, index(b, kRowKeys), state.values(),
      [&](Value k0, ValueRange blockState) {
        return forEachHead(
            group, blockState, [&](const HeadState &head, ValueRange st) {
              RowState s = RowState::of(st);
              Value stateRow = add(b, row, head.stateOffset);
              SmallVector<Value> at{head.batch, head.head, row, c0};
              Value acc = b.create<vector::TransferReadOp>(
                  accType, s.out, at, zero, ArrayRef<bool>{true});
              SmallVector<Value> updated =
                  rowStep(head, row, k0, loopEnd,
                          b.create<tensor::ExtractOp>(s.m, stateRow),
                          b.create<tensor::ExtractOp>(s.l, stateRow), acc,
                          rowScores(head, row, k0), [] { return Value(); });
              s.m = b.create<tensor::InsertOp>(updated[0], s.m, stateRow);
              s.l = b.create<tensor::InsertOp>(updated[1], s.l, stateRow);
              s.out = b.create<vector::TransferWriteOp>(updated[2], s.out, at,
                                                        ArrayRef<bool>{true})
                          .getResult();
              return s.values();
            });
      }));
}

/// The unscaled scores of one query row against keys [k0, k0 + kRowKeys),
/// read from K as it is (row-major): a dot product per key, so that a call
/// whose rows are all single never transposes K. Keys past the end are read
/// clamped; their scores are masked by the caller.
Value AttentionKernelBuilder::rowScores(const HeadState &head, Value row,
                                        Value k0) {
  VectorType scoresType = VectorType::get({kRowKeys}, f32);
  VectorType rowType = VectorType::get({headDim}, f32);
  Value qv = b.create<vector::TransferReadOp>(
      rowType, in.query, ValueRange{head.batch, head.head, row, c0}, zero,
      ArrayRef<bool>{true});
  Value lastKey = sub(b, numKeys, c1);
  return forLoop(
      b, c0, index(b, kRowKeys), c1, splat(b, scoresType, 0.0f),
      [&](Value j, Value scores) {
        Value key = min(b, add(b, k0, j), lastKey);
        Value kv = b.create<vector::TransferReadOp>(
            rowType, in.key, ValueRange{head.batch, head.kvHead, key, c0}, zero,
            ArrayRef<bool>{true});
        Value dot = b.create<vector::ReductionOp>(
            vector::CombiningKind::ADD, b.create<arith::MulFOp>(qv, kv),
            Value(), arith::FastMathFlags::reassoc);
        return b.create<vector::InsertElementOp>(dot, scores, j).getResult();
      });
}
