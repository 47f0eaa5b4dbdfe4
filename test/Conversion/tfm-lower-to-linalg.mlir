// RUN: tfm-opt %s --split-input-file --tfm-lower-to-linalg | FileCheck %s --implicit-check-not=tfm.

// Every tfm op lowers to linalg/tensor/arith/math; no tfm op is left
// anywhere in the output (--implicit-check-not).

// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>)
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NEG_INF]] : f32)
// Row maximum first ...
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<?x?xf32>) outs(%[[INIT]] : tensor<?xf32>)
// CHECK: arith.maximumf
// ... subtracted before exp, with 0 instead of -inf for an empty row ...
// CHECK: %[[EXP:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[MAX]] :
// CHECK: %[[EMPTY:.*]] = arith.cmpf oeq, %{{.*}}, %[[NEG_INF]]
// CHECK: %[[M:.*]] = arith.select %[[EMPTY]]
// CHECK: %[[D:.*]] = arith.subf %{{.*}}, %[[M]]
// CHECK: math.exp %[[D]]
// ... summed, and divided, with 0 where the sum is 0.
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[EXP]] :
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[EXP]], %[[SUM]] :
// CHECK: %[[NONE:.*]] = arith.cmpf oeq
// CHECK: %[[P:.*]] = arith.divf
// CHECK: arith.select %[[NONE]], %{{.*}}, %[[P]]
func.func @softmax(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %0 = tfm.softmax %x : tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// A softmax over the first axis reduces d0.
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @softmax_axis0
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[COL]]], iterator_types = ["reduction", "parallel"]}
func.func @softmax_axis0(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  %0 = tfm.softmax %x {axis = 0} : tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[G:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>)
// Mean: a sum over the last dimension, divided by its size.
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] :
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] :
// CHECK: arith.divf
// Variance: a second pass over (x - mean)^2.
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] :
// CHECK: %[[C:.*]] = arith.subf
// CHECK: arith.mulf %[[C]], %[[C]]
// CHECK: %[[VAR:.*]] = linalg.generic {{.*}} ins(%[[SQ]] :
// CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[MEAN]], %[[VAR]], %[[G]], %[[B]] :
// CHECK: %[[VE:.*]] = arith.addf %{{.*}}, %[[EPS]]
// CHECK: math.sqrt %[[VE]]
func.func @layer_norm(%x: tensor<?x?x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// RMS normalization: one pass for the sum of squares (reassociable: LLVM
// sums it in vector lanes), then x / sqrt(sum / d
// + eps) times the weight (no mean, no bias).
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[G:.*]]: tensor<16xf32>)
// CHECK: %[[D:.*]] = arith.uitofp %{{.*}} : i64 to f32
// CHECK: %[[SS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] :
// CHECK: %[[SQ:.*]] = arith.mulf %[[IN:.*]], %[[IN]]
// CHECK: arith.addf %{{.*}}, %[[SQ]] fastmath<reassoc>
// CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[SS]], %[[G]] :
// CHECK: ^bb0(%[[XI:.*]]: f32, %[[SSI:.*]]: f32, %[[GI:.*]]: f32,
// CHECK: %[[MS:.*]] = arith.divf %[[SSI]], %[[D]]
// CHECK: %[[MSE:.*]] = arith.addf %[[MS]], %[[EPS]]
// CHECK: %[[RMS:.*]] = math.sqrt %[[MSE]]
// CHECK: %[[N:.*]] = arith.divf %[[XI]], %[[RMS]]
// CHECK: arith.mulf %[[GI]], %[[N]]
func.func @rms_norm(%x: tensor<?x?x16xf32>, %g: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.rms_norm %x, %g : tensor<?x?x16xf32>, tensor<16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// Rotary embedding: inv_freq as a constant (1 / 10000^(2i / 8): 1, 0.1,
// 0.01, 0.001); cos and sin of p * inv_freq[i] once per (sequence, token,
// i) into tables [batch, seq, 4], with p the position plus the sequence's
// offset; then one generic over the heads' halves: x1 cos - x2 sin and
// x2 cos + x1 sin, written into the two halves of the result.
// CHECK-LABEL: func.func @rotary
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x?x8xf32>, %[[OFF:.*]]: tensor<?xi32>)
// CHECK: %[[FREQ:.*]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>
// CHECK: %[[COS:.*]] = linalg.generic {{.*}} ins(%[[OFF]] : tensor<?xi32>) outs(%{{.*}} : tensor<?x?x4xf32>)
// CHECK: ^bb0(%[[O:.*]]: i32,
// CHECK: %[[S:.*]] = linalg.index 1
// CHECK: %[[OI:.*]] = arith.index_cast %[[O]] : i32 to index
// CHECK: %[[P:.*]] = arith.addi %[[S]], %[[OI]]
// CHECK: %[[PF:.*]] = arith.sitofp
// CHECK: %[[I:.*]] = linalg.index 2
// CHECK: %[[F:.*]] = tensor.extract %[[FREQ]][%[[I]]]
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[F]]
// CHECK: math.cos %[[ANGLE]]
// CHECK: %[[SIN:.*]] = linalg.generic {{.*}} ins(%[[OFF]] : tensor<?xi32>) outs(%{{.*}} : tensor<?x?x4xf32>)
// CHECK: math.sin
// CHECK: %[[DEST:.*]] = tensor.empty({{.*}}) : tensor<?x2x?x8xf32>
// CHECK-DAG: %[[X1:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [{{.*}}, 2, {{.*}}, 4]
// CHECK-DAG: %[[X2:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 4] [{{.*}}, 2, {{.*}}, 4]
// CHECK-DAG: %[[D1:.*]] = tensor.extract_slice %[[DEST]][0, 0, 0, 0]
// CHECK-DAG: %[[D2:.*]] = tensor.extract_slice %[[DEST]][0, 0, 0, 4]
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} ins(%[[X1]], %[[X2]] : {{.*}}) outs(%[[D1]], %[[D2]] : {{.*}})
// CHECK: ^bb0(%[[A:[^:]*]]: f32, %[[B:[^:]*]]: f32,
// CHECK: %[[C:.*]] = tensor.extract %[[COS]]
// CHECK: %[[SN:.*]] = tensor.extract %[[SIN]]
// CHECK: %[[AC:.*]] = arith.mulf %[[A]], %[[C]]
// CHECK: %[[BS:.*]] = arith.mulf %[[B]], %[[SN]]
// CHECK: %[[Y1:.*]] = arith.subf %[[AC]], %[[BS]]
// CHECK: %[[BC:.*]] = arith.mulf %[[B]], %[[C]]
// CHECK: %[[AS:.*]] = arith.mulf %[[A]], %[[SN]]
// CHECK: %[[Y2:.*]] = arith.addf %[[BC]], %[[AS]]
// CHECK: linalg.yield %[[Y1]], %[[Y2]]
// CHECK: %[[H:.*]] = tensor.insert_slice %[[R]]#0 into %[[DEST]][0, 0, 0, 0]
// CHECK: tensor.insert_slice %[[R]]#1 into %[[H]][0, 0, 0, 4]
func.func @rotary(%x: tensor<?x2x?x8xf32>, %off: tensor<?xi32>) -> tensor<?x2x?x8xf32> {
  %0 = tfm.rotary %x offsets(%off : tensor<?xi32>) : tensor<?x2x?x8xf32>
  return %0 : tensor<?x2x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @split_heads
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 4, 4] : tensor<?x?x16xf32> into tensor<?x?x4x4xf32>
// CHECK: linalg.transpose ins(%[[E]] : tensor<?x?x4x4xf32>) outs(%{{.*}} : tensor<?x4x?x4xf32>) permutation = [0, 2, 1, 3]
func.func @split_heads(%x: tensor<?x?x16xf32>) -> tensor<?x4x?x4xf32> {
  %0 = tfm.split_heads %x, heads = 4 : tensor<?x?x16xf32> -> tensor<?x4x?x4xf32>
  return %0 : tensor<?x4x?x4xf32>
}

