// RUN: tfm-opt %s --split-input-file --verify-diagnostics

// Every verifier error of the tfm dialect, one case each.

func.func @embedding_result(%ids: tensor<2x5xi32>, %t: tensor<100x16xf32>) {
  // expected-error @+1 {{expected result of shape [2, 5, 16], got 'tensor<2x5x8xf32>'}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xi32>, tensor<100x16xf32> -> tensor<2x5x8xf32>
  return
}

// -----

func.func @embedding_float_ids(%ids: tensor<2x5xf32>, %t: tensor<100x16xf32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xf32>, tensor<100x16xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_packed_result(%ids: tensor<2x5xi32>, %t: tensor<4x16x32xf32>) {
  // A packed table's rows are [d] = its dimension 1, not its panel width.
  // expected-error @+1 {{expected result of shape [2, 5, 16], got 'tensor<2x5x32xf32>'}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xi32>, tensor<4x16x32xf32> -> tensor<2x5x32xf32>
  return
}

// -----

func.func @embedding_table_rank(%ids: tensor<2x5xi32>, %t: tensor<16xf32>) {
  // expected-error @+1 {{operand #1 must be 2D tensor of 32-bit float values or 3D tensor of 32-bit float or bfloat16 type or 8-bit signless integer values or 4D tensor of bfloat16 type values, but got 'tensor<16xf32>'}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xi32>, tensor<16xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @positional_encoding_type(%x: tensor<2x5x16xf32>) {
  // expected-error @+1 {{all of {input, result} have same type}}
  %0 = "tfm.positional_encoding"(%x) <{operandSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<2x5x16xf32>) -> tensor<2x5x8xf32>
  return
}

// -----

func.func @positional_encoding_offsets(%x: tensor<2x5x16xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{expected offsets of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.positional_encoding %x offsets(%p : tensor<3xi32>) : tensor<2x5x16xf32>
  return
}

// -----

func.func @cache_update_heads(%c: tensor<2x8x16x64xf32>, %u: tensor<2x4x1x64xf32>, %p: tensor<2xi32>) {
  // expected-error @+1 {{expected update of shape [2, 8, ?, 64], got 'tensor<2x4x1x64xf32>'}}
  %0 = tfm.cache_update %u into %c at %p : tensor<2x4x1x64xf32> into tensor<2x8x16x64xf32> at tensor<2xi32>
  return
}

// -----

func.func @cache_update_positions(%c: tensor<?x8x16x64xf32>, %u: tensor<2x8x1x64xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{expected positions of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.cache_update %u into %c at %p : tensor<2x8x1x64xf32> into tensor<?x8x16x64xf32> at tensor<3xi32>
  return
}

// -----

func.func @cache_update_overflow(%c: tensor<?x8x4x64xf32>, %u: tensor<?x8x5x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{expected at most 4 new positions (the cache's capacity), got 5}}
  %0 = tfm.cache_update %u into %c at %p : tensor<?x8x5x64xf32> into tensor<?x8x4x64xf32> at tensor<?xi32>
  return
}

// -----

func.func @cache_update_type(%c: tensor<?x8x4x64xf32>, %u: tensor<?x8x1x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{all of {cache, result} have same type}}
  %0 = "tfm.cache_update"(%c, %u, %p) : (tensor<?x8x4x64xf32>, tensor<?x8x1x64xf32>, tensor<?xi32>) -> tensor<?x8x8x64xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<32x16xf32>) {
  // expected-error @+1 {{expected input of rank >= 1, got 'tensor<f32>'}}
  %0 = tfm.linear %x, %w : tensor<f32>, tensor<32x16xf32> -> tensor<32xf32>
  return
}

// -----

func.func @linear_weight(%x: tensor<?x16xf32>, %w: tensor<32x8xf32>) {
  // expected-error @+1 {{expected weight of shape [?, 16], got 'tensor<32x8xf32>'}}
  %0 = tfm.linear %x, %w : tensor<?x16xf32>, tensor<32x8xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x16xf32>, %w: tensor<32x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{expected bias of shape [32], got 'tensor<16xf32>'}}
  %0 = tfm.linear %x, %w, %b : tensor<?x16xf32>, tensor<32x16xf32>, tensor<16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>) {
  // expected-error @+1 {{expected result of shape [4, 32], got 'tensor<4x16xf32>'}}
  %0 = tfm.linear %x, %w : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @split_heads_divisible(%x: tensor<?x?x18xf32>) {
  // expected-error @+1 {{expected feature size divisible by heads = 4, got 18}}
  %0 = tfm.split_heads %x, heads = 4 : tensor<?x?x18xf32> -> tensor<?x4x?x4xf32>
  return
}

// -----

func.func @split_heads_result(%x: tensor<?x?x16xf32>) {
  // expected-error @+1 {{expected result of shape [?, 4, ?, 4], got 'tensor<?x4x?x8xf32>'}}
  %0 = tfm.split_heads %x, heads = 4 : tensor<?x?x16xf32> -> tensor<?x4x?x8xf32>
  return
}

// -----

func.func @split_heads_zero(%x: tensor<?x?x16xf32>) {
  // expected-error @+1 {{attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = tfm.split_heads %x, heads = 0 : tensor<?x?x16xf32> -> tensor<?x4x?x4xf32>
  return
}

// -----

func.func @merge_heads_dynamic(%x: tensor<?x?x?x4xf32>) {
  // expected-error @+1 {{expected static head count and head size, got 'tensor<?x?x?x4xf32>'}}
  %0 = tfm.merge_heads %x : tensor<?x?x?x4xf32> -> tensor<?x?x?xf32>
  return
}

// -----

func.func @merge_heads_result(%x: tensor<?x4x?x4xf32>) {
  // expected-error @+1 {{expected result of shape [?, ?, 16], got 'tensor<?x?x8xf32>'}}
  %0 = tfm.merge_heads %x : tensor<?x4x?x4xf32> -> tensor<?x?x8xf32>
  return
}

// -----

func.func @transpose_perm_length(%x: tensor<2x3x5xf32>) {
  // expected-error @+1 {{expected perm to be a permutation of [0, 3), got [1, 0]}}
  %0 = tfm.transpose %x, perm = [1, 0] : tensor<2x3x5xf32> -> tensor<3x2x5xf32>
  return
}

// -----

func.func @transpose_perm_repeated(%x: tensor<2x3x5xf32>) {
  // expected-error @+1 {{expected perm to be a permutation of [0, 3), got [0, 2, 2]}}
  %0 = tfm.transpose %x, perm = [0, 2, 2] : tensor<2x3x5xf32> -> tensor<2x5x5xf32>
  return
}

// -----

func.func @transpose_perm_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{expected perm to be a permutation of [0, 2), got [0, 2]}}
  %0 = tfm.transpose %x, perm = [0, 2] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<?x3x5xf32>) {
  // expected-error @+1 {{expected result of shape [5, ?, 3], got 'tensor<5x2x4xf32>'}}
  %0 = tfm.transpose %x, perm = [2, 0, 1] : tensor<?x3x5xf32> -> tensor<5x2x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{expected lhs of rank >= 2, got 'tensor<4xf32>'}}
  %0 = tfm.matmul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<3x5xf32>, %b: tensor<4x7xf32>) {
  // expected-error @+1 {{expected rhs of shape [5, ?], got 'tensor<4x7xf32>'}}
  %0 = tfm.matmul %a, %b : tensor<3x5xf32>, tensor<4x7xf32> -> tensor<3x7xf32>
  return
}

// -----

func.func @matmul_transposed(%a: tensor<2x3x5xf32>, %b: tensor<2x7x4xf32>) {
  // expected-error @+1 {{expected rhs of shape [2, ?, 5], got 'tensor<2x7x4xf32>'}}
  %0 = tfm.matmul %a, %b transpose_rhs : tensor<2x3x5xf32>, tensor<2x7x4xf32> -> tensor<2x3x7xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x5xf32>, %b: tensor<3x5x7xf32>) {
  // expected-error @+1 {{expected rhs of shape [2, 5, ?], got 'tensor<3x5x7xf32>'}}
  %0 = tfm.matmul %a, %b : tensor<2x3x5xf32>, tensor<3x5x7xf32> -> tensor<2x3x7xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<?x3x5xf32>, %b: tensor<2x5x7xf32>) {
  // expected-error @+1 {{expected result of shape [2, 3, 7], got 'tensor<2x3x5xf32>'}}
  %0 = tfm.matmul %a, %b : tensor<?x3x5xf32>, tensor<2x5x7xf32> -> tensor<2x3x5xf32>
  return
}

// -----

func.func @scale_infinite(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected a finite factor, got INF}}
  %0 = tfm.scale %x by 0x7F800000 : tensor<4xf32>
  return
}

