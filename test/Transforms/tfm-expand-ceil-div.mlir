// RUN: tfm-opt %s --split-input-file --tfm-expand-ceil-div | FileCheck %s --implicit-check-not=arith.ceildivui

// ceil(x / y) for x >= 0 as arith-to-llvm can lower it: 0 when x is 0, else
// (x - 1) / y + 1.
// CHECK-LABEL: func.func @ceil_div
// CHECK-SAME: (%[[X:.*]]: index, %[[Y:.*]]: index)
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[X]], %c0
// CHECK: %[[XM1:.*]] = arith.subi %[[X]], %c1
// CHECK: %[[Q:.*]] = arith.divui %[[XM1]], %[[Y]]
// CHECK: %[[Q1:.*]] = arith.addi %[[Q]], %c1
// CHECK: arith.select %[[ZERO]], %c0, %[[Q1]]
func.func @ceil_div(%x: index, %y: index) -> index {
  %q = arith.ceildivui %x, %y : index
  return %q : index
}

// -----

// Negative case: what upstream's arith-expand would also rewrite (maximumf
// into compare and select) stays as it is, for the kernels' vmaxps.
// CHECK-LABEL: func.func @maximum
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<nnan> : vector<16xf32>
// CHECK-NOT: arith.cmpf
func.func @maximum(%a: vector<16xf32>, %b: vector<16xf32>) -> vector<16xf32> {
  %m = arith.maximumf %a, %b fastmath<nnan> : vector<16xf32>
  return %m : vector<16xf32>
}