// -----

// CHECK-LABEL: func.func @merge_heads
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<?x4x?x4xf32>) outs(%{{.*}} : tensor<?x?x4x4xf32>) permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %[[T]] {{\[}}[0], [1], [2, 3]] : tensor<?x?x4x4xf32> into tensor<?x?x16xf32>
func.func @merge_heads(%x: tensor<?x4x?x4xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.merge_heads %x : tensor<?x4x?x4xf32> -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[K:.*]]: tensor<?x4x?x8xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[K]], %[[C0]]
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[K]], %[[C2]]
// CHECK: %[[INIT:.*]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x4x8x?xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[K]] : tensor<?x4x?x8xf32>) outs(%[[INIT]] : tensor<?x4x8x?xf32>) permutation = [0, 1, 3, 2]
// CHECK: return %[[T]]
func.func @transpose(%k: tensor<?x4x?x8xf32>) -> tensor<?x4x8x?xf32> {
  %0 = tfm.transpose %k, perm = [0, 1, 3, 2] : tensor<?x4x?x8xf32> -> tensor<?x4x8x?xf32>
  return %0 : tensor<?x4x8x?xf32>
}

// -----

// A result type more static than the permuted input: linalg.transpose
// produces the permuted input type, then a cast.
// CHECK-LABEL: func.func @transpose_refined
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<?x5xf32>) outs(%{{.*}} : tensor<5x?xf32>) permutation = [1, 0]
// CHECK: %[[C:.*]] = tensor.cast %[[T]] : tensor<5x?xf32> to tensor<5x2xf32>
// CHECK: return %[[C]]
func.func @transpose_refined(%x: tensor<?x5xf32>) -> tensor<5x2xf32> {
  %0 = tfm.transpose %x, perm = [1, 0] : tensor<?x5xf32> -> tensor<5x2xf32>
  return %0 : tensor<5x2xf32>
}

