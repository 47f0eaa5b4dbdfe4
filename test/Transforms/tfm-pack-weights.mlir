// RUN: tfm-opt %s --split-input-file --tfm-pack-weights | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-pack-weights=panel=64 \
// RUN:   | FileCheck %s --check-prefix=P64
// RUN: not tfm-opt %s --split-input-file --tfm-pack-weights=panel=24 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BAD-PANEL
// RUN: not tfm-opt %s --split-input-file --tfm-pack-weights=panel=0 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BAD-PANEL

// A panel that is not a positive multiple of 16 is an error (once per split).
// BAD-PANEL: error: tfm-pack-weights: panel must be a positive multiple of 16, got {{(24|0)$}}
// BAD-PANEL-NOT: tfm.packed_linear

// A weight argument marked tfm.weight, used only by a linear: the argument
// itself takes the packed type ([ceil(96 / 32), K, 32]) and tfm.packed; the
// linear reads it directly, nothing is packed at run time.
// CHECK-LABEL: func.func @marked
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>,
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x64x32xf32> {tfm.packed = 32 : i64, tfm.weight = "l.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<96xf32>) -> tensor<?x96xf32>
// CHECK-NOT: tfm.pack_weight
// CHECK-NOT: tfm.linear
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[W]], %[[B]]
// CHECK-SAME: : tensor<?x64xf32>, tensor<3x64x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
// CHECK: return %[[Y]]
// P64-LABEL: func.func @marked
// P64-SAME: tensor<2x64x64xf32> {tfm.packed = 64 : i64, tfm.weight = "l.weight"}
// P64: tfm.packed_linear {{.*}} : tensor<?x64xf32>, tensor<2x64x64xf32>, tensor<96xf32>
func.func @marked(%x: tensor<?x64xf32>, %w: tensor<96x64xf32> {tfm.weight = "l.weight"},
                  %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %y = tfm.linear %x, %w, %b
      : tensor<?x64xf32>, tensor<96x64xf32>, tensor<96xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// The same marked weight under two linears: packed ahead of time once, both
// linears read the argument.
// CHECK-LABEL: func.func @shared
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x?x32xf32>,
// CHECK-SAME: %[[W:[^:]*]]: tensor<2x32x32xf32> {tfm.packed = 32 : i64, tfm.weight = "shared"},
// CHECK-SAME: %[[X2:[^:]*]]: tensor<5x32xf32>)
// CHECK-NOT: tfm.pack_weight
// CHECK: %[[A:.*]] = tfm.packed_linear %[[X]], %[[W]] : tensor<?x?x32xf32>, tensor<2x32x32xf32>
// CHECK: %[[C:.*]] = tfm.packed_linear %[[X2]], %[[W]] : tensor<5x32xf32>, tensor<2x32x32xf32>
// CHECK-NOT: tfm.pack_weight
// CHECK: return %[[A]], %[[C]]
// P64-LABEL: func.func @shared
// P64-SAME: tensor<1x32x64xf32> {tfm.packed = 64 : i64, tfm.weight = "shared"}
func.func @shared(%x: tensor<?x?x32xf32>, %w: tensor<64x32xf32> {tfm.weight = "shared"},
                  %x2: tensor<5x32xf32>) -> (tensor<?x?x64xf32>, tensor<5x64xf32>) {
  %a = tfm.linear %x, %w : tensor<?x?x32xf32>, tensor<64x32xf32> -> tensor<?x?x64xf32>
  %c = tfm.linear %x2, %w : tensor<5x32xf32>, tensor<64x32xf32> -> tensor<5x64xf32>
  return %a, %c : tensor<?x?x64xf32>, tensor<5x64xf32>
}

// -----

// An unmarked argument (a caller's tensor) keeps its [N, K] type and is
// packed by the compiled code: N = 100 gives 4 panels, the last one partial.
// CHECK-LABEL: func.func @unmarked
// CHECK-SAME: (%[[X:[^:]*]]: tensor<7x48xf32>, %[[W:[^:]*]]: tensor<100x48xf32>)
// CHECK-NOT: tfm.packed =
// CHECK: %[[P:.*]] = tfm.pack_weight %[[W]] : tensor<100x48xf32> -> tensor<4x48x32xf32>
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[P]]
// CHECK-SAME: : tensor<7x48xf32>, tensor<4x48x32xf32> -> tensor<7x100xf32>
// CHECK-NOT: tfm.linear
// CHECK: return %[[Y]]
// P64-LABEL: func.func @unmarked
// P64: tfm.pack_weight %{{.*}} : tensor<100x48xf32> -> tensor<2x48x64xf32>
func.func @unmarked(%x: tensor<7x48xf32>, %w: tensor<100x48xf32>) -> tensor<7x100xf32> {
  %y = tfm.linear %x, %w : tensor<7x48xf32>, tensor<100x48xf32> -> tensor<7x100xf32>
  return %y : tensor<7x100xf32>
}

