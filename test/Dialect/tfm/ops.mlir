// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s

// Every op round-trips through its custom form and through the generic form,
// with static and dynamic shapes.

// CHECK-LABEL: func.func @embedding_and_positions
func.func @embedding_and_positions(%ids: tensor<?x?xi32>, %table: tensor<100x16xf32>,
                                   %ids64: tensor<2x5xi64>) -> (tensor<?x?x16xf32>, tensor<2x5x16xf32>) {
  // CHECK: %[[E:.*]] = tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  %e = tfm.embedding %ids, %table : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  // CHECK: tfm.positional_encoding %[[E]] : tensor<?x?x16xf32>
  %p = tfm.positional_encoding %e : tensor<?x?x16xf32>
  // CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<2x5xi64>, tensor<100x16xf32> -> tensor<2x5x16xf32>
  %s = tfm.embedding %ids64, %table : tensor<2x5xi64>, tensor<100x16xf32> -> tensor<2x5x16xf32>
  return %p, %s : tensor<?x?x16xf32>, tensor<2x5x16xf32>
}

// A table in the panel layout (tied to a logits projection).
// CHECK-LABEL: func.func @embedding_packed
// CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<4x16x32xf32> -> tensor<?x?x16xf32>
func.func @embedding_packed(%ids: tensor<?x?xi32>, %table: tensor<4x16x32xf32>) -> tensor<?x?x16xf32> {
  %e = tfm.embedding %ids, %table : tensor<?x?xi32>, tensor<4x16x32xf32> -> tensor<?x?x16xf32>
  return %e : tensor<?x?x16xf32>
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<?x?x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>,
                  %x2: tensor<4x16xf32>) -> (tensor<?x?x32xf32>, tensor<4x32xf32>) {
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x16xf32>, tensor<32x16xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  %y = tfm.linear %x, %w, %b : tensor<?x?x16xf32>, tensor<32x16xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  %z = tfm.linear %x2, %w : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  return %y, %z : tensor<?x?x32xf32>, tensor<4x32xf32>
}

// CHECK-LABEL: func.func @heads
func.func @heads(%x: tensor<?x?x16xf32>, %y: tensor<2x3x?xf32>) -> (tensor<?x?x16xf32>, tensor<2x4x3x?xf32>) {
  // CHECK: %[[H:.*]] = tfm.split_heads %{{.*}}, heads = 4 : tensor<?x?x16xf32> -> tensor<?x4x?x4xf32>
  %h = tfm.split_heads %x, heads = 4 : tensor<?x?x16xf32> -> tensor<?x4x?x4xf32>
  // CHECK: tfm.merge_heads %[[H]] : tensor<?x4x?x4xf32> -> tensor<?x?x16xf32>
  %m = tfm.merge_heads %h : tensor<?x4x?x4xf32> -> tensor<?x?x16xf32>
  // CHECK: tfm.split_heads %{{.*}}, heads = 4 : tensor<2x3x?xf32> -> tensor<2x4x3x?xf32>
  %d = tfm.split_heads %y, heads = 4 : tensor<2x3x?xf32> -> tensor<2x4x3x?xf32>
  return %m, %d : tensor<?x?x16xf32>, tensor<2x4x3x?xf32>
}

