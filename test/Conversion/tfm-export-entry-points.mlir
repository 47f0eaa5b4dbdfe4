// RUN: tfm-opt %s --split-input-file --tfm-export-entry-points --verify-diagnostics | FileCheck %s

// A public function becomes an entry: its tensor signature is recorded in
// the manifest's spelling, and the LLVM lowering is asked for a C interface.
// CHECK-LABEL: func.func @entry
// CHECK-SAME: attributes {llvm.emit_c_interface, tfm.entry = {inout = array<i64>, inputs = ["f32[?,8,?,64]", "i32[?]", "i64[]"], results = ["f32[2,3]"]}}
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

// -----

// An inout argument (a KV cache): its new value is the trailing result,
// left out of the manifest's results; the argument becomes writable so that
// bufferization updates it in place, and the tied result is not copied even
// when it is the argument itself.
// CHECK-LABEL: func.func @inout
// CHECK-SAME: (%[[C:.*]]: tensor<?x4xf32> {bufferization.writable = true, tfm.inout}, %[[X:.*]]: tensor<?x4xf32>, %[[D:.*]]: tensor<2xf32> {bufferization.writable = true, tfm.inout})
// CHECK-SAME: attributes {llvm.emit_c_interface, tfm.entry = {inout = array<i64: 0, 2>, inputs = ["f32[?,4]", "f32[?,4]", "f32[2]"], results = ["f32[?,4]"]}}
// CHECK: %[[R:.*]] = tfm.relu %[[X]]
// CHECK: %[[U:.*]] = tfm.add %[[C]], %[[R]]
// CHECK: return %[[R]], %[[U]], %[[D]]
func.func @inout(%c: tensor<?x4xf32> {tfm.inout}, %x: tensor<?x4xf32>, %d: tensor<2xf32> {tfm.inout}) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<2xf32>) {
  %r = tfm.relu %x : tensor<?x4xf32>
  %u = tfm.add %c, %r : tensor<?x4xf32>
  return %r, %u, %d : tensor<?x4xf32>, tensor<?x4xf32>, tensor<2xf32>
}

// -----

// expected-error @+1 {{entry point has 2 inout arguments but only 1 results; each inout argument needs a trailing result}}
func.func @inout_count(%c: tensor<4xf32> {tfm.inout}, %d: tensor<4xf32> {tfm.inout}) -> tensor<4xf32> {
  return %c : tensor<4xf32>
}

// -----

// expected-error @+1 {{inout argument #0 has type 'tensor<4xf32>' but its result #1 has type 'tensor<8xf32>'}}
func.func @inout_type(%c: tensor<4xf32> {tfm.inout}, %x: tensor<8xf32>) -> (tensor<4xf32>, tensor<8xf32>) {
  return %c, %x : tensor<4xf32>, tensor<8xf32>
}
