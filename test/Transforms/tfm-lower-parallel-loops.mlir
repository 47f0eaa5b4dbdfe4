// RUN: tfm-opt %s --split-input-file --tfm-lower-parallel-loops | FileCheck %s

// A marked loop that carries nothing runs on the OpenMP threads; with one
// iteration it stays on the calling thread, as the plain loop, without
// entering the OpenMP runtime.

// CHECK-LABEL: func.func @marked
//  CHECK-SAME:   (%[[M:.+]]: memref<?xf32>, %[[N:.+]]: index)
//   CHECK-DAG:   %[[C0:.+]] = arith.constant 0 : index
//   CHECK-DAG:   %[[C1:.+]] = arith.constant 1 : index
//       CHECK:   %[[SPAN:.+]] = arith.subi %[[N]], %[[C0]] : index
//       CHECK:   %[[SEVERAL:.+]] = arith.cmpi sgt, %[[SPAN]], %[[C1]] : index
//       CHECK:   scf.if %[[SEVERAL]] {
//  CHECK-NEXT:     omp.parallel {
//  CHECK-NEXT:       omp.wsloop {
//  CHECK-NEXT:         omp.loop_nest (%[[I:.+]]) : index = (%[[C0]]) to (%[[N]]) step (%[[C1]]) {
//  CHECK-NEXT:           memref.store %{{.*}}, %[[M]][%[[I]]]
//  CHECK-NEXT:           omp.yield
//       CHECK:   } else {
//  CHECK-NEXT:     scf.for %[[J:.+]] = %[[C0]] to %[[N]] step %[[C1]] {
//  CHECK-NEXT:       memref.store %{{.*}}, %[[M]][%[[J]]]
//   CHECK-NOT:   tfm.parallel
func.func @marked(%m: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %f, %m[%i] : memref<?xf32>
  } {tfm.parallel}
  return
}

// -----

// Not rewritten: an unmarked loop, and a marked loop that still carries a
// value (its iterations depend on each other); the mark is dropped.

// CHECK-LABEL: func.func @unmarked
//   CHECK-NOT:   omp.
//       CHECK:   scf.for
//   CHECK-NOT:   omp.
func.func @unmarked(%m: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %f, %m[%i] : memref<?xf32>
  }
  return
}

// CHECK-LABEL: func.func @carried
//   CHECK-NOT:   omp.
//       CHECK:   scf.for {{.*}} iter_args
//       CHECK:   scf.yield
//  CHECK-NEXT:   {{^ *}}}{{$}}
//  CHECK-NEXT:   return
func.func @carried(%n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %f) -> f32 {
    %s = arith.addf %acc, %f : f32
    scf.yield %s : f32
  } {tfm.parallel}
  return %r : f32
}
