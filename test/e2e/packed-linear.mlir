// REQUIRES: compiler
// Linear layers through tfm-pack-weights, tfm-fuse-linear-epilogue and the
// tiled kernels of tfm-tile-matmul (tfmc's default), then through the same
// packing and epilogues with the reference lowering of tfm.packed_linear and
// tfm.pack_weight (tfm-opt lowers them before tfmc sees them), each against
// the NumPy reference of linear_ref.py to 1e-5 of max(|reference|, 1).
//
// Shapes: K = 100 and N = 70 (neither a multiple of 16), K = 1100 (three
// k-blocks of 512: bias in the first, epilogue in the last), N = 300 (two
// n-blocks of 256, shared among threads from 130 rows on), N = 5 (one
// partial panel); rows 1, 2, 3 (the 2 x 4 and
// 1 x 4 panel tiles), 7, 8, 9 (around the 8-row tile), 37, 130 (two m-blocks
// of 128), and 0; rank-1, rank-2 and rank-3 inputs; gated pairs (silu(x G^T)
// * x W^T) in one kernel and, above gated-max-k, in two. Weights are entry
// arguments without tfm.weight (packed by the compiled code), except
// @prepacked's.
//
// RUN: tfmc %s -o %t.tiled.so
// RUN: tfm-opt %s --tfm-pack-weights --tfm-fuse-linear-epilogue --tfm-lower-to-linalg \
// RUN:   -o %t.ref.mlir
// RUN: tfmc %t.ref.mlir -o %t.ref.so
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: %python %S/linear_ref.py run %t.tiled.so %t.d --seed 1 | FileCheck %s
// RUN: %python %S/linear_ref.py run %t.ref.so %t.d --seed 2 | FileCheck %s
//
// Weights stored as bf16 and int8 (tfmc --weight-type; tfm-pack-weights'
// weight-type): the tiled kernels and the reference lowering (which packs
// and quantizes at run time) against the NumPy reference on the weights as
// that type stores them; the f32 reference does not match them. bf16 is
// compiled for a target without AVX512-BF16 here (the widening kernels);
// packed-linear-bf16-dot.test runs the vdpbf16ps kernels.
// RUN: tfmc %s -o %t.bf16.so --weight-type=bf16 --mcpu=skylake-avx512
// RUN: tfmc %s -o %t.int8.so --weight-type=int8
// RUN: tfm-opt %s --tfm-pack-weights=weight-type=i8 --tfm-fuse-linear-epilogue \
// RUN:   --tfm-lower-to-linalg -o %t.ref8.mlir
// RUN: tfmc %t.ref8.mlir -o %t.ref8.so
// RUN: tfm-opt %s --tfm-pack-weights=weight-type=bf16 --tfm-fuse-linear-epilogue \
// RUN:   --tfm-lower-to-linalg -o %t.ref16.mlir
// RUN: tfmc %t.ref16.mlir -o %t.ref16.so
// RUN: %python %S/linear_ref.py run %t.bf16.so %t.d --seed 3 --weight-type bf16 \
// RUN:   | FileCheck %s --check-prefix=TYPED --implicit-check-not=FAIL
// RUN: %python %S/linear_ref.py run %t.int8.so %t.d --seed 4 --weight-type int8 \
// RUN:   | FileCheck %s --check-prefix=TYPED --implicit-check-not=FAIL
// RUN: %python %S/linear_ref.py run %t.ref8.so %t.d --seed 5 --weight-type int8 \
// RUN:   | FileCheck %s --check-prefix=TYPED --implicit-check-not=FAIL
// RUN: %python %S/linear_ref.py run %t.ref16.so %t.d --seed 6 --weight-type bf16 \
// RUN:   | FileCheck %s --check-prefix=TYPED --implicit-check-not=FAIL
// RUN: not %python %S/linear_ref.py run %t.int8.so %t.d --seed 7 --only wide \
// RUN:   | FileCheck %s --check-prefix=UNTYPED
// TYPED: PASS plain lead=[1] shape=[1, 70]
// TYPED: PASS deep_relu_residual lead=[130] shape=[130, 48]
// TYPED: PASS gated lead=[130] shape=[130, 70]
// TYPED: PASS gated_plain lead=[2, 65] shape=[2, 65, 96]
// TYPED: PASS gated_deep lead=[9] shape=[9, 96]
// UNTYPED: FAIL wide lead=[1]
//
// tfmc's pipeline calls a tiled kernel per signature, with the epilogues
// fused; the reference module has no tfm op and no kernel left.
// RUN: tfm-opt %s --tfm-to-llvm | FileCheck %s --check-prefix=TILED
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r1_bias_gelu(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_residual(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r3_bias_gelu_residual(
// TILED-DAG: llvm.call @__tfm_linear_k1100_n48_p32_r2_bias_relu_residual(
// TILED-DAG: llvm.call @__tfm_linear_k1100_n33_p32_r3(
// TILED-DAG: llvm.call @__tfm_linear_k100_n300_p32_r2_bias_gelu(
// TILED-DAG: llvm.call @__tfm_linear_k3_n5_p32_r2_bias_relu(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_bias(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_bias_gelu_tanh_residual(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_bias_silu(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_bias_tanh(
// TILED-DAG: llvm.call @__tfm_linear_k100_n70_p32_r2_gated_gatebias_bias_silu(
// TILED-DAG: llvm.call @__tfm_linear_k1000_n96_p32_r3_gated_silu(
// TILED-DAG: llvm.call @__tfm_linear_k1100_n96_p32_r2_bias_silu(
// TILED-DAG: llvm.call @__tfm_linear_k1100_n96_p32_r2_bias(
// RUN: FileCheck %s --check-prefix=REF < %t.ref.mlir
// REF-NOT: = tfm.
// REF-NOT: call @
//
// CHECK: PASS plain lead=[0] shape=[0, 70]
// CHECK: PASS plain lead=[1] shape=[1, 70]
// CHECK: PASS plain lead=[7] shape=[7, 70]
// CHECK: PASS plain lead=[8] shape=[8, 70]
// CHECK: PASS plain lead=[9] shape=[9, 70]
// CHECK: PASS plain lead=[37] shape=[37, 70]
// CHECK: PASS plain lead=[130] shape=[130, 70]
// CHECK: PASS bias_relu lead=[1] shape=[1, 70]
// CHECK: PASS bias_relu lead=[9] shape=[9, 70]
// CHECK: PASS bias_relu lead=[130] shape=[130, 70]
// CHECK: PASS bias_gelu lead=[7] shape=[7, 70]
// CHECK: PASS bias_gelu lead=[37] shape=[37, 70]
// CHECK: PASS residual_lhs lead=[1] shape=[1, 70]
// CHECK: PASS residual_lhs lead=[8] shape=[8, 70]
// CHECK: PASS residual_lhs lead=[130] shape=[130, 70]
// CHECK: PASS gelu_residual lead=[2, 0] shape=[2, 0, 70]
// CHECK: PASS gelu_residual lead=[1, 1] shape=[1, 1, 70]
// CHECK: PASS gelu_residual lead=[2, 4] shape=[2, 4, 70]
// CHECK: PASS gelu_residual lead=[3, 3] shape=[3, 3, 70]
// CHECK: PASS gelu_residual lead=[5, 26] shape=[5, 26, 70]
// CHECK: PASS vector lead=[] shape=[70]
// CHECK: PASS tiny lead=[1] shape=[1, 5]
// CHECK: PASS tiny lead=[9] shape=[9, 5]
// CHECK: PASS wide lead=[1] shape=[1, 300]
// CHECK: PASS wide lead=[2] shape=[2, 300]
// CHECK: PASS wide lead=[3] shape=[3, 300]
// CHECK: PASS wide lead=[9] shape=[9, 300]
// CHECK: PASS wide lead=[130] shape=[130, 300]
// CHECK: PASS deep_relu_residual lead=[1] shape=[1, 48]
// CHECK: PASS deep_relu_residual lead=[9] shape=[9, 48]
// CHECK: PASS deep_relu_residual lead=[130] shape=[130, 48]
// CHECK: PASS deep_plain lead=[1, 7] shape=[1, 7, 33]
// CHECK: PASS deep_plain lead=[2, 65] shape=[2, 65, 33]
// CHECK: PASS two_users lead=[9] shape=[9, 70] outputs=2
// CHECK: PASS two_users lead=[37] shape=[37, 70] outputs=2
// CHECK: PASS gelu_tanh_residual lead=[1] shape=[1, 70]
// CHECK: PASS gelu_tanh_residual lead=[9] shape=[9, 70]
// CHECK: PASS gelu_tanh_residual lead=[37] shape=[37, 70]
// CHECK: PASS silu lead=[1] shape=[1, 70]
// CHECK: PASS silu lead=[8] shape=[8, 70]
// CHECK: PASS silu lead=[130] shape=[130, 70]
// CHECK: PASS tanh lead=[1] shape=[1, 70]
// CHECK: PASS tanh lead=[9] shape=[9, 70]
// CHECK: PASS prepacked lead=[7] shape=[7, 70]
// CHECK: PASS prepacked lead=[130] shape=[130, 70]
// CHECK: PASS gated lead=[1] shape=[1, 70]
// CHECK: PASS gated lead=[2] shape=[2, 70]
// CHECK: PASS gated lead=[3] shape=[3, 70]
// CHECK: PASS gated lead=[5] shape=[5, 70]
// CHECK: PASS gated lead=[9] shape=[9, 70]
// CHECK: PASS gated lead=[37] shape=[37, 70]
// CHECK: PASS gated lead=[130] shape=[130, 70]
// CHECK: PASS gated_plain lead=[1, 1] shape=[1, 1, 96]
// CHECK: PASS gated_plain lead=[2, 3] shape=[2, 3, 96]
// CHECK: PASS gated_plain lead=[2, 65] shape=[2, 65, 96]
// CHECK: PASS gated_deep lead=[1] shape=[1, 96]
// CHECK: PASS gated_deep lead=[9] shape=[9, 96]
// CHECK-NOT: FAIL

// x W^T, no bias, no epilogue.
func.func @plain(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x100xf32>, tensor<70x100xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

func.func @bias_relu(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>)
    -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.relu %y : tensor<?x70xf32>
  return %a : tensor<?x70xf32>
}

func.func @bias_gelu(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>)
    -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.gelu %y : tensor<?x70xf32>
  return %a : tensor<?x70xf32>
}

// r + x W^T: the residual on the left, no bias.
func.func @residual_lhs(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %r: tensor<?x70xf32>)
    -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x100xf32>, tensor<70x100xf32> -> tensor<?x70xf32>
  %s = tfm.add %r, %y : tensor<?x70xf32>
  return %s : tensor<?x70xf32>
}

// gelu(x W^T + b) + r over [batch, seq, K].
func.func @gelu_residual(%x: tensor<?x?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>,
                         %r: tensor<?x?x70xf32>) -> tensor<?x?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x?x70xf32>
  %a = tfm.gelu %y : tensor<?x?x70xf32>
  %s = tfm.add %a, %r : tensor<?x?x70xf32>
  return %s : tensor<?x?x70xf32>
}