// -----

// Q Kᵀ reads K as [n, k]: no transposed copy is made.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[RHS_T:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_transposed
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS_T]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} {{.*}} outs(%[[ZERO]] :
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.transpose
func.func @matmul_transposed(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>) -> tensor<?x4x?x?xf32> {
  %0 = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[RHS]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @matmul(%a: tensor<2x3x5xf32>, %b: tensor<2x5x7xf32>) -> tensor<2x3x7xf32> {
  %0 = tfm.matmul %a, %b : tensor<2x3x5xf32>, tensor<2x5x7xf32> -> tensor<2x3x7xf32>
  return %0 : tensor<2x3x7xf32>
}

// -----

// The bias initializes the accumulator; the weight is read as [n, k].
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[IN:.*]]: tensor<?x?x16xf32>, %[[WT:.*]]: tensor<32x16xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[BIAS]], #{{.*}}], {{.*}} ins(%[[B]] :
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[IN]], %[[WT]] : {{.*}}) outs(%[[INIT]] :
func.func @linear(%x: tensor<?x?x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>) -> tensor<?x?x32xf32> {
  %0 = tfm.linear %x, %w, %b : tensor<?x?x16xf32>, tensor<32x16xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

// CHECK-LABEL: func.func @linear_no_bias
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] :
func.func @linear_no_bias(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>) -> tensor<4x32xf32> {
  %0 = tfm.linear %x, %w : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  return %0 : tensor<4x32xf32>
}

// -----

// Query i sees key j iff j <= i + (k_len - q_len).
// CHECK-LABEL: func.func @mask_causal
// CHECK-SAME: (%[[S:.*]]: tensor<?x4x?x?xf32>)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[QL:.*]] = tensor.dim %[[S]], %[[C2]]
// CHECK-DAG: %[[KL:.*]] = tensor.dim %[[S]], %[[C3]]
// CHECK: %[[OFF:.*]] = arith.subi %[[KL]], %[[QL]]
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 2
// CHECK: %[[J:.*]] = linalg.index 3
// CHECK: %[[LAST:.*]] = arith.addi %[[I]], %[[OFF]]
// CHECK: %[[HIDE:.*]] = arith.cmpi sgt, %[[J]], %[[LAST]]
// CHECK: arith.select %[[HIDE]], %{{.*}}, %{{.*}} : f32
func.func @mask_causal(%s: tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32> {
  %0 = tfm.mask causal %s : tensor<?x4x?x?xf32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// Key j of batch b is hidden iff j >= lengths[b].
// CHECK-DAG: #[[LEN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-LABEL: func.func @mask_key_padding
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[LEN]], #{{.*}}]
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[L:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[J:.*]] = arith.index_cast %{{.*}} : index to i32
// CHECK: %[[HIDE:.*]] = arith.cmpi sge, %[[J]], %[[L]]
// CHECK: arith.select %[[HIDE]], %{{.*}}, %[[IN]]
func.func @mask_key_padding(%s: tensor<?x4x?x?xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x?xf32> {
  %0 = tfm.mask key_padding %s, %len : tensor<?x4x?x?xf32>, tensor<?xi32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// A static 1 against a larger dimension broadcasts (index 0).
// CHECK-DAG: #[[BCAST:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d3)>
// CHECK-LABEL: func.func @mask_additive
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BCAST]], #{{.*}}]
// CHECK: arith.addf
func.func @mask_additive(%s: tensor<?x2x?x?xf32>, %m: tensor<1x?xf32>) -> tensor<?x2x?x?xf32> {
  %0 = tfm.mask additive %s, %m : tensor<?x2x?x?xf32>, tensor<1x?xf32>
  return %0 : tensor<?x2x?x?xf32>
}

// -----

// CHECK-DAG: #[[IDS:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[IDS_ARG:.*]]: tensor<?x?xi32>, %[[T:.*]]: tensor<100x16xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[IDS]], #{{.*}}], {{.*}} ins(%[[IDS_ARG]] :
// CHECK: %[[ID:.*]] = arith.index_cast
// Clamped into the table: never an out-of-bounds read.
// CHECK: %[[LO:.*]] = arith.maxsi %[[ID]]
// CHECK: %[[ROW:.*]] = arith.minsi %[[LO]]
// CHECK: %[[COL:.*]] = linalg.index 2
// CHECK: tensor.extract %[[T]][%[[ROW]], %[[COL]]]
func.func @embedding(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// A packed table [4, 16, 32]: 128 rows, row v at [v / 32, :, v % 32].
// CHECK-LABEL: func.func @embedding_packed
// CHECK-SAME: (%[[IDS_ARG:.*]]: tensor<?x?xi32>, %[[T:.*]]: tensor<4x16x32xf32>)
// CHECK: %[[ROWS:.*]] = arith.muli %{{.*}}, %c32
// CHECK: %[[LAST:.*]] = arith.subi %[[ROWS]], %c1
// CHECK: %[[ID:.*]] = arith.index_cast
// CHECK: %[[LO:.*]] = arith.maxsi %[[ID]]
// CHECK: %[[ROW:.*]] = arith.minsi %[[LO]], %[[LAST]]
// CHECK: %[[COL:.*]] = linalg.index 2
// CHECK: %[[P:.*]] = arith.divui %[[ROW]], %c32
// CHECK: %[[J:.*]] = arith.remui %[[ROW]], %c32
// CHECK: tensor.extract %[[T]][%[[P]], %[[COL]], %[[J]]]
func.func @embedding_packed(%ids: tensor<?x?xi32>, %t: tensor<4x16x32xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<4x16x32xf32> -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// sin on even features, cos on odd ones, of position * 10000^(-2i/d), in f64.
// CHECK-LABEL: func.func @positional_encoding
// CHECK: linalg.generic
// CHECK: %[[POS:.*]] = linalg.index 1
// CHECK: %[[FEAT:.*]] = linalg.index 2
// CHECK: arith.constant -9.2103403719761836 : f64
// CHECK: math.exp %{{.*}} : f64
// CHECK: %[[COS:.*]] = math.cos %{{.*}} : f64
// CHECK: %[[SIN:.*]] = math.sin %{{.*}} : f64
// CHECK: %[[PE:.*]] = arith.select %{{.*}}, %[[COS]], %[[SIN]] : f64
// CHECK: %[[PE32:.*]] = arith.truncf %[[PE]] : f64 to f32
// CHECK: arith.addf %{{.*}}, %[[PE32]] : f32
func.func @positional_encoding(%x: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.positional_encoding %x : tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.generic
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: linalg.generic
// CHECK: arith.constant 0.707106769 : f32
// CHECK: math.erf
// CHECK: linalg.generic
// CHECK: arith.constant 1.250000e-01 : f32
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @elementwise(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.relu %x : tensor<?x8xf32>
  %1 = tfm.gelu %0 : tensor<?x8xf32>
  %2 = tfm.scale %1 by 0.125 : tensor<?x8xf32>
  %3 = tfm.add %2, %x : tensor<?x8xf32>
  return %3 : tensor<?x8xf32>
}

// -----

// The activations of the Hugging Face families, each its own formula.
// CHECK-LABEL: func.func @activations
// CHECK: linalg.generic
// CHECK: arith.constant 4.471500e-02 : f32
// CHECK: math.tanh
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: return
func.func @activations(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.gelu_tanh %x : tensor<?x8xf32>
  %1 = tfm.silu %0 : tensor<?x8xf32>
  %2 = tfm.tanh %1 : tensor<?x8xf32>
  return %2 : tensor<?x8xf32>
}

// -----

// tfm.attention is written back as its chain and lowered with it: two
// contractions around a masked, max-subtracted softmax.
// CHECK-LABEL: func.func @attention
// CHECK: arith.mulf
// CHECK: arith.constant 1.250000e-01
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi sgt
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: return
func.func @attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %len: tensor<?xi32>) -> tensor<?x8x?x64xf32> {
  %0 = tfm.attention %q, %k, %k key_lengths(%len : tensor<?xi32>) {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}

// -----

// Grouped-query attention in the reference lowering: the key/value heads
// are first repeated to the query heads (query head h reads head h / 4).
// CHECK-LABEL: func.func @attention_grouped
// CHECK-SAME: (%[[Q:.*]]: tensor<?x8x?x64xf32>, %[[KV:.*]]: tensor<?x2x?x64xf32>)
// CHECK: %[[QH:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<?x8x?x64xf32>
// CHECK: %[[KH:.*]] = tensor.dim %[[KV]], %{{.*}} : tensor<?x2x?x64xf32>
// CHECK: %[[GROUP:.*]] = arith.divui %[[QH]], %[[KH]]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x8x?x64xf32>)
// CHECK: %[[H:.*]] = linalg.index 1
// CHECK: %[[G:.*]] = arith.divui %[[H]], %[[GROUP]]
// CHECK: tensor.extract %[[KV]][%{{.*}}, %[[G]], %{{.*}}, %{{.*}}] : tensor<?x2x?x64xf32>
// CHECK: math.exp
// CHECK: return
func.func @attention_grouped(%q: tensor<?x8x?x64xf32>, %kv: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %0 = tfm.attention %q, %kv, %kv {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}

// -----

// Learned positions: the table's first `seq` rows, broadcast over the batch.
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @learned_positions
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[T:.*]]: tensor<64x16xf32>)
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[S:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[T]][0, 0] [%[[S]], 16] [1, 1] : tensor<64x16xf32> to tensor<?x16xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROWS]], #{{.*}}], {{.*}} ins(%[[X]], %[[SLICE]] :
// CHECK: arith.addf
// CHECK-NOT: math.sin
func.func @learned_positions(%x: tensor<?x?x16xf32>, %t: tensor<64x16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.positional_encoding %x, %t : tensor<?x?x16xf32>, tensor<64x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// Positions that continue a sequence: offsets[b] + s feeds the sinusoid.
// CHECK-DAG: #[[BATCH:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @positional_offsets
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x16xf32>, %[[P:.*]]: tensor<?xi32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BATCH]], #{{.*}}], {{.*}} ins(%[[X]], %[[P]] :
// CHECK: ^bb0(%{{.*}}: f32, %[[OFF:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[S:.*]] = linalg.index 1
// CHECK: %[[O:.*]] = arith.index_cast %[[OFF]] : i32 to index
// CHECK: %[[POS:.*]] = arith.addi %[[S]], %[[O]] : index
// CHECK: %[[POS64:.*]] = arith.index_cast %[[POS]] : index to i64
// CHECK: arith.sitofp %[[POS64]] : i64 to f64
// CHECK: math.sin
func.func @positional_offsets(%x: tensor<?x1x16xf32>, %p: tensor<?xi32>) -> tensor<?x1x16xf32> {
  %0 = tfm.positional_encoding %x offsets(%p : tensor<?xi32>) : tensor<?x1x16xf32>
  return %0 : tensor<?x1x16xf32>
}

// -----

// Learned positions at offsets: one (clamped) table row per (b, s).
// CHECK-LABEL: func.func @learned_offsets
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x16xf32>, %[[T:.*]]: tensor<64x16xf32>, %[[P:.*]]: tensor<?xi32>)
// CHECK: %[[LAST:.*]] = arith.subi
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[P]] :
// CHECK: %[[POS:.*]] = arith.addi
// CHECK: %[[LO:.*]] = arith.maxsi %[[POS]]
// CHECK: %[[ROW:.*]] = arith.minsi %[[LO]], %[[LAST]]
// CHECK: %[[COL:.*]] = linalg.index 2
// CHECK: %[[PE:.*]] = tensor.extract %[[T]][%[[ROW]], %[[COL]]]
// CHECK: arith.addf %{{.*}}, %[[PE]]
// CHECK-NOT: math.sin
func.func @learned_offsets(%x: tensor<?x1x16xf32>, %t: tensor<64x16xf32>, %p: tensor<?xi32>) -> tensor<?x1x16xf32> {
  %0 = tfm.positional_encoding %x, %t offsets(%p : tensor<?xi32>) : tensor<?x1x16xf32>, tensor<64x16xf32>
  return %0 : tensor<?x1x16xf32>
}

