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
  // The discardable attributes below are checked where they appear.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let extraClassDeclaration = [{
    /// On a function argument: a model parameter, by its name in the
    /// weights (a non-empty string). Set by the frontend.
    static constexpr ::llvm::StringLiteral kWeightAttrName = "tfm.weight";
    /// On a weight argument: stored in the panel layout of
    /// tfm.pack_weight, panels of this many rows (a positive integer).
    /// Set by tfm-pack-weights.
    static constexpr ::llvm::StringLiteral kPackedAttrName = "tfm.packed";
    /// On a weight argument: the int8 scales (one per output feature) of
    /// the weight of this name, stored as int8 (a non-empty string). Set by
    /// tfm-pack-weights.
    static constexpr ::llvm::StringLiteral kScalesOfAttrName = "tfm.scales_of";
    /// On a function argument: an input the entry updates in place (a KV
    /// cache); a unit attribute.
    static constexpr ::llvm::StringLiteral kInoutAttrName = "tfm.inout";
    /// On a function: an entry point of the runtime's ABI, with its
    /// signature: {inputs = [type strings], inout = array<i64: indices>,
    /// results = [type strings]}. Set by tfm-export-entry-points.
    static constexpr ::llvm::StringLiteral kEntryAttrName = "tfm.entry";
    /// On an scf.for: its iterations are independent and may run on
    /// threads (tfm-lower-parallel-loops); a unit attribute.
    static constexpr ::llvm::StringLiteral kParallelAttrName = "tfm.parallel";
    /// On the module: the model configuration as one line of JSON, stated
    /// in the manifest. Set by tfmc.
    static constexpr ::llvm::StringLiteral kModelConfigAttrName =
        "tfm.model_config";
    /// On the module: the XXH3 hashes of weights.bin and of its index, two
    /// words of 16 hex digits, stated in the manifest. Set by tfmc.
    static constexpr ::llvm::StringLiteral kWeightsAttrName = "tfm.weights";
    /// On the module: the CPU features its code cannot run without, as
    /// LLVM names them, space-separated (one line); written into the
    /// manifest, which the runtime checks before a call. Set by the passes
    /// that emit such instructions (tfm-lower-dot-bf16: avx512bf16).
    static constexpr ::llvm::StringLiteral kCpuFeaturesAttrName =
        "tfm.cpu_features";
  }];
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // TFM_DIALECT_TFMDIALECT_TD