// A single vector (rank 1).
func.func @vector(%x: tensor<100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>)
    -> tensor<70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<70xf32>
  %a = tfm.gelu %y : tensor<70xf32>
  return %a : tensor<70xf32>
}

// N = 5 < 16, K = 3: one panel, mostly padding.
func.func @tiny(%x: tensor<?x3xf32>, %w: tensor<5x3xf32>, %b: tensor<5xf32>) -> tensor<?x5xf32> {
  %y = tfm.linear %x, %w, %b : tensor<?x3xf32>, tensor<5x3xf32>, tensor<5xf32> -> tensor<?x5xf32>
  %a = tfm.relu %y : tensor<?x5xf32>
  return %a : tensor<?x5xf32>
}

// N = 300: ten panels (the last partial), more than one n-block; at 130
// rows (7.8 Mflop) above tfm-tile-matmul's parallel-min-flops.
func.func @wide(%x: tensor<?x100xf32>, %w: tensor<300x100xf32>, %b: tensor<300xf32>)
    -> tensor<?x300xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<300x100xf32>, tensor<300xf32> -> tensor<?x300xf32>
  %a = tfm.gelu %y : tensor<?x300xf32>
  return %a : tensor<?x300xf32>
}

// K = 1100: three k-blocks; relu(x W^T + b) + r.
func.func @deep_relu_residual(%x: tensor<?x1100xf32>, %w: tensor<48x1100xf32>,
                              %b: tensor<48xf32>, %r: tensor<?x48xf32>) -> tensor<?x48xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x1100xf32>, tensor<48x1100xf32>, tensor<48xf32> -> tensor<?x48xf32>
  %a = tfm.relu %y : tensor<?x48xf32>
  %s = tfm.add %r, %a : tensor<?x48xf32>
  return %s : tensor<?x48xf32>
}