// -----

// A cache update: one insert_slice per sequence, at its own (clamped)
// position, carried through a loop over the batch (in place once
// bufferized into a writable argument).
// CHECK-LABEL: func.func @cache_update
// CHECK-SAME: (%[[C:.*]]: tensor<?x4x?x8xf32>, %[[U:.*]]: tensor<?x4x1x8xf32>, %[[P:.*]]: tensor<?xi32>)
// CHECK: %[[CAP:.*]] = tensor.dim %[[C]], %c2
// CHECK: %[[LAST:.*]] = arith.subi %[[CAP]], %c1
// CHECK: %[[B:.*]] = tensor.dim %[[U]], %c0
// CHECK: %[[R:.*]] = scf.for %[[I:.*]] = %{{.*}} to %[[B]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[C]])
// CHECK: %[[E:.*]] = tensor.extract %[[P]][%[[I]]]
// CHECK: %[[POS:.*]] = arith.index_cast %[[E]] : i32 to index
// CHECK: %[[LO:.*]] = arith.maxsi %[[POS]], %c0
// CHECK: %[[AT:.*]] = arith.minsi %[[LO]], %[[LAST]]
// CHECK: %[[ROWS:.*]] = tensor.extract_slice %[[U]][%[[I]], 0, 0, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: %[[INS:.*]] = tensor.insert_slice %[[ROWS]] into %[[ACC]][%[[I]], 0, %[[AT]], 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: scf.yield %[[INS]]
// CHECK: return %[[R]]
func.func @cache_update(%c: tensor<?x4x?x8xf32>, %u: tensor<?x4x1x8xf32>, %p: tensor<?xi32>) -> tensor<?x4x?x8xf32> {
  %0 = tfm.cache_update %u into %c at %p : tensor<?x4x1x8xf32> into tensor<?x4x?x8xf32> at tensor<?xi32>
  return %0 : tensor<?x4x?x8xf32>
}

