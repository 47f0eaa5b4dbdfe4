// tfm-pack-weights with weight-type=bf16 and weight-type=i8: the packs store
// that type; int8 ones come with tfm.weight_scales of the weight, which the
// packed_linear (and a packed embedding) take beside it; ahead of time an
// int8 weight's scales become the argument after it.
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=bf16 | FileCheck %s --check-prefix=CHECK-BF16
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=i8 | FileCheck %s --check-prefix=CHECK-I8
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights | FileCheck %s --check-prefix=CHECK-F32
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights="weight-type=bf16 bf16-pairs=true" \
// RUN:   | FileCheck %s --check-prefix=CHECK-PAIRS
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights="weight-type=i8 bf16-pairs=true" \
// RUN:   | FileCheck %s --check-prefix=CHECK-PAIRS-I8
// RUN: not tfm-opt %s --split-input-file --tfm-pack-weights=weight-type=f16 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CHECK-BAD-TYPE

// CHECK-BAD-TYPE: error: tfm-pack-weights: weight-type must be f32, bf16 or i8, got 'f16'
// CHECK-BAD-TYPE-NOT: tfm.packed_linear

// A marked weight: the argument takes the packed type in bf16 / i8; int8
// adds the scales argument (named after the weight, tfm.scales_of).
// CHECK-BF16-LABEL: func.func @marked
// CHECK-BF16-SAME: %[[W:[^:]*]]: tensor<3x64x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// CHECK-BF16-SAME: %[[B:[^:]*]]: tensor<96xf32>)
// CHECK-BF16-NOT: tfm.weight_scales
// CHECK-BF16: tfm.packed_linear %{{.*}}, %[[W]], %[[B]] : tensor<?x64xf32>, tensor<3x64x32xbf16>, tensor<96xf32> -> tensor<?x96xf32>
// CHECK-I8-LABEL: func.func @marked
// CHECK-I8-SAME: %[[W:[^:]*]]: tensor<3x64x32xi8> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// CHECK-I8-SAME: %[[S:[^:]*]]: tensor<96xf32> {tfm.scales_of = "l.weight", tfm.weight = "l.weight.scales"},
// CHECK-I8-SAME: %[[B:[^:]*]]: tensor<96xf32>)
// CHECK-I8-NOT: tfm.weight_scales
// CHECK-I8-NOT: tfm.pack_weight
// CHECK-I8: tfm.packed_linear %{{.*}}, %[[W]], %[[B]] scales %[[S]]
// CHECK-I8-SAME: : tensor<?x64xf32>, tensor<3x64x32xi8>, tensor<96xf32> scales tensor<96xf32> -> tensor<?x96xf32>
// CHECK-F32-LABEL: func.func @marked
// CHECK-F32-SAME: tensor<3x64x32xf32> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// CHECK-F32-NOT: tfm.scales_of
func.func @marked(%x: tensor<?x64xf32>, %w: tensor<96x64xf32> {tfm.weight = "l.weight"},
                  %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x64xf32>, tensor<96x64xf32>, tensor<96xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// An unmarked weight (a caller's tensor) is packed, and quantized, by the
// compiled code.
// CHECK-BF16-LABEL: func.func @unmarked
// CHECK-BF16-SAME: (%{{[^:]*}}: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<70x64xf32>)
// CHECK-BF16: %[[P:.*]] = tfm.pack_weight %[[W]] : tensor<70x64xf32> -> tensor<3x64x32xbf16>
// CHECK-BF16: tfm.packed_linear %{{.*}}, %[[P]] : tensor<?x64xf32>, tensor<3x64x32xbf16> -> tensor<?x70xf32>
// CHECK-I8-LABEL: func.func @unmarked
// CHECK-I8-SAME: (%{{[^:]*}}: tensor<?x64xf32>, %[[W:[^:]*]]: tensor<70x64xf32>)
// CHECK-I8: %[[S:.*]] = tfm.weight_scales %[[W]] : tensor<70x64xf32> -> tensor<70xf32>
// CHECK-I8: %[[P:.*]] = tfm.pack_weight %[[W]] scales(%[[S]] : tensor<70xf32>) : tensor<70x64xf32> -> tensor<3x64x32xi8>
// CHECK-I8: tfm.packed_linear %{{.*}}, %[[P]] scales %[[S]] : tensor<?x64xf32>, tensor<3x64x32xi8> scales tensor<70xf32> -> tensor<?x70xf32>
func.func @unmarked(%x: tensor<?x64xf32>, %w: tensor<70x64xf32>) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x64xf32>, tensor<70x64xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// A table tied to the logits projection: stored once, in the packed type;
// the embeddings read it (int8: with its scales), in the function that
// only looks rows up in it too.
// CHECK-BF16-LABEL: func.func @tied_step
// CHECK-BF16-SAME: %[[T:[^:]*]]: tensor<4x16x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// CHECK-BF16: %[[E:.*]] = tfm.embedding %{{.*}}, %[[T]] : tensor<?x?xi32>, tensor<4x16x32xbf16> -> tensor<?x?x16xf32>
// CHECK-BF16: tfm.packed_linear %[[E]], %[[T]] : tensor<?x?x16xf32>, tensor<4x16x32xbf16>
// CHECK-BF16-LABEL: func.func @tied_encode
// CHECK-BF16-SAME: tensor<4x16x32xbf16> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// CHECK-I8-LABEL: func.func @tied_step
// CHECK-I8-SAME: %[[T:[^:]*]]: tensor<4x16x32xi8> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"},
// CHECK-I8-SAME: %[[S:[^:]*]]: tensor<100xf32> {tfm.scales_of = "tgt_embed.weight", tfm.weight = "tgt_embed.weight.scales"})
// CHECK-I8: %[[E:.*]] = tfm.embedding %{{.*}}, %[[T]] scales(%[[S]] : tensor<100xf32>) : tensor<?x?xi32>, tensor<4x16x32xi8> -> tensor<?x?x16xf32>
// CHECK-I8: tfm.packed_linear %[[E]], %[[T]] scales %[[S]] : tensor<?x?x16xf32>, tensor<4x16x32xi8> scales tensor<100xf32>
// CHECK-I8-LABEL: func.func @tied_encode
// CHECK-I8-SAME: %[[T:[^:]*]]: tensor<4x16x32xi8> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"},
// CHECK-I8-SAME: %[[S:[^:]*]]: tensor<100xf32> {tfm.scales_of = "tgt_embed.weight", tfm.weight = "tgt_embed.weight.scales"})
// CHECK-I8: tfm.embedding %{{.*}}, %[[T]] scales(%[[S]] : tensor<100xf32>)
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
// CHECK-BF16-LABEL: func.func @table_only
// CHECK-BF16-SAME: tensor<100x16xf32> {tfm.weight = "src_embed.weight"}
// CHECK-BF16: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32>
// CHECK-I8-LABEL: func.func @table_only
// CHECK-I8-SAME: tensor<100x16xf32> {tfm.weight = "src_embed.weight"}
// CHECK-I8-NOT: scales
// CHECK-I8: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32>
func.func @table_only(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32> {tfm.weight = "src_embed.weight"})
    -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}

// -----

// With bf16-pairs (tfmc: a target with AVX512-BF16) bf16 weights are packed
// in k pairs, [ceil(N / 32), ceil(K / 2), 32, 2], also a tied table; int8
// and f32 are not affected.
// CHECK-PAIRS-LABEL: func.func @pairs
// CHECK-PAIRS-SAME: %[[W:[^:]*]]: tensor<3x32x32x2xbf16> {tfm.packed = 32 : i64, tfm.weight = "l.weight"}
// CHECK-PAIRS: tfm.packed_linear %{{.*}}, %[[W]] : tensor<?x63xf32>, tensor<3x32x32x2xbf16> -> tensor<?x70xf32>
// CHECK-PAIRS-I8-LABEL: func.func @pairs
// CHECK-PAIRS-I8-SAME: tensor<3x63x32xi8>
func.func @pairs(%x: tensor<?x63xf32>, %w: tensor<70x63xf32> {tfm.weight = "l.weight"}) -> tensor<?x70xf32> {
  %y = tfm.linear %x, %w : tensor<?x63xf32>, tensor<70x63xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}
