// tfm-pack-weights with weight-type=bf16 and weight-type=i8: the packs store
// that type; int8 ones come with tfm.weight_scales of the weight, which the
// packed_linear (and a packed embedding) take beside it; ahead of time an
// int8 weight's scales become the argument after it.
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=bf16 | FileCheck %s --check-prefix=BF16
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=i8 | FileCheck %s --check-prefix=I8
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights | FileCheck %s --check-prefix=F32
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights="weight-type=bf16 bf16-pairs=true" \
// RUN:   | FileCheck %s --check-prefix=PAIRS
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights="weight-type=i8 bf16-pairs=true" \
// RUN:   | FileCheck %s --check-prefix=PAIRS-I8
// RUN: not tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=f16 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BAD-TYPE

// BAD-TYPE: error: tfm-pack-weights: weight-type must be f32, bf16 or i8, got 'f16'
// BAD-TYPE-NOT: tfm.packed_linear

// A marked weight: the argument takes the packed type in bf16 / i8; int8
// adds the scales argument (named after the weight, tfm.scales_of).
// BF16-LABEL: func.func @marked
// BF16-SAME: %[[W:[^:]*]]: tensor<3x64x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// BF16-SAME: %[[B:[^:]*]]: tensor<96xf32>)
// BF16-NOT: tfm.weight_scales
// BF16: tfm.packed_linear %{{.*}}, %[[W]], %[[B]] : tensor<?x64xf32>, tensor<3x64x32xbf16>, tensor<96xf32> -> tensor<?x96xf32>
// I8-LABEL: func.func @marked
// I8-SAME: %[[W:[^:]*]]: tensor<3x64x32xi8> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// I8-SAME: %[[S:[^:]*]]: tensor<96xf32> {tfm.scales_of = "l.weight", tfm.weight = "l.weight.scales"},
// I8-SAME: %[[B:[^:]*]]: tensor<96xf32>)
// I8-NOT: tfm.weight_scales
// I8-NOT: tfm.pack_weight
// I8: tfm.packed_linear %{{.*}}, %[[W]], %[[B]] scales %[[S]]
// I8-SAME: : tensor<?x64xf32>, tensor<3x64x32xi8>, tensor<96xf32> scales tensor<96xf32> -> tensor<?x96xf32>
// F32-LABEL: func.func @marked
// F32-SAME: tensor<3x64x32xf32> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// F32-NOT: tfm.scales_of
func.func @marked(%x: tensor<?x64xf32>, %w: tensor<96x64xf32> {tfm.weight = "l.weight"},
                  %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x64xf32>, tensor<96x64xf32>, tensor<96xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// An unmarked weight (a caller's tensor) is packed, and quantized, by the
// compiled code.
// BF16-LABEL: func.func @unmarked
// BF16-SAME: (%{{[^:]*}}: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<70x64xf32>)
// BF16: %[[P:.*]] = tfm.pack_weight %[[W]] : tensor<70x64xf32> -> tensor<3x64x32xbf16>
// BF16: tfm.packed_linear %{{.*}}, %[[P]] : tensor<?x64xf32>, tensor<3x64x32xbf16> -> tensor<?x70xf32>
// I8-LABEL: func.func @unmarked
// I8-SAME: (%{{[^:]*}}: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<70x64xf32>)
// I8: %[[S:.*]] = tfm.weight_scales %[[W]] : tensor<70x64xf32> -> tensor<70xf32>
// I8: %[[P:.*]] = tfm.pack_weight %[[W]] scales(%[[S]] : tensor<70xf32>) : tensor<70x64xf32> -> tensor<3x64x32xi8>
// I8: tfm.packed_linear %{{.*}}, %[[P]] scales %[[S]] : tensor<?x64xf32>, tensor<3x64x32xi8> scales tensor<70xf32> -> tensor<?x70xf32>
func.func @unmarked(%x: tensor<?x64xf32>, %w: tensor<70x64xf32>) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x64xf32>, tensor<70x64xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// A table tied to the logits projection: stored once, in the packed type;
// the embeddings read it (int8: with its scales), in the function that
// only looks rows up in it too.
// BF16-LABEL: func.func @tied_step
// BF16-SAME: %[[T:[^:]*]]: tensor<4x16x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// BF16: %[[E:.*]] = tfm.embedding %{{.*}}, %[[T]] : tensor<?x?xi32>, tensor<4x16x32xbf16> -> tensor<?x?x16xf32>
// BF16: tfm.packed_linear %[[E]], %[[T]] : tensor<?x?x16xf32>, tensor<4x16x32xbf16>
// BF16-LABEL: func.func @tied_encode
// BF16-SAME: tensor<4x16x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// I8-LABEL: func.func @tied_step
// I8-SAME: %[[T:[^:]*]]: tensor<4x16x32xi8> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"},
// I8-SAME: %[[S:[^:]*]]: tensor<100xf32> {tfm.scales_of = "tgt_embed.weight", tfm.weight = "tgt_embed.weight.scales"})
// I8: %[[E:.*]] = tfm.embedding %{{.*}}, %[[T]] scales(%[[S]] : tensor<100xf32>) : tensor<?x?xi32>, tensor<4x16x32xi8> -> tensor<?x?x16xf32>
// I8: tfm.packed_linear %[[E]], %[[T]] scales %[[S]] : tensor<?x?x16xf32>, tensor<4x16x32xi8> scales tensor<100xf32>
// I8-LABEL: func.func @tied_encode
// I8-SAME: %[[T:[^:]*]]: tensor<4x16x32xi8> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"},
// I8-SAME: %[[S:[^:]*]]: tensor<100xf32> {tfm.scales_of = "tgt_embed.weight", tfm.weight = "tgt_embed.weight.scales"})
// I8: tfm.embedding %{{.*}}, %[[T]] scales(%[[S]] : tensor<100xf32>)
func.func @tied_step(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32> {tfm.weight = "tgt_embed.weight"})
    -> tensor<?x?x100xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  %y = tfm.linear %x, %t : tensor<?x?x16xf32>, tensor<100x16xf32> -> tensor<?x?x100xf32>
  return %y : tensor<?x?x100xf32>
}
func.func @tied_encode(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32> {tfm.weight = "tgt_embed.weight"})
    -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}