// -----

func.func @mask_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected input of rank >= 2, got 'tensor<4xf32>'}}
  %0 = tfm.mask causal %x : tensor<4xf32>
  return
}

// -----

func.func @mask_causal_operand(%x: tensor<2x4x4xf32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expected no operand for a causal mask}}
  %0 = tfm.mask causal %x, %l : tensor<2x4x4xf32>, tensor<2xi32>
  return
}

// -----

func.func @mask_key_padding_missing(%x: tensor<2x4x4xf32>) {
  // expected-error @+1 {{expected key lengths operand for a key_padding mask}}
  %0 = tfm.mask key_padding %x : tensor<2x4x4xf32>
  return
}

// -----

func.func @mask_key_padding_rank(%x: tensor<4x4xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{expected input of rank >= 3 for a key_padding mask, got 'tensor<4x4xf32>'}}
  %0 = tfm.mask key_padding %x, %l : tensor<4x4xf32>, tensor<4xi32>
  return
}

// -----

func.func @mask_key_padding_float(%x: tensor<2x4x4xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{expected integer key lengths, got 'tensor<2xf32>'}}
  %0 = tfm.mask key_padding %x, %l : tensor<2x4x4xf32>, tensor<2xf32>
  return
}

// -----

func.func @mask_key_padding_shape(%x: tensor<2x4x4xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{expected key lengths of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.mask key_padding %x, %l : tensor<2x4x4xf32>, tensor<3xi32>
  return
}

// -----

func.func @mask_additive_missing(%x: tensor<2x4x4xf32>) {
  // expected-error @+1 {{expected mask values operand for an additive mask}}
  %0 = tfm.mask additive %x : tensor<2x4x4xf32>
  return
}

// -----

func.func @mask_additive_type(%x: tensor<2x4x4xf32>, %m: tensor<4x4xi32>) {
  // expected-error @+1 {{expected f32 mask values, got 'tensor<4x4xi32>'}}
  %0 = tfm.mask additive %x, %m : tensor<2x4x4xf32>, tensor<4x4xi32>
  return
}

// -----

func.func @mask_additive_broadcast(%x: tensor<2x4x4xf32>, %m: tensor<3x4xf32>) {
  // expected-error @+1 {{expected mask values broadcastable to [2, 4, 4], got 'tensor<3x4xf32>'}}
  %0 = tfm.mask additive %x, %m : tensor<2x4x4xf32>, tensor<3x4xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{expected axis in [-2, 2), got 2}}
  %0 = tfm.softmax %x {axis = 2} : tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_rank(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{expected input of rank >= 1, got 'tensor<f32>'}}
  %0 = tfm.layer_norm %x, %g, %g : tensor<f32>, tensor<1xf32>, tensor<1xf32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<?x16xf32>, %g: tensor<8xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{expected weight of shape [16], got 'tensor<8xf32>'}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<?x16xf32>, tensor<8xf32>, tensor<16xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x16xf32>, %g: tensor<16xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{expected bias of shape [16], got 'tensor<8xf32>'}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<?x16xf32>, tensor<16xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<?x16xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{expected a positive finite epsilon, got 0}}
  %0 = tfm.layer_norm %x, %g, %g {epsilon = 0.0 : f32} : tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{expected weight of shape [16], got 'tensor<8xf32>'}}
  %0 = tfm.rms_norm %x, %g : tensor<?x16xf32>, tensor<8xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<?x16xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{expected a positive finite epsilon, got -1}}
  %0 = tfm.rms_norm %x, %g {epsilon = -1.0 : f32} : tensor<?x16xf32>, tensor<16xf32>
  return
}

