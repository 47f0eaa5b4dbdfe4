// RUN: tfm-opt %s --split-input-file --tfm-fuse-linear-epilogue | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-fuse-linear-epilogue="gated-max-k=32" | FileCheck %s --check-prefix=CHECK-MAXK

// relu of a packed_linear is its activation.
// CHECK-LABEL: func.func @relu
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<3x64x32xf32>,
// CHECK-SAME: %[[B:[^:]*]]: tensor<96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]], %[[B]] activation relu
// CHECK-SAME: : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
// CHECK-NOT: tfm.relu
// CHECK: return %[[Y]]
func.func @relu(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %b: tensor<96xf32>)
    -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %a = tfm.relu %y : tensor<?x96xf32>
  return %a : tensor<?x96xf32>
}

// -----

// gelu likewise, without a bias, on a rank-3 input.
// CHECK-LABEL: func.func @gelu
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x?x64xf32>, %[[W:[^:]*]]: tensor<4x64x32xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]] activation gelu
// CHECK-SAME: : tensor<?x?x64xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
// CHECK-NOT: tfm.gelu
// CHECK: return %[[Y]]
func.func @gelu(%x: tensor<?x?x64xf32>, %w: tensor<4x64x32xf32>) -> tensor<?x?x100xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x?x64xf32>, tensor<4x64x32xf32> -> tensor<?x?x100xf32>
  %a = tfm.gelu %y : tensor<?x?x100xf32>
  return %a : tensor<?x?x100xf32>
}

// -----

// The activations of the Hugging Face families fold the same way:
// tanh-GELU (GPT-2), SiLU (Marian's swish), tanh (BERT's pooler).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}} activation gelu_tanh
// CHECK-NOT: tfm.gelu_tanh
// CHECK: return %[[Y]]
func.func @gelu_tanh(%x: tensor<?x64xf32>, %w: tensor<2x64x32xf32>) -> tensor<?x64xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %a = tfm.gelu_tanh %y : tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @silu_then_residual
// CHECK-SAME: %[[R:[^:]*]]: tensor<?x64xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}} residual %[[R]] activation silu
// CHECK-NOT: tfm.silu
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @silu_then_residual(%x: tensor<?x64xf32>, %w: tensor<2x64x32xf32>,
                              %r: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %a = tfm.silu %y : tensor<?x64xf32>
  %s = tfm.add %r, %a : tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @tanh
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} activation tanh
// CHECK-NOT: tfm.tanh
// CHECK: return %[[Y]]
func.func @tanh(%x: tensor<?x64xf32>, %w: tensor<2x64x32xf32>, %b: tensor<64xf32>)
    -> tensor<?x64xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %a = tfm.tanh %y : tensor<?x64xf32>
  return %a : tensor<?x64xf32>
}

// -----

// A residual add with the linear on the right (add(x, sublayer(x)), as the
// frontend writes it) ...
// CHECK-LABEL: func.func @residual_rhs
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<2x64x32xf32>,
// CHECK-SAME: %[[B:[^:]*]]: tensor<64xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]], %[[B]] residual %[[X]]
// CHECK-SAME: : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> residual tensor<?x64xf32>
// CHECK-SAME: -> tensor<?x64xf32>
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @residual_rhs(%x: tensor<?x64xf32>, %w: tensor<2x64x32xf32>, %b: tensor<64xf32>)
    -> tensor<?x64xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %s = tfm.add %x, %y : tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}

// -----

// ... or on the left; the residual need not be the linear's input.
// CHECK-LABEL: func.func @residual_lhs
// CHECK-SAME: (%[[X:[^:]*]]: tensor<8x64xf32>, %[[W:[^:]*]]: tensor<3x64x32xf32>,
// CHECK-SAME: %[[R:[^:]*]]: tensor<8x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]] residual %[[R]]
// CHECK-SAME: : tensor<8x64xf32>, tensor<3x64x32xf32> residual tensor<8x96xf32> -> tensor<8x96xf32>
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @residual_lhs(%x: tensor<8x64xf32>, %w: tensor<3x64x32xf32>, %r: tensor<8x96xf32>)
    -> tensor<8x96xf32> {
  %y = tfm.packed_linear %x, %w : tensor<8x64xf32>, tensor<3x64x32xf32> -> tensor<8x96xf32>
  %s = tfm.add %y, %r : tensor<8x96xf32>
  return %s : tensor<8x96xf32>
}

// -----

