//===- TfmOps.td - Operations of the tfm dialect -----------*- tablegen -*-===//
//
// Every op states its math in its description. Shape rules that ODS cannot
// express (dimension relations between operands) live in the C++ verifiers
// in TfmOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TFMOPS_TD
#define TFM_DIALECT_TFMOPS_TD

include "dialect/TfmDialect.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Types and attributes
//===----------------------------------------------------------------------===//

def Tfm_F32Tensor : RankedTensorOf<[F32]>;

// A weight in tfm.pack_weight's panels ([NP, K, P]), stored as f32, as bf16,
// or as int8 with one f32 scale per output feature (an operand `scales`
// beside it wherever it is read); or, bf16 only, in k-pair panels
// ([NP, ceil(K / 2), P, 2]: the layout of vdpbf16ps, which multiplies pairs
// of k).
def Tfm_PackedWeightTensor : AnyTypeOf<[TensorRankOf<[F32, BF16, I8], [3]>,
                                        TensorRankOf<[BF16], [4]>]>;
def Tfm_ScalesTensor : TensorRankOf<[F32], [1]>;

def Tfm_MaskKind : I32EnumAttr<"MaskKind", "kind of attention mask", [
    I32EnumAttrCase<"Causal", 0, "causal">,
    I32EnumAttrCase<"KeyPadding", 1, "key_padding">,
    I32EnumAttrCase<"Additive", 2, "additive">
  ]> {
  let cppNamespace = "::mlir::tfm";
}

def Tfm_Activation : I32EnumAttr<"Activation",
    "element-wise function applied in a matmul epilogue", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Relu", 1, "relu">,
    I32EnumAttrCase<"Gelu", 2, "gelu">,
    I32EnumAttrCase<"GeluTanh", 3, "gelu_tanh">,
    I32EnumAttrCase<"Silu", 4, "silu">,
    I32EnumAttrCase<"Tanh", 5, "tanh">
  ]> {
  let cppNamespace = "::mlir::tfm";
}

//===----------------------------------------------------------------------===//
// Graph level
//===----------------------------------------------------------------------===//

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    Looks up one row of `table` (`[vocab, d]`) per token id of `ids`
    (`[batch, seq]`): `result[b, s, :] = table[ids[b, s], :]`.

    The table may also be laid out as `tfm.pack_weight`'s panels
    (`[ceil(vocab / P), d, P]`): `result[b, s, i] = table[v / P, i, v % P]`
    with `v = ids[b, s]`. That is how a table tied to the logits projection
    (GPT-2's `wte`, Marian's `shared`) is stored once, in the layout the
    projection's matmul reads.

    A packed table may be stored in bf16 (rows widened to f32) or in int8
    with `scales` (`[vocab]`): `result[b, s, i] = table[...] * scales[v]`,
    as `tfm.packed_linear` reads the same weight; and in bf16 k-pair panels
    (`[ceil(vocab / P), ceil(d / 2), P, 2]`):
    `result[b, s, i] = table[v / P, i / 2, v % P, i % 2]`.

    Ids outside `[0, vocab)` are a caller error; the runtime rejects them
    before the call (the lowering clamps them so that memory is never read
    out of bounds).

    ```mlir
    %x = tfm.embedding %ids, %table
        : tensor<?x?xi32>, tensor<1000x512xf32> -> tensor<?x?x512xf32>
    %y = tfm.embedding %ids, %packed
        : tensor<?x?xi32>, tensor<32x512x32xf32> -> tensor<?x?x512xf32>
    %z = tfm.embedding %ids, %q scales(%s : tensor<1000xf32>)
        : tensor<?x?xi32>, tensor<32x512x32xi8> -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[I32, I64], [2]>:$ids,
                       AnyTypeOf<[TensorRankOf<[F32], [2]>,
                                  Tfm_PackedWeightTensor]>:$table,
                       Optional<Tfm_ScalesTensor>:$scales);
  let results = (outs TensorRankOf<[F32], [3]>:$result);
  let assemblyFormat = [{
    $ids `,` $table (`scales` `(` $scales^ `:` type($scales) `)`)?
    attr-dict `:` type($ids) `,` type($table) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_PositionalEncodingOp : Tfm_Op<"positional_encoding",
    [Pure, AllTypesMatch<["input", "result"]>, AttrSizedOperandSegments]> {
  let summary = "add the positional encoding";
  let description = [{
    Adds a position-dependent vector to each position of `input`
    (`[batch, seq, d]`). Position `s` of sequence `b` is `p = s`, or
    `p = offsets[b] + s` with `offsets` (`[batch]`, i32 or i64): the
    positions of tokens that continue a sequence (a decoder step).

    Without `table`, the sinusoidal encoding of "Attention Is All You Need":

    ```
    result[b, s, i] = input[b, s, i] + (i even ? sin(p / 10000^(i / d))
                                               : cos(p / 10000^((i-1) / d)))
    ```

    With a learned `table` (`[max_positions, d]`):
    `result[b, s, i] = input[b, s, i] + table[p, i]`; `p` must be below
    `max_positions` (the runtime rejects longer inputs; the lowering clamps
    so that memory is never read out of bounds).

    ```mlir
    %y = tfm.positional_encoding %x : tensor<?x?x512xf32>
    %z = tfm.positional_encoding %x, %table
        : tensor<?x?x512xf32>, tensor<1024x512xf32>
    %w = tfm.positional_encoding %x offsets(%pos : tensor<?xi32>)
        : tensor<?x1x512xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [3]>:$input,
                       Optional<TensorRankOf<[F32], [2]>>:$table,
                       Optional<TensorRankOf<[I32, I64], [1]>>:$offsets);
  let results = (outs TensorRankOf<[F32], [3]>:$result);
  let assemblyFormat = [{
    $input (`,` $table^)? (`offsets` `(` $offsets^ `:` type($offsets) `)`)?
    attr-dict `:` type($input) (`,` type($table)^)?
  }];
  let hasVerifier = 1;
}

