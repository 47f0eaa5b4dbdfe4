// RUN: tfm-opt %s --split-input-file --canonicalize="test-convergence" | FileCheck %s

// CHECK-LABEL: func.func @scale_by_one
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NOT: tfm.scale
// CHECK: return %[[X]]
func.func @scale_by_one(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.scale %x by 1.0 : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func.func @compose_scales
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[S:.*]] = tfm.scale %[[X]] by 1.250000e-01
// CHECK-NOT: tfm.scale
// CHECK: return %[[S]]
func.func @compose_scales(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.scale %x by 0.5 : tensor<?x4xf32>
  %1 = tfm.scale %0 by 0.25 : tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}

// -----

// Composing to exactly 1 leaves nothing.
// CHECK-LABEL: func.func @scales_cancel
// CHECK-NOT: tfm.scale
func.func @scales_cancel(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.scale %x by 2.0 : tensor<?x4xf32>
  %1 = tfm.scale %0 by 0.5 : tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NOT: tfm.add
// CHECK: return %[[X]], %[[X]]
func.func @add_zero(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %z = arith.constant dense<0.0> : tensor<2x4xf32>
  %0 = tfm.add %x, %z : tensor<2x4xf32>
  %1 = tfm.add %z, %x : tensor<2x4xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Not zero: the add stays.
// CHECK-LABEL: func.func @add_nonzero
// CHECK: tfm.add
func.func @add_nonzero(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %c = arith.constant dense<1.0> : tensor<2x4xf32>
  %0 = tfm.add %x, %c : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// A single query is the last position: the causal mask hides nothing.
// CHECK-LABEL: func.func @causal_single_query
// CHECK-SAME: (%[[S:.*]]: tensor<?x8x1x?xf32>)
// CHECK-NOT: tfm.mask
// CHECK: return %[[S]]
func.func @causal_single_query(%s: tensor<?x8x1x?xf32>) -> tensor<?x8x1x?xf32> {
  %0 = tfm.mask causal %s : tensor<?x8x1x?xf32>
  return %0 : tensor<?x8x1x?xf32>
}

// -----

// The query length is not known to be 1: the mask stays.
// CHECK-LABEL: func.func @causal_dynamic_query
// CHECK: tfm.mask causal
func.func @causal_dynamic_query(%s: tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32> {
  %0 = tfm.mask causal %s : tensor<?x8x?x?xf32>
  return %0 : tensor<?x8x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @additive_zero
// CHECK-SAME: (%[[S:.*]]: tensor<2x8x4x4xf32>)
// CHECK-NOT: tfm.mask
// CHECK: return %[[S]]
func.func @additive_zero(%s: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %z = arith.constant dense<0.0> : tensor<4x4xf32>
  %0 = tfm.mask additive %s, %z : tensor<2x8x4x4xf32>, tensor<4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @additive_nonzero
// CHECK: tfm.mask additive
func.func @additive_nonzero(%s: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %m = arith.constant dense<-1.0e9> : tensor<4x4xf32>
  %0 = tfm.mask additive %s, %m : tensor<2x8x4x4xf32>, tensor<4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

// Every length covers all 4 keys: nothing is padded.
// CHECK-LABEL: func.func @key_padding_full
// CHECK-SAME: (%[[S:.*]]: tensor<2x8x4x4xf32>)
// CHECK-NOT: tfm.mask
// CHECK: return %[[S]]
func.func @key_padding_full(%s: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %l = arith.constant dense<[4, 5]> : tensor<2xi32>
  %0 = tfm.mask key_padding %s, %l : tensor<2x8x4x4xf32>, tensor<2xi32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

// One sequence is shorter than the keys: the mask stays.
// CHECK-LABEL: func.func @key_padding_partial
// CHECK: tfm.mask key_padding
func.func @key_padding_partial(%s: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %l = arith.constant dense<[4, 3]> : tensor<2xi32>
  %0 = tfm.mask key_padding %s, %l : tensor<2x8x4x4xf32>, tensor<2xi32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @attention_single_query
// CHECK: tfm.attention
// CHECK-NOT: causal
// CHECK-SAME: scale = 1.250000e-01
func.func @attention_single_query(%q: tensor<?x8x1x64xf32>, %k: tensor<?x8x?x64xf32>) -> tensor<?x8x1x64xf32> {
  %0 = tfm.attention %q, %k, %k {causal, scale = 0.125 : f32}
      : tensor<?x8x1x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x1x64xf32>
  return %0 : tensor<?x8x1x64xf32>
}

// -----

// CHECK-LABEL: func.func @attention_many_queries
// CHECK: tfm.attention {{.*}}causal
func.func @attention_many_queries(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %0 = tfm.attention %q, %k, %k {causal, scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}