// -----

func.func @rms_norm_rank(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{expected input of rank >= 1, got 'tensor<f32>'}}
  %0 = tfm.rms_norm %x, %g : tensor<f32>, tensor<1xf32>
  return
}

// -----

func.func @last_token_rows(%x: tensor<2x?x16xf32>, %len: tensor<2xi32>) {
  // expected-error @+1 {{expected result of shape [2, 1, 16], got 'tensor<2x2x16xf32>'}}
  %0 = tfm.last_token %x, %len : tensor<2x?x16xf32>, tensor<2xi32> -> tensor<2x2x16xf32>
  return
}

// -----

func.func @last_token_lengths(%x: tensor<2x?x16xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{expected lengths of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.last_token %x, %len : tensor<2x?x16xf32>, tensor<3xi32> -> tensor<2x1x16xf32>
  return
}

// -----

func.func @repeat_heads_result(%k: tensor<?x2x?x64xf32>) {
  // expected-error @+1 {{expected result of shape [?, 8, ?, 64], got 'tensor<?x4x?x64xf32>'}}
  %0 = tfm.repeat_heads %k {repeats = 4 : i64} : tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  return
}

// -----

func.func @repeat_heads_divisible(%k: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{expected result heads divisible by repeats = 4, got 6}}
  %0 = tfm.repeat_heads %k {repeats = 4 : i64} : tensor<?x?x?x64xf32> -> tensor<?x6x?x64xf32>
  return
}

