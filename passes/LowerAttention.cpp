//===- LowerAttention.cpp - tfm.attention as a tiled online softmax -------===//
//
// FlashAttention on the CPU: for each (batch, query head), a block of query
// rows goes over successive blocks of keys, keeping per row a running maximum
// m, a running sum l and an output accumulator that is rescaled by exp(m_old -
// m_new) as the maximum grows. No seq x seq buffer exists.
//
//   for b, g (batch and key/value head: the group of query heads that read
//   one key/value head, one head for multi-head attention; the groups
//   shared among the threads when the call is big enough):
//     kend = key_lengths[b] (or Sk)
//     for each chunk of keyChunk keys (1024): pack them into 32-key panels,
//      KT[p][d][j] = K[32 p + j][d] (L2-resident, one line per d), once
//      for the group; then for each query head h of the group:
//      for each block of queryBlock rows (8), over tiles of keyBlock keys
//      (1024) up to the last key any row of the block sees:
//        1. S[r][j] = scale q[r] . k[j] into a stack scratch (L1), a
//           queryBlock x 32 register tile of vector FMAs per panel; -inf
//           past each row's limit, only on panels that straddle a limit
//        2. per row: m' = max(m, max S[r]); S[r] = exp(S[r] - m');
//           l = l a + sum S[r]; a[r] = exp(m - m')
//        3. out[r] = a[r] out[r] + sum_j S[r][j] V[j], a queryBlock x 32
//           register tile per 32 columns of V
//      the remaining rows one at a time, K read as it is (a decode step
//      takes this path and packs nothing): for one head everything in
//      registers; for a group of heads, block by block of 64 keys with the
//      group's heads inside, so that a block is read once for the group
//     out = out / l   (0 for a row that saw no key)
//
// Keeping the three steps apart lets each run at the speed of its own kind
// of work: the products are the matmul kernel's register tile, the softmax
// has 2 x keyBlock / 16 independent vectors a row. Interleaving them in
// registers (the first version of this kernel) spilled and waited on the
// softmax's dependency chain: 47% of the FMA peak against ~80% now
// (bench/attention.sh).
//
// Extra memory: the packed chunk, the score tile and two [group x Sq]
// arrays (one head, Sq = 8192, D = 64: 256 KiB + 33 KiB + 64 KiB),
// whatever the length.
//
// Causal rows see keys j <= i + (Sk - Sq): key tiles past the last row's
// limit are never visited. Key padding ends the key loop at kend.
//
// Each tfm.attention becomes a call of a private kernel function, one per
// signature (operand types, causal, scale): the six layers of a model share
// one. Its inputs are strided buffers after bufferization (a KV cache's view
// is passed as it is). The kernel's code is in
// AttentionKernel.h and the files it names; this file has the pass, its
// pattern and the size checks before each call.
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmOps.h"
#include "passes/AttentionKernel.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Format.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMLOWERATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// The kernel's name: everything its code depends on (the operand and
/// result types, causal, the scale), so that equal names mean one kernel.
std::string kernelName(AttentionOp op) {
  std::string name(kAttentionKernelPrefix);
  llvm::raw_string_ostream os(name);
  auto type = [&](Value value) {
    auto tensor = cast<RankedTensorType>(value.getType());
    os << '_';
    for (int64_t size : tensor.getShape()) {
      if (ShapedType::isDynamic(size))
        os << 'd';
      else
        os << size;
      os << 'x';
    }
    os << tensor.getElementType();
  };
  type(op.getQuery());
  type(op.getKey());
  type(op.getValue());
  type(op.getResult());
  if (Value lengths = op.getKeyLengths()) {
    os << "_lengths";
    type(lengths);
  }
  if (Value mask = op.getMask()) {
    os << "_mask";
    type(mask);
  }
  if (op.getCausal())
    os << "_causal";
  os << "_scale"
     << llvm::format_hex_no_prefix(
            op.getScaleAttr().getValue().bitcastToAPInt().getZExtValue(), 8);
  return name;
}