def Tfm_RotaryOp : Tfm_Op<"rotary",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding (rotate_half layout)";
  let description = [{
    Rotates each head of `input` (`[batch, heads, seq, d]`, `d` static and
    even, `h = d / 2`) by its token's position, as transformers' Llama
    (`apply_rotary_pos_emb` with `rotate_half`) does: the first and second
    halves of a head rotate together. Position `s` of sequence `b` is
    `p = s`, or `p = offsets[b] + s` with `offsets` (`[batch]`, i32 or i64):
    the positions of tokens that continue a sequence (a decoder step).

    ```
    inv_freq[i] = 1 / theta^(2 i / d)     in f32, i in [0, h)
    f = f32(p) * inv_freq[i mod h]        in f32
    result[b, k, s, i] = x[b, k, s, i] * cos(f) - x[b, k, s, i + h] * sin(f)
                                                                 (i < h)
    result[b, k, s, i] = x[b, k, s, i] * cos(f) + x[b, k, s, i - h] * sin(f)
                                                                 (i >= h)
    ```

    ```mlir
    %q = tfm.rotary %x {theta = 1.000000e+04 : f32} : tensor<?x32x?x128xf32>
    %k = tfm.rotary %y offsets(%pos : tensor<?xi32>) {theta = 5.000000e+05 : f32}
        : tensor<?x8x1x128xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input,
                       Optional<TensorRankOf<[I32, I64], [1]>>:$offsets,
                       DefaultValuedAttr<F32Attr, "10000.0">:$theta);
  let results = (outs TensorRankOf<[F32], [4]>:$result);
  let assemblyFormat = [{
    $input (`offsets` `(` $offsets^ `:` type($offsets) `)`)? attr-dict `:`
    type($input)
  }];
  let hasVerifier = 1;
}

def Tfm_CacheUpdateOp : Tfm_Op<"cache_update",
    [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "write new keys or values into a KV cache";
  let description = [{
    With `cache: [batch, heads, capacity, d]`, `update: [batch, heads, n, d]`
    and `positions: [batch]` (i32 or i64), the result is `cache` with
    `n` positions of each sequence overwritten from `positions[b]` on:

    ```
    result[b, h, positions[b] + t, :] = update[b, h, t, :]    for t < n
    result[b, h, j, :]                = cache[b, h, j, :]     elsewhere
    ```

    Sequences may sit at different positions (a batch of prompts of
    different lengths). `positions[b] + n <= capacity` is the caller's
    contract (the runtime checks it); the lowering clamps the position so
    that memory is never written out of bounds. A cache passed in as a
    writable entry argument is updated in place.

    ```mlir
    %k1 = tfm.cache_update %k into %cache at %pos
        : tensor<?x8x1x64xf32> into tensor<?x8x?x64xf32> at tensor<?xi32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$cache,
                       TensorRankOf<[F32], [4]>:$update,
                       TensorRankOf<[I32, I64], [1]>:$positions);
  let results = (outs TensorRankOf<[F32], [4]>:$result);
  let assemblyFormat = [{
    $update `into` $cache `at` $positions attr-dict `:` type($update) `into`
    type($cache) `at` type($positions)
  }];
  let hasVerifier = 1;
}

