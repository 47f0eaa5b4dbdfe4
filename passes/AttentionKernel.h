//===- AttentionKernel.h - The tiled online-softmax kernel ------*- C++ -*-===//
//
// The body of an attention kernel function (see LowerAttention.cpp for the
// algorithm). The builder's methods are the kernel's steps; what crosses
// steps is passed as the small structs below. Its definitions are split by
// what they build: AttentionKernel.cpp (the group loop, heads, key chunks,
// normalization), AttentionBlockKernel.cpp (key packing and the three steps
// of a block of query rows), AttentionRowKernel.cpp (one query row: a
// decode step, the rows after the last block; for grouped-query attention,
// the row of every head of a group at once).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_ATTENTIONKERNEL_H
#define TFM_PASSES_ATTENTIONKERNEL_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::tfm {

/// tfm-lower-attention's options (defaults in Passes.td).
struct AttentionTiling {
  /// Query rows processed together (a queryBlock x 32 register tile).
  int64_t queryBlock;
  /// Keys per tile of scores (a multiple of kPanelKeys).
  int64_t keyBlock;
  /// Keys packed into the scratch at a time (a multiple of keyBlock).
  int64_t keyChunk;
  /// Work (4 Sq Sk D per (batch, head)) from which the pairs run on threads.
  int64_t parallelMinFlops;
  /// Parts the pairs are split into when the call is big enough; 0: as
  /// many as OpenMP has threads, at run time.
  int64_t parallelParts;
  /// Test builds: each group first calls tfm_count_work(its query rows).
  bool countWork = false;
};

/// The kernel's inputs: tensors of the tfm.attention op (the kernel
/// function's arguments), and its static attributes.
struct AttentionOperands {
  Value query;      // [B, H, Sq, D]
  Value key;        // [B, Hkv, Sk, D], Hkv dividing H
  Value value;      // [B, Hkv, Sk, Dv]
  Value keyLengths; // [B] integers, or null
  Value mask; // additive, aligned to the trailing dims of [B, H, Sq, Sk], or
              // null
  Value out;  // [B, H, Sq, Dv], the destination
  bool causal;
  FloatAttr scale;
};

/// Emits one kernel at the builder's insertion point.
class AttentionKernelBuilder {
public:
  AttentionKernelBuilder(ImplicitLocOpBuilder &b, const AttentionTiling &tiling,
                         const AttentionOperands &operands);

  /// The loop nest; returns the output tensor.
  Value build();

  /// Keys of a packed panel: the width of the score tile (2 vectors).
  static constexpr int64_t kPanelKeys = 32;
  /// Keys a single row takes at a time, in registers.
  static constexpr int64_t kRowKeys = 64;

private:
  /// A part's stack scratch (L1), allocated once per part: an alloca in the
  /// inner loops would grow the stack at every iteration.
  struct Scratch {
    Value scores; // [queryBlock, max(keyBlock, kRowKeys) + 16]
    Value alpha;  // [queryBlock]: the rows' rescale factors
    Value base;   // [queryBlock]: the rows' softmax bases
    Value sum;    // [queryBlock]: the rows' sums of probabilities
  };
  /// One (batch, key/value head) group: the query heads that read one
  /// key/value head (one head for multi-head attention).
  struct GroupState {
    Value batch;
    Value kvHead;
    Value keyEnd; // keys [0, keyEnd) exist (key padding)
    Scratch scratch;
  };
  /// One query head of a group.
  struct HeadState : GroupState {
    Value head;        // the query head
    Value stateOffset; // its rows in the group's m and l arrays: g * Sq
  };
  /// The keys [start, limit) of one chunk, packed into kPanelKeys-key
  /// panels ([keyChunk / 32, D, 32]) when blocks of rows read them.
  struct ChunkState {
    Value start, limit, packedKeys;
  };
  /// The running online softmax of the head's query rows: the output rows
  /// (unnormalized), their maxima m and sums l ([Sq] each).
  struct RowState {
    Value out, m, l;
    SmallVector<Value> values() const { return {out, m, l}; }
    static RowState of(ValueRange v) { return {v[0], v[1], v[2]}; }
  };

  // AttentionKernel.cpp
  SmallVector<Value> emitGroup(const GroupState &partial, ValueRange state);
  SmallVector<Value> forEachHead(
      const GroupState &group, ValueRange init,
      function_ref<SmallVector<Value>(const HeadState &, ValueRange)> body);
  SmallVector<Value> emitChunk(const GroupState &group, Value start, Value end,
                               ValueRange state);
  RowState ifSeesChunk(const GroupState &group, const ChunkState &chunk,
                       Value q0, int64_t count, const RowState &state,
                       function_ref<RowState(const RowState &)> body);
  Value normalize(const HeadState &head, Value out, Value l);
  Value rowLimit(const GroupState &group, Value row);
  Value maskScores(const HeadState &head, Value row, Value k0, int64_t width);

  // AttentionBlockKernel.cpp
  Value packKeys(const GroupState &group, Value start, Value count,
                 Value packed);
  Value packKeysByBlocks(const GroupState &group, Value start, Value count,
                         Value packed);
  RowState emitBlock(const HeadState &head, const ChunkState &chunk, Value q0,
                     const RowState &state);
  Value emitScores(const HeadState &head, const ChunkState &chunk, Value q0,
                   Value k0, Value panels);
  RowState emitSoftmax(const HeadState &head, Value q0, Value panels,
                       Value rowMax, const RowState &state);
  Value emitProbsTimesValues(const HeadState &head, Value q0, Value k0,
                             Value count, Value out);
  Value emitValueTile(const HeadState &head, Value q0, Value k0, Value count,
                      Value col, int64_t width, Value out);

  // AttentionRowKernel.cpp
  RowState emitRow(const HeadState &head, const ChunkState &chunk, Value row,
                   const RowState &state);
  RowState emitRowGroup(const GroupState &group, const ChunkState &chunk,
                        Value row, const RowState &state);
  SmallVector<Value> rowStep(const HeadState &head, Value row, Value k0,
                             Value limit, Value m, Value l, Value acc, Value s,
                             function_ref<Value()> between);
  Value rowScores(const HeadState &head, Value row, Value k0);

  ImplicitLocOpBuilder &b;
  const AttentionTiling tiling;
  const AttentionOperands in;
  const int64_t headDim, valueDim;
  const Type f32;
  // Defined once at the kernel's entry.
  const Value c0, c1, zero, negInf, scale;
  const Value numQueries, numKeys;
  /// Query i sits at absolute position i + causalOffset (Sk - Sq).
  const Value causalOffset;
  /// Query heads per key/value head (H / Hkv; 1 for multi-head attention).
  const Value groupSize;
  /// Whether the types say that every group is one head (multi-head
  /// attention), so that the single rows keep their pipelined path.
  const bool singleHeadGroups;
};

} // namespace mlir::tfm

#endif // TFM_PASSES_ATTENTIONKERNEL_H