// relu, then a residual add: both fold (the epilogue applies the activation,
// then adds the residual).
// CHECK-LABEL: func.func @relu_then_residual
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x?x64xf32>, %[[W:[^:]*]]: tensor<3x64x32xf32>,
// CHECK-SAME: %[[B:[^:]*]]: tensor<96xf32>, %[[R:[^:]*]]: tensor<?x?x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]], %[[B]] residual %[[R]] activation relu
// CHECK-NOT: tfm.relu
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @relu_then_residual(%x: tensor<?x?x64xf32>, %w: tensor<3x64x32xf32>,
                              %b: tensor<96xf32>, %r: tensor<?x?x96xf32>) -> tensor<?x?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x?x96xf32>
  %a = tfm.relu %y : tensor<?x?x96xf32>
  %s = tfm.add %r, %a : tensor<?x?x96xf32>
  return %s : tensor<?x?x96xf32>
}

// -----

// gelu, then a residual, the add's operands the other way round.
// CHECK-LABEL: func.func @gelu_then_residual
// CHECK-SAME: %[[R:[^:]*]]: tensor<?x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %[[R]] activation gelu
// CHECK-NOT: tfm.gelu
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @gelu_then_residual(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %b: tensor<96xf32>,
                              %r: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %a = tfm.gelu %y : tensor<?x96xf32>
  %s = tfm.add %a, %r : tensor<?x96xf32>
  return %s : tensor<?x96xf32>
}

// -----

// Negative: the linear's result has another user; nothing folds (the plain
// result is still needed).
// CHECK-LABEL: func.func @two_users
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} :
// CHECK-SAME: tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
// CHECK: %[[A:.*]] = tfm.gelu %[[Y]]
// CHECK: %[[S:.*]] = tfm.add %[[Y]], %{{.*}}
// CHECK: return %[[A]], %[[S]]
func.func @two_users(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %r: tensor<?x96xf32>)
    -> (tensor<?x96xf32>, tensor<?x96xf32>) {
  %y = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  %a = tfm.gelu %y : tensor<?x96xf32>
  %s = tfm.add %y, %r : tensor<?x96xf32>
  return %a, %s : tensor<?x96xf32>, tensor<?x96xf32>
}

// -----

// Negative: a linear whose result is also returned keeps its relu separate.
// CHECK-LABEL: func.func @returned_too
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} :
// CHECK-SAME: tensor<4x64xf32>, tensor<2x64x32xf32> -> tensor<4x64xf32>
// CHECK: %[[A:.*]] = tfm.relu %[[Y]]
// CHECK: return %[[A]], %[[Y]]
func.func @returned_too(%x: tensor<4x64xf32>, %w: tensor<2x64x32xf32>)
    -> (tensor<4x64xf32>, tensor<4x64xf32>) {
  %y = tfm.packed_linear %x, %w : tensor<4x64xf32>, tensor<2x64x32xf32> -> tensor<4x64xf32>
  %a = tfm.relu %y : tensor<4x64xf32>
  return %a, %y : tensor<4x64xf32>, tensor<4x64xf32>
}

// -----

// Negative: an activation after a linear that already has a residual would
// have to apply after the residual; the epilogue applies it before. Not
// folded.
// CHECK-LABEL: func.func @activation_after_residual
// CHECK-SAME: %[[R:[^:]*]]: tensor<?x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %[[R]] :
// CHECK: %[[A:.*]] = tfm.relu %[[Y]]
// CHECK: return %[[A]]
func.func @activation_after_residual(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>,
                                     %b: tensor<96xf32>, %r: tensor<?x96xf32>)
    -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b residual %r
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> residual tensor<?x96xf32>
      -> tensor<?x96xf32>
  %a = tfm.relu %y : tensor<?x96xf32>
  return %a : tensor<?x96xf32>
}

// -----

// Negative: a second activation after one already folded is not composed.
// CHECK-LABEL: func.func @second_activation
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}} activation gelu :
// CHECK: %[[A:.*]] = tfm.relu %[[Y]]
// CHECK: return %[[A]]
func.func @second_activation(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  %g = tfm.gelu %y : tensor<?x96xf32>
  %a = tfm.relu %g : tensor<?x96xf32>
  return %a : tensor<?x96xf32>
}

// -----

// Negative: a second residual add after the first is left as a tfm.add.
// CHECK-LABEL: func.func @second_residual
// CHECK-SAME: %[[R:[^:]*]]: tensor<?x96xf32>, %[[R2:[^:]*]]: tensor<?x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %[[R]] :
// CHECK: %[[S:.*]] = tfm.add %[[Y]], %[[R2]]
// CHECK: return %[[S]]
func.func @second_residual(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %b: tensor<96xf32>,
                           %r: tensor<?x96xf32>, %r2: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %s = tfm.add %y, %r : tensor<?x96xf32>
  %t = tfm.add %s, %r2 : tensor<?x96xf32>
  return %t : tensor<?x96xf32>
}

// -----

