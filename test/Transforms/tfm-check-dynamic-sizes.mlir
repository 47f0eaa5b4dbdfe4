// RUN: tfm-opt %s --split-input-file --tfm-check-dynamic-sizes | FileCheck %s

// An element-wise op over two inputs of dynamic rows: rows of %a, rows of
// %b and rows of the output are one loop; each pair with a dynamic side is
// asserted equal before the op. Columns are static on every side: no check.

#map = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @add
//  CHECK-SAME:   (%[[A:.+]]: tensor<?x4xf32>, %[[B:.+]]: tensor<?x4xf32>, %[[INIT:.+]]: tensor<?x4xf32>)
//       CHECK:   %[[RA:.+]] = tensor.dim %[[A]], %{{.+}} : tensor<?x4xf32>
//       CHECK:   %[[RB:.+]] = tensor.dim %[[B]], %{{.+}} : tensor<?x4xf32>
//       CHECK:   %[[EQ:.+]] = arith.cmpi eq, %[[RA]], %[[RB]] : index
//       CHECK:   cf.assert %[[EQ]], "the operands of the op at {{.+}}:21:8 have dynamic sizes that disagree"
//       CHECK:   %[[RA2:.+]] = tensor.dim %[[A]]
//       CHECK:   %[[RI:.+]] = tensor.dim %[[INIT]]
//       CHECK:   %[[EQ2:.+]] = arith.cmpi eq, %[[RA2]], %[[RI]] : index
//       CHECK:   cf.assert %[[EQ2]]
//   CHECK-NOT:   cf.assert
//       CHECK:   linalg.generic
func.func @add(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>, %init: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<?x4xf32>, tensor<?x4xf32>) outs(%init : tensor<?x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// A matmul reads K from both inputs: dynamic K is checked, and so are M
// (A and C) and N (B and C), where dynamic.

// CHECK-LABEL: func.func @matmul
//  CHECK-SAME:   (%[[A:.+]]: tensor<?x?xf32>, %[[B:.+]]: tensor<?x8xf32>, %[[C:.+]]: tensor<?x8xf32>)
//       CHECK:   tensor.dim %[[A]], %c0
//       CHECK:   tensor.dim %[[C]], %c0
//       CHECK:   cf.assert
//       CHECK:   tensor.dim %[[A]], %c1
//       CHECK:   tensor.dim %[[B]], %c0
//       CHECK:   cf.assert
//   CHECK-NOT:   cf.assert
//       CHECK:   linalg.matmul
func.func @matmul(%a: tensor<?x?xf32>, %b: tensor<?x8xf32>, %c: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x8xf32>) outs(%c : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A cast that makes a dynamic size static (a kernel's operand) asserts it;
// one that makes a size dynamic needs nothing.

// CHECK-LABEL: func.func @casts
//  CHECK-SAME:   (%[[A:.+]]: tensor<?x4xf32>)
//       CHECK:   %[[ROWS:.+]] = tensor.dim %[[A]], %c0
//       CHECK:   %[[C8:.+]] = arith.constant 8 : index
//       CHECK:   %[[IS8:.+]] = arith.cmpi eq, %[[ROWS]], %[[C8]] : index
//       CHECK:   cf.assert %[[IS8]], "the operands of the op at {{.+}} have dynamic sizes that disagree"
//       CHECK:   tensor.cast %[[A]] : tensor<?x4xf32> to tensor<8x4xf32>
//   CHECK-NOT:   cf.assert
func.func @casts(%a: tensor<?x4xf32>) -> (tensor<8x4xf32>, tensor<?x?xf32>) {
  %0 = tensor.cast %a : tensor<?x4xf32> to tensor<8x4xf32>
  %1 = tensor.cast %a : tensor<?x4xf32> to tensor<?x?xf32>
  return %0, %1 : tensor<8x4xf32>, tensor<?x?xf32>
}

// -----

// No check: static sizes (the verifiers saw them), a single operand per
// loop (a fill), and linalg ops inside loops (a kernel's tiles, which the
// kernel sized itself).

// CHECK-LABEL: func.func @unchecked
//   CHECK-NOT:   cf.assert
func.func @unchecked(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>, %c: tensor<?x4xf32>, %n: index) -> (tensor<2x4xf32>, tensor<?x4xf32>) {
  %0 = tensor.empty() : tensor<2x4xf32>
  %1 = linalg.add ins(%a, %b : tensor<2x4xf32>, tensor<2x4xf32>) outs(%0 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %f = arith.constant 0.0 : f32
  %2 = linalg.fill ins(%f : f32) outs(%c : tensor<?x4xf32>) -> tensor<?x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %3 = scf.for %i = %c0 to %n step %c1 iter_args(%t = %2) -> tensor<?x4xf32> {
    %4 = linalg.add ins(%t, %t : tensor<?x4xf32>, tensor<?x4xf32>) outs(%t : tensor<?x4xf32>) -> tensor<?x4xf32>
    scf.yield %4 : tensor<?x4xf32>
  }
  return %1, %3 : tensor<2x4xf32>, tensor<?x4xf32>
}