/// The kernel reads q, k, v, the key lengths and the mask with the sizes of
/// q (batch, heads, queries, head size) and k (keys): where the types leave
/// a size open, it is checked at run time before the call.
void checkSizes(OpBuilder &b, AttentionOp op) {
  Location loc = op.getLoc();
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  emitSizeCheck(b, loc, q, 0, k, 0);
  emitSizeCheck(b, loc, q, 0, v, 0);
  emitSizeCheck(b, loc, k, 1, v, 1);
  emitSizeCheck(b, loc, k, 2, v, 2);
  // Grouped-query attention: the key/value heads divide the query heads.
  emitHeadsDivideCheck(b, loc, q, k);
  emitSizeCheck(b, loc, q, 3, k, 3);
  if (Value lengths = op.getKeyLengths())
    emitSizeCheck(b, loc, q, 0, lengths, 0);
  if (Value mask = op.getMask()) {
    // Aligned to the trailing dimensions of [batch, heads, queries, keys];
    // a static 1 broadcasts.
    auto type = cast<RankedTensorType>(mask.getType());
    std::pair<Value, int64_t> full[] = {{q, 0}, {q, 1}, {q, 2}, {k, 2}};
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (type.getDimSize(i) != 1) {
        auto [of, d] = full[4 - type.getRank() + i];
        emitSizeCheck(b, loc, mask, i, of, d);
      }
  }
}

/// Whether bufferization may give `value` a buffer whose innermost stride is
/// not 1: a slice that strides or drops the innermost dimension, or a view
/// (slice, reshape, cast) of one.
bool mayHaveStridedRows(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
      int64_t last = slice.getSourceType().getRank() - 1;
      if (!isConstantIntValue(slice.getMixedStrides()[last], 1) ||
          slice.getDroppedDims().test(last))
        return true;
      value = slice.getSource();
    } else if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                   tensor::CastOp>(op)) {
      value = op->getOperand(0);
    } else {
      return false;
    }
  }
  return false;
}

/// The kernel's inputs have a unit innermost stride (getOrCreateKernel), which
/// the memref.cast that bufferization puts before the call assumes: an
/// operand whose rows may be strided is passed as a contiguous copy.
Value withContiguousRows(OpBuilder &b, Location loc, Value value) {
  if (!mayHaveStridedRows(value))
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(b.create<tensor::DimOp>(loc, value, i));
  Value copy = b.create<tensor::EmptyOp>(loc, type, sizes);
  return b.create<linalg::CopyOp>(loc, value, copy).getResult(0);
}

struct LowerAttentionPattern : OpRewritePattern<AttentionOp> {
  LowerAttentionPattern(MLIRContext *ctx, const AttentionTiling &tiling)
      : OpRewritePattern(ctx), tiling(tiling) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getType();
    auto v = op.getValue().getType();
    if (q.isDynamicDim(3) || v.isDynamicDim(3))
      return rewriter.notifyMatchFailure(
          op, "head sizes must be static for the vectorized kernel");
    if (auto mask = op.getMask()) {
      auto type = cast<RankedTensorType>(mask.getType());
      if (type.getRank() < 1 || type.getRank() > 4)
        return rewriter.notifyMatchFailure(op, "mask of rank 0 or > 4");
    }
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");

