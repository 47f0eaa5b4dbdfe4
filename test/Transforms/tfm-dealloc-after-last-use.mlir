// RUN: tfm-opt %s --split-input-file --tfm-dealloc-after-last-use | FileCheck %s

// Deallocs at the end of the block (as ownership-based deallocation places
// them) move up to right after the last use of their buffer: %a after the
// copy that reads it, %b after the loop that reads a view of it, so that a
// later allocation of the same size can reuse the block.
// CHECK-LABEL: func.func @after_last_use
// CHECK:      %[[A:.*]] = memref.alloc(%{{.*}}) : memref<?x64xf32>
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[A]] :
// CHECK-NEXT: %[[B:.*]] = memref.alloc(%{{.*}}) : memref<?x64xf32>
// CHECK-NEXT: memref.copy %[[A]], %[[B]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[V:.*]] = memref.subview %[[B]]
// CHECK-NEXT: scf.for
// CHECK:        memref.load %[[V]]
// CHECK:      }
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: %[[C:.*]] = memref.alloc(%{{.*}}) : memref<?x64xf32>
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[C]] :
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK-NEXT: return
func.func @after_last_use(%n: index, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?x64xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?x64xf32>)
  %b = memref.alloc(%n) : memref<?x64xf32>
  memref.copy %a, %b : memref<?x64xf32> to memref<?x64xf32>
  %v = memref.subview %b[0, 0] [%n, 32] [1, 1] : memref<?x64xf32> to memref<?x32xf32, strided<[64, 1]>>
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %v[%i, %c0] : memref<?x32xf32, strided<[64, 1]>>
    memref.store %x, %out[] : memref<f32>
  }
  %c = memref.alloc(%n) : memref<?x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x64xf32>)
  memref.dealloc %a : memref<?x64xf32>
  memref.dealloc %b : memref<?x64xf32>
  memref.dealloc %c : memref<?x64xf32>
  return
}

// -----

// A buffer carried out of a loop is freed after the last use of the loop's
// result (the analysis follows the loop), not after the loop. Left where
// they are: a buffer whose address is taken as an integer, a function
// argument.
// CHECK-LABEL: func.func @kept
// CHECK:      %[[A:.*]] = memref.alloc() : memref<16xf32>
// CHECK:      %[[R:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[A]])
// CHECK:      memref.load %[[R]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK:      %[[P:.*]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[P]]
// CHECK-NEXT: arith.index_cast
// CHECK-NEXT: memref.store
// CHECK-NEXT: memref.dealloc %[[P]]
// CHECK-NEXT: memref.dealloc %arg0
func.func @kept(%arg0: memref<16xf32>, %n: index, %out: memref<f32>, %addr: memref<i64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<16xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %a) -> (memref<16xf32>) {
    scf.yield %m : memref<16xf32>
  }
  %x = memref.load %r[%c0] : memref<16xf32>
  memref.store %x, %out[] : memref<f32>
  %p = memref.alloc() : memref<16xf32>
  %i = memref.extract_aligned_pointer_as_index %p : memref<16xf32> -> index
  %j = arith.index_cast %i : index to i64
  memref.store %j, %addr[] : memref<i64>
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %p : memref<16xf32>
  memref.dealloc %arg0 : memref<16xf32>
  return
}
