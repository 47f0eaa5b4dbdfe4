// RUN: tfm-opt %s --split-input-file --tfm-fuse-attention | FileCheck %s

// The chain as the frontend writes it: Q Kᵀ (transpose_rhs), tfm.scale,
// softmax over the keys, ·V.
// CHECK-LABEL: func.func @scale_op
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK-NOT: tfm.matmul
// CHECK-NOT: tfm.softmax
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32} : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
// CHECK-NOT: tfm.scale
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @scale_op(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// arith.mulf by a splat constant is a scale (the constant on either side).
// CHECK-LABEL: func.func @scale_mulf
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x4x5x8xf32>, %[[K:[^:]*]]: tensor<2x4x6x8xf32>, %[[V:[^:]*]]: tensor<2x4x6x16xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32}
// CHECK-NOT: arith.mulf
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @scale_mulf(%q: tensor<2x4x5x8xf32>, %k: tensor<2x4x6x8xf32>, %v: tensor<2x4x6x16xf32>) -> tensor<2x4x5x16xf32> {
  %c = arith.constant dense<0.5> : tensor<2x4x5x6xf32>
  %s = tfm.matmul %q, %k transpose_rhs : tensor<2x4x5x8xf32>, tensor<2x4x6x8xf32> -> tensor<2x4x5x6xf32>
  %s1 = arith.mulf %s, %c : tensor<2x4x5x6xf32>
  %s2 = arith.mulf %c, %s1 : tensor<2x4x5x6xf32>
  %s3 = arith.mulf %s2, %c : tensor<2x4x5x6xf32>
  %p = tfm.softmax %s3 : tensor<2x4x5x6xf32>
  %o = tfm.matmul %p, %v : tensor<2x4x5x6xf32>, tensor<2x4x6x16xf32> -> tensor<2x4x5x16xf32>
  return %o : tensor<2x4x5x16xf32>
}

// -----

// Division by a splat constant c is a scale by 1/c.
// CHECK-LABEL: func.func @scale_divf
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x2x3x8xf32>, %[[K:[^:]*]]: tensor<1x2x3x8xf32>, %[[V:[^:]*]]: tensor<1x2x3x16xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32}
// CHECK-NOT: arith.divf
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @scale_divf(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x16xf32>) -> tensor<1x2x3x16xf32> {
  %c = arith.constant dense<8.0> : tensor<1x2x3x3xf32>
  %s = tfm.matmul %q, %k transpose_rhs : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x2x3x3xf32>
  %sc = arith.divf %s, %c : tensor<1x2x3x3xf32>
  %p = tfm.softmax %sc : tensor<1x2x3x3xf32>
  %o = tfm.matmul %p, %v : tensor<1x2x3x3xf32>, tensor<1x2x3x16xf32> -> tensor<1x2x3x16xf32>
  return %o : tensor<1x2x3x16xf32>
}

// -----

