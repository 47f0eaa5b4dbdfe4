// RUN: tfm-opt %s --split-input-file --tfm-lower-masks | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-fuse-attention --tfm-lower-masks | FileCheck %s --check-prefix=FUSED

// A causal mask on a splat-zero constant of the attention's [q_len, k_len]
// is the causal attribute.
// CHECK-LABEL: func.func @causal_constant
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x4x3x8xf32>, %[[K:[^:]*]]: tensor<2x4x5x8xf32>, %[[V:[^:]*]]: tensor<2x4x5x16xf32>)
// CHECK-NOT: tfm.mask
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f32} :
// CHECK-NOT: tfm.mask
// CHECK: return %[[O]]
func.func @causal_constant(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<3x5xf32>
  %m = tfm.mask causal %z : tensor<3x5xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<3x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// Dynamic sizes: zeros made by linalg.fill, [1, 1, q_len, k_len] with the
// lengths read from Q and K.
// CHECK-LABEL: func.func @causal_fill
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK-NOT: tfm.mask
// CHECK-NOT: linalg.fill
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f32} :
// CHECK: return %[[O]]
func.func @causal_fill(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x8xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%sq, %sk) : tensor<1x1x?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x?x?xf32>) -> tensor<1x1x?x?xf32>
  %m = tfm.mask causal %z : tensor<1x1x?x?xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<1x1x?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Zeros made by tensor.splat; the key length read from V (equal to K's).
// CHECK-LABEL: func.func @causal_splat
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>)
// CHECK-NOT: tfm.mask
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f32} :
// CHECK: return %[[O]]
func.func @causal_splat(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c2 = arith.constant 2 : index
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x8xf32>
  %sk = tensor.dim %v, %c2 : tensor<?x4x?x16xf32>
  %zero = arith.constant 0.0 : f32
  %z = tensor.splat %zero[%sq, %sk] : tensor<?x?xf32>
  %m = tfm.mask causal %z : tensor<?x?xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A key_padding mask on zeros of [batch, 1, 1, k_len] is key_lengths.
// CHECK-LABEL: func.func @key_padding_fill
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[LEN:[^:]*]]: tensor<?xi32>)
// CHECK-NOT: tfm.mask
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[LEN]] : tensor<?xi32>) {scale = 1.250000e-01 : f32} :
// CHECK: return %[[O]]
func.func @key_padding_fill(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x8xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%b, %sk) : tensor<?x1x1x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x1x1x?xf32>) -> tensor<?x1x1x?xf32>
  %m = tfm.mask key_padding %z, %len : tensor<?x1x1x?xf32>, tensor<?xi32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<?x1x1x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Causal then key_padding on zeros of the full [batch, heads, q_len, k_len].
// CHECK-LABEL: func.func @causal_then_padding
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x4x3x8xf32>, %[[K:[^:]*]]: tensor<2x4x5x8xf32>, %[[V:[^:]*]]: tensor<2x4x5x16xf32>, %[[LEN:[^:]*]]: tensor<2xi64>)
// CHECK-NOT: tfm.mask
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[LEN]] : tensor<2xi64>) {causal, scale = 1.250000e-01 : f32} :
// CHECK: return %[[O]]
func.func @causal_then_padding(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>, %len: tensor<2xi64>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<2x4x3x5xf32>
  %c = tfm.mask causal %z : tensor<2x4x3x5xf32>
  %m = tfm.mask key_padding %c, %len : tensor<2x4x3x5xf32>, tensor<2xi64>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<2x4x3x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// key_padding then causal, on a [batch, 1, q_len, k_len] fill.
// CHECK-LABEL: func.func @padding_then_causal
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x8xf32>, %[[K:[^:]*]]: tensor<?x4x?x8xf32>, %[[V:[^:]*]]: tensor<?x4x?x16xf32>, %[[LEN:[^:]*]]: tensor<?xi32>)
// CHECK-NOT: tfm.mask
// CHECK: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] key_lengths(%[[LEN]] : tensor<?xi32>) {causal, scale = 1.250000e-01 : f32} :
// CHECK: return %[[O]]
func.func @padding_then_causal(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %len: tensor<?xi32>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x8xf32>
  %sq = tensor.dim %q, %c2 : tensor<?x4x?x8xf32>
  %sk = tensor.dim %k, %c2 : tensor<?x4x?x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%b, %sq, %sk) : tensor<?x1x?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x1x?x?xf32>) -> tensor<?x1x?x?xf32>
  %p = tfm.mask key_padding %z, %len : tensor<?x1x?x?xf32>, tensor<?xi32>
  %m = tfm.mask causal %p : tensor<?x1x?x?xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<?x1x?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// The general fallback: an arbitrary additive mask (an argument) stays.