// Negative: a residual add, then relu: the relu is not an epilogue of the
// linear (it would apply after the residual).
// CHECK-LABEL: func.func @residual_then_relu
// CHECK-SAME: %[[R:[^:]*]]: tensor<?x96xf32>)
// CHECK: %[[Y:.*]] = tfm.packed_linear %{{.*}}, %{{.*}}, %{{.*}} residual %[[R]] :
// CHECK: %[[A:.*]] = tfm.relu %[[Y]]
// CHECK: return %[[A]]
func.func @residual_then_relu(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %b: tensor<96xf32>,
                              %r: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %s = tfm.add %r, %y : tensor<?x96xf32>
  %a = tfm.relu %s : tensor<?x96xf32>
  return %a : tensor<?x96xf32>
}

// -----

// Negative: element-wise ops on a plain tfm.linear (not packed) are not
// touched.
// CHECK-LABEL: func.func @unpacked_linear
// CHECK: %[[Y:.*]] = tfm.linear
// CHECK: %[[A:.*]] = tfm.relu %[[Y]]
// CHECK: tfm.add %{{.*}}, %[[A]]
func.func @unpacked_linear(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>, %r: tensor<?x96xf32>)
    -> tensor<?x96xf32> {
  %y = tfm.linear %x, %w : tensor<?x64xf32>, tensor<96x64xf32> -> tensor<?x96xf32>
  %a = tfm.relu %y : tensor<?x96xf32>
  %s = tfm.add %r, %a : tensor<?x96xf32>
  return %s : tensor<?x96xf32>
}

// -----

// Both operands of the add are bare linears: one of them takes the other as
// its residual (whichever; here the right one, as the pass tries first).
// CHECK-LABEL: func.func @add_of_two_linears
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<3x64x32xf32>,
// CHECK-SAME: %[[V:[^:]*]]: tensor<3x64x32xf32>)
// CHECK: %[[L:.*]] = tfm.packed_linear %[[X]], %[[W]] :
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[V]] residual %[[L]] :
// CHECK-NOT: tfm.add
// CHECK: return %[[Y]]
func.func @add_of_two_linears(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>,
                              %v: tensor<3x64x32xf32>) -> tensor<?x96xf32> {
  %l = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  %m = tfm.packed_linear %x, %v : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  %s = tfm.add %l, %m : tensor<?x96xf32>
  return %s : tensor<?x96xf32>
}

// -----

// A gated MLP's product: silu(gate) fused first, then the product of the two
// linear layers over one input becomes one gated layer over both weights.
// CHECK-LABEL: func.func @gated
//  CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[G:[^:]*]]: tensor<2x64x32xf32>, %[[U:[^:]*]]: tensor<2x64x32xf32>, %[[B:[^:]*]]: tensor<64xf32>)
//       CHECK: %[[Y:.*]] = tfm.packed_gated_linear %[[X]], %[[G]], %[[U]] bias %[[B]] activation silu
//   CHECK-NOT: tfm.packed_linear
//   CHECK-NOT: tfm.mul
//       CHECK: return %[[Y]]
func.func @gated(%x: tensor<?x64xf32>, %g: tensor<2x64x32xf32>, %u: tensor<2x64x32xf32>,
                 %b: tensor<64xf32>) -> tensor<?x64xf32> {
  %up = tfm.packed_linear %x, %u, %b : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %gate = tfm.packed_linear %x, %g : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %a = tfm.silu %gate : tensor<?x64xf32>
  %h = tfm.mul %up, %a : tensor<?x64xf32>
  return %h : tensor<?x64xf32>
}

// -----

// Not a gated pair: the two layers read different inputs, or neither has an
// activation, or the gate's result has another user. The products stay.
// CHECK-LABEL: func.func @not_gated
//   CHECK-NOT: tfm.packed_gated_linear
//       CHECK: tfm.mul
//       CHECK: tfm.mul
//       CHECK: tfm.mul
//   CHECK-NOT: tfm.packed_gated_linear
func.func @not_gated(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>, %g: tensor<2x64x32xf32>,
                     %u: tensor<2x64x32xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %g1 = tfm.packed_linear %x, %g : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %a1 = tfm.silu %g1 : tensor<?x64xf32>
  %u1 = tfm.packed_linear %y, %u : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %h1 = tfm.mul %a1, %u1 : tensor<?x64xf32>
  %g2 = tfm.packed_linear %x, %g : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %u2 = tfm.packed_linear %x, %u : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %h2 = tfm.mul %g2, %u2 : tensor<?x64xf32>
  %g3 = tfm.packed_linear %x, %g : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %a3 = tfm.silu %g3 : tensor<?x64xf32>
  %u3 = tfm.packed_linear %x, %u : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  %h3 = tfm.mul %a3, %u3 : tensor<?x64xf32>
  return %h1, %h2, %h3, %a3 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// With gated-max-k below K (64), the gated pair is left as it is.
// CHECK-MAXK-LABEL: func.func @gated
//   CHECK-MAXK-NOT: tfm.packed_gated_linear
//       CHECK-MAXK: tfm.mul
