// RUN: tfm-opt %s --split-input-file --tfm-export-entry-points --verify-diagnostics | FileCheck %s

// A public function becomes an entry: its tensor signature is recorded in
// the manifest's spelling, and the LLVM lowering is asked for a C interface.
// CHECK-LABEL: func.func @entry
// CHECK-SAME: attributes {llvm.emit_c_interface, tfm.entry = {inputs = ["f32[?,8,?,64]", "i32[?]", "i64[]"], results = ["f32[2,3]"]}}
func.func @entry(%q: tensor<?x8x?x64xf32>, %len: tensor<?xi32>, %n: tensor<i64>) -> tensor<2x3xf32> {
  %0 = arith.constant dense<1.0> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Not entries: private functions and declarations are left alone.
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: tfm.entry
// CHECK-NOT: llvm.emit_c_interface
// CHECK-LABEL: func.func private @external
// CHECK-NOT: tfm.entry
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func private @external(%x: tensor<4xf32>) -> tensor<4xf32>

// -----

// The caller frees every result: a returned argument and a value returned
// twice become copies, the first use of a computed value does not.
// CHECK-LABEL: func.func @aliasing
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[R:.*]] = tfm.relu %[[X]]
// CHECK: %[[X_COPY:.*]] = bufferization.alloc_tensor() copy(%[[X]]) : tensor<?x4xf32>
// CHECK: %[[R_COPY:.*]] = bufferization.alloc_tensor() copy(%[[R]]) : tensor<?x4xf32>
// CHECK: return %[[X_COPY]], %[[R]], %[[R_COPY]]
func.func @aliasing(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %r = tfm.relu %x : tensor<?x4xf32>
  return %x, %r, %r : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{entry point argument #0 has type 'memref<4xf32>'; expected a ranked tensor of f32, i32 or i64}}
func.func @memref_arg(%x: memref<4xf32>) {
  return
}

// -----

// expected-error @+1 {{entry point result #0 has type 'tensor<4xf16>'; expected a ranked tensor of f32, i32 or i64}}
func.func @f16_result(%x: tensor<4xf32>) -> tensor<4xf16> {
  %0 = arith.truncf %x : tensor<4xf32> to tensor<4xf16>
  return %0 : tensor<4xf16>
}