    checkSizes(rewriter, op);
    Location loc = op.getLoc();
    SmallVector<Value> args;
    for (Value operand : op->getOperands())
      args.push_back(withContiguousRows(rewriter, loc, operand));
    // The destination, of the result's shape: the kernel accumulates in it.
    // [batch, heads, queries] of q, the value head size of v.
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < op.getType().getRank(); ++i)
      if (op.getType().isDynamicDim(i))
        sizes.push_back(rewriter.create<tensor::DimOp>(
            loc, i == 3 ? op.getValue() : op.getQuery(), i));
    args.push_back(rewriter.create<tensor::EmptyOp>(loc, op.getType(), sizes));
    func::FuncOp kernel = getOrCreateKernel(rewriter, module, op, args);
    rewriter.replaceOpWithNewOp<func::CallOp>(op, kernel, args);
    return success();
  }

  /// The private kernel function for `op`'s signature, shared by every
  /// attention op of that signature in the module (the first builds it).
  func::FuncOp getOrCreateKernel(PatternRewriter &rewriter, ModuleOp module,
                                 AttentionOp op, ValueRange args) const {
    std::string name = kernelName(op);
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToEnd(module.getBody());
    Location loc = NameLoc::get(rewriter.getStringAttr(name));
    auto kernel = rewriter.create<func::FuncOp>(
        loc, name,
        rewriter.getFunctionType(ValueRange(args).getTypes(), op.getType()));
    kernel.setPrivate();
    // The inputs keep the callers' strides, all but a unit innermost one:
    // the keys and values of a KV cache are views of it, which the identity
    // layout of the function boundary would copy at every call, and a
    // dynamic innermost stride would turn the kernel's vector loads into
    // gathers. The destination (a fresh buffer) and the result keep the
    // identity layout, so that the result is the caller's buffer.
    for (unsigned i = 0; i + 1 < args.size(); ++i) {
      int64_t rank = cast<RankedTensorType>(args[i].getType()).getRank();
      SmallVector<int64_t> strides(rank, ShapedType::kDynamic);
      strides.back() = 1;
      kernel.setArgAttr(
          i, bufferization::BufferizationDialect::kBufferLayoutAttrName,
          AffineMapAttr::get(makeStridedLinearLayoutMap(
              strides, ShapedType::kDynamic, rewriter.getContext())));
    }
    Block *entry = kernel.addEntryBlock();
    rewriter.setInsertionPointToStart(entry);
    ImplicitLocOpBuilder b(loc, rewriter);
    AttentionOperands in;
    unsigned next = 0;
    in.query = entry->getArgument(next++);
    in.key = entry->getArgument(next++);
    in.value = entry->getArgument(next++);
    if (op.getKeyLengths())
      in.keyLengths = entry->getArgument(next++);
    if (op.getMask())
      in.mask = entry->getArgument(next++);
    in.out = entry->getArgument(next);
    in.causal = op.getCausal();
    in.scale = op.getScaleAttr();
    Value out = AttentionKernelBuilder(b, tiling, in).build();
    b.create<func::ReturnOp>(out);
    return kernel;
  }

  AttentionTiling tiling;
};

struct TfmLowerAttention
    : mlir::tfm::impl::TfmLowerAttentionBase<TfmLowerAttention> {
  using TfmLowerAttentionBase::TfmLowerAttentionBase;

  void runOnOperation() override {
    if (queryBlock < 1 || keyBlock < 32 || keyBlock % 32 != 0 ||
        keyChunk < keyBlock || keyChunk % keyBlock != 0 || parallelParts < 0) {
      getOperation().emitError(
          "tfm-lower-attention: expected query-block >= 1, key-block a "
          "multiple of 32, key-chunk a multiple of key-block and "
          "parallel-parts >= 0");
      return signalPassFailure();
    }
    auto countKernels = [&] {
      int64_t count = 0;
      for (auto func : getOperation().getOps<func::FuncOp>())
        count += func.getSymName().starts_with(kAttentionKernelPrefix);
      return count;
    };
    int64_t kernelsBefore = countKernels();
    RewritePatternSet patterns(&getContext());
    TfmLowerAttentionOptions options;
    options.queryBlock = queryBlock;
    options.keyBlock = keyBlock;
    options.keyChunk = keyChunk;
    options.parallelMinFlops = parallelMinFlops;
    options.parallelParts = parallelParts;
    options.countWork = countWork;
    populateLowerAttentionPatterns(patterns, options);
    FailureOr<int64_t> lowered =
        applyPatternsCounted(getOperation(), std::move(patterns));
    if (failed(lowered))
      return signalPassFailure();
    numLowered += *lowered;
    numKernels += countKernels() - kernelsBefore;
  }
};

} // namespace

void mlir::tfm::populateLowerAttentionPatterns(
    RewritePatternSet &patterns, const TfmLowerAttentionOptions &options) {
  AttentionTiling tiling{options.queryBlock,    options.keyBlock,
                         options.keyChunk,      options.parallelMinFlops,
                         options.parallelParts, options.countWork};
  patterns.add<LowerAttentionPattern>(patterns.getContext(), tiling);
}
