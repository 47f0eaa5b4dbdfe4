// RUN: tfm-opt %s --split-input-file --tfm-lower-attention --verify-diagnostics | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-lower-attention="key-block=16 query-block=2" --verify-diagnostics | FileCheck %s --check-prefix=OPTS

// The kernel: K transposed a 512-key chunk at a time into a [D, 512]
// scratch; blocks of 4 query rows (then single rows) over blocks of 64 keys;
// scores by vector FMAs; online softmax (running max, rescale by exp of the
// difference); P·V by broadcast FMAs into vector<Dv = 32> accumulators.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: tfm.attention
// The (batch, head) pairs: in two parts (on the threads) when the call has
// 4 Sq Sk D x pairs >= 2^22 flops, else a single part.
// CHECK: %[[PAIRS:.*]] = arith.muli %{{.*}}, %c8 : index
// CHECK: %[[PQ:.*]] = arith.muli %[[PAIRS]], %{{.*}} : index
// CHECK: %[[KD:.*]] = arith.muli %{{.*}}, %c256 : index
// CHECK: %[[WORK:.*]] = arith.muli %[[PQ]], %[[KD]] : index
// CHECK: %[[BIG:.*]] = arith.cmpi sge, %[[WORK]], %c4194304 : index
// CHECK: %[[TWO:.*]] = arith.minsi %[[PAIRS]], %c2 : index
// CHECK: %[[SOME:.*]] = arith.maxsi %[[TWO]], %c1 : index
// CHECK: %[[PARTS:.*]] = arith.select %[[BIG]], %[[SOME]], %c1 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[PARTS]] step %c1 iter_args
// Each part's own scratch, and the probabilities' stack buffer, outside the
// loops over its pairs.
// CHECK: %[[SCRATCH:.*]] = tensor.empty() : tensor<64x512xf32>
// CHECK: memref.alloca() : memref<4x64xf32>
// CHECK: scf.for
// CHECK: arith.divui %{{.*}}, %c8 : index
// CHECK: arith.remui %{{.*}}, %c8 : index
// CHECK: scf.for {{.*}} step %c512
// The transpose only when there is a block of rows to read it (not for a
// decode step's single query).
// CHECK: %[[BLOCKS:.*]] = arith.cmpi sge, %{{.*}}, %c4 : index
// CHECK: scf.if %[[BLOCKS]] -> (tensor<64x512xf32>)
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<?x64xf32>) outs(%{{.*}} : tensor<64x?xf32>) permutation = [1, 0]
// CHECK: scf.for {{.*}} step %c4
// Loop-carried: m and l of 4 rows, their accumulators, and the next block's
// scores (software pipelining).
// CHECK: scf.for {{.*}} step %c64 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>)
// CHECK: scf.if
// CHECK: vector.reduction <maximumf>, {{.*}} : vector<64xf32> into f32
// CHECK: math.exp {{.*}} : vector<64xf32>
// CHECK: vector.reduction <add>
// The next block's scores, then this block's P.V.
// CHECK: vector.transfer_read {{.*}} : tensor<64x512xf32>, vector<64xf32>
// CHECK: vector.fma {{.*}} : vector<64xf32>
// CHECK: vector.fma {{.*}} : vector<32xf32>
// Single rows for the tail: scores as dot products with K's rows as they
// are (no transposed keys), one key at a time into the block's vector.
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
// OPTS: scf.for {{.*}} step %c2
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
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<?xi32>
// CHECK: %[[SQ:.*]] = tensor.dim %{{.*}}, %c2 : tensor<?x8x?x64xf32>
// CHECK: %[[SK:.*]] = tensor.dim %{{.*}}, %c2 : tensor<?x8x?x64xf32>
// CHECK: %[[OFF:.*]] = arith.subi %[[SK]], %[[SQ]]
// CHECK: %[[L:.*]] = tensor.extract %[[LEN]][%{{.*}}] : tensor<?xi32>
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]]
// CHECK: %[[END0:.*]] = arith.minsi %[[LI]], %[[SK]]
// CHECK: arith.addi %{{.*}}, %[[OFF]]
// CHECK: scf.for {{.*}} step %c512
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
// CHECK: vector.transfer_read %[[M]][%{{.*}}, %c0, %{{.*}}, %{{.*}}], %{{.*}} : tensor<?x1x?x?xf32>, vector<64xf32>
// CHECK: arith.addf {{.*}} : vector<64xf32>
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
