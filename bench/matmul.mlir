// The matmuls of the matmul benchmark (bench/matmul_bench.cpp): one linear
// layer per weight shape [N, K], M (batch x seq) dynamic, the weight an entry
// argument already packed as tfm.pack_weight lays it out: ceil(N / 32) panels
// [K][32], packed[p][k][j] = W[p * 32 + j][k] (0 past N), W the PyTorch-layout
// [N, K] weight; y[m][n] = sum_k x[m][k] * W[n][k].

func.func @linear_512x512(%x: tensor<?x512xf32>, %w: tensor<16x512x32xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<16x512x32xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_1024x1024(%x: tensor<?x1024xf32>, %w: tensor<32x1024x32xf32>) -> tensor<?x1024xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x1024xf32>, tensor<32x1024x32xf32> -> tensor<?x1024xf32>
  return %y : tensor<?x1024xf32>
}

func.func @linear_2048x2048(%x: tensor<?x2048xf32>, %w: tensor<64x2048x32xf32>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x2048xf32>, tensor<64x2048x32xf32> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_2048x512(%x: tensor<?x512xf32>, %w: tensor<64x512x32xf32>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<64x512x32xf32> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_512x2048(%x: tensor<?x2048xf32>, %w: tensor<16x2048x32xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x2048xf32>, tensor<16x2048x32xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_1536x512(%x: tensor<?x512xf32>, %w: tensor<48x512x32xf32>) -> tensor<?x1536xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<48x512x32xf32> -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

func.func @linear_32000x512(%x: tensor<?x512xf32>, %w: tensor<1000x512x32xf32>) -> tensor<?x32000xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<1000x512x32xf32> -> tensor<?x32000xf32>
  return %y : tensor<?x32000xf32>
}
