//===- Passes.td - tfm passes, alphabetical ----------------*- tablegen -*-===//

#ifndef TFM_PASSES_PASSES_TD
#define TFM_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmApproximateVectorMath : Pass<"tfm-approximate-vector-math"> {
  let summary = "polynomial approximations for math ops on f32 vectors";
  let description = [{
    `math.exp` and its kin on vectors would lower to one libm call per lane;
    MLIR's polynomial approximations (`populateMathPolynomialApproximation\
    Patterns`) give straight-line vector code (exp: ~1 ulp). Only ops on
    f32 vectors are rewritten: scalars keep libm's accuracy.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
  let statistics = [
    Statistic<"numApproximated", "approximated", "Number of vector math ops "
              "approximated">
  ];
}

def TfmLowerDotBF16 : Pass<"tfm-lower-dot-bf16"> {
  let summary = "tfm.dot_bf16 to the vdpbf16ps intrinsic";
  let description = [{
    Each `tfm.dot_bf16` becomes `llvm.call_intrinsic
    "llvm.x86.avx512bf16.dpbf16ps.512"`. It runs after bufferization: an
    intrinsic call is an op of unknown memory effects, which buffer
    deallocation refuses, while `tfm.dot_bf16` is pure. The module then
    states that it needs `avx512bf16` (`tfm.cpu_features`, a manifest line
    the runtime checks).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numLowered", "lowered", "Number of tfm.dot_bf16 ops lowered">
  ];
}

def TfmCopyStridedCasts : Pass<"tfm-copy-strided-casts", "func::FuncOp"> {
  let summary = "copy a strided view where a memref.cast would assume it "
                "contiguous";
  let description = [{
    One-shot bufferization with identity-layout function boundaries passes
    a strided view (a `tensor.extract_slice` that bufferized to a
    `memref.subview`, such as the first row of every sequence) to a kernel
    through `memref.cast` to the identity layout. That cast is an unchecked
    assumption: at run time the view's strides and offset are not those of
    the identity layout, and the callee reads the wrong elements. This pass,
    run after bufferization, replaces each such cast by a contiguous copy:

    ```
    %c = memref.cast %v : memref<?x64xf32, strided<[?, 1]>> to memref<?x64xf32>
      ->
    %c = memref.alloc(%n) : memref<?x64xf32>
    linalg.copy ins(%v : ...) outs(%c : ...)
    ```

    The same holds for a cast to a strided layout with static strides, such
    as the unit innermost stride of the attention kernels' arguments: a
    source whose innermost stride is only known at run time is copied too
    (the contiguous copy is then cast to the target layout).

    Casts whose source layout provably has the target's (static strides and
    offset of a contiguous row-major array for the identity layout) are left
    alone; the buffer deallocation pipeline that follows frees the copies.
    A target layout that not even a contiguous buffer has is an error.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
  let statistics = [
    Statistic<"numCopied", "copied-casts", "Number of casts made copies">
  ];
}

def TfmEmitEntryWrappers : Pass<"tfm-emit-entry-wrappers", "ModuleOp"> {
  let summary = "emit the runtime's entry symbols into an LLVM dialect module";
  let description = [{
    Runs last, on the LLVM dialect. For every function marked `tfm.entry` by
    `tfm-export-entry-points` it creates the packed entry point of
    `runtime/tfm_abi.h`:

    ```
    void tfm_entry_NAME(void **args)   // args[0]: results, args[1+i]: input i
    ```

    which forwards to the `_mlir_ciface_NAME` wrapper, and it emits the
    `tfm_abi_version` and `tfm_manifest` globals that the runtime reads
    before it calls anything.

    Every other function defined in the module gets internal linkage: the
    compiled module exports the ABI's symbols only, so that an entry called
    `step` neither binds to libc's `step(3)` nor clashes with another
    module's functions.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numEntries", "entries", "Number of entry points emitted">
  ];
}

def TfmExpandCeilDiv : Pass<"tfm-expand-ceil-div"> {
  let summary = "expand arith.ceildivui and its kin for the LLVM lowering";
  let description = [{
    The kernel emitters state rounded-up divisions as `arith.ceildivui`
    (folded by the canonicalizer where the operands are constants), which
    arith-to-llvm does not lower. This pass applies upstream's
    `populateCeilFloorDivExpandOpsPatterns` (ceildivui, ceildivsi,
    floordivsi into divisions, compares and selects) and nothing else:
    upstream's `arith-expand` would also turn `arith.maximumf` into a
    compare and a select, which the kernels' `nnan` maxima must not become.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numExpanded", "expanded", "Number of divisions expanded">
  ];
}

def TfmExportEntryPoints : Pass<"tfm-export-entry-points", "ModuleOp"> {
  let summary = "mark the public functions as runtime entry points";
  let description = [{
    Every public function with a body becomes an entry point of the compiled
    module. The pass checks that its arguments and results are ranked tensors
    of f32, i32 or i64 (what the runtime can pass), records their types in a
    `tfm.entry` attribute (read later by `tfm-emit-entry-wrappers`) and asks
    the LLVM lowering for a C interface (`llvm.emit_c_interface`).

    The runtime takes ownership of every result and frees it, so a result
    must be a buffer of its own: a returned argument, or a value returned
    twice, is copied (`bufferization.alloc_tensor ... copy(...)`).

    A function whose signature the runtime cannot pass is an error.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def TfmFuseAttention : Pass<"tfm-fuse-attention", "func::FuncOp"> {
  let summary = "fuse the scaled dot-product attention chain into tfm.attention";
  let description = [{
    Finds the chain the frontend emits, rooted at the `P V` matmul:

    ```
    S  = tfm.matmul Q, K transpose_rhs       (or Q, tfm.transpose K [.., 3, 2])
    S' = S, then any of: tfm.scale, arith.mulf / arith.divf by a splat
         constant, tfm.mask causal / key_padding / additive, tfm.add of a mask
    P  = tfm.softmax S' over the last axis
    O  = tfm.matmul P, V
    ```

    and replaces it with one `tfm.attention Q, K, V` whose `scale` is the
    product of every scale (a scale of `Q` before the matmul included),
    with `causal`, `key_lengths` and the additive `mask` taken from the
    masks. It only fuses what `tfm.attention` computes exactly the same way:
    every intermediate has no other user, the softmax is over the keys,
    Q/K/V are `[batch, heads, len, d]`, there is at most one additive and one
    key_padding mask, no additive mask comes before a scale, and a `-inf`
    mask comes before a scale only if that scale is positive.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numFused", "fused-chains", "Number of attention chains fused">
  ];
}

def TfmFuseLinearEpilogue : Pass<"tfm-fuse-linear-epilogue", "func::FuncOp"> {
  let summary = "fold activations and residual adds into tfm.packed_linear";
  let description = [{
    The element-wise ops that follow a linear layer become its epilogue, so
    that the matmul writes its result once:

    ```
    tfm.relu (packed_linear x, w, b)                  -> ... activation relu
      (likewise tfm.gelu, tfm.gelu_tanh, tfm.silu, tfm.tanh)
    tfm.add r, (packed_linear x, w, b [activation])   -> ... residual r
    ```

    Only a `packed_linear` whose result has no other user is rewritten; an
    activation only when there is no residual yet (the epilogue applies the
    activation first); a residual only of the result's own type.

    A gated MLP's product of two linear layers over one input, one with an
    activation, becomes one matmul over both weights with the gating in its
    epilogue:

    ```
    tfm.mul (packed_linear x, G, bg activation a), (packed_linear x, W, b)
        -> packed_gated_linear x, G, W gate_bias bg bias b activation a
    ```

    when both weights have one packed type and K is at most `gated-max-k`
    (for f32 weights; twice that for bf16, four times for int8): the gated
    kernel keeps both accumulators of a tile in registers for the whole of
    K (one K block), so both weights' K x panel slices must stay in L2.
  }];
  let options = [
    // 2 weights x 1024 x 32 floats: 256 KiB of the 1 MiB L2 per panel pair.
    Option<"gatedMaxK", "gated-max-k", "int64_t", "1024",
           "Largest K of a gated pair fused into one matmul">
  ];
  let statistics = [
    Statistic<"numFused", "fused-ops", "Number of element-wise ops fused">
  ];
}

def TfmLowerAttention : Pass<"tfm-lower-attention", "ModuleOp"> {
  let summary = "lower tfm.attention to a tiled online-softmax loop nest";
  let description = [{
    FlashAttention on the CPU. For each (batch, key/value head) group (the
    query heads that read one key/value head; one head for multi-head
    attention), keys are packed
    `key-chunk` at a time into 32-key panels ([chunk / 32, D, 32]: one
    contiguous line of keys per head-dimension index). Blocks of
    `query-block` rows then go over tiles of `key-block` keys in three
    steps: the tile's scores into a stack scratch by a rows x 32 register
    tile per panel (broadcast of q, vector FMAs); per row the online
    softmax over the scratch (running maximum and sum, an inline 14-op exp, the
    rescale factor exp(m - m')); the output rows rescaled and accumulated
    with P·V by a rows x 32 register tile per 32 value columns. Between
    tiles and chunks the running state lives in the output buffer and two
    [group x Sq] arrays. The rows after the last full block, and calls with
    fewer rows than a block (a decode step, which then packs nothing), take
    a single-row path that reads K as it is (dot products): everything in
    registers for one head, and for a group of several heads a block of 64
    keys at a time for all of them (the block read from memory once).

    No buffer of size seq x seq exists: the extra memory is the scratch and
    the two arrays, whatever the length. With `causal`, key blocks past the
    last row's limit are never visited and the element-wise mask applies
    only on blocks that straddle a row's limit; with `key_lengths` the key
    loop ends at the length. A row that sees no key gives zeros.

    The groups run on OpenMP threads (a loop marked `tfm.parallel` of one
    iteration per thread, or `parallel-parts`, each over contiguous groups
    with its own scratch) when the call has at least `parallel-min-flops`
    of work; smaller calls run on the calling thread.

    Each op becomes a call of a private kernel function
    (`__tfm_attention_<signature>`), one per signature (operand and result
    types, `causal`, `scale`), shared by every op of that signature: the
    layers of a model share their kernels. The sizes the kernel assumes
    equal where the types leave them open are checked before the call.
    The kernel's inputs carry `bufferization.buffer_layout` (any strides
    but a unit innermost one), so that views such as a KV cache's are
    passed without a copy; an operand that may not have a unit innermost
    stride (a strided slice) is copied before the call.

    Head sizes must be static (else the op is left to the reference
    lowering).
  }];
  let options = [
    // Measured here (bench/attention_bench, D = 64, no mask, one thread;
    // first version of the three steps, GFLOPS at seq 512 / 2048): rows x
    // tile keys = 8x512: 162 / 163; 8x256: 159 / 161; 8x128: 154 / 155;
    // 12x256: 149 / 158; 4x64: 128 / 129. Eight rows x 32 keys is 16 zmm
    // accumulators, the matmul kernel's register tile. With the inline exp
    // and the fused row maxima, alternating runs at seq 1024 / 2048: tile =
    // chunk = 1024: 181-194 / 188-193; 512: 173-178 / 177-186; 2048: 190 /
    // 165 (the 8 x 2064 scores, 66 KiB, no longer fit L1). A longer tile
    // amortizes the per-tile bookkeeping (rescaling the output rows, the
    // block's m and l); its scores (8 x 1040 floats, 33 KiB) stay in L1.
    Option<"queryBlock", "query-block", "int64_t", "8",
           "Query rows processed together (a rows x 32 register tile)">,
    Option<"keyBlock", "key-block", "int64_t", "1024",
           "Keys per tile of scores (a multiple of 32)">,
    // 1024 keys of K packed: 256 KiB at D = 64, with the chunk's 256 KiB of
    // V inside the 1 MiB L2.
    Option<"keyChunk", "key-chunk", "int64_t", "1024",
           "Keys packed into the scratch at a time (a multiple of "
           "key-block)">,
    // As tfm-tile-matmul's: below ~4 MFLOP (a decode step's attention over
    // a few hundred cached keys, ~0.5 MFLOP) waking a second thread costs
    // more than it saves.
    Option<"parallelMinFlops", "parallel-min-flops", "int64_t", "1 << 22",
           "Work (4 Sq Sk D per query head) from which the (batch, "
           "key/value head) groups run on OpenMP threads">,
    // 0: one part per OpenMP thread (omp_get_max_threads at run time), as
    // many as the machine has, not this machine's two. Each part allocates
    // its own scratch (~128 KiB + 8 bytes per query row of a group): one
    // part per pair, whatever the threads, measured 2.3 MB above inputs +
    // output at seq 8192 and slower single-thread calls (the scratch of 8
    // pairs first-touched at every call).
    Option<"parallelParts", "parallel-parts", "int64_t", "0",
           "Parts the (batch, key/value head) groups are split into when the "
           "call is big enough (0: one per OpenMP thread, at run time)">,
    Option<"countWork", "count-work", "bool", "false",
           "Test builds only: each group first calls the external "
           "tfm_count_work(its query rows) (test/Tools/work-share.test)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "lowered", "Number of attention ops lowered">,
    Statistic<"numKernels", "kernels", "Number of kernel functions built">
  ];
}

def TfmLowerMasks : Pass<"tfm-lower-masks", "func::FuncOp"> {
  let summary = "turn additive masks built from causal/key_padding masks into attributes";
  let description = [{
    An additive `mask` of `tfm.attention` built as `tfm.mask causal` and/or
    `tfm.mask key_padding` applied to a tensor of zeros (a splat-zero
    constant, `tensor.splat` or `linalg.fill` of 0.0) becomes the `causal`
    attribute and/or the `key_lengths` operand, which the lowering turns into
    loop bounds instead of a `[.., q_len, k_len]` tensor read.

    The causal mask converts only if its last two dimensions are the
    attention's own query and key lengths (the triangle is aligned to the end
    of the keys), the key_padding mask only if it is `[batch, ., ., k_len]`
    and the attention has no `key_lengths` yet. Any other mask stays an
    operand; in particular a mask computed from token ids (`ids == pad_id`)
    is not padding by length: it also hides pad tokens inside a sequence.
  }];
  let statistics = [
    Statistic<"numLowered", "lowered-masks",
              "Number of attention masks turned into attributes">
  ];
}

def TfmDeallocAfterLastUse : Pass<"tfm-dealloc-after-last-use",
                                  "func::FuncOp"> {
  let summary = "free each buffer right after its last use";
  let description = [{
    MLIR's ownership-based buffer deallocation frees the buffers of a block
    right before its terminator, so every intermediate buffer of an entry
    point lives until it returns: a forward pass holds all of its layers'
    activations at once, and the runtime's buffer pool cannot give a later
    layer the blocks of an earlier one. This pass moves each `memref.dealloc`
    of a buffer allocated by a `memref.alloc` of the same block to right
    after the last operation of that block that uses the buffer or a view
    of it (`BufferViewFlowAnalysis`: subviews, casts, reshapes, values
    carried through loops and branches):

    ```
    %a = memref.alloc(%n) : memref<?x64xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<?x64xf32>)
    %v = memref.subview %a[0, 0] [%n, 32] [1, 1] : ...
    scf.for ... { ... memref.load %v[...] ... }
    <later ops>
    memref.dealloc %a : memref<?x64xf32>
      ->
    ... scf.for ... { ... }
    memref.dealloc %a : memref<?x64xf32>
    <later ops>
    ```

    A buffer used outside its block, or whose address is taken as an
    integer (`memref.extract_aligned_pointer_as_index`,
    `memref.extract_strided_metadata`), keeps its dealloc where it is.
  }];
  let dependentDialects = ["memref::MemRefDialect"];
  let statistics = [
    Statistic<"numMoved", "moved-deallocs", "Number of deallocs moved up">
  ];
}

def TfmHoistParallelAllocs : Pass<"tfm-hoist-parallel-allocs", "func::FuncOp"> {
  let summary = "allocate a parallel loop's per-iteration buffers before it";
  let description = [{
    After bufferization, a loop marked `tfm.parallel` may allocate scratch
    in each iteration (an attention part's packed keys, its running maxima
    and sums). Those iterations become OpenMP worker threads, and a worker
    must not call the allocator: an allocation that fails is reported to the
    caller of the entry point, which only the calling thread can do (see
    runtime/BufferPool.h). This pass allocates, before the loop, one byte
    buffer with a slot per iteration, and turns each allocation at the top
    level of the body into a view of its iteration's slot:

    ```
    scf.for %p = %lb to %ub step %s {
      %k = memref.alloc() {alignment = 64} : memref<32x64x32xf32>
      %m = memref.alloc(%n) : memref<?xf32>
      ...
    } {tfm.parallel}
      ->
    %buf = memref.alloc(%trips * %frame) {alignment = 64} : memref<?xi8>
    scf.for %p = %lb to %ub step %s {
      %k = memref.view %buf[%i * %frame][] : memref<?xi8> to memref<32x64x32xf32>
      %m = memref.view %buf[%i * %frame + 262144][%n] : memref<?xi8> to memref<?xf32>
      ...
    } {tfm.parallel}
    ```

    where `%i` is the iteration's number, (%p - %lb) / %s.

    Slots are 64-byte aligned; the buffer deallocation pipeline that follows
    frees the buffer after the loop. An allocation whose sizes are computed
    inside the loop, or nested deeper in the body, is left alone:
    `tfm-lower-parallel-loops` refuses a parallel loop that still allocates.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
  let statistics = [
    Statistic<"numHoisted", "hoisted-allocs", "Number of allocations hoisted">
  ];
}

def TfmCheckDynamicSizes : Pass<"tfm-check-dynamic-sizes", "func::FuncOp"> {
  let summary = "assert at run time that the dynamic sizes of a linalg op's "
                "operands agree";
  let description = [{
    A linalg op reads each loop dimension from several operands: an
    element-wise `tfm.add` of two `tensor<?x4xf32>` reads dimension 0 of
    both inputs and of its output. The tfm verifiers prove that operands
    agree where sizes are static; where one of them is dynamic, nothing
    did, and inputs that disagree (`add(a[1000000, 4], b[1, 4])` in library
    mode) were read out of bounds. After the reference lowering, this pass
    emits, before each linalg op, one `cf.assert` per pair of operand
    dimensions indexed by the same loop where either size is dynamic:

    ```
    %0 = tensor.dim %a, %c0 : tensor<?x4xf32>
    %1 = tensor.dim %b, %c0 : tensor<?x4xf32>
    %2 = arith.cmpi eq, %0, %1 : index
    cf.assert %2, "the operands of the op at add.mlir:3:8 have dynamic sizes that disagree"
    ```

    Pairs of static sizes get no check (the verifier saw them). At run time
    a failed assertion ends the entry call with that message
    (`tfm-lower-checks`), not the process.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numChecks", "checks", "Number of run-time size checks">
  ];
}

def TfmLowerChecks : Pass<"tfm-lower-checks", "ModuleOp"> {
  let summary = "turn cf.assert into a call of the runtime's error hook";
  let description = [{
    The upstream lowering of `cf.assert` prints the message and aborts the
    process. A compiled model is a library: a failed check must end the
    entry call with an error the caller can report. This pass rewrites each
    `cf.assert %ok, "message"` into a branch to a block that calls
    `__tfm_check_failed` with the message (a private global string) and is
    unreachable after it:

    ```
    cf.cond_br %ok, ^continue, ^failed
    ^failed:
      %m = llvm.mlir.addressof @__tfm_check_0 : !llvm.ptr
      llvm.call @__tfm_check_failed(%m) : (!llvm.ptr) -> ()
      llvm.unreachable
    ```

    `tfm-emit-entry-wrappers` defines `__tfm_check_failed` as a call
    through the exported table `tfm_error_hook` (runtime/tfm_abi.h), which
    the runtime fills in; while the table is empty it writes the message to
    stderr and aborts.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::cf::ControlFlowDialect"];
  let statistics = [
    Statistic<"numLowered", "checks", "Number of assertions lowered">
  ];
}

def TfmLowerParallelLoops : Pass<"tfm-lower-parallel-loops", "ModuleOp"> {
  let summary = "run the scf.for loops marked tfm.parallel on OpenMP threads";
  let description = [{
    A kernel marks a loop whose iterations write disjoint data with the
    `tfm.parallel` attribute. After bufferization, such a loop that carries
    no values becomes `scf.if (more than one iteration)` of `omp.parallel`
    around `omp.wsloop` / `omp.loop_nest` (a static schedule), else the loop
    as it was. A loop of one iteration runs on the calling thread without
    entering the OpenMP runtime (which would allocate at every call), which
    is how a kernel keeps small problems serial. A marked loop that still
    carries values stays serial (the mark is dropped).

    The number of threads is OpenMP's (`OMP_NUM_THREADS`, default: the
    cores); compiled models link libomp.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
  let statistics = [
    Statistic<"numLowered", "parallel-loops", "Number of loops run on threads">
  ];
}

def TfmLowerToLinalg : Pass<"tfm-lower-to-linalg", "func::FuncOp"> {
  let summary = "reference lowering of every tfm op to linalg/tensor/arith/math";
  let description = [{
    A straightforward, unfused, correct lowering of each tfm op on its own,
    with dynamic shapes: element-wise ops and reductions become
    `linalg.generic`, reshapes become `tensor.expand_shape`/`collapse_shape`
    with `linalg.transpose`. `tfm.attention` is first written back as its
    unfused chain (`matmul`, `scale`, `mask`, `softmax`, `matmul`).

    Softmax subtracts the row maximum and gives zeros for a row that is all
    `-inf`; layer norm computes mean and variance in f32 in two passes.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "lowered-ops", "Number of tfm ops lowered">
  ];
}

def TfmPackWeights : Pass<"tfm-pack-weights", "ModuleOp"> {
  let summary = "put linear layers on weights packed in the matmul panel layout";
  let description = [{
    Every `tfm.linear` whose weight has a static shape becomes
    `tfm.packed_linear` on `tfm.pack_weight` of the weight: panels of
    `panel` output features, each `[K, panel]` contiguous, the layout the
    micro-kernel of `tfm-tile-matmul` reads one row of per step of K.

    A weight that is a function argument marked `tfm.weight` (the frontend
    marks every model parameter) and is used only by such packs is packed
    ahead of time: the argument takes the packed type and the attribute
    `tfm.packed = panel`, and tfmc stores the packed layout in the artifact,
    so nothing is repacked at run time. An unmarked argument (a caller's
    tensor) keeps its type and is packed by the compiled code.

    A marked weight may also be the table of `tfm.embedding`s (an embedding
    table tied to the logits projection, as in GPT-2 or Marian): the
    embeddings then read the packed table. Weights are identified by their
    `tfm.weight` name across the module: a weight packed in one function is
    packed in every function that only looks rows up in it, so that the
    artifact stores it once, in one layout.

    A linear layer with a dynamic weight shape is left alone (the reference
    lowering takes it).

    `weight-type` chooses how the packed weights are stored: `f32`, `bf16`
    (rounded to nearest even) or `i8` (symmetric, one scale per output
    feature: `tfm.weight_scales`, passed beside the weight to
    `tfm.pack_weight`, `tfm.packed_linear` and packed embeddings). A weight
    packed ahead of time as int8 gets a second argument for its scales,
    right after it, named `<weight>.scales` (attribute `tfm.scales_of`),
    which tfmc computes and stores as it stores the weight. With
    `bf16-pairs` bf16 weights are packed in k pairs
    (`[ceil(N / P), ceil(K / 2), P, 2]`), which tfm-tile-matmul multiplies
    with `vdpbf16ps` (the target must have avx512bf16).
  }];
  let options = [
    // 32 floats = two zmm registers per row of a panel: the 8x32 register
    // tile of tfm-tile-matmul (16 accumulators) reads a 128-byte row per k.
    Option<"panel", "panel", "int64_t", "32",
           "Output features per panel (a multiple of 16)">,
    Option<"weightType", "weight-type", "std::string", "\"f32\"",
           "Element type of packed weights: f32, bf16 or i8">,
    Option<"bf16Pairs", "bf16-pairs", "bool", "false",
           "bf16 weights in k-pair panels [NP, ceil(K / 2), P, 2], the "
           "layout of vdpbf16ps (tfmc: when the target has avx512bf16)">
  ];
  let statistics = [
    Statistic<"numPacked", "packed-linears", "Number of linear ops packed">,
    Statistic<"numPrepacked", "prepacked-arguments",
              "Number of weight arguments packed ahead of time">
  ];
}

def TfmTileMatmul : Pass<"tfm-tile-matmul", "ModuleOp"> {
  let summary = "lower tfm.packed_linear to cache- and register-tiled kernels";
  let description = [{
    Every `tfm.packed_linear` (and `tfm.packed_gated_linear`) whose panel is
    a multiple of 16 floats becomes a call to a private kernel function, one
    per signature (K, N, panel, bias, activation, residual, gated), shared
    by every layer of that shape. The
    kernel tiles C[M, N] = A[M, K] . W^T in BLIS order: blocks of `n-block`
    output features, blocks of `k-block` steps of K, blocks of `m-block`
    rows, then a micro-kernel of `row-tile` rows by one panel whose
    accumulators (`vector<16xf32>`, two per row for 32-wide panels) stay in
    registers for the whole K block: per step of k, one vector load per 16
    floats of the panel row, one broadcast of A per row, one `vector.fma`
    per accumulator. C is initialized with the bias in the first K block
    and gets the epilogue (activation, then residual) in the last, so it is
    written once per K block.

    A gated kernel reads the panel rows of both weights per step of k and
    keeps two accumulators per output vector, in `row-tile / 2` rows by one
    panel (2 x 2 and 1 x 2 panel tiles for the rows left over); it has one
    K block, and its epilogue `act(gate) * up` is the one write of C.

    M is dynamic: the rows left over after the full tiles go through 2 x 4
    and 1 x 4 panel tiles (8 or 16 accumulators, so that a single row, a
    decode step, still has enough independent FMAs in flight), then 1 x 1
    for the panels left over. N not a multiple of the panel masks the
    accesses to C, bias and residual.

    A matmul whose features fit in one `n-block` (N = 256, say: the key and
    value projections of a grouped-query model) is cut into up to 8 blocks
    of whole panels instead, so that its blocks can go to the threads too.

    The blocks of `n-block` features are independent: they are shared among
    the threads (the loop over them is marked `tfm.parallel`, for
    `tfm-lower-parallel-loops`) when the matmul streams at least
    `parallel-min-weight-bytes` of weights (N K times 4, 2 or 1 bytes for
    f32, bf16 or int8 weights, whatever M: a decode
    step's matmul is bound by the weights it reads, and each thread then
    streams its share), or else has at least `parallel-min-flops` flops
    (2 M N K, decided at run time, M being dynamic). Below both, even a
    one-row call runs on the calling thread without entering OpenMP.
    Shared, each block's rows are cut in `row-parts` parts: the threads
    share blocks x row-parts tasks, block by block.
  }];
  let options = [
    // Measured here (feasibility study, single thread, 32-wide panels):
    // 8x32 209-221 GFLOPS (93-98% of peak); 4x64 209; 12x32 206; 14x32 199;
    // 16x32 needs 32 accumulators, spills, ~100.
    Option<"rowTile", "row-tile", "int64_t", "8",
           "Rows of the micro-kernel (accumulators: rows x panel / 16)">,
    // 512 steps of a 32-wide panel: a 64 KiB panel slice, streamed from L2
    // and reused by every row tile of the m-block.
    Option<"kBlock", "k-block", "int64_t", "512",
           "Steps of K per block (C is read and written once per block)">,
    // 128 rows x 512 of A (256 KiB) and 256 x 512 of B (512 KiB) share the
    // 1 MiB L2.
    Option<"mBlock", "m-block", "int64_t", "128",
           "Rows per block (a multiple of row-tile)">,
    Option<"nBlock", "n-block", "int64_t", "256",
           "Output features per block (rounded down to whole panels)">,
    // Waking the second thread and joining it costs a few microseconds; a
    // matmul of 2^22 flops takes ~20 us on one core.
    Option<"parallelMinFlops", "parallel-min-flops", "int64_t", "4194304",
           "Smallest matmul (2 M N K) whose blocks of n-block features are "
           "shared among the threads">,
    // 256 KiB of weights take ~12 us to stream on one core of this machine
    // (~20 GB/s), several times the cost of waking and joining a thread: the
    // paper-size model's decode-step matmuls (1-4 MiB in f32; 256 KiB to
    // 1 MiB in int8) stay parallel, a small model's (a few KiB) do not.
    // Measured with 512 KiB: the int8 paper model's 512 x 512 matmuls ran on
    // one thread, and its 2-thread decode step took 1.27 ms instead of 1.13.
    Option<"parallelMinWeightBytes", "parallel-min-weight-bytes", "int64_t",
           "262144",
           "Smallest packed weight (N K elements, in bytes) whose blocks are "
           "shared among "
           "the threads for any number of rows">,
    // 16: one part per thread on up to 16 threads (the 16-core machines the
    // work is cut for); on two threads, 16 per block cost nothing measured
    // (1 x 512 x 512: 7.3 us either way; 128 x 512 x 2048: 1.22 ms vs 1.27).
    Option<"rowParts", "row-parts", "int64_t", "16",
           "Parts each shared block's rows are cut in (tasks: blocks x "
           "row-parts, at least a row tile each)">,
    Option<"countWork", "count-work", "bool", "false",
           "Test builds only: each task first calls the external "
           "tfm_count_work(rows x panels), to measure how the threads "
           "share the work (test/Tools/work-share.test)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
  let statistics = [
    Statistic<"numTiled", "tiled-linears", "Number of packed_linear ops tiled">
  ];
}

#endif // TFM_PASSES_PASSES_TD