// K = 1100 without bias or epilogue (C starts at zero in the first block).
func.func @deep_plain(%x: tensor<?x?x1100xf32>, %w: tensor<33x1100xf32>) -> tensor<?x?x33xf32> {
  %y = tfm.linear %x, %w : tensor<?x?x1100xf32>, tensor<33x1100xf32> -> tensor<?x?x33xf32>
  return %y : tensor<?x?x33xf32>
}

// The linear's result has two users: nothing is fused.
func.func @two_users(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>,
                     %r: tensor<?x70xf32>) -> (tensor<?x70xf32>, tensor<?x70xf32>) {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.relu %y : tensor<?x70xf32>
  %s = tfm.add %y, %r : tensor<?x70xf32>
  return %a, %s : tensor<?x70xf32>, tensor<?x70xf32>
}

// A marked weight: the entry takes it packed (tensor<3x100x32xf32>); the
// script packs it as tfm.pack_weight's description says.
func.func @prepacked(%x: tensor<?x100xf32>, %w: tensor<70x100xf32> {tfm.weight = "w"},
                     %b: tensor<70xf32>, %r: tensor<?x70xf32>) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.relu %y : tensor<?x70xf32>
  %s = tfm.add %a, %r : tensor<?x70xf32>
  return %s : tensor<?x70xf32>
}

