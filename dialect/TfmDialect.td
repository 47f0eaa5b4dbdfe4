//===- TfmDialect.td - The tfm dialect ---------------------*- tablegen -*-===//
//
// The dialect in which tfm describes a transformer: a graph level written the
// way a model is written down, and a kernel level (tfm.attention) that the
// fusion passes produce.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFMDIALECT_TD
#define TFM_DIALECT_TFMDIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::mlir::tfm";
  let summary = "Transformer model operations";
  let description = [{
    The `tfm` dialect describes transformer models on ranked tensors of f32.

    Graph level: the ops a model is written in (`tfm.embedding`,
    `tfm.positional_encoding`, `tfm.linear`, `tfm.split_heads`,
    `tfm.merge_heads`, `tfm.matmul`, `tfm.scale`, `tfm.mask`, `tfm.softmax`,
    `tfm.layer_norm`, `tfm.relu`, `tfm.gelu`, `tfm.gelu_tanh`, `tfm.silu`,
    `tfm.tanh`, `tfm.add`). Attention appears as
    the chain `matmul(Q, Kᵀ) → scale → mask → softmax → matmul(·, V)`.

    Kernel level: `tfm.attention`, the fused form of that chain, with the
    masks expressed as key lengths and a causal flag where possible.

    Shapes may be dynamic (`?`) wherever a size is only known at run time
    (batch, sequence length).
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // TFM_DIALECT_TFMDIALECT_TD
