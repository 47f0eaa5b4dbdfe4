// RUN: tfm-opt %s --tfm-to-llvm --verify-diagnostics

// The pipeline stops with a diagnostic on a signature the runtime cannot
// pass, rather than producing an entry point it cannot call.
// expected-error @+1 {{entry point argument #0 has type 'tensor<*xf32>'; expected a ranked tensor of f32, i32 or i64}}
func.func @unranked(%x: tensor<*xf32>) {
  return
}