// -----

// The packed weight is read in place: W[n, k] = weight[n floordiv 32, k,
// n mod 32]; the bias initializes the accumulator. No epilogue.
// CHECK-DAG: #[[PBIAS:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[PX:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[PW:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 32, d3, d2 mod 32)>
// CHECK-DAG: #[[PY:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @packed_linear
// CHECK-SAME: (%[[IN:.*]]: tensor<?x?x64xf32>, %[[WT:.*]]: tensor<4x64x32xf32>, %[[B:.*]]: tensor<100xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[PBIAS]], #{{.*}}], {{.*}} ins(%[[B]] : tensor<100xf32>) outs(%{{.*}} : tensor<?x?x100xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[PX]], #[[PW]], #[[PY]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[IN]], %[[WT]] : tensor<?x?x64xf32>, tensor<4x64x32xf32>) outs(%[[INIT]] :
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: arith.addf %{{.*}}, %[[P]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @packed_linear(%x: tensor<?x?x64xf32>, %w: tensor<4x64x32xf32>, %b: tensor<100xf32>)
    -> tensor<?x?x100xf32> {
  %0 = tfm.packed_linear %x, %w, %b
      : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32> -> tensor<?x?x100xf32>
  return %0 : tensor<?x?x100xf32>
}

// -----

// The epilogue: the activation (here gelu) on the contraction, then the
// residual added, each as the tfm op it stands for.
// CHECK-DAG: #[[EW:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 32, d2, d1 mod 32)>
// CHECK-LABEL: func.func @packed_linear_epilogue
// CHECK-SAME: (%[[IN:.*]]: tensor<?x64xf32>, %[[WT:.*]]: tensor<3x64x32xf32>, %[[R:.*]]: tensor<?x96xf32>)
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[EW]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[IN]], %[[WT]] : {{.*}}) outs(%[[ZERO]] :
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[Y]] :
// CHECK: math.erf
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[R]] :
// CHECK: arith.addf
// CHECK: return %[[S]]
func.func @packed_linear_epilogue(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>,
                                  %r: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %0 = "tfm.packed_linear"(%x, %w, %r)
      <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 1>, activation = 2 : i32}>
      : (tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<?x96xf32>) -> tensor<?x96xf32>
  return %0 : tensor<?x96xf32>
}

