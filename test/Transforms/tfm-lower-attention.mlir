// RUN: tfm-opt %s --split-input-file --tfm-lower-attention --verify-diagnostics | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-lower-attention="key-block=32 query-block=2" --verify-diagnostics | FileCheck %s --check-prefix=OPTS
// RUN: tfm-opt %s --split-input-file --tfm-lower-attention="parallel-parts=2" --verify-diagnostics | FileCheck %s --check-prefix=PARTS2

// The kernel: K packed a 1024-key chunk at a time into 32-key panels
// ([32, D, 32]); blocks of 8 query rows (then single rows) over tiles of 1024
// keys in three steps: scores by an 8 x 32 register tile of vector FMAs into
// a stack scratch, the online softmax row by row over the scratch, P·V by an
// 8 x 32 register tile into the output rows.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: tfm.attention
// A call of the kernel function of this signature, which accumulates into a
// destination of the result's shape.
// CHECK: %[[DEST:.*]] = tensor.empty({{.*}}) : tensor<?x8x?x32xf32>
// CHECK: call @[[KERNEL:__tfm_attention_[a-z0-9_]+]](%arg0, %arg1, %arg2, %[[DEST]])
// CHECK: func.func private @[[KERNEL]](
// The (batch, head) pairs: in one part per OpenMP thread (on the threads,
// at most one per pair; the thread count asked only then) when the call
// has 4 Sq Sk D x pairs >= 2^22 flops, else a single part.
// CHECK: %[[PAIRS:.*]] = arith.muli %{{.*}}, %c8 : index
// CHECK: %[[PQ:.*]] = arith.muli %[[PAIRS]], %{{.*}} : index
// CHECK: %[[KD:.*]] = arith.muli %{{.*}}, %c256 : index
// CHECK: %[[WORK:.*]] = arith.muli %[[PQ]], %[[KD]] : index
// CHECK: %[[BIG:.*]] = arith.cmpi sge, %[[WORK]], %c4194304 : index
// CHECK: %[[PARTS:.*]] = scf.if %[[BIG]] -> (index) {
// CHECK:   %[[THREADS:.*]] = func.call @omp_get_max_threads() : () -> i32
// CHECK:   %[[T:.*]] = arith.index_cast %[[THREADS]] : i32 to index
// CHECK:   %[[FEW:.*]] = arith.minsi %[[PAIRS]], %[[T]] : index
// CHECK:   %[[SOME:.*]] = arith.maxsi %[[FEW]], %c1 : index
// CHECK:   scf.yield %[[SOME]] : index
// CHECK: } else {
// CHECK:   scf.yield %c1 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[PARTS]] step %c1 iter_args
// With parallel-parts=2: at most two parts, no thread count asked.
// PARTS2-LABEL: func.func @plain
// PARTS2-NOT: omp_get_max_threads
// PARTS2: %[[TWO:.*]] = arith.minsi %{{.*}}, %c2 : index
// PARTS2: %[[SOME:.*]] = arith.maxsi %[[TWO]], %c1 : index
// PARTS2: %[[PARTS:.*]] = arith.select %{{.*}}, %[[SOME]], %c1 : index
// PARTS2: scf.for %{{.*}} = %c0 to %[[PARTS]] step %c1 iter_args
// Each part's own scratch, the score tile and the block's rescale factors,
// bases and sums on the stack, outside the loops over its pairs.
// CHECK: tensor.empty() : tensor<32x64x32xf32>
// CHECK: %[[S:.*]] = memref.alloca() : memref<8x1040xf32>
// CHECK: %[[ALPHA:.*]] = memref.alloca() : memref<8xf32>
// CHECK: %[[BASE:.*]] = memref.alloca() : memref<8xf32>
// CHECK: %[[SUM:.*]] = memref.alloca() : memref<8xf32>
// CHECK: scf.for
// CHECK: arith.divui %{{.*}}, %c8 : index
// CHECK: arith.remui %{{.*}}, %c8 : index
// CHECK: scf.for {{.*}} step %c1024
// The packing only when there is a block of rows to read it (not for a
// decode step's single query): 16 keys x 16 dimensions at a time, 16 rows
// read, 4 rounds of 16 interleaving shuffles, 16 rows written.
// CHECK: %[[BLOCKS:.*]] = arith.cmpi sge, %{{.*}}, %c8 : index
// CHECK: scf.if %[[BLOCKS]] -> (tensor<32x64x32xf32>)
// CHECK: scf.for
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c16
// CHECK-COUNT-16: vector.transfer_read %arg1
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-COUNT-16: vector.transfer_write {{.*}} : vector<16xf32>, tensor<32x64x32xf32>
// Blocks of 8 rows, tiles of 1024 keys, 32-key panels carrying the rows'
// running maxima.
// CHECK: scf.for {{.*}} step %c8
// CHECK: scf.for {{.*}} step %c1024
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// Step 1: 16 accumulators (8 rows x 2 vectors) over d, 4 steps a trip.
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c4 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<32x64x32xf32>, vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.if
// CHECK: vector.store {{.*}}, %[[S]]
// CHECK: arith.maximumf {{.*}} fastmath<nnan> : vector<16xf32>
// Step 2: the block's 8 rows at once: new maxima, rescale factors (the
// inline exp: clamp, 1.5 * 2^23 rounding, polynomial, exponent bits).
// CHECK: vector.reduction <maximumf>, {{.*}} fastmath<nnan> : vector<16xf32> into f32
// CHECK: %[[MAX:.*]] = vector.from_elements {{.*}} : vector<8xf32>
// CHECK: %[[MOLD:.*]] = vector.transfer_read %{{.*}} : tensor<?xf32>, vector<8xf32>
// CHECK: arith.maximumf %[[MOLD]], %[[MAX]] fastmath<nnan> : vector<8xf32>
// CHECK: arith.maximumf {{.*}} fastmath<nnan> : vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: arith.shli {{.*}} : vector<8xi32>
// CHECK: vector.store {{.*}}, %[[ALPHA]][%c0] : memref<8xf32>, vector<8xf32>
// CHECK: vector.store {{.*}}, %[[BASE]][%c0] : memref<8xf32>, vector<8xf32>
// Then row by row: p = exp(s - base), 0 for hidden keys, back into the
// scratch, and its sum.
// CHECK: scf.for {{.*}} = %c0 to %c8 step %c1
// CHECK: memref.load %[[BASE]]
// CHECK: vector.load %[[S]]
// CHECK: arith.shli {{.*}} : vector<16xi32>
// CHECK: arith.select {{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: vector.store {{.*}}, %[[S]]
// CHECK: vector.reduction <add>
// CHECK: memref.store {{.*}}, %[[SUM]]
// CHECK: vector.load %[[SUM]][%c0] : memref<8xf32>, vector<8xf32>
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<?xf32>
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<?xf32>
// Step 3: output rows rescaled, then P·V by broadcast FMAs, keys by 4.
// CHECK: memref.load %[[ALPHA]]
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: scf.for {{.*}} step %c4 iter_args
// CHECK: memref.load %[[S]]
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write
// Single rows for the tail: scores as dot products with K's rows as they
// are (no packed keys), one key at a time into the block's vector.
// CHECK: scf.for {{.*}} step %c1
// CHECK: %[[Q:.*]] = vector.transfer_read %arg0[{{.*}} : tensor<?x8x?x64xf32>, vector<64xf32>
// CHECK: scf.for %[[J:.*]] = %c0 to %c64 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<64xf32>)
// CHECK: %[[K:.*]] = vector.transfer_read %arg1[{{.*}} : tensor<?x8x?x64xf32>, vector<64xf32>
// CHECK: %[[QK:.*]] = arith.mulf %[[Q]], %[[K]] : vector<64xf32>
// CHECK: %[[DOT:.*]] = vector.reduction <add>, %[[QK]] fastmath<reassoc> : vector<64xf32> into f32
// CHECK: vector.insertelement %[[DOT]], %[[ACC]][%[[J]] : index] : vector<64xf32>
// CHECK: scf.for {{.*}} step %c64 iter_args({{.*}}) -> (f32, f32, vector<32xf32>, vector<64xf32>)
// CHECK: } {tfm.parallel}
// Nothing of size seq x seq.
// CHECK-NOT: tensor<?x?xf32>
// CHECK-NOT: tensor<{{.*}}x?x?xf32>
// OPTS-LABEL: func.func @plain
// OPTS: memref.alloca() : memref<2x80xf32>
// OPTS: memref.alloca() : memref<2xf32>
// OPTS: scf.for {{.*}} step %c2
// OPTS: scf.for {{.*}} step %c32
// OPTS: vector.fma {{.*}} : vector<16xf32>
func.func @plain(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x32xf32>) -> tensor<?x8x?x32xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x32xf32>
  return %o : tensor<?x8x?x32xf32>
}

