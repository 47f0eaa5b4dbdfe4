// RUN: tfm-opt %s --split-input-file --tfm-approximate-vector-math | FileCheck %s

// exp on an f32 vector becomes a polynomial (no libm call per lane); a
// scalar exp keeps libm's accuracy.
// CHECK-LABEL: func.func @exp
// CHECK-SAME: (%[[V:.*]]: vector<16xf32>, %[[S:.*]]: f32)
// CHECK-NOT: math.exp {{.*}} : vector<16xf32>
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: %[[SE:.*]] = math.exp %[[S]] : f32
// CHECK: return %{{.*}}, %[[SE]]
func.func @exp(%v: vector<16xf32>, %s: f32) -> (vector<16xf32>, f32) {
  %0 = math.exp %v : vector<16xf32>
  %1 = math.exp %s : f32
  return %0, %1 : vector<16xf32>, f32
}

// -----

// f64 vectors are not f32: left alone.
// CHECK-LABEL: func.func @f64
// CHECK: math.exp {{.*}} : vector<4xf64>
func.func @f64(%v: vector<4xf64>) -> vector<4xf64> {
  %0 = math.exp %v : vector<4xf64>
  return %0 : vector<4xf64>
}