// -----

// relu and a 64-wide panel; rank 1.
// CHECK-DAG: #[[W64:.*]] = affine_map<(d0, d1) -> (d0 floordiv 64, d1, d0 mod 64)>
// CHECK-LABEL: func.func @packed_linear_relu
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[W64]], #{{.*}}], iterator_types = ["parallel", "reduction"]}
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[Y]] :
// CHECK: arith.maximumf
// CHECK: return %[[A]]
func.func @packed_linear_relu(%x: tensor<16xf32>, %w: tensor<2x16x64xf32>, %b: tensor<70xf32>)
    -> tensor<70xf32> {
  %0 = tfm.packed_linear %x, %w, %b activation relu
      : tensor<16xf32>, tensor<2x16x64xf32>, tensor<70xf32> -> tensor<70xf32>
  return %0 : tensor<70xf32>
}

// -----

// result[p, k, j] = weight[p * 32 + j, k], 0 where p * 32 + j >= N (the row
// read there is clamped to 0: never out of bounds).
// CHECK-LABEL: func.func @pack_weight
// CHECK-SAME: (%[[WT:.*]]: tensor<100x64xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[WT]], %[[C0]]
// CHECK-DAG: %[[P:.*]] = arith.constant 32 : index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x64x32xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} outs(%[[E]] : tensor<4x64x32xf32>)
// CHECK: %[[PI:.*]] = linalg.index 0
// CHECK: %[[K:.*]] = linalg.index 1
// CHECK: %[[J:.*]] = linalg.index 2
// CHECK: %[[BASE:.*]] = arith.muli %[[PI]], %[[P]]
// CHECK: %[[ROW:.*]] = arith.addi %[[BASE]], %[[J]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW]], %[[N]]
// CHECK: %[[SAFE:.*]] = arith.select %[[IN]], %[[ROW]], %{{.*}} : index
// CHECK: %[[V:.*]] = tensor.extract %[[WT]][%[[SAFE]], %[[K]]]
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[OUT:.*]] = arith.select %[[IN]], %[[V]], %[[Z]] : f32
// CHECK: linalg.yield %[[OUT]]
// CHECK: return %[[R]]
func.func @pack_weight(%w: tensor<100x64xf32>) -> tensor<4x64x32xf32> {
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x32xf32>
  return %0 : tensor<4x64x32xf32>
}

// -----

