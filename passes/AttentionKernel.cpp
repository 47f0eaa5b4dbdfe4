//===- AttentionKernel.cpp - Groups, heads and key chunks of attention ----===//
//
// The outer loops of the attention kernel (the algorithm is in
// LowerAttention.cpp's header): (batch, key/value head) groups in parts for
// the threads, per group the key chunks and the normalization of its query
// heads, per chunk the blocks of query rows of each head and the single
// rows.
//
// test/Transforms/tfm-lower-attention.mlir checks the part loop and its
// size (@plain), the per-part scratch, the key-length and causal bounds
// (@causal_padded), the chunks a causal block skips, and the group indices
// (@grouped).
//
//===----------------------------------------------------------------------===//

#include "passes/AttentionKernel.h"

#include "passes/KernelSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::tfm;

static Value dim(ImplicitLocOpBuilder &b, Value tensor, int64_t i) {
  return b.create<tensor::DimOp>(tensor, i);
}

static Value fill(ImplicitLocOpBuilder &b, Value tensor, Value value) {
  return b.create<linalg::FillOp>(value, tensor).getResult(0);
}

AttentionKernelBuilder::AttentionKernelBuilder(ImplicitLocOpBuilder &b,
                                               const AttentionTiling &tiling,
                                               const AttentionOperands &in)
    : b(b), tiling(tiling), in(in),
      headDim(cast<RankedTensorType>(in.query.getType()).getDimSize(3)),
      valueDim(cast<RankedTensorType>(in.value.getType()).getDimSize(3)),
      f32(b.getF32Type()), c0(index(b, 0)), c1(index(b, 1)),
      zero(splat(b, f32, 0.0f)),
      negInf(splat(b, f32, -std::numeric_limits<float>::infinity())),
      scale(b.create<arith::ConstantOp>(in.scale)),
      numQueries(dim(b, in.query, 2)), numKeys(dim(b, in.key, 2)),
      causalOffset(sub(b, numKeys, numQueries)),
      groupSize(
          b.create<arith::DivUIOp>(dim(b, in.query, 1), dim(b, in.key, 1))),
      singleHeadGroups([&] {
        auto q = cast<RankedTensorType>(in.query.getType());
        auto k = cast<RankedTensorType>(in.key.getType());
        return !q.isDynamicDim(1) && q.getDimSize(1) == k.getDimSize(1);
      }()) {}

Value AttentionKernelBuilder::build() {
  Value kvHeads = dim(b, in.key, 1);
  // Grouped-query attention: the query heads [kvHead * group, (kvHead + 1) *
  // group) read key/value head kvHead (checked before the call to divide
  // evenly; a group of 1 for multi-head attention). The kernel works one
  // group at a time, so that a chunk of keys is packed once for the group.
  // The (batch, key/value head) groups, shared among the threads when the
  // call has at least parallelMinFlops of work (4 Sq Sk D per query head):
  // the part loop (marked tfm.parallel; each part writes the output rows of
  // its own contiguous groups, with its own scratch) has a part per OpenMP
  // thread (or parallelParts) up to one per group, or a single part of
  // every group, which tfm-lower-parallel-loops runs on the calling thread
  // (a decode step). The scratch is per part: parts x ~260 KiB.
  Value groups = mul(b, dim(b, in.query, 0), kvHeads);
  Value pairQueries = mul(b, mul(b, groups, groupSize), numQueries);
  Value keyFlops = mul(b, numKeys, 4 * headDim);
  Value work = mul(b, pairQueries, keyFlops);
  Value big = b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, work,
                                      index(b, tiling.parallelMinFlops));
  Value parts;
  if (tiling.parallelParts > 0) {
    Value someParts =
        max(b, min(b, groups, index(b, tiling.parallelParts)), c1);
    parts = b.create<arith::SelectOp>(big, someParts, c1);
  } else {
    // The thread count is asked only for a call that enters OpenMP.
    func::FuncOp threads = declareThreadCount(b);
    parts = ifElse(
        b, big,
        [&] { return max(b, min(b, groups, threadCount(b, threads)), c1); },
        [&] { return c1; });
  }
  // Outside the part loop: the sizes of its scratch, which
  // tfm-hoist-parallel-allocs allocates before it.
  Value groupRows = mul(b, groupSize, numQueries);
  return partitionedLoop(
      b, groups, parts, in.out, /*parallel=*/true,
      [&](Value first, Value last, Value out) {
        // A part's own scratch (so that parts may run on different threads),
        // reused across its groups: m and l live in [group * Sq] arrays
        // between key chunks; a chunk of K is packed into 32-key panels.
        Value packed = b.create<tensor::EmptyOp>(
            ArrayRef<int64_t>{tiling.keyChunk / kPanelKeys, headDim,
                              kPanelKeys},
            f32);
        // m and l start filled (-inf, 0) rather than empty: two empties of
        // one shape are one value after CSE, and loop-carried copies of one
        // value would share a buffer after bufferization.
        auto rowsOfGroup = [&] {
          return b.create<tensor::EmptyOp>(SmallVector<OpFoldResult>{groupRows},
                                           f32);
        };
        Value m = fill(b, rowsOfGroup(), negInf);
        Value l = fill(b, rowsOfGroup(), zero);
        // A block's scores, then probabilities: queryBlock rows of a key
        // tile, 16 floats of padding so that the rows do not fall on the
        // same cache sets; a single row's probabilities use the first row.
        auto rowsType = MemRefType::get({tiling.queryBlock}, f32);
        Scratch scratch;
        scratch.scores = b.create<memref::AllocaOp>(MemRefType::get(
            {tiling.queryBlock, std::max(tiling.keyBlock, kRowKeys) + 16},
            f32));
        scratch.alpha = b.create<memref::AllocaOp>(rowsType);
        scratch.base = b.create<memref::AllocaOp>(rowsType);
        scratch.sum = b.create<memref::AllocaOp>(rowsType);
        SmallVector<Value> state{out, packed, m, l};
        state = forLoop(
            b, first, last, c1, state, [&](Value pair, ValueRange state) {
              GroupState group;
              group.batch = b.create<arith::DivUIOp>(pair, kvHeads);
              group.kvHead = b.create<arith::RemUIOp>(pair, kvHeads);
              group.scratch = scratch;
              if (tiling.countWork)
                countWork(b, groupRows);
              return emitGroup(group, state);
            });
        return state[0];
      });
}