// A scale of Q before the matmul folds into `scale`; the attention reads the
// unscaled Q.
// CHECK-LABEL: func.func @scale_on_query
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32}
// CHECK-NOT: tfm.scale
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @scale_on_query(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %qs = tfm.scale %q by 0.25 : tensor<?x4x?x8xf32>
  %s = tfm.matmul %qs, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %p = tfm.softmax %s : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Q times an explicit transpose of K's last two dimensions is Q Kᵀ. Without
// any scale, the scale is 1.
// CHECK-LABEL: func.func @transposed_key
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f32}
// CHECK-NOT: tfm.transpose
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @transposed_key(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %kt = tfm.transpose %k, perm = [0, 1, 3, 2] : tensor<?x4x?x8xf32> -> tensor<?x4x8x?xf32>
  %s = tfm.matmul %q, %kt : tensor<?x4x?x8xf32>, tensor<?x4x8x?xf32> -> tensor<?x4x?x?xf32>
  %p = tfm.softmax %s {axis = -1} : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Causal masking, applied twice (it is idempotent).
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f32}
// CHECK-NOT: tfm.mask
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @causal(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %m = tfm.mask causal %sc : tensor<?x4x?x?xf32>
  %m2 = tfm.mask causal %m : tensor<?x4x?x?xf32>
  %p = tfm.softmax %m2 : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// CHECK-LABEL: func.func @key_padding
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[LEN:[^:]*]]: tensor<?xi64>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[LEN]] : tensor<?xi64>) {scale = 1.250000e-01 : f32}
// CHECK-NOT: tfm.mask
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @key_padding(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi64>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %m = tfm.mask key_padding %sc, %len : tensor<?x4x?x?xf32>, tensor<?xi64>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// An additive mask that broadcasts over batch and heads.
// CHECK-LABEL: func.func @additive_mask
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[M:[^:]*]]: tensor<?x?xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] mask(%[[M]] : tensor<?x?xf32>) {scale = 1.250000e-01 : f32}
// CHECK-NOT: tfm.mask
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @additive_mask(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x?xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %m = tfm.mask additive %sc, %mask : tensor<?x4x?x?xf32>, tensor<?x?xf32>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// tfm.add of a mask and the scores (either operand may be the scores).
// CHECK-LABEL: func.func @additive_add
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[M:[^:]*]]: tensor<?x4x?x?xf32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] mask(%[[M]] : tensor<?x4x?x?xf32>) {scale = 1.250000e-01 : f32}
// CHECK-NOT: tfm.add
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @additive_add(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x4x?x?xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %m = tfm.add %mask, %sc : tensor<?x4x?x?xf32>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Causal and key padding together, in any order; a -inf mask may come
// before a positive scale (-inf * 0.5 is still -inf).
// CHECK-LABEL: func.func @causal_and_padding
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[LEN:[^:]*]]: tensor<?xi32>)
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[LEN]] : tensor<?xi32>) {causal, scale = 1.250000e-01 : f32}
// CHECK-NOT: tfm.mask
// CHECK-NOT: tfm.softmax
// CHECK-NOT: tfm.matmul
// CHECK: return %[[O]]
func.func @causal_and_padding(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %c = tfm.mask causal %s : tensor<?x4x?x?xf32>
  %sc = tfm.scale %c by 0.25 : tensor<?x4x?x?xf32>
  %m = tfm.mask key_padding %sc, %len : tensor<?x4x?x?xf32>, tensor<?xi32>
  %sc2 = tfm.scale %m by 0.5 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc2 : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Not attention: the softmax normalizes over the queries (axis 2), not over
// the keys as tfm.attention does.
// CHECK-LABEL: func.func @softmax_other_axis
// CHECK: tfm.matmul
// CHECK: tfm.softmax %{{.*}} {axis = 2 : i64}
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @softmax_other_axis(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %p = tfm.softmax %s {axis = 2} : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// The scores have a second user (they are returned): fusing would compute
// Q Kᵀ twice, and the chain must stay for that user anyway.
// CHECK-LABEL: func.func @scores_second_user
// CHECK: tfm.matmul
// CHECK: tfm.scale
// CHECK: tfm.softmax
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @scores_second_user(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x?xf32>) {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o, %s : tensor<?x4x?x16xf32>, tensor<?x4x?x?xf32>
}

// -----

// The probabilities have a second user (attention weights are returned).
// CHECK-LABEL: func.func @probabilities_second_user
// CHECK: tfm.matmul
// CHECK: tfm.softmax
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @probabilities_second_user(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> (tensor<?x4x?x16xf32>, tensor<?x4x?x?xf32>) {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o, %p : tensor<?x4x?x16xf32>, tensor<?x4x?x?xf32>
}

// -----

// The additive mask is added before the scale, so it is scaled too;
// tfm.attention adds its mask after scaling.
// CHECK-LABEL: func.func @additive_before_scale
// CHECK: tfm.matmul
// CHECK: tfm.mask additive
// CHECK: tfm.scale
// CHECK: tfm.softmax
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @additive_before_scale(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x?xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %m = tfm.mask additive %s, %mask : tensor<?x4x?x?xf32>, tensor<?x?xf32>
  %sc = tfm.scale %m by 0.125 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A causal mask before a negative scale: -inf * -1 is +inf, the masked keys
// would dominate instead of vanishing.
// CHECK-LABEL: func.func @causal_before_negative_scale
// CHECK: tfm.mask causal
// CHECK: tfm.scale
// CHECK: tfm.softmax
// CHECK-NOT: tfm.attention
func.func @causal_before_negative_scale(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %m = tfm.mask causal %s : tensor<?x4x?x?xf32>
  %sc = tfm.scale %m by -1.0 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Two key_padding masks with different lengths: tfm.attention has one
// key_lengths operand.
// CHECK-LABEL: func.func @two_key_paddings
// CHECK: tfm.mask key_padding
// CHECK: tfm.mask key_padding
// CHECK: tfm.softmax
// CHECK-NOT: tfm.attention
func.func @two_key_paddings(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %l1: tensor<?xi32>, %l2: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %m1 = tfm.mask key_padding %s, %l1 : tensor<?x4x?x?xf32>, tensor<?xi32>
  %m2 = tfm.mask key_padding %m1, %l2 : tensor<?x4x?x?xf32>, tensor<?xi32>
  %p = tfm.softmax %m2 : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Two additive masks: tfm.attention has one mask operand.
// CHECK-LABEL: func.func @two_additive_masks
// CHECK: tfm.mask additive
// CHECK: tfm.add
// CHECK: tfm.softmax
// CHECK-NOT: tfm.attention
func.func @two_additive_masks(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %m1: tensor<?x?xf32>, %m2: tensor<?x4x?x?xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %a = tfm.mask additive %s, %m1 : tensor<?x4x?x?xf32>, tensor<?x?xf32>
  %b = tfm.add %a, %m2 : tensor<?x4x?x?xf32>
  %p = tfm.softmax %b : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Rank-3 operands (no head dimension): tfm.attention takes
// [batch, heads, len, d].
// CHECK-LABEL: func.func @rank3
// CHECK: tfm.matmul
// CHECK: tfm.softmax
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @rank3(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x?x8xf32>, tensor<?x?x8xf32> -> tensor<?x?x?xf32>
  %sc = tfm.scale %s by 0.125 : tensor<?x?x?xf32>
  %p = tfm.softmax %sc : tensor<?x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x?x?xf32>, tensor<?x?x16xf32> -> tensor<?x?x16xf32>
  return %o : tensor<?x?x16xf32>
}

// -----

// Each matmul verifies (a dynamic batch sits between them), but Q has batch
// 2 and V batch 3: tfm.attention's verifier would reject the fused op.
// CHECK-LABEL: func.func @batches_disagree
// CHECK: tfm.matmul
// CHECK: tfm.softmax
// CHECK: tfm.matmul
// CHECK-NOT: tfm.attention
func.func @batches_disagree(%q: tensor<2x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<3x4x?x16xf32>) -> tensor<3x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<2x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %p = tfm.softmax %s : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<3x4x?x16xf32> -> tensor<3x4x?x16xf32>
  return %o : tensor<3x4x?x16xf32>
}

// -----

// The mask broadcasts to the scores' dynamic q_len, but Q says q_len is 3
// and the mask has 5 rows: tfm.attention's verifier would reject it.
// CHECK-LABEL: func.func @mask_rows_disagree
// CHECK: tfm.mask additive
// CHECK: tfm.softmax
// CHECK-NOT: tfm.attention
func.func @mask_rows_disagree(%q: tensor<?x4x3x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<5x?xf32>) -> tensor<?x4x?x16xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x3x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %m = tfm.mask additive %s, %mask : tensor<?x4x?x?xf32>, tensor<5x?xf32>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Heads only known at run time: the chain's matmuls need q, k and v with
// equal heads, which tfm.attention does not (it also takes fewer key/value
// heads), so that equality is checked before the fused op.
// CHECK-LABEL: func.func @dynamic_heads
// CHECK: %[[QH:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[KH:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[QH]], %[[KH]]
// CHECK: cf.assert %[[EQ]]
// CHECK: cf.assert
// CHECK: tfm.attention
func.func @dynamic_heads(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x16xf32>) -> tensor<?x?x?x16xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32> -> tensor<?x?x?x?xf32>
  %p = tfm.softmax %s : tensor<?x?x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x?x?x?xf32>, tensor<?x?x?x16xf32> -> tensor<?x?x?x16xf32>
  return %o : tensor<?x?x?x16xf32>
}

// -----

// Grouped-query attention written out (transformers' repeat_kv): K and V
// repeated for the query heads. The fused op reads the key/value heads
// themselves; the repeats are left dead (and erased).
// CHECK-LABEL: func.func @repeated_heads
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x8x?x16xf32>, %[[K:[^:]*]]: tensor<?x2x?x16xf32>, %[[V:[^:]*]]: tensor<?x2x?x16xf32>, %[[L:[^:]*]]: tensor<?xi32>)
// CHECK-NOT: tfm.repeat_heads
// CHECK-NOT: cf.assert
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[L]] : tensor<?xi32>) {causal, scale = 2.500000e-01 : f32} : tensor<?x8x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x8x?x16xf32>
// CHECK-NOT: tfm.repeat_heads
// CHECK: return %[[O]]
func.func @repeated_heads(%q: tensor<?x8x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x8x?x16xf32> {
  %kr = tfm.repeat_heads %k {repeats = 4 : i64} : tensor<?x2x?x16xf32> -> tensor<?x8x?x16xf32>
  %vr = tfm.repeat_heads %v {repeats = 4 : i64} : tensor<?x2x?x16xf32> -> tensor<?x8x?x16xf32>
  %s = tfm.matmul %q, %kr transpose_rhs : tensor<?x8x?x16xf32>, tensor<?x8x?x16xf32> -> tensor<?x8x?x?xf32>
  %sc = tfm.scale %s by 0.25 : tensor<?x8x?x?xf32>
  %m = tfm.mask key_padding %sc, %len : tensor<?x8x?x?xf32>, tensor<?xi32>
  %c = tfm.mask causal %m : tensor<?x8x?x?xf32>
  %p = tfm.softmax %c : tensor<?x8x?x?xf32>
  %o = tfm.matmul %p, %vr : tensor<?x8x?x?xf32>, tensor<?x8x?x16xf32> -> tensor<?x8x?x16xf32>
  return %o : tensor<?x8x?x16xf32>
}

// -----

// A repeat whose heads are only known at run time is not looked through:
// the fused op takes the repeated K (whose heads the matmul checked equal
// to Q's, checked again before it), the unrepeated V.
// CHECK-LABEL: func.func @repeated_dynamic_heads
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x?x?x16xf32>, %[[K:[^:]*]]: tensor<?x?x?x16xf32>, %[[V:[^:]*]]: tensor<?x?x?x16xf32>)
// CHECK: %[[KR:.*]] = tfm.repeat_heads %[[K]]
// CHECK: cf.assert
// CHECK: tfm.attention %[[Q]], %[[KR]], %{{.*}} {scale
func.func @repeated_dynamic_heads(%q: tensor<?x?x?x16xf32>, %k: tensor<?x?x?x16xf32>, %v: tensor<?x?x?x16xf32>) -> tensor<?x?x?x16xf32> {
  %kr = tfm.repeat_heads %k {repeats = 2 : i64} : tensor<?x?x?x16xf32> -> tensor<?x?x?x16xf32>
  %vr = tfm.repeat_heads %v {repeats = 2 : i64} : tensor<?x?x?x16xf32> -> tensor<?x?x?x16xf32>
  %s = tfm.matmul %q, %kr transpose_rhs : tensor<?x?x?x16xf32>, tensor<?x?x?x16xf32> -> tensor<?x?x?x?xf32>
  %p = tfm.softmax %s : tensor<?x?x?x?xf32>
  %o = tfm.matmul %p, %vr : tensor<?x?x?x?xf32>, tensor<?x?x?x16xf32> -> tensor<?x?x?x16xf32>
  return %o : tensor<?x?x?x16xf32>
}