// The activations of the Hugging Face families: tanh-GELU then a residual
// (GPT-2's MLP has none, but the epilogue must apply them in this order),
// SiLU, tanh.
func.func @gelu_tanh_residual(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>,
                              %r: tensor<?x70xf32>) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.gelu_tanh %y : tensor<?x70xf32>
  %s = tfm.add %a, %r : tensor<?x70xf32>
  return %s : tensor<?x70xf32>
}

func.func @silu(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>)
    -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.silu %y : tensor<?x70xf32>
  return %a : tensor<?x70xf32>
}

func.func @tanh(%x: tensor<?x100xf32>, %w: tensor<70x100xf32>, %b: tensor<70xf32>)
    -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.tanh %y : tensor<?x70xf32>
  return %a : tensor<?x70xf32>
}

// A gated MLP's layers: silu(x G^T + bg) * (x W^T + b), one kernel over
// both weights (tfm-fuse-linear-epilogue, K <= gated-max-k).
func.func @gated(%x: tensor<?x100xf32>, %g: tensor<70x100xf32>, %w: tensor<70x100xf32>,
                 %bg: tensor<70xf32>, %b: tensor<70xf32>) -> tensor<?x70xf32> {
  %gate = tfm.linear %x, %g, %bg
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %up = tfm.linear %x, %w, %b
      : tensor<?x100xf32>, tensor<70x100xf32>, tensor<70xf32> -> tensor<?x70xf32>
  %a = tfm.silu %gate : tensor<?x70xf32>
  %h = tfm.mul %a, %up : tensor<?x70xf32>
  return %h : tensor<?x70xf32>
}

// K = 1000: one K block of 1000 steps; no biases; rank 3.
func.func @gated_plain(%x: tensor<?x?x1000xf32>, %g: tensor<96x1000xf32>, %w: tensor<96x1000xf32>)
    -> tensor<?x?x96xf32> {
  %gate = tfm.linear %x, %g : tensor<?x?x1000xf32>, tensor<96x1000xf32> -> tensor<?x?x96xf32>
  %up = tfm.linear %x, %w : tensor<?x?x1000xf32>, tensor<96x1000xf32> -> tensor<?x?x96xf32>
  %a = tfm.silu %gate : tensor<?x?x96xf32>
  %h = tfm.mul %up, %a : tensor<?x?x96xf32>
  return %h : tensor<?x?x96xf32>
}

// K = 1100 > gated-max-k: two kernels and the product.
func.func @gated_deep(%x: tensor<?x1100xf32>, %g: tensor<96x1100xf32>, %w: tensor<96x1100xf32>,
                      %bg: tensor<96xf32>, %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %gate = tfm.linear %x, %g, %bg
      : tensor<?x1100xf32>, tensor<96x1100xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %up = tfm.linear %x, %w, %b
      : tensor<?x1100xf32>, tensor<96x1100xf32>, tensor<96xf32> -> tensor<?x96xf32>
  %a = tfm.silu %gate : tensor<?x96xf32>
  %h = tfm.mul %a, %up : tensor<?x96xf32>
  return %h : tensor<?x96xf32>
}
