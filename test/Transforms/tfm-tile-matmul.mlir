// RUN: tfm-opt %s --split-input-file --tfm-tile-matmul --canonicalize | FileCheck %s
// RUN: tfm-opt %s --split-input-file --tfm-tile-matmul="row-tile=4" --canonicalize | FileCheck %s --check-prefix=ROW4
// RUN: tfm-opt %s --split-input-file --tfm-tile-matmul="parallel-min-weight-bytes=0" --canonicalize | FileCheck %s --check-prefix=BYTES0
// RUN: tfm-opt %s --split-input-file --tfm-tile-matmul="parallel-min-flops=1" --canonicalize | FileCheck %s --check-prefix=FLOPS1
// RUN: tfm-opt %s --split-input-file --tfm-tile-matmul="row-parts=1" --canonicalize | FileCheck %s --check-prefix=ROWP1
// RUN: not tfm-opt %s --split-input-file --tfm-tile-matmul="row-parts=0" 2>&1 | FileCheck %s --check-prefix=BADPARTS
// BADPARTS: error: tfm-tile-matmul: expected row-tile >= 1, k-block >= 1, m-block a multiple of row-tile, n-block >= 1, row-parts >= 1

// A linear layer becomes a call to a kernel of its signature. The kernel
// writes into a destination of the input's leading dimensions, blocks of
// 256 features (8 panels; 16 panels here, so 2 blocks) are shared among
// threads when the problem is big enough, and the micro-kernel keeps 8 rows
// x 2 vectors = 16 accumulators in registers over the K loop: per k, two
// loads of the panel row, one broadcast of A per row, 16 FMAs.

