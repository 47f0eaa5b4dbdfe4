// RUN: tfm-opt %s --tfm-lower-attention="key-block=32 key-chunk=48" --verify-diagnostics
// RUN: tfm-opt %s --tfm-lower-attention="parallel-parts=0" --verify-diagnostics

// The scratch holds whole key blocks: a chunk that is not a multiple of the
// block is refused; so is splitting the pairs into no part.
// expected-error @+1 {{tfm-lower-attention: expected query-block >= 1, key-block >= 1, key-chunk a multiple of key-block and parallel-parts >= 1}}
func.func @f(%q: tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %q, %q {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}