// Dynamic sizes: ceil(N / 32) panels of K rows.
// CHECK-LABEL: func.func @pack_weight_dynamic
// CHECK-SAME: (%[[WT:.*]]: tensor<?x?xf32>)
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[WT]], %{{.*}}
// CHECK-DAG: %[[P:.*]] = arith.constant 32 : index
// CHECK: %[[NP:.*]] = arith.ceildivui %[[N]], %[[P]] : index
// CHECK: %[[K:.*]] = tensor.dim %[[WT]], %{{.*}}
// CHECK: tensor.empty(%[[NP]], %[[K]]) : tensor<?x?x32xf32>
// CHECK: linalg.generic
func.func @pack_weight_dynamic(%w: tensor<?x?xf32>) -> tensor<?x?x32xf32> {
  %0 = tfm.pack_weight %w : tensor<?x?xf32> -> tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

// Element-wise product.
// CHECK-LABEL: func.func @mul
// CHECK: linalg.generic
// CHECK: arith.mulf
func.func @mul(%a: tensor<?x?x16xf32>, %b: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %0 = tfm.mul %a, %b : tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// Key/value heads repeated for their query heads: broadcast along a new
// dimension after the heads, then the heads and their copies collapsed.
// CHECK-LABEL: func.func @repeat_heads
// CHECK-SAME: (%[[K:.*]]: tensor<?x2x?x64xf32>)
// CHECK: %[[E:.*]] = tensor.empty({{.*}}) : tensor<?x2x3x?x64xf32>
// CHECK: %[[B:.*]] = linalg.broadcast ins(%[[K]] : tensor<?x2x?x64xf32>) outs(%[[E]] : tensor<?x2x3x?x64xf32>) dimensions = [2]
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[B]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<?x2x3x?x64xf32> into tensor<?x6x?x64xf32>
// CHECK: return %[[C]]
func.func @repeat_heads(%k: tensor<?x2x?x64xf32>) -> tensor<?x6x?x64xf32> {
  %0 = tfm.repeat_heads %k {repeats = 3 : i64} : tensor<?x2x?x64xf32> -> tensor<?x6x?x64xf32>
  return %0 : tensor<?x6x?x64xf32>
}

// -----

// Each sequence's last token: row lengths[b] - 1, clamped into [0, S - 1].
// CHECK-LABEL: func.func @last_token
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[LEN:.*]]: tensor<?xi32>)
// CHECK: %[[LAST:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: linalg.generic {{.*}} ins(%[[LEN]] : tensor<?xi32>) outs(%{{.*}} : tensor<?x1x16xf32>)
// CHECK: ^bb0(%[[L:.*]]: i32,
// CHECK: %[[LI:.*]] = arith.index_cast %[[L]] : i32 to index
// CHECK: %[[ROW:.*]] = arith.subi %[[LI]], %c1
// CHECK: %[[MIN:.*]] = arith.minsi %[[ROW]], %[[LAST]]
// CHECK: %[[MAX:.*]] = arith.maxsi %[[MIN]], %c0
// CHECK: tensor.extract %[[X]][%{{.*}}, %[[MAX]], %{{.*}}]
func.func @last_token(%x: tensor<?x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x1x16xf32> {
  %0 = tfm.last_token %x, %len : tensor<?x?x16xf32>, tensor<?xi32> -> tensor<?x1x16xf32>
  return %0 : tensor<?x1x16xf32>
}

// -----

// Weight types. A bf16 pack rounds each element to nearest, ties to even,
// in integer arithmetic (bits + 0x7fff + lsb, the high half: arith.truncf
// would be a library call on targets without AVX512-BF16); an int8 pack
// divides by its row's scale (1 where the scale is 0), rounds half to even,
// clamps to +-127 and converts.
// CHECK-LABEL: func.func @pack_weight_bf16
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.shrui
// CHECK: arith.addi
// CHECK: arith.trunci %{{.*}} : i32 to i16
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
// CHECK: linalg.yield %{{.*}} : bf16
func.func @pack_weight_bf16(%w: tensor<70x64xf32>) -> tensor<3x64x32xbf16> {
  %p = tfm.pack_weight %w : tensor<70x64xf32> -> tensor<3x64x32xbf16>
  return %p : tensor<3x64x32xbf16>
}

// -----

// CHECK-LABEL: func.func @pack_weight_int8
// CHECK-SAME: (%[[W:.*]]: tensor<70x64xf32>, %[[S:.*]]: tensor<70xf32>)
// CHECK: linalg.generic
// CHECK: %[[SCALE:.*]] = tensor.extract %[[S]]
// CHECK: %[[ISZERO:.*]] = arith.cmpf oeq, %[[SCALE]]
// CHECK: %[[DIV:.*]] = arith.select %[[ISZERO]], %{{.*}}, %[[SCALE]]
// CHECK: %[[Q:.*]] = arith.divf %{{.*}}, %[[DIV]]
// CHECK: math.roundeven %[[Q]]
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
// CHECK: linalg.yield %{{.*}} : i8
func.func @pack_weight_int8(%w: tensor<70x64xf32>, %s: tensor<70xf32>) -> tensor<3x64x32xi8> {
  %p = tfm.pack_weight %w scales(%s : tensor<70xf32>) : tensor<70x64xf32> -> tensor<3x64x32xi8>
  return %p : tensor<3x64x32xi8>
}

// -----

// The scales: max |w| over each row (a reduction), then / 127.
// CHECK-LABEL: func.func @weight_scales
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[MAX]]
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
func.func @weight_scales(%w: tensor<70x64xf32>) -> tensor<70xf32> {
  %s = tfm.weight_scales %w : tensor<70x64xf32> -> tensor<70xf32>
  return %s : tensor<70xf32>
}

