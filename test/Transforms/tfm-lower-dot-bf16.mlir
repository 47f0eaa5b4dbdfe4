// RUN: tfm-opt %s --split-input-file --tfm-lower-dot-bf16 | FileCheck %s

// tfm.dot_bf16 becomes the vdpbf16ps intrinsic, operands in order, and the
// module states that it needs AVX512-BF16 (the manifest's requires line).
// CHECK: module attributes {tfm.cpu_features = "avx512bf16"}
// CHECK-LABEL: func.func @dot
// CHECK-SAME: (%[[ACC:.*]]: vector<16xf32>, %[[A:.*]]: vector<32xbf16>, %[[B:.*]]: vector<32xbf16>)
// CHECK-NOT: tfm.dot_bf16
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"(%[[ACC]], %[[A]], %[[B]]) : (vector<16xf32>, vector<32xbf16>, vector<32xbf16>) -> vector<16xf32>
// CHECK: return %[[R]]
func.func @dot(%acc: vector<16xf32>, %a: vector<32xbf16>, %b: vector<32xbf16>) -> vector<16xf32> {
  %r = tfm.dot_bf16 %acc, %a, %b : vector<32xbf16> -> vector<16xf32>
  return %r : vector<16xf32>
}

// -----

// Negative case: nothing else is touched (an f32 FMA stays), and a module
// without the op needs nothing.
// CHECK-NOT: tfm.cpu_features
// CHECK-LABEL: func.func @fma
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.fma
func.func @fma(%acc: vector<16xf32>, %a: vector<16xf32>, %b: vector<16xf32>) -> vector<16xf32> {
  %r = vector.fma %a, %b, %acc : vector<16xf32>
  return %r : vector<16xf32>
}