/// `body(head, carried)` for each query head of the group, in order;
/// returns the carried values.
SmallVector<Value> AttentionKernelBuilder::forEachHead(
    const GroupState &group, ValueRange init,
    function_ref<SmallVector<Value>(const HeadState &, ValueRange)> body) {
  return forLoop(b, c0, groupSize, c1, init, [&](Value g, ValueRange carried) {
    HeadState head;
    static_cast<GroupState &>(head) = group;
    head.head = add(b, mul(b, group.kvHead, groupSize), g);
    head.stateOffset = mul(b, g, numQueries);
    return body(head, carried);
  });
}

/// One (batch, key/value head) group: state = {out, packed keys, m, l}.
SmallVector<Value> AttentionKernelBuilder::emitGroup(const GroupState &partial,
                                                     ValueRange state) {
  Value out = state[0], packed = state[1];
  Value m = fill(b, state[2], negInf), l = fill(b, state[3], zero);
  GroupState group = partial;
  group.keyEnd = numKeys;
  if (in.keyLengths) {
    Value length = b.create<tensor::ExtractOp>(in.keyLengths, group.batch);
    length = b.create<arith::IndexCastOp>(b.getIndexType(), length);
    group.keyEnd = max(b, c0, min(b, length, numKeys));
  }
  // Zero the group's accumulator rows.
  out = forEachHead(group, out, [&](const HeadState &head, ValueRange carried) {
    Value out = carried[0];
    SmallVector<OpFoldResult> offsets{head.batch, head.head, b.getIndexAttr(0),
                                      b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1),
                                    numQueries, b.getIndexAttr(valueDim)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto rowsType =
        RankedTensorType::get({ShapedType::kDynamic, valueDim}, f32);
    Value rows = b.create<tensor::ExtractSliceOp>(rowsType, out, offsets, sizes,
                                                  strides);
    return SmallVector<Value>{b.create<tensor::InsertSliceOp>(
        fill(b, rows, zero), out, offsets, sizes, strides)};
  })[0];

  // Key chunks up to the last key any row sees.
  Value chunkEnd = rowLimit(group, sub(b, numQueries, c1));
  SmallVector<Value> st{out, packed, m, l};
  st = forLoop(b, c0, chunkEnd, index(b, tiling.keyChunk), st,
               [&](Value start, ValueRange s) {
                 return emitChunk(group, start, chunkEnd, s);
               });
  out =
      forEachHead(group, st[0], [&](const HeadState &head, ValueRange carried) {
        return SmallVector<Value>{normalize(head, carried[0], st[3])};
      })[0];
  return {out, st[1], st[2], st[3]};
}

/// out = acc / l, or 0 for a row that saw no key.
Value AttentionKernelBuilder::normalize(const HeadState &head, Value out,
                                        Value l) {
  VectorType accType = VectorType::get({valueDim}, f32);
  return forLoop(b, c0, numQueries, c1, out, [&](Value row, Value out) {
    Value sum = b.create<tensor::ExtractOp>(l, add(b, row, head.stateOffset));
    Value seen = b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, sum, zero);
    Value inverse = b.create<arith::SelectOp>(
        seen, b.create<arith::DivFOp>(splat(b, f32, 1.0f), sum), zero);
    SmallVector<Value> at{head.batch, head.head, row, c0};
    Value acc = b.create<vector::TransferReadOp>(accType, out, at, zero,
                                                 ArrayRef<bool>{true});
    Value o = b.create<arith::MulFOp>(
        acc, b.create<vector::BroadcastOp>(accType, inverse));
    return b.create<vector::TransferWriteOp>(o, out, at, ArrayRef<bool>{true})
        .getResult();
  });
}