// -----

// A marked weight that is also used by something other than a linear stays
// [N, K] (its other user needs that layout); the linear packs it at run time.
// CHECK-LABEL: func.func @marked_other_use
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x16xf32>,
// CHECK-SAME: %[[W:[^:]*]]: tensor<40x16xf32> {tfm.weight = "tied"})
// CHECK-NOT: tfm.packed =
// CHECK: %[[P:.*]] = tfm.pack_weight %[[W]] : tensor<40x16xf32> -> tensor<2x16x32xf32>
// CHECK: %[[Y:.*]] = tfm.packed_linear %[[X]], %[[P]]
// CHECK: %[[R:.*]] = tfm.relu %[[W]] : tensor<40x16xf32>
// CHECK: return %[[Y]], %[[R]]
func.func @marked_other_use(%x: tensor<?x16xf32>, %w: tensor<40x16xf32> {tfm.weight = "tied"})
    -> (tensor<?x40xf32>, tensor<40x16xf32>) {
  %y = tfm.linear %x, %w : tensor<?x16xf32>, tensor<40x16xf32> -> tensor<?x40xf32>
  %r = tfm.relu %w : tensor<40x16xf32>
  return %y, %r : tensor<?x40xf32>, tensor<40x16xf32>
}

// -----

// A marked weight returned as is is not prepacked either (the result type
// would change).
// CHECK-LABEL: func.func @marked_returned
// CHECK-SAME: %[[W:[^:]*]]: tensor<32x8xf32> {tfm.weight = "w"})
// CHECK-SAME: -> (tensor<?x32xf32>, tensor<32x8xf32>)
// CHECK: tfm.pack_weight %[[W]] : tensor<32x8xf32> -> tensor<1x8x32xf32>
// CHECK: return %{{.*}}, %[[W]]
func.func @marked_returned(%x: tensor<?x8xf32>, %w: tensor<32x8xf32> {tfm.weight = "w"})
    -> (tensor<?x32xf32>, tensor<32x8xf32>) {
  %y = tfm.linear %x, %w : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x32xf32>
  return %y, %w : tensor<?x32xf32>, tensor<32x8xf32>
}

// -----

// A weight that is not an argument (here a constant) is packed in place.
// CHECK-LABEL: func.func @constant_weight
// CHECK: %[[C:.*]] = arith.constant dense<1.000000e+00> : tensor<20x4xf32>
// CHECK: %[[P:.*]] = tfm.pack_weight %[[C]] : tensor<20x4xf32> -> tensor<1x4x32xf32>
// CHECK: tfm.packed_linear %{{.*}}, %[[P]]
func.func @constant_weight(%x: tensor<?x4xf32>) -> tensor<?x20xf32> {
  %w = arith.constant dense<1.0> : tensor<20x4xf32>
  %y = tfm.linear %x, %w : tensor<?x4xf32>, tensor<20x4xf32> -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}

// -----

// Dynamic weight shapes, or a dynamic output size, are left to the reference
// lowering: the linear stays, nothing is packed, the argument keeps its type.
// CHECK-LABEL: func.func @dynamic_weight
// CHECK-SAME: %[[W:[^:]*]]: tensor<?x64xf32> {tfm.weight = "dyn"}
// CHECK-SAME: %[[V:[^:]*]]: tensor<32x?xf32>
// CHECK-SAME: %[[U:[^:]*]]: tensor<32x16xf32> {tfm.weight = "static"})
// CHECK-NOT: tfm.pack_weight
// CHECK-NOT: tfm.packed_linear
// CHECK: tfm.linear %{{.*}}, %[[W]] : tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x?xf32>
// CHECK: tfm.linear %{{.*}}, %[[V]] : tensor<?x?xf32>, tensor<32x?xf32> -> tensor<?x32xf32>
// CHECK: tfm.linear %{{.*}}, %[[U]] : tensor<?x?xf32>, tensor<32x16xf32> -> tensor<?x?xf32>
// CHECK-NOT: tfm.pack_weight
// CHECK-NOT: tfm.packed_linear
func.func @dynamic_weight(%x: tensor<?x64xf32>, %w: tensor<?x64xf32> {tfm.weight = "dyn"},
                          %x2: tensor<?x?xf32>, %v: tensor<32x?xf32>,
                          %u: tensor<32x16xf32> {tfm.weight = "static"})
    -> (tensor<?x?xf32>, tensor<?x32xf32>, tensor<?x?xf32>) {
  %y = tfm.linear %x, %w : tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x?xf32>
  %z = tfm.linear %x2, %v : tensor<?x?xf32>, tensor<32x?xf32> -> tensor<?x32xf32>
  %t = tfm.linear %x2, %u : tensor<?x?xf32>, tensor<32x16xf32> -> tensor<?x?xf32>
  return %y, %z, %t : tensor<?x?xf32>, tensor<?x32xf32>, tensor<?x?xf32>
}

