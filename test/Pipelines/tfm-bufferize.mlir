// RUN: tfm-opt %s --split-input-file --tfm-lower-attention --tfm-bufferize | FileCheck %s

// The attention kernels take strided inputs whose innermost stride is 1
// (bufferization.buffer_layout on their arguments): a decode step's keys and
// values, views of its KV caches, are passed as they are (a memref.cast, no
// copy), and so are the fresh queries. The destination keeps the identity
// layout: the kernel's result is the caller's buffer, returned as it is.
//       CHECK: #[[STRIDED:.+]] = affine_map<(d0, d1, d2, d3)[s0, s1, s2, s3] -> (d0 * s1 + s0 + d1 * s2 + d2 * s3 + d3)>
// CHECK-LABEL: func.func @cache_views
//  CHECK-SAME:   (%[[Q:[a-z0-9]+]]: memref<?x8x1x64xf32>, %[[KC:[a-z0-9]+]]: memref<?x8x?x64xf32>, %[[VC:[a-z0-9]+]]: memref<?x8x?x64xf32>
//   CHECK-NOT:   memref.copy
//   CHECK-NOT:   linalg.copy
//       CHECK:   %[[K:.*]] = memref.subview %[[KC]]
//       CHECK:   %[[V:.*]] = memref.subview %[[VC]]
//       CHECK:   %[[DEST:.*]] = memref.alloc
//       CHECK:   %[[QC:.*]] = memref.cast %[[Q]] : memref<?x8x1x64xf32> to memref<?x8x1x64xf32, #[[STRIDED]]>
//       CHECK:   %[[KS:.*]] = memref.cast %[[K]] : {{.*}} to memref<?x8x?x64xf32, #[[STRIDED]]>
//       CHECK:   %[[VS:.*]] = memref.cast %[[V]] : {{.*}} to memref<?x8x?x64xf32, #[[STRIDED]]>
//   CHECK-NOT:   memref.copy
//   CHECK-NOT:   linalg.copy
//       CHECK:   call @__tfm_attention_{{.*}}(%[[QC]], %[[KS]], %[[VS]], %[[DEST]])
//   CHECK-NOT:   memref.copy
//   CHECK-NOT:   linalg.copy
//       CHECK:   return %[[DEST]]
//       CHECK: func.func private @__tfm_attention_{{.*}}(%{{.*}}: memref<?x8x1x64xf32, #[[STRIDED]]>, {{.*}}, %{{.*}}: memref<?x8x1x64xf32>)
func.func @cache_views(%q: tensor<?x8x1x64xf32>, %kc: tensor<?x8x?x64xf32>, %vc: tensor<?x8x?x64xf32>, %n: index) -> tensor<?x8x1x64xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %q, %c0 : tensor<?x8x1x64xf32>
  %k = tensor.extract_slice %kc[0, 0, 0, 0] [%b, 8, %n, 64] [1, 1, 1, 1] : tensor<?x8x?x64xf32> to tensor<?x8x?x64xf32>
  %v = tensor.extract_slice %vc[0, 0, 0, 0] [%b, 8, %n, 64] [1, 1, 1, 1] : tensor<?x8x?x64xf32> to tensor<?x8x?x64xf32>
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x1x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x1x64xf32>
  return %o : tensor<?x8x1x64xf32>
}

// -----

// Rows of a view need only a unit innermost stride: the first 64 of 128
// columns are passed as they are, 128 floats apart.
// CHECK-LABEL: func.func @half_rows
//   CHECK-NOT:   memref.copy
//   CHECK-NOT:   linalg.copy
//       CHECK:   %[[K:.*]] = memref.subview {{.*}} to memref<?x8x?x64xf32, strided<[?, ?, 128, 1]>>
//       CHECK:   %[[KS:.*]] = memref.cast %[[K]]
//       CHECK:   call @__tfm_attention_{{.*}}(%{{.*}}, %[[KS]],
func.func @half_rows(%q: tensor<?x8x?x64xf32>, %kv: tensor<?x8x?x128xf32>) -> tensor<?x8x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %kv, %c0 : tensor<?x8x?x128xf32>
  %n = tensor.dim %kv, %c2 : tensor<?x8x?x128xf32>
  %k = tensor.extract_slice %kv[0, 0, 0, 0] [%b, 8, %n, 64] [1, 1, 1, 1] : tensor<?x8x?x128xf32> to tensor<?x8x?x64xf32>
  %o = tfm.attention %q, %k, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// A view whose innermost stride is not 1 (every other column) cannot be
// passed as it is: it is copied into a contiguous buffer first.
// CHECK-LABEL: func.func @every_other_column
//       CHECK:   %[[K:.*]] = memref.subview {{.*}} to memref<?x8x?x64xf32, strided<[?, ?, 128, 2]>>
//       CHECK:   %[[COPY:.*]] = memref.alloc
//       CHECK:   linalg.copy ins(%[[K]] : {{.*}}) outs(%[[COPY]] :
//       CHECK:   %[[KS:.*]] = memref.cast %[[COPY]]
//       CHECK:   call @__tfm_attention_{{.*}}(%{{.*}}, %[[KS]],
func.func @every_other_column(%q: tensor<?x8x?x64xf32>, %kv: tensor<?x8x?x128xf32>) -> tensor<?x8x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %kv, %c0 : tensor<?x8x?x128xf32>
  %n = tensor.dim %kv, %c2 : tensor<?x8x?x128xf32>
  %k = tensor.extract_slice %kv[0, 0, 0, 0] [%b, 8, %n, 64] [1, 1, 1, 2] : tensor<?x8x?x128xf32> to tensor<?x8x?x64xf32>
  %o = tfm.attention %q, %k, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
