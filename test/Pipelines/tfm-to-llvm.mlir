// RUN: tfm-opt %s --tfm-to-llvm | FileCheck %s --implicit-check-not=@erff
// RUN: tfm-opt %s --pass-pipeline="builtin.module(tfm-to-llvm)" | FileCheck %s --implicit-check-not=@erff

// The whole path from the tfm dialect to the LLVM dialect: nothing but the
// LLVM dialect is left, buffers come from the runtime's allocator (the
// exported tfm_allocator table; malloc and free while it is empty; the
// allocation function is out of line and returns noalias memory), and the
// runtime's symbols are there. The linear layers are calls to the tiled
// matmul kernels, GELU and the residual add in their epilogues (GELU's erf
// as a vector polynomial: no libm call).
// CHECK-NOT: tfm.
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK-NOT: func.func
// CHECK-NOT: unrealized_conversion_cast
// CHECK: llvm.func @free(!llvm.ptr)
// CHECK: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-LABEL: llvm.func internal @_mlir_memref_to_llvm_free(
// CHECK: %[[FT:.*]] = llvm.mlir.addressof @tfm_allocator
// CHECK: %[[FSLOT:.*]] = llvm.getelementptr %[[FT]][1]
// CHECK: %[[FREE:.*]] = llvm.load %[[FSLOT]]
// CHECK: llvm.call @free(
// CHECK: llvm.call %[[FREE]](
// CHECK-LABEL: llvm.func internal @_mlir_memref_to_llvm_alloc(%{{.*}}: i64) -> (!llvm.ptr {llvm.noalias}) attributes {no_inline}
// CHECK: %[[AT:.*]] = llvm.mlir.addressof @tfm_allocator
// CHECK: %[[ASLOT:.*]] = llvm.getelementptr %[[AT]][0]
// CHECK: %[[ALLOC:.*]] = llvm.load %[[ASLOT]]
// CHECK: llvm.call @malloc(
// CHECK: llvm.call %[[ALLOC]](
// CHECK-LABEL: llvm.func internal @ffn(
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: llvm.call @__tfm_linear_k8_n16_p32_r3_bias_gelu(
// CHECK: llvm.call @__tfm_linear_k16_n8_p32_r3_bias_residual(
// CHECK: llvm.call @_mlir_memref_to_llvm_free
// CHECK-LABEL: llvm.func internal @_mlir_ciface_ffn(
// CHECK-LABEL: llvm.func @tfm_entry_ffn(
// CHECK: llvm.call @_mlir_ciface_ffn
// CHECK: llvm.mlir.global external @tfm_allocator() {{.*}} : !llvm.array<2 x ptr>
// CHECK: @tfm_abi_version(2 : i32)
// CHECK: @tfm_manifest("tfm-abi 2\0Aentry ffn in f32[?,?,8] in f32[16,8] in f32[16] in f32[8,16] in f32[8] out f32[?,?,8]\0A\00")
func.func @ffn(%x: tensor<?x?x8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>,
               %w2: tensor<8x16xf32>, %b2: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %h = tfm.linear %x, %w1, %b1 : tensor<?x?x8xf32>, tensor<16x8xf32>, tensor<16xf32> -> tensor<?x?x16xf32>
  %g = tfm.gelu %h : tensor<?x?x16xf32>
  %y = tfm.linear %g, %w2, %b2 : tensor<?x?x16xf32>, tensor<8x16xf32>, tensor<8xf32> -> tensor<?x?x8xf32>
  %r = tfm.add %y, %x : tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}
