// The matmuls of an encoder layer of the paper's size (d_model 512, FFN
// 2048): the attention projections (512 -> 512), the FFN's up (512 -> 2048,
// with GELU) and down (2048 -> 512, with the residual).
func.func @encoder_matmuls(%x: tensor<?x512xf32>, %wq: tensor<512x512xf32>,
                           %w1: tensor<2048x512xf32>, %w2: tensor<512x2048xf32>)
    -> tensor<?x512xf32> {
  %q = tfm.linear %x, %wq : tensor<?x512xf32>, tensor<512x512xf32> -> tensor<?x512xf32>
  %h = tfm.linear %q, %w1 : tensor<?x512xf32>, tensor<2048x512xf32> -> tensor<?x2048xf32>
  %g = tfm.gelu %h : tensor<?x2048xf32>
  %y = tfm.linear %g, %w2 : tensor<?x2048xf32>, tensor<512x2048xf32> -> tensor<?x512xf32>
  %r = tfm.add %y, %q : tensor<?x512xf32>
  return %r : tensor<?x512xf32>
}

// The encoder's self-attention: 8 heads of 64.
func.func @encoder_attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                             %v: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
