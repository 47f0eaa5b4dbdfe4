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

// The same layers on weights stored as bf16 in k pairs (tfm.pack_weight's
// rank-4 layout: [ceil(N / 32)][K / 2][32][2], multiplied with vdpbf16ps;
// needs AVX512-BF16) and as int8 with per-feature scales.

func.func @linear_bf16_512x512(%x: tensor<?x512xf32>, %w: tensor<16x256x32x2xbf16>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<16x256x32x2xbf16> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_int8_512x512(%x: tensor<?x512xf32>, %w: tensor<16x512x32xi8>, %s: tensor<512xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x512xf32>, tensor<16x512x32xi8> scales tensor<512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_bf16_1024x1024(%x: tensor<?x1024xf32>, %w: tensor<32x512x32x2xbf16>) -> tensor<?x1024xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x1024xf32>, tensor<32x512x32x2xbf16> -> tensor<?x1024xf32>
  return %y : tensor<?x1024xf32>
}

func.func @linear_int8_1024x1024(%x: tensor<?x1024xf32>, %w: tensor<32x1024x32xi8>, %s: tensor<1024xf32>) -> tensor<?x1024xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x1024xf32>, tensor<32x1024x32xi8> scales tensor<1024xf32> -> tensor<?x1024xf32>
  return %y : tensor<?x1024xf32>
}

func.func @linear_bf16_2048x2048(%x: tensor<?x2048xf32>, %w: tensor<64x1024x32x2xbf16>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x2048xf32>, tensor<64x1024x32x2xbf16> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_int8_2048x2048(%x: tensor<?x2048xf32>, %w: tensor<64x2048x32xi8>, %s: tensor<2048xf32>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x2048xf32>, tensor<64x2048x32xi8> scales tensor<2048xf32> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_bf16_2048x512(%x: tensor<?x512xf32>, %w: tensor<64x256x32x2xbf16>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<64x256x32x2xbf16> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_int8_2048x512(%x: tensor<?x512xf32>, %w: tensor<64x512x32xi8>, %s: tensor<2048xf32>) -> tensor<?x2048xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x512xf32>, tensor<64x512x32xi8> scales tensor<2048xf32> -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

func.func @linear_bf16_512x2048(%x: tensor<?x2048xf32>, %w: tensor<16x1024x32x2xbf16>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x2048xf32>, tensor<16x1024x32x2xbf16> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_int8_512x2048(%x: tensor<?x2048xf32>, %w: tensor<16x2048x32xi8>, %s: tensor<512xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x2048xf32>, tensor<16x2048x32xi8> scales tensor<512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @linear_bf16_1536x512(%x: tensor<?x512xf32>, %w: tensor<48x256x32x2xbf16>) -> tensor<?x1536xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<48x256x32x2xbf16> -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

func.func @linear_int8_1536x512(%x: tensor<?x512xf32>, %w: tensor<48x512x32xi8>, %s: tensor<1536xf32>) -> tensor<?x1536xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x512xf32>, tensor<48x512x32xi8> scales tensor<1536xf32> -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

func.func @linear_bf16_32000x512(%x: tensor<?x512xf32>, %w: tensor<1000x256x32x2xbf16>) -> tensor<?x32000xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x512xf32>, tensor<1000x256x32x2xbf16> -> tensor<?x32000xf32>
  return %y : tensor<?x32000xf32>
}

func.func @linear_int8_32000x512(%x: tensor<?x512xf32>, %w: tensor<1000x512x32xi8>, %s: tensor<32000xf32>) -> tensor<?x32000xf32> {
  %y = tfm.packed_linear %x, %w scales %s : tensor<?x512xf32>, tensor<1000x512x32xi8> scales tensor<32000xf32> -> tensor<?x32000xf32>
  return %y : tensor<?x32000xf32>
}