// -----

// Negative case: a table no linear reads keeps f32 and its row-major layout
// whatever the weight type.
// BF16-LABEL: func.func @table_only
// BF16-SAME: tensor<100x16xf32> {tfm.weight = "src_embed.weight"}
// BF16: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32>
// I8-LABEL: func.func @table_only
// I8-SAME: tensor<100x16xf32> {tfm.weight = "src_embed.weight"}
// I8-NOT: scales
// I8: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32>
func.func @table_only(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32> {tfm.weight = "src_embed.weight"})
    -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}

// -----

// With bf16-pairs (tfmc: a target with AVX512-BF16) bf16 weights are packed
// in k pairs, [ceil(N / 32), ceil(K / 2), 32, 2], also a tied table; int8
// and f32 are not affected.
// PAIRS-LABEL: func.func @pairs
// PAIRS-SAME: %[[W:[^:]*]]: tensor<3x32x32x2xbf16> {tfm.packed = 32 : i64, tfm.weight = "l.weight"}
// PAIRS: tfm.packed_linear %{{.*}}, %[[W]] : tensor<?x63xf32>, tensor<3x32x32x2xbf16> -> tensor<?x70xf32>
// PAIRS-I8-LABEL: func.func @pairs
// PAIRS-I8-SAME: tensor<3x63x32xi8>
func.func @pairs(%x: tensor<?x63xf32>, %w: tensor<70x63xf32> {tfm.weight = "l.weight"}) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x63xf32>, tensor<70x63xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}