// CHECK-LABEL: func.func @linear
//  CHECK-SAME:   %[[X:[a-z0-9]+]]: tensor<?x?x64xf32>, %[[W:[a-z0-9]+]]: tensor<16x64x32xf32>, %[[B:[a-z0-9]+]]: tensor<512xf32>
//   CHECK-NOT:   tfm.packed_linear
//       CHECK:   %[[A:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]]
//       CHECK:   %[[DEST:.+]] = tensor.empty({{.*}}) : tensor<?x?x512xf32>
//       CHECK:   %[[R:.+]] = call @__tfm_linear_k64_n512_p32_r3_bias(%[[A]], %[[W]], %[[B]], %[[DEST]])
//       CHECK:   return %[[R]]
// CHECK-LABEL: func.func private @__tfm_linear_k64_n512_p32_r3_bias(
//       CHECK:   scf.for
//       CHECK:     scf.for
//       CHECK:       scf.for
//       CHECK:         scf.for
//       CHECK:           scf.for {{.*}} step %c8
//       CHECK:             vector.transfer_read %{{.*}} : tensor<512xf32>, vector<16xf32>
//       CHECK:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x64x32xf32>, vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x64x32xf32>, vector<16xf32>
//  CHECK-NEXT:               tensor.extract
//  CHECK-NEXT:               vector.broadcast
//  CHECK-NEXT:               vector.fma
//  CHECK-NEXT:               vector.fma
//       CHECK-COUNT-14:      vector.fma
//       CHECK:               scf.yield
//       CHECK-COUNT-16:    vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<?x?x512xf32>
// The leftover rows: 2 rows x 4 panels (16 accumulators), 1 x 4 (8), 1 x 1.
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>) {
//       CHECK:   } {tfm.parallel}

// With row-tile=4 the micro-kernel is 4 rows x 2 vectors: 8 accumulators,
// two loads of the panel row and four broadcasts per k.
// ROW4-LABEL: func.func private @__tfm_linear_k64_n512_p32_r3_bias(
//       ROW4:     scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  ROW4-NEXT:       vector.transfer_read %{{.*}} : tensor<16x64x32xf32>, vector<16xf32>
//  ROW4-NEXT:       vector.transfer_read %{{.*}} : tensor<16x64x32xf32>, vector<16xf32>
//  ROW4-NEXT:       tensor.extract
//  ROW4-NEXT:       vector.broadcast
//  ROW4-NEXT:       vector.fma
//  ROW4-NEXT:       vector.fma
//  ROW4-NEXT:       tensor.extract
//  ROW4-COUNT-6:    vector.fma
//  ROW4-NEXT:       scf.yield
func.func @linear(%x: tensor<?x?x64xf32>, %w: tensor<16x64x32xf32>, %b: tensor<512xf32>) -> tensor<?x?x512xf32> {
  %y = tfm.packed_linear %x, %w, %b : tensor<?x?x64xf32>, tensor<16x64x32xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  return %y : tensor<?x?x512xf32>
}

// -----

// Two layers of one signature share one kernel; another signature (no
// bias) gets its own. N = 64 fits one n-block: it is cut into blocks of
// whole panels instead (up to 8; here 2 of one panel), so that the threads
// can share it, from 2^22 flops on (512 rows of 2 x 64 x 64).

// CHECK-LABEL: func.func @shared
//       CHECK:   call @__tfm_linear_k64_n64_p32_r2_bias(
//       CHECK:   call @__tfm_linear_k64_n64_p32_r2_bias(
//       CHECK:   call @__tfm_linear_k64_n64_p32_r2(
// CHECK-LABEL: func.func private @__tfm_linear_k64_n64_p32_r2_bias(
//       CHECK:   %[[BIG:.*]] = arith.cmpi sge, %{{.*}}, %c512
//       CHECK:   arith.select %[[BIG]], %c2, %c1
//       CHECK:   } {tfm.parallel}
// CHECK-LABEL: func.func private @__tfm_linear_k64_n64_p32_r2(
//   CHECK-NOT: func.func private @__tfm
func.func @shared(%x: tensor<?x64xf32>, %w1: tensor<2x64x32xf32>, %w2: tensor<2x64x32xf32>, %b: tensor<64xf32>) -> tensor<?x64xf32> {
  %0 = tfm.packed_linear %x, %w1, %b : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %1 = tfm.packed_linear %0, %w2, %b : tensor<?x64xf32>, tensor<2x64x32xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %2 = tfm.packed_linear %1, %w2 : tensor<?x64xf32>, tensor<2x64x32xf32> -> tensor<?x64xf32>
  return %2 : tensor<?x64xf32>
}

// -----

// The epilogue: ReLU then the residual, applied to the accumulators before
// the one write of C. N = 40 is not a multiple of the panel: the accesses to
// C, bias and residual are masked (not in bounds); the weight's are not.

// The kernel takes the residual's rows to be the input's: checked at run
// time at the call, where both are dynamic.
// CHECK-LABEL: func.func @epilogue
//  CHECK-SAME:   (%[[X:.+]]: tensor<?x16xf32>, %{{.+}}: tensor<2x16x32xf32>, %{{.+}}: tensor<40xf32>, %[[R:.+]]: tensor<?x40xf32>)
//       CHECK:   %[[XR:.+]] = tensor.dim %[[X]], %c0
//       CHECK:   %[[RR:.+]] = tensor.dim %[[R]], %c0
//       CHECK:   %[[SAME:.+]] = arith.cmpi eq, %[[XR]], %[[RR]]
//       CHECK:   cf.assert %[[SAME]], "the operands of the op at {{.+}} have dynamic sizes that disagree"
//       CHECK:   call @__tfm_linear_k16_n40_p32_r2_bias_relu_residual

// CHECK-LABEL: func.func private @__tfm_linear_k16_n40_p32_r2_bias_relu_residual(
//       CHECK:   vector.transfer_read %{{.*}} : tensor<40xf32>, vector<16xf32>
//       CHECK:   vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<2x16x32xf32>, vector<16xf32>
//       CHECK:   vector.fma
//       CHECK:   scf.yield
//       CHECK:   arith.maximumf
//       CHECK:   vector.transfer_read %{{.*}} : tensor<?x40xf32>, vector<16xf32>
//       CHECK:   arith.addf
//       CHECK:   vector.transfer_write %{{.*}} : vector<16xf32>, tensor<?x40xf32>
func.func @epilogue(%x: tensor<?x16xf32>, %w: tensor<2x16x32xf32>, %b: tensor<40xf32>, %r: tensor<?x40xf32>) -> tensor<?x40xf32> {
  %y = tfm.packed_linear %x, %w, %b residual %r activation relu : tensor<?x16xf32>, tensor<2x16x32xf32>, tensor<40xf32> residual tensor<?x40xf32> -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// K = 1100 takes three blocks of 512: the first starts from the bias, the
// others from C so far (scf.if on the block), and only the last applies the
// epilogue (GELU, its erf on vectors).

// CHECK-LABEL: func.func private @__tfm_linear_k1100_n32_p32_r2_bias_gelu(
//       CHECK:   scf.for %{{.*}} = %c0 to %c1100 step %c512
//       CHECK:     scf.if
//       CHECK:       vector.transfer_read %{{.*}} : tensor<32xf32>, vector<16xf32>
//       CHECK:     } else {
//       CHECK:       vector.transfer_read %{{.*}} : tensor<?x32xf32>, vector<16xf32>
//       CHECK:     scf.if
//       CHECK:       math.erf %{{.*}} : vector<16xf32>
func.func @k_blocks(%x: tensor<?x1100xf32>, %w: tensor<1x1100x32xf32>, %b: tensor<32xf32>) -> tensor<?x32xf32> {
  %y = tfm.packed_linear %x, %w, %b activation gelu : tensor<?x1100xf32>, tensor<1x1100x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Not rewritten: a panel that is not a multiple of 16 floats (the reference
// lowering takes it).

// CHECK-LABEL: func.func @narrow_panel
//       CHECK:   tfm.packed_linear
//   CHECK-NOT:   call
func.func @narrow_panel(%x: tensor<?x64xf32>, %w: tensor<8x64x8xf32>) -> tensor<?x64xf32> {
  %y = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<8x64x8xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// When the blocks go to the threads. 64 x 512 weights (128 KiB, under
// parallel-min-weight-bytes): only from 2^22 flops on, 64 rows at 2 x 512 x
// 64 flops a row; fewer rows, a decode step's single row included, take one
// part, which runs on the calling thread without entering OpenMP.
// 512 x 512 weights (1 MiB): always shared, even for one row, whose time
// goes into streaming them. Shared, each block's rows are cut in
// row-parts (16) parts of whole 8-row tiles: blocks x 16 tasks, block by
// block (task / 16 is the block, task % 16 the part); with row-parts=1 the
// blocks alone (ROWP1).
// CHECK-LABEL: func.func @thresholds
// CHECK-LABEL: func.func private @__tfm_linear_k64_n512_p32_r2(
//  CHECK-SAME:   %[[A:[a-z0-9]+]]: tensor<?x64xf32>
//       CHECK:   %[[M:.+]] = tensor.dim %[[A]], %c0
//       CHECK:   %[[BIG:.+]] = arith.cmpi sge, %[[M]], %c64 : index
//       CHECK:   %[[PARTS:.+]] = arith.select %[[BIG]], %c2, %c1 : index
//       CHECK:   %[[ONE:.+]] = arith.cmpi eq, %[[PARTS]], %c1 : index
//       CHECK:   %[[ROWPARTS:.+]] = arith.select %[[ONE]], %c1, %c16 : index
//       CHECK:   %[[PERPART:.+]] = arith.ceildivui %[[M]], %[[ROWPARTS]] : index
//       CHECK:   %[[TILES:.+]] = arith.ceildivui %[[PERPART]], %c8 : index
//       CHECK:   %[[ROWS:.+]] = arith.muli %[[TILES]], %c8 : index
//       CHECK:   %[[TASKS:.+]] = arith.muli %[[ROWPARTS]], %c2 : index
//       CHECK:   %[[LOOP:.+]] = arith.select %[[ONE]], %c1, %[[TASKS]] : index
//       CHECK:   scf.for %{{.+}} = %c0 to %[[LOOP]] step %c1
//       CHECK:     scf.for %[[TASK:.+]] = %{{.+}} to %{{.+}} step %c1
//       CHECK:       %[[BLOCK:.+]] = arith.divui %[[TASK]], %[[ROWPARTS]] : index
//       CHECK:       %[[PART:.+]] = arith.remui %[[TASK]], %[[ROWPARTS]] : index
//       CHECK:       %[[FIRST:.+]] = arith.muli %[[PART]], %[[ROWS]] : index
//       CHECK:       %[[BEGIN:.+]] = arith.minsi %[[FIRST]], %[[M]] : index
//       CHECK:       %[[LAST:.+]] = arith.addi %[[BEGIN]], %[[ROWS]] : index
//       CHECK:       %[[END:.+]] = arith.minsi %[[LAST]], %[[M]] : index
//       CHECK:       scf.for %{{.+}} = %[[BEGIN]] to %[[END]] step %c128
//       CHECK:   } {tfm.parallel}
// CHECK-LABEL: func.func private @__tfm_linear_k512_n512_p32_r2(
//   CHECK-NOT:   arith.select
//       CHECK:   scf.for %{{.+}} = %c0 to %c32 step %c1
//       CHECK:   } {tfm.parallel}
// ROWP1-LABEL: func.func private @__tfm_linear_k512_n512_p32_r2(
//   ROWP1-NOT:   arith.divui
//       ROWP1:   scf.for %{{.+}} = %c0 to %c2 step %c1
//       ROWP1:   } {tfm.parallel}
// With parallel-min-weight-bytes=0 the small weights are shared too; with
// parallel-min-flops=1 any number of rows (1 or more) shares them.
// BYTES0-LABEL: func.func @thresholds
// FLOPS1-LABEL: func.func @thresholds
// BYTES0-LABEL: func.func private @__tfm_linear_k64_n512_p32_r2(
//   BYTES0-NOT:   arith.select
//       BYTES0:   scf.for %{{.+}} = %c0 to %c32 step %c1
// FLOPS1-LABEL: func.func private @__tfm_linear_k64_n512_p32_r2(
//       FLOPS1:   %[[BIG:.+]] = arith.cmpi sge, %{{.+}}, %c1 : index
//       FLOPS1:   arith.select %[[BIG]], %c2, %c1 : index
func.func @thresholds(%x: tensor<?x64xf32>, %w: tensor<16x64x32xf32>,
                      %y: tensor<?x512xf32>, %v: tensor<16x512x32xf32>) -> (tensor<?x512xf32>, tensor<?x512xf32>) {
  %a = tfm.packed_linear %x, %w : tensor<?x64xf32>, tensor<16x64x32xf32> -> tensor<?x512xf32>
  %b = tfm.packed_linear %y, %v : tensor<?x512xf32>, tensor<16x512x32xf32> -> tensor<?x512xf32>
  return %a, %b : tensor<?x512xf32>, tensor<?x512xf32>
}

// -----

// A gated layer (act(x G^T) * (x W^T)): one kernel reads both weights per
// step of k. Its micro-kernel has half the rows (4 of row-tile 8), each with
// 2 vectors per weight: 16 accumulators, four loads (two per weight), one
// broadcast per row. One K block (K = 1100 > k-block 512 here): the
// epilogue, silu of the gate's accumulator times the up's, is the one write
// of C. The leftover rows use 2 x 2 and 1 x 2 panel tiles (16 and 8
// accumulators), then 1 x 1 (4).
// CHECK-LABEL: func.func @gated
//  CHECK-SAME:   %[[X:[a-z0-9]+]]: tensor<?x1100xf32>, %[[G:[a-z0-9]+]]: tensor<3x1100x32xf32>, %[[U:[a-z0-9]+]]: tensor<3x1100x32xf32>, %[[GB:[a-z0-9]+]]: tensor<96xf32>, %[[B:[a-z0-9]+]]: tensor<96xf32>
//   CHECK-NOT:   tfm.packed_gated_linear
//       CHECK:   call @__tfm_linear_k1100_n96_p32_r2_gated_gatebias_bias_silu(%[[X]], %[[G]], %[[U]], %[[GB]], %[[B]], %{{.*}})
// CHECK-LABEL: func.func private @__tfm_linear_k1100_n96_p32_r2_gated_gatebias_bias_silu(
//       CHECK:           scf.for {{.*}} step %c4
//       CHECK:             vector.transfer_read %{{.*}} : tensor<96xf32>, vector<16xf32>
//       CHECK:             vector.transfer_read %{{.*}} : tensor<96xf32>, vector<16xf32>
//       CHECK:             scf.for %{{.*}} = %c0 to %c1100 step %c1 {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xf32>, vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xf32>, vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xf32>, vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xf32>, vector<16xf32>
//  CHECK-NEXT:               tensor.extract
//  CHECK-NEXT:               vector.broadcast
//  CHECK-COUNT-4:            vector.fma
//  CHECK-NEXT:               tensor.extract
//       CHECK:               scf.yield
//       CHECK:             math.exp
//       CHECK:             arith.mulf
//       CHECK-COUNT-8:     vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<?x96xf32>
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//       CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
func.func @gated(%x: tensor<?x1100xf32>, %g: tensor<3x1100x32xf32>, %u: tensor<3x1100x32xf32>,
                 %gb: tensor<96xf32>, %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %y = tfm.packed_gated_linear %x, %g, %u gate_bias %gb bias %b activation silu
      : tensor<?x1100xf32>, tensor<3x1100x32xf32>, tensor<3x1100x32xf32> gate_bias tensor<96xf32> bias tensor<96xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// A bf16 weight: per k the panel row is read as two vectors of 16 bf16
// (64 bytes instead of 128) and widened in registers; the FMAs are the f32
// kernel's. The kernel is its own signature (_bf16).

// CHECK-LABEL: func.func @linear_bf16
//       CHECK:   call @__tfm_linear_k64_n512_p32_r2_bf16_bias(
// CHECK-LABEL: func.func private @__tfm_linear_k64_n512_p32_r2_bf16_bias(
//  CHECK-SAME:   tensor<?x64xf32>, %{{.*}}: tensor<16x64x32xbf16>, %{{.*}}: tensor<512xf32>
//       CHECK:             scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x64x32xbf16>, vector<16xbf16>
//  CHECK-NEXT:               arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x64x32xbf16>, vector<16xbf16>
//  CHECK-NEXT:               arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
//  CHECK-NEXT:               tensor.extract
//  CHECK-NEXT:               vector.broadcast
//  CHECK-NEXT:               vector.fma
//  CHECK-NEXT:               vector.fma
//       CHECK-COUNT-14:      vector.fma
//       CHECK:               scf.yield
func.func @linear_bf16(%x: tensor<?x64xf32>, %w: tensor<16x64x32xbf16>, %b: tensor<512xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w, %b : tensor<?x64xf32>, tensor<16x64x32xbf16>, tensor<512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

// -----

// An int8 weight: read as 16 int8 per vector (32 bytes per panel row),
// converted to f32 in registers; the accumulators start at zero and after
// the K loop C = acc * scale + bias (the bias in the first K block; K = 1100
// has three, the later ones add to C so far), then the epilogue.

// CHECK-LABEL: func.func @linear_int8
//       CHECK:   call @__tfm_linear_k1100_n70_p32_r2_i8_bias_relu(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-LABEL: func.func private @__tfm_linear_k1100_n70_p32_r2_i8_bias_relu(
//  CHECK-SAME:   tensor<?x1100xf32>, %{{.*}}: tensor<3x1100x32xi8>, %[[S:[a-z0-9]+]]: tensor<70xf32>, %[[B:[a-z0-9]+]]: tensor<70xf32>
//       CHECK:             %[[ACC:.*]]:16 = scf.for {{.*}} iter_args({{.*}} = %[[ZERO:cst[_0-9]*]], {{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xi8>, vector<16xi8>
//  CHECK-NEXT:               arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<3x1100x32xi8>, vector<16xi8>
//  CHECK-NEXT:               arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
//  CHECK-NEXT:               tensor.extract
//  CHECK-NEXT:               vector.broadcast
//  CHECK-NEXT:               vector.fma
//  CHECK-NEXT:               vector.fma
//       CHECK-COUNT-14:      vector.fma
//       CHECK:               scf.yield
//       CHECK:             scf.if
//       CHECK:               vector.transfer_read %[[B]]
//       CHECK:             else
//       CHECK:             vector.transfer_read %[[S]]
//       CHECK:             vector.transfer_read %[[S]]
//       CHECK:             vector.fma %[[ACC]]#0
//       CHECK:             arith.maximumf
//       CHECK:             vector.transfer_write
func.func @linear_int8(%x: tensor<?x1100xf32>, %w: tensor<3x1100x32xi8>, %s: tensor<70xf32>, %b: tensor<70xf32>) -> tensor<?x70xf32> {
  %y = tfm.packed_linear %x, %w, %b scales %s activation relu
      : tensor<?x1100xf32>, tensor<3x1100x32xi8>, tensor<70xf32> scales tensor<70xf32> -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// A gated pair of int8 weights: each weight's accumulators get their own
// scales (gate first), then the gating.

// CHECK-LABEL: func.func private @__tfm_linear_k64_n64_p32_r2_i8_gated_silu(
//  CHECK-SAME:   %{{.*}}: tensor<2x64x32xi8>, %{{.*}}: tensor<2x64x32xi8>, %[[GS:[a-z0-9]+]]: tensor<64xf32>, %[[US:[a-z0-9]+]]: tensor<64xf32>
//       CHECK:     scf.yield
//       CHECK:     vector.transfer_read %[[GS]]
//       CHECK:     vector.transfer_read %[[US]]
//       CHECK:     vector.fma
//       CHECK:     arith.mulf
func.func @gated_int8(%x: tensor<?x64xf32>, %g: tensor<2x64x32xi8>, %u: tensor<2x64x32xi8>, %gs: tensor<64xf32>, %us: tensor<64xf32>) -> tensor<?x64xf32> {
  %y = tfm.packed_gated_linear %x, %g, %u gate_scales %gs scales %us activation silu
      : tensor<?x64xf32>, tensor<2x64x32xi8>, tensor<2x64x32xi8> gate_scales tensor<64xf32> scales tensor<64xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// parallel-min-weight-bytes counts the bytes the weights are stored in: an
// int8 512 x 512 weight is 256 KiB (shared for any number of rows, as the
// threshold is 256 KiB); an int8 128 x 512 weight is 64 KiB, not the 256
// KiB of its f32 elements: shared only from 2^22 flops on (32 rows).
// CHECK-LABEL: func.func private @__tfm_linear_k512_n512_p32_r2_i8(
//   CHECK-NOT:   arith.select
//       CHECK:   scf.for %{{.+}} = %c0 to %c32 step %c1
//       CHECK:   } {tfm.parallel}
// CHECK-LABEL: func.func private @__tfm_linear_k512_n128_p32_r2_i8(
//       CHECK:   %[[BIG:.+]] = arith.cmpi sge, %{{.*}}, %c32 : index
//       CHECK:   arith.select %[[BIG]], %c4, %c1 : index
func.func @typed_thresholds(%x: tensor<?x512xf32>, %w: tensor<16x512x32xi8>, %s: tensor<512xf32>,
                            %v: tensor<4x512x32xi8>, %t: tensor<128xf32>) -> (tensor<?x512xf32>, tensor<?x128xf32>) {
  %a = tfm.packed_linear %x, %w scales %s : tensor<?x512xf32>, tensor<16x512x32xi8> scales tensor<512xf32> -> tensor<?x512xf32>
  %b = tfm.packed_linear %x, %v scales %t : tensor<?x512xf32>, tensor<4x512x32xi8> scales tensor<128xf32> -> tensor<?x128xf32>
  return %a, %b : tensor<?x512xf32>, tensor<?x128xf32>
}

// -----

// bf16 weights in k pairs ([NP, ceil(K / 2), P, 2]): A is first rounded to
// bf16, 32 values at a time, into one 32-bit word per pair of k; the weight
// is seen as [NP, ceil(K / 2), 2P]. The micro-kernel, per pair of k: two
// loads of 32 bf16 (16 features x 2 k each), per row A's word broadcast and
// bitcast to 32 bf16, two tfm.dot_bf16 (vdpbf16ps): 16 accumulators, over
// 32 steps for K = 64.

// CHECK-LABEL: func.func private @__tfm_linear_k64_n512_p32_r2_bf16pairs_bias(
//  CHECK-SAME:   %[[A:[a-z0-9]+]]: tensor<?x64xf32>, %[[W:[a-z0-9]+]]: tensor<16x32x32x2xbf16>
//       CHECK:   %[[EMPTY:.*]] = tensor.empty(%{{.*}}) : tensor<?x32xi32>
//       CHECK:   scf.for
//       CHECK:     scf.for
//       CHECK:       vector.transfer_read %[[A]]{{.*}} : tensor<?x64xf32>, vector<32xf32>
//       CHECK:       arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
//       CHECK:       vector.bitcast %{{.*}} : vector<32xbf16> to vector<16xi32>
//       CHECK:       vector.transfer_write {{.*}} : vector<16xi32>, tensor<?x32xi32>
//       CHECK:   tensor.collapse_shape %[[W]] {{\[}}[0], [1], [2, 3]] : tensor<16x32x32x2xbf16> into tensor<16x32x64xbf16>
//       CHECK:             scf.for %{{.*}} = %c0 to %c32 step %c1 {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x32x64xbf16>, vector<32xbf16>
//  CHECK-NEXT:               vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<16x32x64xbf16>, vector<32xbf16>
//  CHECK-NEXT:               tensor.extract %{{.*}} : tensor<?x32xi32>
//  CHECK-NEXT:               vector.broadcast %{{.*}} : i32 to vector<16xi32>
//  CHECK-NEXT:               vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
//  CHECK-NEXT:               tfm.dot_bf16
//  CHECK-NEXT:               tfm.dot_bf16
//       CHECK-COUNT-14:      tfm.dot_bf16
//       CHECK:               scf.yield
//   CHECK-NOT:   vector.fma
//       CHECK: return
func.func @linear_bf16_pairs(%x: tensor<?x64xf32>, %w: tensor<16x32x32x2xbf16>, %b: tensor<512xf32>) -> tensor<?x512xf32> {
  %y = tfm.packed_linear %x, %w, %b : tensor<?x64xf32>, tensor<16x32x32x2xbf16>, tensor<512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
