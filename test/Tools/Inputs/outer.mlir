// Input for the tool tests (not a test itself): results whose size the
// inputs choose. outer(a[m, 1], b[1, n]) is m x n; add needs equal rows;
// attend needs keys and values of one length and one batch.
func.func @outer(%a: tensor<?x1xf32>, %b: tensor<1x?xf32>) -> tensor<?x?xf32> {
  %0 = tfm.matmul %a, %b : tensor<?x1xf32>, tensor<1x?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

func.func @add(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.add %a, %b : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

func.func @attend(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %0 = tfm.attention %q, %k, %v {scale = 0.35355339 : f32}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %0 : tensor<?x2x?x8xf32>
}