/// Keys [start, start + n) with n = min(keyChunk, end - start): pack them
/// into the scratch once for the group, then every block of query rows of
/// each query head of the group against them; state = {out, packed keys, m,
/// l}.
SmallVector<Value> AttentionKernelBuilder::emitChunk(const GroupState &group,
                                                     Value start, Value end,
                                                     ValueRange state) {
  Value n = min(b, index(b, tiling.keyChunk), sub(b, end, start));
  // Only blocks of rows read the packed keys: a call with fewer rows than a
  // block (a decode step) skips the packing.
  Value blocks = b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, numQueries,
                                         index(b, tiling.queryBlock));
  Value packed = ifElse(
      b, blocks, [&] { return packKeys(group, start, n, state[1]); },
      [&] { return state[1]; });
  ChunkState chunk{start, add(b, start, n), packed};

  // Per query head: full blocks of rows, then the remaining rows one at a
  // time.
  Value rows = index(b, tiling.queryBlock);
  Value full = roundDown(b, numQueries, tiling.queryBlock);
  RowState st{state[0], state[2], state[3]};
  auto blocksOf = [&](const HeadState &head, const RowState &st) {
    return RowState::of(
        forLoop(b, c0, full, rows, st.values(), [&](Value q0, ValueRange s) {
          return ifSeesChunk(head, chunk, q0, tiling.queryBlock,
                             RowState::of(s),
                             [&](const RowState &s) {
                               return emitBlock(head, chunk, q0, s);
                             })
              .values();
        }));
  };
  if (singleHeadGroups) {
    // One head: its single rows keep everything in registers across key
    // blocks (emitRow).
    st = RowState::of(forEachHead(
        group, st.values(), [&](const HeadState &head, ValueRange s) {
          RowState st = blocksOf(head, RowState::of(s));
          return forLoop(b, full, numQueries, c1, st.values(),
                         [&](Value q0, ValueRange s) {
                           return ifSeesChunk(
                                      head, chunk, q0, 1, RowState::of(s),
                                      [&](const RowState &s) {
                                        return emitRow(head, chunk, q0, s);
                                      })
                               .values();
                         });
        }));
    return {st.out, packed, st.m, st.l};
  }
  // Grouped-query attention: the blocks of each head, then each single row
  // for the whole group at once (emitRowGroup: a decode step reads its
  // keys and values once for the group).
  st = RowState::of(
      forEachHead(group, st.values(), [&](const HeadState &head, ValueRange s) {
        return blocksOf(head, RowState::of(s)).values();
      }));
  st = RowState::of(forLoop(
      b, full, numQueries, c1, st.values(), [&](Value q0, ValueRange s) {
        return ifSeesChunk(group, chunk, q0, 1, RowState::of(s),
                           [&](const RowState &s) {
                             return emitRowGroup(group, chunk, q0, s);
                           })
            .values();
      }));
  return {st.out, packed, st.m, st.l};
}

/// `body(state)` for rows [q0, q0 + count) when they see any key of the
/// chunk: with a causal mask, early rows see none of a late chunk (no state
/// traffic then).
AttentionKernelBuilder::RowState AttentionKernelBuilder::ifSeesChunk(
    const GroupState &group, const ChunkState &chunk, Value q0, int64_t count,
    const RowState &state, function_ref<RowState(const RowState &)> body) {
  if (!in.causal)
    return body(state);
  Value lastRow = add(b, q0, count - 1);
  Value seesChunk = b.create<arith::CmpIOp>(
      arith::CmpIPredicate::sgt, rowLimit(group, lastRow), chunk.start);
  return RowState::of(ifElse(
      b, seesChunk, [&] { return body(state).values(); },
      [&] { return state.values(); }));
}

/// Exclusive bound of the keys that query row `row` sees.
Value AttentionKernelBuilder::rowLimit(const GroupState &group, Value row) {
  if (!in.causal)
    return group.keyEnd;
  Value position = add(b, row, causalOffset);
  return max(b, c0, min(b, group.keyEnd, add(b, position, c1)));
}

/// The additive mask for row `row`, keys [k0, k0 + width); its dimensions
/// are aligned to the trailing ones of [B, H, Sq, Sk], a static 1
/// broadcasts.
Value AttentionKernelBuilder::maskScores(const HeadState &head, Value row,
                                         Value k0, int64_t width) {
  auto type = cast<RankedTensorType>(in.mask.getType());
  int64_t rank = type.getRank();
  Value full[4] = {head.batch, head.head, row, k0};
  SmallVector<Value> indices;
  for (int64_t i = 0; i < rank; ++i)
    indices.push_back(type.getDimSize(i) == 1 ? c0 : full[4 - rank + i]);
  VectorType scoresType = VectorType::get({width}, f32);
  if (type.getShape().back() == 1)
    return b.create<vector::BroadcastOp>(
        scoresType, b.create<tensor::ExtractOp>(in.mask, indices));
  return b.create<vector::TransferReadOp>(scoresType, in.mask, indices, zero,
                                          ArrayRef<bool>{false});
}