// CHECK-LABEL: func.func @transpose
func.func @transpose(%k: tensor<?x4x?x8xf32>, %x: tensor<2x3x5xf32>) -> (tensor<?x4x8x?xf32>, tensor<5x2x3xf32>) {
  // CHECK: tfm.transpose %{{.*}}, perm = [0, 1, 3, 2] : tensor<?x4x?x8xf32> -> tensor<?x4x8x?xf32>
  %kt = tfm.transpose %k, perm = [0, 1, 3, 2] : tensor<?x4x?x8xf32> -> tensor<?x4x8x?xf32>
  // CHECK: tfm.transpose %{{.*}}, perm = [2, 0, 1] : tensor<2x3x5xf32> -> tensor<5x2x3xf32>
  %y = tfm.transpose %x, perm = [2, 0, 1] : tensor<2x3x5xf32> -> tensor<5x2x3xf32>
  return %kt, %y : tensor<?x4x8x?xf32>, tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @attention_chain
func.func @attention_chain(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>,
                           %len: tensor<?xi32>, %bias: tensor<?x?xf32>) -> tensor<?x4x?x8xf32> {
  // CHECK: %[[S:.*]] = tfm.matmul %{{.*}}, %{{.*}} transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  // CHECK: %[[SC:.*]] = tfm.scale %[[S]] by 3.535530e-01 : tensor<?x4x?x?xf32>
  %sc = tfm.scale %s by 0.353553 : tensor<?x4x?x?xf32>
  // CHECK: %[[C:.*]] = tfm.mask causal %[[SC]] : tensor<?x4x?x?xf32>
  %c = tfm.mask causal %sc : tensor<?x4x?x?xf32>
  // CHECK: %[[P:.*]] = tfm.mask key_padding %[[C]], %{{.*}} : tensor<?x4x?x?xf32>, tensor<?xi32>
  %p = tfm.mask key_padding %c, %len : tensor<?x4x?x?xf32>, tensor<?xi32>
  // CHECK: %[[A:.*]] = tfm.mask additive %[[P]], %{{.*}} : tensor<?x4x?x?xf32>, tensor<?x?xf32>
  %a = tfm.mask additive %p, %bias : tensor<?x4x?x?xf32>, tensor<?x?xf32>
  // CHECK: %[[W:.*]] = tfm.softmax %[[A]] {axis = 3 : i64} : tensor<?x4x?x?xf32>
  %w = tfm.softmax %a {axis = 3} : tensor<?x4x?x?xf32>
  // CHECK: tfm.matmul %[[W]], %{{.*}} : tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>
  %o = tfm.matmul %w, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// CHECK-LABEL: func.func @static_matmul
func.func @static_matmul(%a: tensor<3x5xf32>, %b: tensor<5x7xf32>) -> tensor<3x7xf32> {
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<5x7xf32> -> tensor<3x7xf32>
  %c = tfm.matmul %a, %b : tensor<3x5xf32>, tensor<5x7xf32> -> tensor<3x7xf32>
  return %c : tensor<3x7xf32>
}

// CHECK-LABEL: func.func @default_softmax_axis
func.func @default_softmax_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // The default axis (-1) is not printed.
  // CHECK: tfm.softmax %{{.*}} : tensor<2x8xf32>
  %y = tfm.softmax %x : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @ffn_block
func.func @ffn_block(%x: tensor<?x?x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x?x16xf32> {
  // CHECK: %[[N:.*]] = tfm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32>
  %n = tfm.layer_norm %x, %g, %b : tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32>
  // CHECK: %[[M:.*]] = tfm.layer_norm %[[N]], %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32}
  %m = tfm.layer_norm %n, %g, %b {epsilon = 1.0e-6 : f32} : tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32>
  // CHECK: %[[R:.*]] = tfm.relu %[[M]] : tensor<?x?x16xf32>
  %r = tfm.relu %m : tensor<?x?x16xf32>
  // CHECK: %[[G:.*]] = tfm.gelu %[[R]] : tensor<?x?x16xf32>
  %gl = tfm.gelu %r : tensor<?x?x16xf32>
  // CHECK: %[[GT:.*]] = tfm.gelu_tanh %[[G]] : tensor<?x?x16xf32>
  %gt = tfm.gelu_tanh %gl : tensor<?x?x16xf32>
  // CHECK: %[[SI:.*]] = tfm.silu %[[GT]] : tensor<?x?x16xf32>
  %si = tfm.silu %gt : tensor<?x?x16xf32>
  // CHECK: %[[T:.*]] = tfm.tanh %[[SI]] : tensor<?x?x16xf32>
  %t = tfm.tanh %si : tensor<?x?x16xf32>
  // CHECK: tfm.add %[[T]], %{{.*}} : tensor<?x?x16xf32>
  %s = tfm.add %t, %x : tensor<?x?x16xf32>
  return %s : tensor<?x?x16xf32>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x32xf32>,
                     %len: tensor<?xi64>, %mask: tensor<?x?xf32>) -> (tensor<?x8x?x32xf32>, tensor<?x8x?x32xf32>) {
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} key_lengths(%{{.*}} : tensor<?xi64>) mask(%{{.*}} : tensor<?x?xf32>) {causal, scale = 1.250000e-01 : f32} : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x32xf32>
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi64>) mask(%mask : tensor<?x?xf32>)
      {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x32xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.250000e-01 : f32} : tensor<?x8x?x64xf32>
  %p = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x32xf32>
  return %o, %p : tensor<?x8x?x32xf32>, tensor<?x8x?x32xf32>
}

// Grouped-query attention: 2 key/value heads for 8 query heads.
// CHECK-LABEL: func.func @attention_gqa
func.func @attention_gqa(%q: tensor<?x8x?x64xf32>, %kv: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  // CHECK: tfm.attention {{.*}} : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  %o = tfm.attention %q, %kv, %kv {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @rms_norm
func.func @rms_norm(%x: tensor<?x?x16xf32>, %g: tensor<16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  // CHECK: tfm.rms_norm %{{.*}}, %{{.*}} : tensor<?x?x16xf32>, tensor<16xf32>
  %a = tfm.rms_norm %x, %g : tensor<?x?x16xf32>, tensor<16xf32>
  // CHECK: tfm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x?x16xf32>, tensor<16xf32>
  %b = tfm.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : tensor<?x?x16xf32>, tensor<16xf32>
  return %a, %b : tensor<?x?x16xf32>, tensor<?x?x16xf32>
}

// CHECK-LABEL: func.func @rotary
func.func @rotary(%x: tensor<?x8x?x64xf32>, %pos: tensor<?xi64>) -> (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) {
  // CHECK: tfm.rotary %{{.*}} : tensor<?x8x?x64xf32>
  %a = tfm.rotary %x : tensor<?x8x?x64xf32>
  // CHECK: tfm.rotary %{{.*}} offsets(%{{.*}} : tensor<?xi64>) {theta = 5.000000e+05 : f32} : tensor<?x8x?x64xf32>
  %b = tfm.rotary %x offsets(%pos : tensor<?xi64>) {theta = 500000.0 : f32} : tensor<?x8x?x64xf32>
  return %a, %b : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @last_token
func.func @last_token(%x: tensor<?x?x16xf32>, %len: tensor<?xi64>) -> tensor<?x1x16xf32> {
  // CHECK: tfm.last_token %{{.*}}, %{{.*}} : tensor<?x?x16xf32>, tensor<?xi64> -> tensor<?x1x16xf32>
  %0 = tfm.last_token %x, %len : tensor<?x?x16xf32>, tensor<?xi64> -> tensor<?x1x16xf32>
  return %0 : tensor<?x1x16xf32>
}

// CHECK-LABEL: func.func @mul_repeat_heads
func.func @mul_repeat_heads(%a: tensor<?x?x16xf32>, %k: tensor<?x2x?x64xf32>) -> (tensor<?x?x16xf32>, tensor<?x8x?x64xf32>) {
  // CHECK: tfm.mul %{{.*}}, %{{.*}} : tensor<?x?x16xf32>
  %0 = tfm.mul %a, %a : tensor<?x?x16xf32>
  // CHECK: tfm.repeat_heads %{{.*}} {repeats = 4 : i64} : tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  %1 = tfm.repeat_heads %k {repeats = 4 : i64} : tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0, %1 : tensor<?x?x16xf32>, tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @learned_positions
func.func @learned_positions(%x: tensor<?x?x16xf32>, %table: tensor<64x16xf32>) -> tensor<?x?x16xf32> {
  // CHECK: tfm.positional_encoding %{{.*}}, %{{.*}} : tensor<?x?x16xf32>, tensor<64x16xf32>
  %0 = tfm.positional_encoding %x, %table : tensor<?x?x16xf32>, tensor<64x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// A decoder step: positions from per-sequence offsets, keys appended to a
// cache at per-sequence positions.
// CHECK-LABEL: func.func @decoder_step
func.func @decoder_step(%x: tensor<?x1x16xf32>, %table: tensor<64x16xf32>, %pos: tensor<?xi32>,
                        %cache: tensor<?x8x?x64xf32>, %k: tensor<?x8x1x64xf32>)
    -> (tensor<?x1x16xf32>, tensor<?x1x16xf32>, tensor<?x8x?x64xf32>) {
  // CHECK: tfm.positional_encoding %{{.*}} offsets(%{{.*}} : tensor<?xi32>) : tensor<?x1x16xf32>
  %0 = tfm.positional_encoding %x offsets(%pos : tensor<?xi32>) : tensor<?x1x16xf32>
  // CHECK: tfm.positional_encoding %{{.*}}, %{{.*}} offsets(%{{.*}} : tensor<?xi32>) : tensor<?x1x16xf32>, tensor<64x16xf32>
  %1 = tfm.positional_encoding %x, %table offsets(%pos : tensor<?xi32>) : tensor<?x1x16xf32>, tensor<64x16xf32>
  // CHECK: tfm.cache_update %{{.*}} into %{{.*}} at %{{.*}} : tensor<?x8x1x64xf32> into tensor<?x8x?x64xf32> at tensor<?xi32>
  %2 = tfm.cache_update %k into %cache at %pos : tensor<?x8x1x64xf32> into tensor<?x8x?x64xf32> at tensor<?xi32>
  return %0, %1, %2 : tensor<?x1x16xf32>, tensor<?x1x16xf32>, tensor<?x8x?x64xf32>
}

// CHECK-LABEL: func.func @pack_weight
func.func @pack_weight(%w: tensor<100x64xf32>, %d: tensor<?x?xf32>)
    -> (tensor<4x64x32xf32>, tensor<?x?x64xf32>) {
  // CHECK: tfm.pack_weight %{{.*}} : tensor<100x64xf32> -> tensor<4x64x32xf32>
  %p = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x32xf32>
  // CHECK: tfm.pack_weight %{{.*}} : tensor<?x?xf32> -> tensor<?x?x64xf32>
  %q = tfm.pack_weight %d : tensor<?x?xf32> -> tensor<?x?x64xf32>
  return %p, %q : tensor<4x64x32xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @packed_gated_linear
func.func @packed_gated_linear(%x: tensor<?x?x64xf32>, %g: tensor<4x64x32xf32>, %u: tensor<4x64x32xf32>,
                               %b: tensor<100xf32>) -> (tensor<?x?x100xf32>, tensor<?x?x100xf32>) {
  // CHECK: tfm.packed_gated_linear %{{.*}}, %{{.*}}, %{{.*}} activation silu : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
  %0 = tfm.packed_gated_linear %x, %g, %u activation silu : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
  // CHECK: tfm.packed_gated_linear %{{.*}}, %{{.*}}, %{{.*}} gate_bias %{{.*}} bias %{{.*}} activation gelu : {{.*}} gate_bias tensor<100xf32> bias tensor<100xf32> -> tensor<?x?x100xf32>
  %1 = tfm.packed_gated_linear %x, %g, %u gate_bias %b bias %b activation gelu : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<4x64x32xf32> gate_bias tensor<100xf32> bias tensor<100xf32> -> tensor<?x?x100xf32>
  return %0, %1 : tensor<?x?x100xf32>, tensor<?x?x100xf32>
}

// CHECK-LABEL: func.func @packed_linear
func.func @packed_linear(%x: tensor<?x?x64xf32>, %w: tensor<4x64x32xf32>, %b: tensor<100xf32>,
                         %r: tensor<?x?x100xf32>, %x1: tensor<64xf32>, %x2: tensor<7x64xf32>)
    -> (tensor<?x?x100xf32>, tensor<?x?x100xf32>, tensor<?x?x100xf32>, tensor<100xf32>,
        tensor<7x100xf32>, tensor<?x?x100xf32>) {
  // CHECK: %[[P:.*]] = tfm.packed_linear %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
  %p = tfm.packed_linear %x, %w : tensor<?x?x64xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
  // CHECK: tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %[[P]] activation gelu : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32> residual tensor<?x?x100xf32> -> tensor<?x?x100xf32>
  %g = tfm.packed_linear %x, %w, %b residual %p activation gelu
      : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32>
        residual tensor<?x?x100xf32> -> tensor<?x?x100xf32>
  // CHECK: tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %{{.*}} : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32> residual tensor<?x?x100xf32> -> tensor<?x?x100xf32>
  %s = tfm.packed_linear %x, %w, %b residual %r
      : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32>
        residual tensor<?x?x100xf32> -> tensor<?x?x100xf32>
  // CHECK: tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} activation relu : tensor<64xf32>, tensor<4x64x32xf32>, tensor<100xf32> -> tensor<100xf32>
  %v = tfm.packed_linear %x1, %w, %b activation relu
      : tensor<64xf32>, tensor<4x64x32xf32>, tensor<100xf32> -> tensor<100xf32>
  // CHECK: tfm.packed_linear %{{.*}}, %{{.*}} activation gelu : tensor<7x64xf32>, tensor<4x64x32xf32> -> tensor<7x100xf32>
  %m = tfm.packed_linear %x2, %w activation gelu
      : tensor<7x64xf32>, tensor<4x64x32xf32> -> tensor<7x100xf32>
  // The default activation is not printed.
  // CHECK: tfm.packed_linear %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32> -> tensor<?x?x100xf32>
  %n = tfm.packed_linear %x, %w, %b activation none
      : tensor<?x?x64xf32>, tensor<4x64x32xf32>, tensor<100xf32> -> tensor<?x?x100xf32>
  return %g, %s, %p, %v, %m, %n : tensor<?x?x100xf32>, tensor<?x?x100xf32>, tensor<?x?x100xf32>,
      tensor<100xf32>, tensor<7x100xf32>, tensor<?x?x100xf32>
}

// A residual without a bias: the residual's type is named, so the form
// parses back.
// CHECK-LABEL: func.func @packed_linear_residual_no_bias
// CHECK: tfm.packed_linear %{{.*}}, %{{.*}} residual %{{.*}} : tensor<?x64xf32>, tensor<3x64x32xf32> residual tensor<?x96xf32> -> tensor<?x96xf32>
func.func @packed_linear_residual_no_bias(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>,
                                          %r: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w residual %r
      : tensor<?x64xf32>, tensor<3x64x32xf32> residual tensor<?x96xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}
