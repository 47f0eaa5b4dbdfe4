// RUN: tfm-opt %s --tfm-lower-attention="key-block=32 key-chunk=48" --verify-diagnostics
// RUN: tfm-opt %s --tfm-lower-attention="parallel-parts=-1" --verify-diagnostics
// RUN: tfm-opt %s --tfm-lower-attention="key-block=48 key-chunk=96" --verify-diagnostics

// The scratch holds whole key tiles of whole 32-key panels: a chunk that is
// not a multiple of the tile, or a tile that is not a multiple of 32, is
// refused; so is splitting the pairs into no part. (The pass runs on the
// module, which the error names.)
// expected-error @+1 {{tfm-lower-attention: expected query-block >= 1, key-block a multiple of 32, key-chunk a multiple of key-block and parallel-parts >= 0}}
module {
func.func @f(%q: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %q, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
}