// -----

// A packed_linear on int8 weights: the contraction widens each weight
// element and multiplies it by its feature's scale.
// CHECK-DAG: #[[SMAP:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @packed_linear_int8
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[W:.*]]: tensor<3x64x32xi8>, %[[S:.*]]: tensor<70xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[SMAP]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]], %[[S]] :
// CHECK: ^bb0(%[[A:.*]]: f32, %[[Q:.*]]: i8, %[[SC:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[F:.*]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK: %[[WV:.*]] = arith.mulf %[[F]], %[[SC]]
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[WV]]
// CHECK: arith.addf %[[ACC]], %[[P]]
func.func @packed_linear_int8(%x: tensor<?x64xf32>, %w: tensor<3x64x32xi8>, %s: tensor<70xf32>) -> tensor<?x70xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x64xf32>, tensor<3x64x32xi8> scales tensor<70xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// An embedding on a packed int8 table: the element widened, times the
// row's (token's) scale.
// CHECK-LABEL: func.func @embedding_int8
// CHECK-SAME: (%[[IDS:.*]]: tensor<?x?xi32>, %[[T:.*]]: tensor<4x16x32xi8>, %[[S:.*]]: tensor<100xf32>)
// CHECK: linalg.generic
// CHECK: %[[E:.*]] = tensor.extract %[[T]]
// CHECK: %[[F:.*]] = arith.sitofp %[[E]] : i8 to f32
// CHECK: %[[SC:.*]] = tensor.extract %[[S]]
// CHECK: arith.mulf %[[F]], %[[SC]]
func.func @embedding_int8(%ids: tensor<?x?xi32>, %t: tensor<4x16x32xi8>, %s: tensor<100xf32>) -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t scales(%s : tensor<100xf32>) : tensor<?x?xi32>, tensor<4x16x32xi8> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}

// -----

// The k-pair layout (rank 4): result[p, h, j, r] = weight[p * 32 + j, 2h + r],
// 0 past N (70) or K (63, odd: the last pair's second value).
// CHECK-LABEL: func.func @pack_weight_pairs
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: %[[H:.*]] = linalg.index 1
// CHECK: %[[K2:.*]] = arith.muli %[[H]], %c2
// CHECK: %[[R:.*]] = linalg.index 3
// CHECK: %[[K:.*]] = arith.addi %[[K2]], %[[R]]
// CHECK: arith.cmpi ult, %[[K]], %{{.*}}
// CHECK: linalg.yield %{{.*}} : bf16
// CHECK: -> tensor<3x32x32x2xbf16>
func.func @pack_weight_pairs(%w: tensor<70x63xf32>) -> tensor<3x32x32x2xbf16> {
  %p = tfm.pack_weight %w : tensor<70x63xf32> -> tensor<3x32x32x2xbf16>
  return %p : tensor<3x32x32x2xbf16>
}

// -----

// A packed_linear on k-pair weights reads W[n, k] at
// [n floordiv 32, k floordiv 2, n mod 32, k mod 2], widened.
// CHECK-DAG: #[[PMAP:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 32, d2 floordiv 2, d1 mod 32, d2 mod 2)>
// CHECK-LABEL: func.func @packed_linear_pairs
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[PMAP]], #{{.*}}]
// CHECK: arith.extf %{{.*}} : bf16 to f32
func.func @packed_linear_pairs(%x: tensor<?x63xf32>, %w: tensor<3x32x32x2xbf16>) -> tensor<?x70xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x63xf32>, tensor<3x32x32x2xbf16> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// An embedding on a k-pair table: element i of row v at
// [v / 32, i / 2, v % 32, i % 2].
// CHECK-LABEL: func.func @embedding_pairs
// CHECK: %[[E:.*]] = tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<4x8x32x2xbf16>
// CHECK: arith.extf %[[E]] : bf16 to f32
func.func @embedding_pairs(%ids: tensor<?x?xi32>, %t: tensor<4x8x32x2xbf16>) -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<4x8x32x2xbf16> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}