// CHECK-LABEL: func.func @argument_mask
// CHECK-SAME: %[[M:[^:]*]]: tensor<?x?xf32>)
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<?x?xf32>) {scale = 1.250000e-01 : f32}
func.func @argument_mask(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x?xf32>) -> tensor<?x4x?x16xf32> {
  %o = tfm.attention %q, %k, %v mask(%mask : tensor<?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A causal mask on zeros plus a bias: the bias is not a loop bound, so the
// whole mask stays an operand.
// CHECK-LABEL: func.func @causal_plus_bias
// CHECK: %[[C:.*]] = tfm.mask causal
// CHECK: %[[M:.*]] = tfm.mask additive %[[C]]
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<3x5xf32>) {scale = 1.250000e-01 : f32}
func.func @causal_plus_bias(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>, %bias: tensor<3x5xf32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<3x5xf32>
  %c = tfm.mask causal %z : tensor<3x5xf32>
  %m = tfm.mask additive %c, %bias : tensor<3x5xf32>, tensor<3x5xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<3x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// A pad mask computed from token ids, select(ids == pad_id, -inf, 0), is not
// key_lengths: padding is defined by length (DESIGN.md), and a pad_id token
// inside a sequence is an ordinary token that this mask hides but lengths
// would not. It stays an operand.
// CHECK-LABEL: func.func @pad_id_mask
// CHECK: %[[SEL:.*]] = arith.select
// CHECK: %[[M:.*]] = tensor.expand_shape %[[SEL]]
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<2x1x1x5xf32>) {scale = 1.250000e-01 : f32}
func.func @pad_id_mask(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>, %ids: tensor<2x5xi32>) -> tensor<2x4x3x16xf32> {
  %pad = arith.constant dense<0> : tensor<2x5xi32>
  %ninf = arith.constant dense<0xFF800000> : tensor<2x5xf32>
  %zero = arith.constant dense<0.0> : tensor<2x5xf32>
  %is_pad = arith.cmpi eq, %ids, %pad : tensor<2x5xi32>
  %sel = arith.select %is_pad, %ninf, %zero : tensor<2x5xi1>, tensor<2x5xf32>
  %m = tensor.expand_shape %sel [[0, 1, 2], [3]] output_shape [2, 1, 1, 5] : tensor<2x5xf32> into tensor<2x1x1x5xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<2x1x1x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// A causal mask built for one query ([1, k_len]) hides nothing (the single
// query is the last position): it folds to zeros, and a mask of zeros is no
// mask. Broadcast over three queries, it must not become `causal`.
// CHECK-LABEL: func.func @causal_one_query
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x4x3x8xf32>, %[[K:[^:]*]]: tensor<2x4x5x8xf32>, %[[V:[^:]*]]: tensor<2x4x5x16xf32>)
// CHECK: tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32} :
func.func @causal_one_query(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<1x5xf32>
  %m = tfm.mask causal %z : tensor<1x5xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<1x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// A causal mask built for one key ([q_len, 1]) and broadcast over the keys
// hides whole rows (query 0 of 3 does not see the single key), which is not
// the causal triangle over five keys.
// CHECK-LABEL: func.func @causal_broadcast_keys
// CHECK: %[[M:.*]] = tfm.mask causal
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<3x1xf32>) {scale = 1.250000e-01 : f32}
func.func @causal_broadcast_keys(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<3x1xf32>
  %m = tfm.mask causal %z : tensor<3x1xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<3x1xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// A causal mask whose sizes are not provably the attention's (%n, %n): the
// triangle is aligned to the end of the keys, so other lengths shift it.
// CHECK-LABEL: func.func @causal_unknown_sizes
// CHECK: %[[M:.*]] = tfm.mask causal
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<?x?xf32>) {scale = 1.250000e-01 : f32}
func.func @causal_unknown_sizes(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x16xf32>, %n: index) -> tensor<?x4x?x16xf32> {
  %zero = arith.constant 0.0 : f32
  %z = tensor.splat %zero[%n, %n] : tensor<?x?xf32>
  %m = tfm.mask causal %z : tensor<?x?xf32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<?x?xf32>) {scale = 0.125 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A key_padding mask broadcast over the batch ([1, 1, 1, k_len], one length)
// applies lengths[0] to every sequence; key_lengths would need one per batch.
// CHECK-LABEL: func.func @key_padding_broadcast_batch
// CHECK: %[[M:.*]] = tfm.mask key_padding
// CHECK: tfm.attention {{.*}} mask(%[[M]] : tensor<1x1x1x5xf32>) {scale = 1.250000e-01 : f32}
func.func @key_padding_broadcast_batch(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>, %len: tensor<1xi32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<1x1x1x5xf32>
  %m = tfm.mask key_padding %z, %len : tensor<1x1x1x5xf32>, tensor<1xi32>
  %o = tfm.attention %q, %k, %v mask(%m : tensor<1x1x1x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// The attention already has key_lengths: it has room for one.
// CHECK-LABEL: func.func @has_key_lengths
// CHECK: %[[M:.*]] = tfm.mask key_padding
// CHECK: tfm.attention {{.*}} key_lengths(%{{.*}} : tensor<2xi32>) mask(%[[M]] : tensor<2x1x1x5xf32>)
func.func @has_key_lengths(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>, %l1: tensor<2xi32>, %l2: tensor<2xi32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<2x1x1x5xf32>
  %m = tfm.mask key_padding %z, %l2 : tensor<2x1x1x5xf32>, tensor<2xi32>
  %o = tfm.attention %q, %k, %v key_lengths(%l1 : tensor<2xi32>) mask(%m : tensor<2x1x1x5xf32>) {scale = 0.125 : f32}
      : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// Fusion then mask lowering: the chain's additive mask is a causal mask on
// zeros, so the attention ends up causal, with no mask tensor at all.
// FUSED-LABEL: func.func @fused_chain
// FUSED-SAME: (%[[Q:[^:]*]]: tensor<2x4x3x8xf32>, %[[K:[^:]*]]: tensor<2x4x5x8xf32>, %[[V:[^:]*]]: tensor<2x4x5x16xf32>)
// FUSED-NOT: tfm.mask
// FUSED-NOT: tfm.softmax
// FUSED: %[[O:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f32} :
// FUSED-NOT: tfm.
// FUSED: return %[[O]]
func.func @fused_chain(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x16xf32>) -> tensor<2x4x3x16xf32> {
  %z = arith.constant dense<0.0> : tensor<3x5xf32>
  %mask = tfm.mask causal %z : tensor<3x5xf32>
  %s = tfm.matmul %q, %k transpose_rhs : tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32> -> tensor<2x4x3x5xf32>
  %sc = tfm.scale %s by 0.125 : tensor<2x4x3x5xf32>
  %m = tfm.mask additive %sc, %mask : tensor<2x4x3x5xf32>, tensor<3x5xf32>
  %p = tfm.softmax %m : tensor<2x4x3x5xf32>
  %o = tfm.matmul %p, %v : tensor<2x4x3x5xf32>, tensor<2x4x5x16xf32> -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}