// -----

// Key padding: the key loop ends at min(lengths[b], Sk). Causal: key chunks
// and blocks end at the last row's limit i + (Sk - Sq) + 1.
// CHECK-LABEL: func.func @causal_padded
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<?x8x?x64xf32>, %[[K:[a-z0-9]+]]: tensor<?x8x?x64xf32>
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<?xi32>
// CHECK: func.func private @__tfm_attention_{{.*}}_lengths_dxi32_causal_scale3e000000(
// CHECK: %[[SQ:.*]] = tensor.dim %[[Q]], %c2 : tensor<?x8x?x64xf32>
// CHECK: %[[SK:.*]] = tensor.dim %[[K]], %c2 : tensor<?x8x?x64xf32>
// CHECK: %[[OFF:.*]] = arith.subi %[[SK]], %[[SQ]]
// CHECK: %[[L:.*]] = tensor.extract %[[LEN]][%{{.*}}] : tensor<?xi32>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]]
// CHECK: %[[END0:.*]] = arith.minsi %[[LI]], %[[SK]]
// CHECK: arith.addi %{{.*}}, %[[OFF]]
// CHECK: scf.for {{.*}} step %c1024
// A block of rows that sees no key of this chunk skips it entirely.
// CHECK: %[[SEES:.*]] = arith.cmpi sgt
// CHECK: scf.if %[[SEES]] -> (tensor<?x8x?x64xf32>, tensor<?xf32>, tensor<?xf32>)
// CHECK: arith.cmpi slt
// CHECK-NOT: tfm.attention
func.func @causal_padded(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>,
                         %len: tensor<?xi32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// An additive mask is read a block of keys at a time and added to the
// scores; its broadcast dimensions read index 0.
// CHECK-LABEL: func.func @masked
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<?x1x?x?xf32>
// CHECK: func.func private @__tfm_attention_{{.*}}_mask_dx1xdxdxf32_scale3e000000(
// CHECK: vector.transfer_read %[[M]][%{{.*}}, %c0, %{{.*}}, %{{.*}}], %{{.*}} : tensor<?x1x?x?xf32>, vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
func.func @masked(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>,
                  %m: tensor<?x1x?x?xf32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %k, %v mask(%m : tensor<?x1x?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// Not lowered: a dynamic head size cannot be vectorized; the reference
// lowering handles it.
// CHECK-LABEL: func.func @dynamic_head
// CHECK: tfm.attention
// CHECK-NOT: vector.fma
func.func @dynamic_head(%q: tensor<?x8x?x?xf32>, %k: tensor<?x8x?x?xf32>, %v: tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x?xf32>, tensor<?x8x?x?xf32>, tensor<?x8x?x?xf32> -> tensor<?x8x?x?xf32>
  return %o : tensor<?x8x?x?xf32>
}

// -----

// What the kernel assumes where the types leave it open is checked at run
// time, before the kernel: the batch and heads of k and v are q's, v has
// k's keys, the key lengths q's batch. Static sizes (here the heads and the
// head size) get no check.
// CHECK-LABEL: func.func @size_checks
//  CHECK-SAME:   (%[[Q:.+]]: tensor<?x2x?x8xf32>, %[[K:.+]]: tensor<?x2x?x8xf32>, %[[V:.+]]: tensor<?x2x?x8xf32>, %[[L:.+]]: tensor<?xi32>)
//       CHECK:   %[[QB:.+]] = tensor.dim %[[Q]], %c0
//       CHECK:   %[[KB:.+]] = tensor.dim %[[K]], %c0
//       CHECK:   arith.cmpi eq, %[[QB]], %[[KB]]
//       CHECK:   cf.assert {{.*}} "the operands of the op at {{.*}} have dynamic sizes that disagree"
//       CHECK:   %[[VB:.+]] = tensor.dim %[[V]], %c0
//       CHECK:   cf.assert
//       CHECK:   %[[KN:.+]] = tensor.dim %[[K]], %c2
//       CHECK:   %[[VN:.+]] = tensor.dim %[[V]], %c2
//       CHECK:   arith.cmpi eq, %[[KN]], %[[VN]]
//       CHECK:   cf.assert
//       CHECK:   tensor.dim %[[L]], %c0
//       CHECK:   cf.assert
//   CHECK-NOT:   cf.assert
//       CHECK:   scf.for
func.func @size_checks(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %len: tensor<?xi32>) -> tensor<?x2x?x8xf32> {
  %0 = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {scale = 0.35355339 : f32}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %0 : tensor<?x2x?x8xf32>
}

// -----

// One kernel per signature: the two non-causal ops of one type share a
// function; the causal one and the one of another scale get their own.
// CHECK-LABEL: func.func @shared
// CHECK: call @[[PLAIN:__tfm_attention_[a-z0-9_]+_scale3e000000]](
// CHECK: call @[[PLAIN]](
// CHECK: call @[[CAUSAL:__tfm_attention_[a-z0-9_]+_causal_scale3e000000]](
// CHECK: call @[[HALF:__tfm_attention_[a-z0-9_]+_scale3f000000]](
// CHECK-DAG: func.func private @[[PLAIN]](
// CHECK-DAG: func.func private @[[CAUSAL]](
// CHECK-DAG: func.func private @[[HALF]](
// CHECK-NOT: func.func private @__tfm
func.func @shared(%q: tensor<?x8x?x64xf32>) -> (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) {
  %a = tfm.attention %q, %q, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  %b = tfm.attention %a, %q, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  %c = tfm.attention %q, %q, %q {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  %d = tfm.attention %q, %q, %q {scale = 0.5 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %a, %b, %c, %d : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
}

// -----

// Grouped-query attention: query heads 4 kv .. 4 kv + 3 read key/value head
// kv (8 query heads, 2 key/value heads). The kernel goes over the (batch,
// key/value head) groups: a chunk of keys is packed once for the group's
// four query heads, which then take their blocks and rows in turn.
// CHECK-LABEL: func.func @grouped
// CHECK: func.func private @__tfm_attention_dx8xdx64xf32_dx2xdx64xf32_dx2xdx64xf32_
// CHECK: %[[B:.*]] = arith.divui %{{.*}}, %c2 : index
// CHECK: %[[KV:.*]] = arith.remui %{{.*}}, %c2 : index
// CHECK: vector.transfer_read %arg1[%[[B]], %[[KV]], {{.*}} : tensor<?x2x?x64xf32>, vector<16xf32>
// CHECK: scf.for %[[G:.*]] = %c0 to %c4 step %c1
// CHECK: %[[FIRST:.*]] = arith.muli %[[KV]], %c4 : index
// CHECK: %[[H:.*]] = arith.addi %[[FIRST]], %[[G]] : index
// CHECK: tensor.extract %arg0[%[[B]], %[[H]], {{.*}} : tensor<?x8x?x64xf32>
// CHECK: vector.transfer_read %arg2[%[[B]], %[[KV]], {{.*}} : tensor<?x2x?x64xf32>, vector<16xf32>
// The single rows (a decode step's): blocks of 64 keys outside, the group's
// heads inside, so that a block of keys and values is read from memory once
// for the four heads.
// CHECK: scf.for %{{.*}} step %c64
// CHECK: scf.for %[[G2:.*]] = %c0 to %c4 step %c1
// CHECK: %[[FIRST2:.*]] = arith.muli %[[KV]], %c4 : index
// CHECK: %[[H2:.*]] = arith.addi %[[FIRST2]], %[[G2]] : index
// CHECK: vector.transfer_read %arg0[%[[B]], %[[H2]], {{.*}} : tensor<?x8x?x64xf32>, vector<64xf32>
// CHECK: vector.transfer_read %arg1[%[[B]], %[[KV]], {{.*}} : tensor<?x2x?x64xf32>, vector<64xf32>
// CHECK: vector.transfer_read %arg2[%[[B]], %[[KV]], {{.*}} : tensor<?x2x?x64xf32>, vector<64xf32>
func.func @grouped(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// Key/value heads only known at run time: that they divide the query heads
// is checked before the call.
// CHECK-LABEL: func.func @grouped_dynamic
// CHECK: %[[QH:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[KH:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[SOME:.*]] = arith.cmpi sgt, %[[KH]], %c0
// CHECK: %[[DIV:.*]] = arith.select %[[SOME]], %[[KH]], %c1
// CHECK: %[[REM:.*]] = arith.remui %[[QH]], %[[DIV]]
// CHECK: %[[EVEN:.*]] = arith.cmpi eq, %[[REM]], %c0
// CHECK: %[[OK:.*]] = arith.andi %[[SOME]], %[[EVEN]]
// CHECK: cf.assert %[[OK]], "the key/value heads of the op at {{.*}} do not divide its query heads"
// CHECK: call @__tfm_attention_
func.func @grouped_dynamic(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x64xf32>) -> tensor<?x?x?x64xf32> {
  %o = tfm.attention %q, %k, %k {scale = 0.125 : f32}
      : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return %o : tensor<?x?x?x64xf32>
}

// -----

// A result whose value head size is dynamic in its type: the destination
// takes it from v (32), not from q (64).
// CHECK-LABEL: func.func @dynamic_result_dv
// CHECK: tensor.empty({{.*}}, %c32) : tensor<?x8x?x?xf32>
func.func @dynamic_result_dv(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x32xf32>) -> tensor<?x8x?x?xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x?xf32>
  return %o : tensor<?x8x?x?xf32>
}

// -----

// Not lowered: a rank-0 mask (the reference lowering takes it).
// CHECK-LABEL: func.func @scalar_mask
// CHECK: tfm.attention
// CHECK-NOT: call
func.func @scalar_mask(%q: tensor<?x8x?x64xf32>, %m: tensor<f32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %q, %q mask(%m : tensor<f32>) {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