// -----

func.func @repeat_heads_zero(%k: tensor<?x2x?x64xf32>) {
  // expected-error @+1 {{attribute 'repeats' failed to satisfy constraint}}
  %0 = tfm.repeat_heads %k {repeats = 0 : i64} : tensor<?x2x?x64xf32> -> tensor<?x2x?x64xf32>
  return
}

// -----

func.func @mul_types(%a: tensor<?x16xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "tfm.mul"(%a, %b) : (tensor<?x16xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @rotary_odd(%x: tensor<?x8x?x63xf32>) {
  // expected-error @+1 {{expected a static, even head size, got 'tensor<?x8x?x63xf32>'}}
  %0 = tfm.rotary %x : tensor<?x8x?x63xf32>
  return
}

// -----

func.func @rotary_dynamic(%x: tensor<?x8x?x?xf32>) {
  // expected-error @+1 {{expected a static, even head size, got 'tensor<?x8x?x?xf32>'}}
  %0 = tfm.rotary %x : tensor<?x8x?x?xf32>
  return
}

// -----

func.func @rotary_offsets(%x: tensor<2x8x?x64xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{expected offsets of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.rotary %x offsets(%p : tensor<3xi32>) : tensor<2x8x?x64xf32>
  return
}

// -----

func.func @rotary_theta(%x: tensor<?x8x?x64xf32>) {
  // expected-error @+1 {{expected a positive finite theta, got 0}}
  %0 = tfm.rotary %x {theta = 0.0 : f32} : tensor<?x8x?x64xf32>
  return
}

// -----

func.func @add_types(%a: tensor<4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "tfm.add"(%a, %b) : (tensor<4xf32>, tensor<5xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @relu_types(%a: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "tfm.relu"(%a) : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @attention_key(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x32xf32>, %v: tensor<?x8x?x64xf32>) {
  // expected-error @+1 {{expected key of shape [?, ?, ?, 64], got 'tensor<?x8x?x32xf32>'}}
  %0 = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return
}

// -----

func.func @attention_empty_heads(%q: tensor<?x8x?x0xf32>) {
  // expected-error @+1 {{expected non-empty heads}}
  %0 = tfm.attention %q, %q, %q {scale = 0.125 : f32}
      : tensor<?x8x?x0xf32>, tensor<?x8x?x0xf32>, tensor<?x8x?x0xf32> -> tensor<?x8x?x0xf32>
  return
}

// -----

// Grouped-query attention: the key/value heads must divide the query heads.
func.func @attention_kv_heads(%q: tensor<?x8x?x64xf32>, %k: tensor<?x3x?x64xf32>) {
  // expected-error @+1 {{expected key/value heads that divide the 8 query heads, got 3}}
  %0 = tfm.attention %q, %k, %k {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x3x?x64xf32>, tensor<?x3x?x64xf32> -> tensor<?x8x?x64xf32>
  return
}

// -----

// The values have the keys' heads.
func.func @attention_value_heads(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x4x?x64xf32>) {
  // expected-error @+1 {{expected value of shape [?, 2, ?, ?], got 'tensor<?x4x?x64xf32>'}}
  %0 = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x4x?x64xf32> -> tensor<?x8x?x64xf32>
  return
}

// -----

func.func @attention_value(%q: tensor<2x8x?x64xf32>, %k: tensor<2x8x10x64xf32>, %v: tensor<2x8x12x64xf32>) {
  // expected-error @+1 {{expected value of shape [2, 8, 10, ?], got 'tensor<2x8x12x64xf32>'}}
  %0 = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<2x8x?x64xf32>, tensor<2x8x10x64xf32>, tensor<2x8x12x64xf32> -> tensor<2x8x?x64xf32>
  return
}

// -----

func.func @attention_key_lengths(%q: tensor<2x8x?x64xf32>, %k: tensor<2x8x?x64xf32>, %v: tensor<2x8x?x64xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{expected key_lengths of shape [2], got 'tensor<3xi32>'}}
  %0 = tfm.attention %q, %k, %v key_lengths(%l : tensor<3xi32>) {scale = 0.125 : f32}
      : tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32> -> tensor<2x8x?x64xf32>
  return
}

// -----

func.func @attention_mask(%q: tensor<2x8x4x64xf32>, %k: tensor<2x8x6x64xf32>, %v: tensor<2x8x6x64xf32>, %m: tensor<4x5xf32>) {
  // expected-error @+1 {{expected mask broadcastable to [2, 8, 4, 6], got 'tensor<4x5xf32>'}}
  %0 = tfm.attention %q, %k, %v mask(%m : tensor<4x5xf32>) {scale = 0.125 : f32}
      : tensor<2x8x4x64xf32>, tensor<2x8x6x64xf32>, tensor<2x8x6x64xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>) {
  // expected-error @+1 {{expected a finite scale, got nan}}
  %0 = tfm.attention %q, %v, %v {scale = 0x7FC00000 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32> -> tensor<?x8x?x64xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x32xf32>) {
  // expected-error @+1 {{expected result of shape [?, 8, ?, 32], got 'tensor<?x8x?x64xf32>'}}
  %0 = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x32xf32> -> tensor<?x8x?x64xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<8x?x64xf32>, %k: tensor<?x8x?x64xf32>) {
  // expected-error @+1 {{operand #0 must be 4D tensor of 32-bit float values}}
  %0 = "tfm.attention"(%q, %k, %k) {scale = 0.125 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}
      : (tensor<8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) -> tensor<?x8x?x64xf32>
  return
}

// -----

func.func @positional_table_width(%x: tensor<?x?x16xf32>, %t: tensor<64x8xf32>) {
  // expected-error @+1 {{expected table of shape [?, 16], got 'tensor<64x8xf32>'}}
  %0 = tfm.positional_encoding %x, %t : tensor<?x?x16xf32>, tensor<64x8xf32>
  return
}

// -----

func.func @positional_table_rows(%x: tensor<2x65x16xf32>, %t: tensor<64x16xf32>) {
  // expected-error @+1 {{expected at most 64 positions (the table's rows), got 65}}
  %0 = tfm.positional_encoding %x, %t : tensor<2x65x16xf32>, tensor<64x16xf32>
  return
}

// -----

func.func @pack_weight_panels(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected 4 panels of 32 for 100 output features, got 3}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<3x64x32xf32>
  return
}

// -----

func.func @pack_weight_k(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected result of shape [?, 64, 32], got 'tensor<4x32x32xf32>'}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x32x32xf32>
  return
}

// -----

func.func @pack_weight_dynamic_width(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected a static, non-zero panel width, got 'tensor<4x64x?xf32>'}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x?xf32>
  return
}

// -----

func.func @pack_weight_zero_width(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected a static, non-zero panel width, got 'tensor<4x64x0xf32>'}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x0xf32>
  return
}

// -----

func.func @pack_weight_rank(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{result #0 must be 3D tensor of 32-bit float or bfloat16 type or 8-bit signless integer values}}
  %0 = "tfm.pack_weight"(%w) : (tensor<100x64xf32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @pack_weight_int8_no_scales(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected scales with the int8 weight 'tensor<4x64x32xi8>'}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x32xi8>
  return
}

// -----

func.func @pack_weight_bf16_scales(%w: tensor<100x64xf32>, %s: tensor<100xf32>) {
  // expected-error @+1 {{expected no scales with a weight of 'bf16' (only int8 weights take scales)}}
  %0 = tfm.pack_weight %w scales(%s : tensor<100xf32>) : tensor<100x64xf32> -> tensor<4x64x32xbf16>
  return
}

// -----

func.func @pack_weight_scales_shape(%w: tensor<100x64xf32>, %s: tensor<128xf32>) {
  // expected-error @+1 {{expected scales of shape [100], got 'tensor<128xf32>'}}
  %0 = tfm.pack_weight %w scales(%s : tensor<128xf32>) : tensor<100x64xf32> -> tensor<4x64x32xi8>
  return
}

// -----

func.func @pack_weight_element(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{result #0 must be 3D tensor of 32-bit float or bfloat16 type or 8-bit signless integer values or 4D tensor of bfloat16 type values, but got 'tensor<4x64x32xf16>'}}
  %0 = tfm.pack_weight %w : tensor<100x64xf32> -> tensor<4x64x32xf16>
  return
}

// -----

func.func @weight_scales_shape(%w: tensor<100x64xf32>) {
  // expected-error @+1 {{expected result of shape [100], got 'tensor<64xf32>'}}
  %0 = tfm.weight_scales %w : tensor<100x64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @packed_linear_int8_no_scales(%x: tensor<?x64xf32>, %w: tensor<3x64x32xi8>) {
  // expected-error @+1 {{expected scales with the int8 weight 'tensor<3x64x32xi8>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xi8> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_f32_scales(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %s: tensor<96xf32>) {
  // expected-error @+1 {{expected no scales with a weight of 'f32' (only int8 weights take scales)}}
  %0 = tfm.packed_linear %x, %w scales %s : tensor<?x64xf32>, tensor<3x64x32xf32> scales tensor<96xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_scales_shape(%x: tensor<?x64xf32>, %w: tensor<3x64x32xi8>, %s: tensor<100xf32>) {
  // expected-error @+1 {{expected scales of shape [96], got 'tensor<100xf32>'}}
  %0 = tfm.packed_linear %x, %w scales %s : tensor<?x64xf32>, tensor<3x64x32xi8> scales tensor<100xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_gated_linear_gate_scales(%x: tensor<?x64xf32>, %g: tensor<3x64x32xi8>, %u: tensor<3x64x32xi8>, %s: tensor<96xf32>) {
  // expected-error @+1 {{expected gate scales with the int8 weight 'tensor<3x64x32xi8>'}}
  %0 = tfm.packed_gated_linear %x, %g, %u scales %s activation silu
      : tensor<?x64xf32>, tensor<3x64x32xi8>, tensor<3x64x32xi8> scales tensor<96xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_gated_linear_mixed_types(%x: tensor<?x64xf32>, %g: tensor<3x64x32xbf16>, %u: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected the gate weight of the weight's type 'tensor<3x64x32xf32>', got 'tensor<3x64x32xbf16>'}}
  %0 = tfm.packed_gated_linear %x, %g, %u activation silu
      : tensor<?x64xf32>, tensor<3x64x32xbf16>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @embedding_int8_no_scales(%ids: tensor<2x5xi32>, %t: tensor<4x16x32xi8>) {
  // expected-error @+1 {{expected scales with the int8 weight 'tensor<4x16x32xi8>'}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xi32>, tensor<4x16x32xi8> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_scales_panels(%ids: tensor<2x5xi32>, %t: tensor<4x16x32xi8>, %s: tensor<200xf32>) {
  // expected-error @+1 {{expected 7 panels of 32 for 200 output features, got 4}}
  %0 = tfm.embedding %ids, %t scales(%s : tensor<200xf32>) : tensor<2x5xi32>, tensor<4x16x32xi8> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @embedding_f32_scales(%ids: tensor<2x5xi32>, %t: tensor<100x16xf32>, %s: tensor<100xf32>) {
  // expected-error @+1 {{expected no scales with a weight of 'f32' (only int8 weights take scales)}}
  %0 = tfm.embedding %ids, %t scales(%s : tensor<100xf32>) : tensor<2x5xi32>, tensor<100x16xf32> -> tensor<2x5x16xf32>
  return
}

// -----

func.func @packed_linear_dynamic_weight(%x: tensor<?x64xf32>, %w: tensor<?x64x32xf32>) {
  // expected-error @+1 {{expected a static packed weight with non-zero panel width, got 'tensor<?x64x32xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<?x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_zero_width(%x: tensor<4x64xf32>, %w: tensor<3x64x0xf32>) {
  // expected-error @+1 {{expected a static packed weight with non-zero panel width, got 'tensor<3x64x0xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<4x64xf32>, tensor<3x64x0xf32> -> tensor<4x96xf32>
  return
}

// -----

func.func @packed_linear_panels(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected weight of shape [4, 64, 32], got 'tensor<3x64x32xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x100xf32>
  return
}

// -----

func.func @packed_linear_input_k(%x: tensor<?x48xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected input of shape [?, 64], got 'tensor<?x48xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x48xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_bias(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expected bias of shape [96], got 'tensor<64xf32>'}}
  %0 = tfm.packed_linear %x, %w, %b
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<64xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_residual(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>,
                                  %b: tensor<96xf32>, %r: tensor<?x64xf32>) {
  // expected-error @+1 {{expected residual of shape [?, 96], got 'tensor<?x64xf32>'}}
  %0 = tfm.packed_linear %x, %w, %b residual %r
      : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> residual tensor<?x64xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_linear_residual_rows(%x: tensor<4x64xf32>, %w: tensor<3x64x32xf32>,
                                       %b: tensor<96xf32>, %r: tensor<5x96xf32>) {
  // expected-error @+1 {{expected residual of shape [4, 96], got 'tensor<5x96xf32>'}}
  %0 = tfm.packed_linear %x, %w, %b residual %r
      : tensor<4x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> residual tensor<5x96xf32> -> tensor<4x96xf32>
  return
}

// -----

func.func @packed_linear_result_rank(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected a result of the input's rank with a static last dimension, got 'tensor<2x?x96xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<2x?x96xf32>
  return
}

// -----

func.func @packed_linear_dynamic_n(%x: tensor<?x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected a result of the input's rank with a static last dimension, got 'tensor<?x?xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<3x64x32xf32> -> tensor<?x?xf32>
  return
}

// -----

func.func @packed_linear_result_rows(%x: tensor<4x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected result of shape [4, 96], got 'tensor<5x96xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<4x64xf32>, tensor<3x64x32xf32> -> tensor<5x96xf32>
  return
}

// -----

func.func @packed_linear_input_rank(%x: tensor<f32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected input of rank >= 1, got 'tensor<f32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<f32>, tensor<3x64x32xf32> -> tensor<f32>
  return
}

// -----

func.func @packed_linear_activation(%x: tensor<4x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'activation' [none, relu, gelu, gelu_tanh, silu, tanh]}}
  %0 = tfm.packed_linear %x, %w activation sigmoid
      : tensor<4x64xf32>, tensor<3x64x32xf32> -> tensor<4x96xf32>
  return
}

// -----

func.func @packed_linear_rank0_result(%x: tensor<64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected a result of the input's rank with a static last dimension, got 'tensor<f32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<64xf32>, tensor<3x64x32xf32> -> tensor<f32>
  return
}

// -----

// The dialect's discardable attributes (TfmDialect.td), each where and as
// it may appear.

// expected-error @+1 {{tfm.weight of argument 0 must be a non-empty string}}
func.func @weight_not_a_string(%w: tensor<4xf32> {tfm.weight = 3 : i64}) {
  return
}

// -----

// expected-error @+1 {{tfm.weight of argument 0 must be a non-empty string}}
func.func @weight_empty(%w: tensor<4xf32> {tfm.weight = ""}) {
  return
}

// -----

// expected-error @+1 {{tfm.packed of argument 0 must be a positive integer}}
func.func @packed_zero(%w: tensor<1x4x32xf32> {tfm.weight = "w", tfm.packed = 0 : i64}) {
  return
}

// -----

// expected-error @+1 {{tfm.inout of argument 0 must be a unit attribute}}
func.func @inout_not_unit(%c: tensor<4xf32> {tfm.inout = true}) {
  return
}

// -----

// expected-error @+1 {{unknown tfm attribute 'tfm.wieght' on argument 0}}
func.func @misspelled(%w: tensor<4xf32> {tfm.wieght = "w"}) {
  return
}

// -----

// expected-error @+1 {{tfm.entry must be {inputs = [...], inout = array<i64: ...>, results = [...]} on a function}}
func.func @entry_missing_results(%x: tensor<4xf32>) attributes {tfm.entry = {inputs = ["f32[4]"], inout = array<i64>}} {
  return
}

// -----

// expected-error @+1 {{tfm.entry: inout index 1 is not an input}}
func.func @entry_inout_out_of_range(%x: tensor<4xf32>) attributes {tfm.entry = {inputs = ["f32[4]"], inout = array<i64: 1>, results = []}} {
  return
}

// -----

func.func @parallel_not_a_loop(%m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{tfm.parallel must be a unit attribute on scf.for}}
  %v = memref.load %m[%c0] {tfm.parallel} : memref<4xf32>
  return
}

// -----

// expected-error @+1 {{tfm.model_config must be a string on the module}}
module attributes {tfm.model_config = 3 : i64} {
}

// -----

// A config that is not one line would break the manifest's line format.
// expected-error @+1 {{tfm.model_config must be one line}}
module attributes {tfm.model_config = "{\n}"} {
}

// -----

// expected-error @+1 {{tfm.weights must be two hashes of 16 hex digits}}
module attributes {tfm.weights = "0123456789abcdef"} {
}

// -----

func.func @weights_not_on_module() attributes {tfm.weights = "0123456789abcdef fedcba9876543210"} {
  // expected-error @-1 {{tfm.weights must be a string on the module}}
  return
}

// -----

// expected-error @+1 {{unknown tfm attribute 'tfm.fused' on an operation}}
func.func @unknown_on_op() attributes {tfm.fused} {
  return
}

// -----

func.func @packed_gated_linear_types(%x: tensor<?x64xf32>, %g: tensor<2x64x32xf32>, %u: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected the gate weight of the weight's type 'tensor<3x64x32xf32>', got 'tensor<2x64x32xf32>'}}
  %0 = tfm.packed_gated_linear %x, %g, %u activation silu : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_gated_linear_no_activation(%x: tensor<?x64xf32>, %g: tensor<3x64x32xf32>, %u: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected a gate activation, got none}}
  %0 = tfm.packed_gated_linear %x, %g, %u activation none : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_gated_linear_gate_bias(%x: tensor<?x64xf32>, %g: tensor<3x64x32xf32>, %u: tensor<3x64x32xf32>, %b: tensor<80xf32>) {
  // expected-error @+1 {{expected gate bias of shape [96], got 'tensor<80xf32>'}}
  %0 = tfm.packed_gated_linear %x, %g, %u gate_bias %b activation silu : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<3x64x32xf32> gate_bias tensor<80xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @packed_gated_linear_input(%x: tensor<?x48xf32>, %g: tensor<3x64x32xf32>, %u: tensor<3x64x32xf32>) {
  // expected-error @+1 {{expected input of shape [?, 64], got 'tensor<?x48xf32>'}}
  %0 = tfm.packed_gated_linear %x, %g, %u activation silu : tensor<?x48xf32>, tensor<3x64x32xf32>, tensor<3x64x32xf32> -> tensor<?x96xf32>
  return
}

// -----

func.func @dot_bf16_lanes(%acc: vector<8xf32>, %a: vector<16xbf16>) {
  // expected-error @+1 {{operand #0 must be vector of 32-bit float values of length 16, but got 'vector<8xf32>'}}
  %0 = "tfm.dot_bf16"(%acc, %a, %a) : (vector<8xf32>, vector<16xbf16>, vector<16xbf16>) -> vector<8xf32>
  return
}

// -----

func.func @dot_bf16_element(%acc: vector<16xf32>, %a: vector<32xf16>) {
  // expected-error @+1 {{operand #1 must be vector of bfloat16 type values of length 32, but got 'vector<32xf16>'}}
  %0 = "tfm.dot_bf16"(%acc, %a, %a) : (vector<16xf32>, vector<32xf16>, vector<32xf16>) -> vector<16xf32>
  return
}

// -----

func.func @packed_linear_pairs_k(%x: tensor<?x63xf32>, %w: tensor<3x31x32x2xbf16>) {
  // expected-error @+1 {{expected weight of shape [3, 32, 32, 2], got 'tensor<3x31x32x2xbf16>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x63xf32>, tensor<3x31x32x2xbf16> -> tensor<?x70xf32>
  return
}

// -----

func.func @packed_linear_pairs_dynamic_k(%x: tensor<?x?xf32>, %w: tensor<3x32x32x2xbf16>) {
  // expected-error @+1 {{expected a static K with a k-pair weight, got 'tensor<?x?xf32>'}}
  %0 = tfm.packed_linear %x, %w : tensor<?x?xf32>, tensor<3x32x32x2xbf16> -> tensor<?x70xf32>
  return
}

// -----

func.func @packed_linear_pairs_int8(%x: tensor<?x64xf32>, %w: tensor<3x32x32x2xi8>) {
  // expected-error @+1 {{operand #1 must be 3D tensor of 32-bit float or bfloat16 type or 8-bit signless integer values or 4D tensor of bfloat16 type values, but got 'tensor<3x32x32x2xi8>'}}
  %0 = "tfm.packed_linear"(%x, %w) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<?x64xf32>, tensor<3x32x32x2xi8>) -> tensor<?x70xf32>
  return
}

// -----

func.func @pack_weight_pairs_k(%w: tensor<70x63xf32>) {
  // expected-error @+1 {{expected result of shape [?, 32, 32, 2], got 'tensor<3x63x32x2xbf16>'}}
  %0 = tfm.pack_weight %w : tensor<70x63xf32> -> tensor<3x63x32x2xbf16>
  return
}

// -----

func.func @embedding_pairs_d(%ids: tensor<2x5xi32>, %t: tensor<4x8x32x2xbf16>) {
  // expected-error @+1 {{expected a static row size d with ceil(d / 2) = 8 (the k-pair table's dimension 1), got 'tensor<2x5x20xf32>'}}
  %0 = tfm.embedding %ids, %t : tensor<2x5xi32>, tensor<4x8x32x2xbf16> -> tensor<2x5x20xf32>
  return
}