// -----

// A rank-1 input and a weight narrower than a panel (N = 5: one panel).
// CHECK-LABEL: func.func @vector
// CHECK-SAME: tensor<1x3x32xf32> {tfm.packed = 32 : i64, tfm.weight = "v"}
// CHECK: tfm.packed_linear
// CHECK-SAME: : tensor<3xf32>, tensor<1x3x32xf32>, tensor<5xf32> -> tensor<5xf32>
func.func @vector(%x: tensor<3xf32>, %w: tensor<5x3xf32> {tfm.weight = "v"}, %b: tensor<5xf32>)
    -> tensor<5xf32> {
  %y = tfm.linear %x, %w, %b : tensor<3xf32>, tensor<5x3xf32>, tensor<5xf32> -> tensor<5xf32>
  return %y : tensor<5xf32>
}

// -----

// A function declaration is left alone.
// CHECK-LABEL: func.func private @external
// CHECK-SAME: tensor<64x32xf32> {tfm.weight = "ext"}
// CHECK-NOT: tfm.packed =
func.func private @external(%w: tensor<64x32xf32> {tfm.weight = "ext"}) -> tensor<64x32xf32>

// -----

// A function with a caller keeps its signature (the caller passes the
// weight unpacked): the weight is packed by the compiled code.

// CHECK-LABEL: func.func @callee
//  CHECK-SAME:   %{{.*}}: tensor<64x64xf32> {tfm.weight = "w"}
//       CHECK:   tfm.pack_weight
// CHECK-LABEL: func.func @caller
//       CHECK:   call @callee(%{{.*}}, %{{.*}}) : (tensor<?x64xf32>, tensor<64x64xf32>)
func.func @callee(%x: tensor<?x64xf32>, %w: tensor<64x64xf32> {tfm.weight = "w"}) -> tensor<?x64xf32> {
  %y = tfm.linear %x, %w : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
func.func @caller(%x: tensor<?x64xf32>, %w: tensor<64x64xf32>) -> tensor<?x64xf32> {
  %y = call @callee(%x, %w) : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A table tied to the logits projection (GPT-2's wte): packed once for the
// linear, and the embedding of the same function reads the packed table. In
// @tied_encode, which only looks rows up in it, the table is packed too (the
// module stores one layout of each weight).
// CHECK-LABEL: func.func @tied_step
// CHECK-SAME: (%[[IDS:[^:]*]]: tensor<?x?xi32>,
// CHECK-SAME: %[[T:[^:]*]]: tensor<4x16x32xf32> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// CHECK-NOT: tfm.pack_weight
// CHECK: %[[E:.*]] = tfm.embedding %[[IDS]], %[[T]] : tensor<?x?xi32>, tensor<4x16x32xf32> -> tensor<?x?x16xf32>
// CHECK: tfm.packed_linear %[[E]], %[[T]] : tensor<?x?x16xf32>, tensor<4x16x32xf32> -> tensor<?x?x100xf32>
// CHECK-LABEL: func.func @tied_encode
// CHECK-SAME: %{{[^:]*}}: tensor<4x16x32xf32> {tfm.packed = 32 : i64, tfm.weight = "tgt_embed.weight"})
// CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<4x16x32xf32>
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

// Negative case: a table that no linear reads (BERT's word embeddings in a
// BertModel) keeps its row-major layout, which a lookup reads contiguously.
// CHECK-LABEL: func.func @table_only
// CHECK-SAME: tensor<100x16xf32> {tfm.weight = "src_embed.weight"}
// CHECK-NOT: tfm.packed
// CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<?x?xi32>, tensor<100x16xf32>
func.func @table_only(%ids: tensor<?x?xi32>, %t: tensor<100x16xf32> {tfm.weight = "src_embed.weight"})
    -> tensor<?x?x16xf32> {
  %x = tfm.embedding %ids, %t : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x16xf32>
  return %x : tensor<?x?x16xf32>
}
