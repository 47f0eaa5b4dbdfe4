// RUN: tfm-opt %s --split-input-file --tfm-hoist-parallel-allocs --canonicalize --cse | FileCheck %s

// The scratch of a parallel loop's iterations (a static buffer of 128 bytes
// and a dynamic one of 4 n bytes) is allocated once before the loop, a frame
// of 128 + ceil(4 n / 64) * 64 bytes per iteration; each iteration views its
// own frame. The worker threads no longer allocate.

// CHECK-LABEL: func.func @scratch
//  CHECK-SAME:   (%[[OUT:.+]]: memref<?x?xf32>, %[[PARTS:.+]]: index, %[[N:.+]]: index)
//   CHECK-DAG:   %[[C4:.+]] = arith.constant 4 : index
//   CHECK-DAG:   %[[C64:.+]] = arith.constant 64 : index
//   CHECK-DAG:   %[[C128:.+]] = arith.constant 128 : index
//       CHECK:   %[[BYTES:.+]] = arith.muli %[[N]], %[[C4]] : index
//       CHECK:   %[[LINES:.+]] = arith.ceildivui %[[BYTES]], %[[C64]] : index
//       CHECK:   %[[SLOT:.+]] = arith.muli %[[LINES]], %[[C64]] : index
//       CHECK:   %[[FRAME:.+]] = arith.addi %[[SLOT]], %[[C128]] : index
//       CHECK:   %[[TRIPS:.+]] = arith.maxsi %[[PARTS]], %{{.+}} : index
//       CHECK:   %[[TOTAL:.+]] = arith.muli %[[TRIPS]], %[[FRAME]] : index
//       CHECK:   %[[BUF:.+]] = memref.alloc(%[[TOTAL]]) {alignment = 64 : i64} : memref<?xi8>
//       CHECK:   scf.for %[[P:.+]] = %{{.+}} to %[[PARTS]]
//  CHECK-NEXT:     %[[AT:.+]] = arith.muli %[[P]], %[[FRAME]] : index
//  CHECK-NEXT:     %[[K:.+]] = memref.view %[[BUF]][%[[AT]]][] : memref<?xi8> to memref<4x8xf32>
//  CHECK-NEXT:     %[[AT2:.+]] = arith.addi %[[AT]], %[[C128]] : index
//  CHECK-NEXT:     %[[M:.+]] = memref.view %[[BUF]][%[[AT2]]][%[[N]]] : memref<?xi8> to memref<?xf32>
//   CHECK-NOT:     memref.alloc
//       CHECK:   } {tfm.parallel}
func.func @scratch(%out: memref<?x?xf32>, %parts: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %p = %c0 to %parts step %c1 {
    %k = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
    %m = memref.alloc(%n) : memref<?xf32>
    memref.store %f, %k[%c0, %c0] : memref<4x8xf32>
    memref.store %f, %m[%c0] : memref<?xf32>
    %v = memref.load %k[%c0, %c0] : memref<4x8xf32>
    %w = memref.load %m[%c0] : memref<?xf32>
    memref.store %v, %out[%p, %c0] : memref<?x?xf32>
    memref.store %w, %out[%p, %c1] : memref<?x?xf32>
  } {tfm.parallel}
  return
}

// -----

// Left alone: an allocation in an unmarked loop; in a marked loop, one whose
// size is computed in the loop, and one nested in an inner loop
// (tfm-lower-parallel-loops refuses those two).

// CHECK-LABEL: func.func @left_alone
//       CHECK:   scf.for
//  CHECK-NEXT:     memref.alloc() : memref<16xf32>
//       CHECK:   scf.for
//       CHECK:     memref.alloc(%{{.+}}) : memref<?xf32>
//       CHECK:     scf.for
//  CHECK-NEXT:       memref.alloc() : memref<8xf32>
//       CHECK:   } {tfm.parallel}
//   CHECK-NOT:   memref.view
func.func @left_alone(%out: memref<?xf32>, %parts: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %p = %c0 to %parts step %c1 {
    %k = memref.alloc() : memref<16xf32>
    memref.store %f, %k[%c0] : memref<16xf32>
    %v = memref.load %k[%c0] : memref<16xf32>
    memref.store %v, %out[%p] : memref<?xf32>
  }
  scf.for %p = %c0 to %parts step %c1 {
    %n = arith.addi %p, %c1 : index
    %m = memref.alloc(%n) : memref<?xf32>
    memref.store %f, %m[%c0] : memref<?xf32>
    %v = memref.load %m[%c0] : memref<?xf32>
    memref.store %v, %out[%p] : memref<?xf32>
    scf.for %q = %c0 to %parts step %c1 {
      %s = memref.alloc() : memref<8xf32>
      memref.store %f, %s[%c0] : memref<8xf32>
      %w = memref.load %s[%c0] : memref<8xf32>
      memref.store %w, %out[%q] : memref<?xf32>
    }
  } {tfm.parallel}
  return
}
