// RUN: tfm-opt %s --split-input-file --tfm-copy-strided-casts --verify-diagnostics | FileCheck %s

// The first row of every sequence, passed to a kernel that takes an
// identity-layout buffer: the cast would hand it rows S*64 floats apart as if
// they were 64 apart. It becomes a contiguous copy.
// CHECK-LABEL: func.func @first_rows
// CHECK-SAME: (%[[H:.*]]: memref<?x?x64xf32>)
// CHECK: %[[V:.*]] = memref.subview %[[H]]
// CHECK: %[[N:.*]] = memref.dim %[[V]], %c0
// CHECK: %[[C:.*]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK: linalg.copy ins(%[[V]] : memref<?x64xf32, strided<[?, 1]>>) outs(%[[C]] : memref<?x64xf32>)
// CHECK-NOT: memref.cast
// CHECK: call @kernel(%[[C]])
func.func private @kernel(memref<?x64xf32>)
func.func @first_rows(%h: memref<?x?x64xf32>) {
  %c0 = arith.constant 0 : index
  %b = memref.dim %h, %c0 : memref<?x?x64xf32>
  %v = memref.subview %h[0, 0, 0] [%b, 1, 64] [1, 1, 1]
      : memref<?x?x64xf32> to memref<?x64xf32, strided<[?, 1]>>
  %c = memref.cast %v : memref<?x64xf32, strided<[?, 1]>> to memref<?x64xf32>
  call @kernel(%c) : (memref<?x64xf32>) -> ()
  return
}

// -----

// A view at an offset only known at run time is not the identity layout
// either, even with contiguous strides.
// CHECK-LABEL: func.func @offset
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4x64xf32>
// CHECK: linalg.copy
// CHECK-NOT: memref.cast
func.func private @kernel(memref<4x64xf32>)
func.func @offset(%h: memref<8x64xf32>, %row: index) {
  %v = memref.subview %h[%row, 0] [4, 64] [1, 1]
      : memref<8x64xf32> to memref<4x64xf32, strided<[64, 1], offset: ?>>
  %c = memref.cast %v : memref<4x64xf32, strided<[64, 1], offset: ?>> to memref<4x64xf32>
  call @kernel(%c) : (memref<4x64xf32>) -> ()
  return
}

// -----

// Negative cases: casts that only change static sizes, and a strided layout
// that is provably the identity (static strides of a contiguous array,
// offset 0), assume nothing: the pass must leave them alone.
// CHECK-LABEL: func.func @contiguous
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.copy
// CHECK: memref.cast %{{.*}} : memref<4x64xf32> to memref<?x64xf32>
// CHECK: memref.cast %{{.*}} : memref<4x64xf32, strided<[64, 1]>> to memref<4x64xf32>
func.func private @kernel(memref<?x64xf32>)
func.func private @kernel4(memref<4x64xf32>)
func.func @contiguous(%a: memref<4x64xf32>, %b: memref<4x64xf32, strided<[64, 1]>>) {
  %c = memref.cast %a : memref<4x64xf32> to memref<?x64xf32>
  call @kernel(%c) : (memref<?x64xf32>) -> ()
  %d = memref.cast %b : memref<4x64xf32, strided<[64, 1]>> to memref<4x64xf32>
  call @kernel4(%d) : (memref<4x64xf32>) -> ()
  return
}

// -----

// A view whose innermost stride is only known at run time, passed where a
// unit innermost stride is assumed (an attention kernel's argument): copied,
// and the contiguous copy cast to the kernel's layout. A view with a unit
// innermost stride is passed as it is.
// CHECK-LABEL: func.func @unit_stride
// CHECK-SAME: (%[[A:.*]]: memref<?x64xf32, strided<[?, ?], offset: ?>>, %[[B:.*]]: memref<?x64xf32, strided<[128, 1], offset: ?>>)
// CHECK: %[[C:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK: linalg.copy ins(%[[A]] : {{.*}}) outs(%[[C]] : memref<?x64xf32>)
// CHECK: %[[CC:.*]] = memref.cast %[[C]] : memref<?x64xf32> to memref<?x64xf32, strided<[?, 1], offset: ?>>
// CHECK: call @strided_kernel(%[[CC]])
// CHECK-NOT: linalg.copy
// CHECK: %[[BC:.*]] = memref.cast %[[B]]
// CHECK: call @strided_kernel(%[[BC]])
func.func private @strided_kernel(memref<?x64xf32, strided<[?, 1], offset: ?>>)
func.func @unit_stride(%a: memref<?x64xf32, strided<[?, ?], offset: ?>>, %b: memref<?x64xf32, strided<[128, 1], offset: ?>>) {
  %c = memref.cast %a : memref<?x64xf32, strided<[?, ?], offset: ?>> to memref<?x64xf32, strided<[?, 1], offset: ?>>
  call @strided_kernel(%c) : (memref<?x64xf32, strided<[?, 1], offset: ?>>) -> ()
  %d = memref.cast %b : memref<?x64xf32, strided<[128, 1], offset: ?>> to memref<?x64xf32, strided<[?, 1], offset: ?>>
  call @strided_kernel(%d) : (memref<?x64xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}

// -----

// A target layout that no contiguous buffer has cannot be made by a copy.
func.func private @gapped_kernel(memref<?x64xf32, strided<[128, 1]>>)
func.func @gapped(%a: memref<?x64xf32, strided<[?, 1]>>) {
  // expected-error @+1 {{cannot pass a view as a buffer of layout strided<[128, 1]>: not even a contiguous copy has it}}
  %c = memref.cast %a : memref<?x64xf32, strided<[?, 1]>> to memref<?x64xf32, strided<[128, 1]>>
  call @gapped_kernel(%c) : (memref<?x64xf32, strided<[128, 1]>>) -> ()
  return
}
