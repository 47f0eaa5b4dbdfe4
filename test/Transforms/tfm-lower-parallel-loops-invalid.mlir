// RUN: tfm-opt %s --split-input-file --tfm-lower-parallel-loops --verify-diagnostics

// A parallel loop that still allocates is refused: its iterations would call
// the allocator on the OpenMP worker threads, where a failed allocation
// cannot be reported to the caller (tfm-hoist-parallel-allocs moves scratch
// out of the loop; this one's size depends on the iteration).
func.func @allocates(%out: memref<?xf32>, %parts: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %p = %c0 to %parts step %c1 {
    %n = arith.addi %p, %c1 : index
    // expected-error @below {{allocation inside a tfm.parallel loop}}
    %m = memref.alloc(%n) : memref<?xf32>
    memref.store %f, %m[%c0] : memref<?xf32>
    memref.dealloc %m : memref<?xf32>
  } {tfm.parallel}
  return
}

// -----

// Nested deeper in the body: refused as well.
func.func @allocates_nested(%out: memref<?xf32>, %parts: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.for %p = %c0 to %parts step %c1 {
    scf.for %q = %c0 to %parts step %c1 {
      // expected-error @below {{allocation inside a tfm.parallel loop}}
      %s = memref.alloc() : memref<8xf32>
      memref.store %f, %s[%c0] : memref<8xf32>
      memref.dealloc %s : memref<8xf32>
    }
  } {tfm.parallel}
  return
}