def Tfm_LinearOp : Tfm_Op<"linear", [Pure]> {
  let summary = "affine map over the last dimension (torch.nn.Linear)";
  let description = [{
    `result[..., n] = sum_k input[..., k] * weight[n, k] + bias[n]`, with
    `weight` laid out `[out_features, in_features]` as in PyTorch. The bias is
    optional. Leading dimensions of `input` are carried through.

    ```mlir
    %y = tfm.linear %x, %w, %b : tensor<?x?x512xf32>, tensor<2048x512xf32>,
        tensor<2048xf32> -> tensor<?x?x2048xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       TensorRankOf<[F32], [2]>:$weight,
                       Optional<TensorRankOf<[F32], [1]>>:$bias);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_SplitHeadsOp : Tfm_Op<"split_heads", [Pure]> {
  let summary = "split the feature dimension into heads";
  let description = [{
    Reshapes `[batch, seq, heads * dh]` to `[batch, seq, heads, dh]` and
    transposes to `[batch, heads, seq, dh]`:
    `result[b, h, s, j] = input[b, s, h * dh + j]`.

    ```mlir
    %q = tfm.split_heads %x, heads = 8
        : tensor<?x?x512xf32> -> tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [3]>:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads);
  let results = (outs TensorRankOf<[F32], [4]>:$result);
  let assemblyFormat = [{
    $input `,` `heads` `=` $heads attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_MergeHeadsOp : Tfm_Op<"merge_heads", [Pure]> {
  let summary = "concatenate the heads back into the feature dimension";
  let description = [{
    The inverse of `tfm.split_heads`: `[batch, heads, seq, dh]` to
    `[batch, seq, heads * dh]`, `result[b, s, h * dh + j] = input[b, h, s, j]`.
    The head count and head size must be static.

    ```mlir
    %y = tfm.merge_heads %o : tensor<?x8x?x64xf32> -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input);
  let results = (outs TensorRankOf<[F32], [3]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tfm_TransposeOp : Tfm_Op<"transpose", [Pure]> {
  let summary = "permute the dimensions of a tensor";
  let description = [{
    Dimension `i` of the result is dimension `perm[i]` of the input, which
    must be a permutation of `[0, rank)`:

    ```
    dim(result, k) = dim(input, perm[k])
    result[i_0, ..., i_(n-1)] = input[j_0, ..., j_(n-1)]   with j_(perm[k]) = i_k
    ```

    Swapping the last two dimensions turns `K` (`[batch, heads, k_len, d]`)
    into `Kᵀ` for `Q Kᵀ`.

    ```mlir
    %kt = tfm.transpose %k, perm = [0, 1, 3, 2]
        : tensor<?x8x?x64xf32> -> tensor<?x8x64x?xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` `perm` `=` $perm attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_MatmulOp : Tfm_Op<"matmul", [Pure]> {
  let summary = "batched matrix product, optionally with the rhs transposed";
  let description = [{
    Over equal leading (batch) dimensions `...`:

    ```
    result[..., i, j] = sum_k lhs[..., i, k] * rhs[..., k, j]
    result[..., i, j] = sum_k lhs[..., i, k] * rhs[..., j, k]   (transpose_rhs)
    ```

    `transpose_rhs` is how attention scores `Q Kᵀ` are written without
    materializing `Kᵀ`.

    ```mlir
    %s = tfm.matmul %q, %k transpose_rhs
        : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$lhs, Tfm_F32Tensor:$rhs,
                       UnitAttr:$transpose_rhs);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_rhs` $transpose_rhs^)? attr-dict `:` type($lhs)
    `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_ScaleOp : Tfm_Op<"scale", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiply every element by a constant";
  let description = [{
    `result = input * factor`. Attention scores are scaled by
    `1 / sqrt(d_k)` this way; a division by `c` is written as a scale by
    `1 / c`.

    ```mlir
    %y = tfm.scale %s by 1.250000e-01 : tensor<?x8x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input, F32Attr:$factor);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = "$input `by` $factor attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
  let hasVerifier = 1;
}

def Tfm_MaskOp : Tfm_Op<"mask", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "apply an attention mask to scores";
  let description = [{
    Masks attention scores `input` of shape `[batch, heads, q_len, k_len]`
    (`causal` and `additive` accept any rank >= 2; the last two dimensions are
    queries and keys). Masked positions become `-inf`, which the softmax turns
    into a zero probability.

    - `causal`: query `i` sits at absolute position `i + k_len - q_len` (the
      queries are the last `q_len` positions of the sequence, which is what a
      decoder step over a cache needs) and sees keys `j <= i + k_len - q_len`:
      `result = j > i + k_len - q_len ? -inf : input`.
    - `key_padding`, with `values` the key lengths `[batch]`:
      `result[b, h, i, j] = j >= values[b] ? -inf : input[b, h, i, j]`.
    - `additive`, with `values` a tensor that broadcasts to `input` (trailing
      dimensions aligned, each equal or 1): `result = input + values`.

    ```mlir
    %m = tfm.mask causal %s : tensor<?x8x?x?xf32>
    %p = tfm.mask key_padding %s, %lengths : tensor<?x8x?x?xf32>, tensor<?xi32>
    %a = tfm.mask additive %s, %bias : tensor<?x8x?x?xf32>, tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_MaskKind:$kind, Tfm_F32Tensor:$input,
                       Optional<RankedTensorOf<[F32, I32, I64]>>:$values);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $kind $input (`,` $values^)? attr-dict `:` type($input)
    (`,` type($values)^)?
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SoftmaxOp : Tfm_Op<"softmax",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "softmax along one axis";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along `axis` (negative
    values count from the end; the default is the last axis). The row
    maximum is subtracted first so that no exponential overflows.

    A row whose every element is `-inf` (a query that sees no key) gives
    zeros, not NaN.

    ```mlir
    %p = tfm.softmax %s {axis = -1 : i64} : tensor<?x8x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The axis as a non-negative dimension index.
    int64_t getNormalizedAxis() {
      int64_t axis = getAxis();
      return axis < 0 ? axis + getType().getRank() : axis;
    }
  }];
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    Over the last dimension (of size `d`):

    ```
    mean = sum(x) / d
    var  = sum((x - mean)^2) / d
    result = (x - mean) / sqrt(var + epsilon) * weight + bias
    ```

    Mean and variance are computed in f32 with two passes (no
    `E[x^2] - E[x]^2` cancellation).

    ```mlir
    %y = tfm.layer_norm %x, %g, %b {epsilon = 9.99999974E-6 : f32}
        : tensor<?x?x512xf32>, tensor<512xf32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       TensorRankOf<[F32], [1]>:$weight,
                       TensorRankOf<[F32], [1]>:$bias,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Tfm_RmsNormOp : Tfm_Op<"rms_norm",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    Over the last dimension (of size `d`), as transformers' `LlamaRMSNorm`
    computes it (no mean subtracted, no bias):

    ```
    ms = sum(x^2) / d
    result = weight * (x / sqrt(ms + epsilon))
    ```

    The statistic is computed in f32.

    ```mlir
    %y = tfm.rms_norm %x, %g {epsilon = 9.99999997E-7 : f32}
        : tensor<?x?x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       TensorRankOf<[F32], [1]>:$weight,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

class Tfm_UnaryOp<string mnemonic, string summaryText, string math,
                  string note = "">
    : Tfm_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = summaryText;
  let description = "Element-wise: `" # math # "`" # note
      # ".\n\n```mlir\n%y = tfm." # mnemonic # " %x : tensor<?x?x2048xf32>\n```\n";
  let arguments = (ins Tfm_F32Tensor:$input);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tfm_ReluOp : Tfm_UnaryOp<"relu", "rectified linear unit",
                             "result = max(x, 0)">;
def Tfm_GeluOp : Tfm_UnaryOp<"gelu", "GELU, exact erf form",
    "result = 0.5 * x * (1 + erf(x / sqrt(2)))",
    " (PyTorch's default, not the tanh approximation)">;
def Tfm_GeluTanhOp : Tfm_UnaryOp<"gelu_tanh", "GELU, tanh approximation",
    "result = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))",
    " (GPT-2's \"gelu_new\"; PyTorch's `gelu(x, approximate='tanh')`)">;
def Tfm_SiluOp : Tfm_UnaryOp<"silu", "SiLU (swish)",
    "result = x / (1 + exp(-x))", " (x times its sigmoid)">;
def Tfm_TanhOp : Tfm_UnaryOp<"tanh", "hyperbolic tangent",
                             "result = tanh(x)">;

def Tfm_AddOp : Tfm_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "element-wise sum (residual connections)";
  let description = [{
    `result = lhs + rhs`, operands of one type.

    ```mlir
    %y = tfm.add %x, %r : tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$lhs, Tfm_F32Tensor:$rhs);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Tfm_LastTokenOp : Tfm_Op<"last_token", [Pure]> {
  let summary = "the hidden state of each sequence's last token";
  let description = [{
    With `input: [batch, seq, d]` and `lengths: [batch]` (i32 or i64, each
    in `[1, seq]`), the result is `[batch, 1, d]`:

    ```
    result[b, 0, :] = input[b, lengths[b] - 1, :]
    ```

    A prompt pass (prefill) predicts one token per sequence: the final norm
    and the logits projection then run on one row per sequence instead of
    every position. A length outside `[1, seq]` reads the nearest row (the
    runtime never passes one: it refuses empty sequences).

    ```mlir
    %h = tfm.last_token %x, %len : tensor<?x?x1024xf32>, tensor<?xi32>
        -> tensor<?x1x1024xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [3]>:$input,
                       TensorRankOf<[I32, I64], [1]>:$lengths);
  let results = (outs TensorRankOf<[F32], [3]>:$result);
  let assemblyFormat = [{
    $input `,` $lengths attr-dict `:` type($input) `,` type($lengths) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_MulOp : Tfm_Op<"mul", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "element-wise product (gated feed-forward layers)";
  let description = [{
    `result = lhs * rhs`, operands of one type: the gating of a SiLU-gated
    MLP, `down(silu(gate(x)) * up(x))`.

    ```mlir
    %y = tfm.mul %g, %u : tensor<?x?x2816xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$lhs, Tfm_F32Tensor:$rhs);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tfm_RepeatHeadsOp : Tfm_Op<"repeat_heads", [Pure]> {
  let summary = "repeat each key/value head for its group of query heads";
  let description = [{
    Grouped-query attention written out, as transformers' `repeat_kv` does
    it: with `input: [batch, g, seq, d]` and `repeats = r`, the result is
    `[batch, g * r, seq, d]` with

    ```
    result[b, h, s, :] = input[b, h / r, s, :]
    ```

    `tfm-fuse-attention` reads the key/value heads themselves instead:
    `tfm.attention` takes K and V with fewer heads than Q, and no repeated
    copy is made.

    ```mlir
    %k4 = tfm.repeat_heads %k {repeats = 4 : i64}
        : tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$repeats);
  let results = (outs TensorRankOf<[F32], [4]>:$result);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel level
//===----------------------------------------------------------------------===//

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "fused scaled dot-product attention";
  let description = [{
    With `q: [batch, heads, q_len, d]`, `k: [batch, kv_heads, k_len, d]`,
    `v: [batch, kv_heads, k_len, dv]`, where `kv_heads` divides `heads`
    (grouped-query attention; `kv_heads = heads` is multi-head attention),
    query head `h` reads key/value head `g(h) = h / (heads / kv_heads)`:

    ```
    s[b, h, i, j] = scale * sum_d q[b, h, i, d] * k[b, g(h), j, d]
                    + mask[.., i, j]
    s[b, h, i, j] = -inf   where j >= key_lengths[b]
                           or (causal and j > i + k_len - q_len)
    result[b, h, i, :] = sum_j softmax_j(s[b, h, i, :]) * v[b, g(h), j, :]
    ```

    `key_lengths` (`[batch]`, i32 or i64) and the additive `mask`
    (broadcastable to `[batch, heads, q_len, k_len]`) are optional. A query
    row that sees no key gets a zero result, never NaN. The causal triangle
    is aligned to the end of the keys, as `tfm.mask causal` is.

    ```mlir
    %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>)
        {causal, scale = 1.250000e-01 : f32}
        : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
        -> tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$query,
                       TensorRankOf<[F32], [4]>:$key,
                       TensorRankOf<[F32], [4]>:$value,
                       Optional<TensorRankOf<[I32, I64], [1]>>:$key_lengths,
                       Optional<Tfm_F32Tensor>:$mask,
                       F32Attr:$scale, UnitAttr:$causal);
  let results = (outs TensorRankOf<[F32], [4]>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`key_lengths` `(` $key_lengths^ `:` type($key_lengths) `)`)?
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Tfm_PackWeightOp : Tfm_Op<"pack_weight", [Pure]> {
  let summary = "lay a linear weight out as the matmul kernel's panels";
  let description = [{
    Rearranges a PyTorch-layout weight `[N, K]` into `ceil(N / P)` panels of
    `P` output features, each panel `[K, P]` contiguous:
    `result[p, k, j] = weight[p * P + j, k]`, and 0 where `p * P + j >= N`.
    The micro-kernel of `tfm.packed_linear` then reads one contiguous row of
    `P` elements per step of `k`.

    The result's element type is the type the weight is stored in:
    - f32: as is;
    - bf16: rounded to the nearest bf16, ties to even;
    - i8: `clamp(round_even(weight[n, k] / scales[n]), -127, 127)` (0 where
      `scales[n]` is 0), with `scales` (`[N]`, f32, usually
      `tfm.weight_scales` of the same weight) required, and only then.

    A rank-4 bf16 result is the k-pair layout, panels of `P` features by
    pairs of `k` (`[ceil(N / P), ceil(K / 2), P, 2]`):
    `result[p, h, j, r] = weight[p * P + j, 2 * h + r]`, 0 past N or K: per
    pair of k, a panel row is `2P` contiguous values, the operand of
    `vdpbf16ps` (16 features x 2 k per 512-bit register).

    `tfm-pack-weights` inserts it; on a weight that is an entry argument
    it is done ahead of time by `tfmc` (the argument itself is packed), so
    nothing is packed at run time.

    ```mlir
    %p = tfm.pack_weight %w : tensor<2048x512xf32> -> tensor<64x512x32xf32>
    %h = tfm.pack_weight %w : tensor<2048x512xf32> -> tensor<64x512x32xbf16>
    %s = tfm.weight_scales %w : tensor<2048x512xf32> -> tensor<2048xf32>
    %q = tfm.pack_weight %w scales(%s : tensor<2048xf32>)
        : tensor<2048x512xf32> -> tensor<64x512x32xi8>
    %k = tfm.pack_weight %w : tensor<2048x512xf32> -> tensor<64x256x32x2xbf16>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [2]>:$weight,
                       Optional<Tfm_ScalesTensor>:$scales);
  let results = (outs Tfm_PackedWeightTensor:$result);
  let assemblyFormat = [{
    $weight (`scales` `(` $scales^ `:` type($scales) `)`)?
    attr-dict `:` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_WeightScalesOp : Tfm_Op<"weight_scales", [Pure]> {
  let summary = "symmetric int8 scales of a linear weight, one per feature";
  let description = [{
    The scale of each output feature (row) of `weight` (`[N, K]`) for
    symmetric int8 storage: `result[n] = max_k |weight[n, k]| / 127`, so that
    the row's largest magnitude is stored as +-127 and every other value
    with an error of at most `result[n] / 2`.

    ```mlir
    %s = tfm.weight_scales %w : tensor<2048x512xf32> -> tensor<2048xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [2]>:$weight);
  let results = (outs Tfm_ScalesTensor:$result);
  let assemblyFormat = [{
    $weight attr-dict `:` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_PackedLinearOp : Tfm_Op<"packed_linear",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "linear layer on a packed weight, with a fused epilogue";
  let description = [{
    `tfm.linear` on a weight packed by `tfm.pack_weight` (`[NP, K, P]`), with
    the element-wise ops that follow a linear layer folded into the one
    write of its result:

    `result[..., n] = act(sum_k input[..., k] * W[n, k] + bias[n])
                      + residual[..., n]`

    where `W[n, k] = weight[n / P, k, n % P]` (`weight[n / P, k / 2, n % P,
    k % 2]` for a rank-4, k-pair weight; widened to f32 from bf16, or
    `weight[n / P, k, n % P] * scales[n]` from int8: `scales` is required
    with an int8 weight, and only then), `N` is the result's last
    dimension (`NP = ceil(N / P)`), `act` is `activation` (default `none`;
    otherwise the math of the op of that name: `relu`, `gelu` (exact erf
    form), `gelu_tanh`, `silu`, `tanh`) and `bias` and `residual` are
    optional.

    ```mlir
    %y = tfm.packed_linear %x, %w, %b residual %r activation relu
        : tensor<?x?x512xf32>, tensor<64x512x32xf32>, tensor<2048xf32>
          residual tensor<?x?x2048xf32> -> tensor<?x?x2048xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       Tfm_PackedWeightTensor:$weight,
                       Optional<TensorRankOf<[F32], [1]>>:$bias,
                       Optional<Tfm_ScalesTensor>:$scales,
                       Optional<Tfm_F32Tensor>:$residual,
                       DefaultValuedAttr<Tfm_Activation,
                           "::mlir::tfm::Activation::None">:$activation);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`scales` $scales^)?
    (`residual` $residual^)? (`activation` $activation^)? attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)?
    (`scales` type($scales)^)? (`residual` type($residual)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_PackedGatedLinearOp : Tfm_Op<"packed_gated_linear",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "gated linear layer on two packed weights (gated MLPs)";
  let description = [{
    The gated half of a gated MLP (Llama's `silu(gate(x)) * up(x)`) as one
    matmul over two weights packed by `tfm.pack_weight` (`[NP, K, P]`
    each), the gating in the epilogue of its one write:

    `result[..., n] = act(sum_k input[..., k] * G[n, k] + gate_bias[n])
                      * (sum_k input[..., k] * W[n, k] + bias[n])`

    where `G` and `W` are `gate_weight` and `weight` unpacked as for
    `tfm.packed_linear` (both of one element type; int8 ones with
    `gate_scales` and `scales`), `act` is `activation` (the math of the op
    of that name) and both biases are optional.

    ```mlir
    %h = tfm.packed_gated_linear %x, %g, %u activation silu
        : tensor<?x?x1024xf32>, tensor<88x1024x32xf32>, tensor<88x1024x32xf32>
          -> tensor<?x?x2816xf32>
    ```
  }];
  let arguments = (ins Tfm_F32Tensor:$input,
                       Tfm_PackedWeightTensor:$gate_weight,
                       Tfm_PackedWeightTensor:$weight,
                       Optional<TensorRankOf<[F32], [1]>>:$gate_bias,
                       Optional<TensorRankOf<[F32], [1]>>:$bias,
                       Optional<Tfm_ScalesTensor>:$gate_scales,
                       Optional<Tfm_ScalesTensor>:$scales,
                       Tfm_Activation:$activation);
  let results = (outs Tfm_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $gate_weight `,` $weight
    (`gate_bias` $gate_bias^)? (`bias` $bias^)?
    (`gate_scales` $gate_scales^)? (`scales` $scales^)?
    `activation` $activation attr-dict `:`
    type($input) `,` type($gate_weight) `,` type($weight)
    (`gate_bias` type($gate_bias)^)? (`bias` type($bias)^)?
    (`gate_scales` type($gate_scales)^)? (`scales` type($scales)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Vector level (inside kernels)
//===----------------------------------------------------------------------===//

def Tfm_DotBF16Op : Tfm_Op<"dot_bf16",
    [Pure, AllTypesMatch<["acc", "result"]>, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "pairwise bf16 dot products accumulated in f32 (vdpbf16ps)";
  let description = [{
    For each of the 16 lanes `i` of `acc`:
    `result[i] = acc[i] + lhs[2i] * rhs[2i] + lhs[2i+1] * rhs[2i+1]`, the
    bf16 products and their sums in f32, as AVX512-BF16's `vdpbf16ps` does
    (round to nearest even; denormal inputs and results flushed to zero).
    `tfm-tile-matmul` multiplies k-pair panels with it; `tfm-lower-dot-bf16`
    turns it into the instruction's LLVM intrinsic (the target must have
    avx512bf16).

    ```mlir
    %r = tfm.dot_bf16 %acc, %a, %b : vector<32xbf16> -> vector<16xf32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[16], [F32]>:$acc,
                       VectorOfLengthAndType<[32], [BF16]>:$lhs,
                       VectorOfLengthAndType<[32], [BF16]>:$rhs);
  let results = (outs VectorOfLengthAndType<[16], [F32]>:$result);
  let assemblyFormat = [{
    $acc `,` $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
}

#endif // TFM_DIALECT_TFMOPS_TD
