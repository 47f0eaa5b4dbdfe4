// REQUIRES: compiler
// tfm.attention through the tiled online-softmax kernel (tfm-lower-attention)
// against NumPy, to 1e-5: head dims 32, 40, 64 and 128, value dims that are
// not multiples of the 32-column tile, query and key lengths that are not
// multiples of the tiles (blocks of 8 rows then single rows, 32-key panels,
// 1024-key tiles and chunks), every mask kind, batches holding a sequence
// with no visible key (exact zeros).
//
// RUN: tfmc %s -o %t.so
// A key chunk that is not a multiple of the single-row path's 64-key blocks
// (96): 3 single rows over 200 keys (chunks of 96, 96 and 8), where a block
// that reaches into the next chunk must not count its keys.
// RUN: tfm-opt %s --tfm-lower-attention="key-block=32 key-chunk=96" -o %t.chunk96.mlir
// RUN: tfmc %t.chunk96.mlir -o %t.chunk96.so
// RUN: rm -rf %t.g && %python %S/sdpa_ref.py gen %t.g --batch 2 --heads 2 --sq 3 --sk 200 --dim 64 --seed 7
// RUN: tfm-run %t.chunk96.so --call causal_padded --input %t.g/q.npy --input %t.g/k.npy --input %t.g/v.npy --input %t.g/lengths.npy --output %t.g/cp.npy
// RUN: %python %S/sdpa_ref.py check %t.g %t.g/cp.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-CHUNK96
// CHECK-CHUNK96: PASS shape=[2, 2, 3, 64]
// RUN: rm -rf %t.a %t.b %t.c %t.d %t.e %t.f
// RUN: %python %S/sdpa_ref.py gen %t.a --batch 4 --heads 2 --sq 37 --sk 37 --dim 64 --seed 1
// RUN: %python %S/sdpa_ref.py gen %t.b --batch 4 --heads 2 --sq 13 --sk 1100 --dim 128 --dv 64 --mask-shape 4,1,13,1100 --seed 2
// RUN: %python %S/sdpa_ref.py gen %t.c --batch 2 --heads 1 --sq 1030 --sk 1030 --dim 64 --mask-shape 1030,1030 --seed 3
// RUN: %python %S/sdpa_ref.py gen %t.d --batch 2 --heads 2 --sq 77 --sk 77 --dim 32 --seed 4
// RUN: %python %S/sdpa_ref.py gen %t.e --batch 3 --heads 2 --sq 20 --sk 2100 --dim 40 --dv 24 --seed 5
// RUN: %python %S/sdpa_ref.py gen %t.f --batch 2 --heads 2 --sq 9 --sk 5 --dim 64 --seed 6
//
// RUN: tfm-run %t.so --call plain --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --output %t.a/plain.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/plain.npy --scale 0.125 | FileCheck %s --check-prefix=CHECK-PLAIN
// CHECK-PLAIN: PASS shape=[4, 2, 37, 64]
// RUN: tfm-run %t.so --call causal_padded --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/cp.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/cp.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-CP
// CHECK-CP: PASS shape=[4, 2, 37, 64] {{.*}} exact_zeros=True
//
// Cross-attention shape (13 queries: a block and 5 single rows; 1100
// keys: two chunks), head dim 128,
// Dv 64, per-batch additive mask with -inf entries, key lengths.
// RUN: tfm-run %t.so --call masked_cross --input %t.b/q.npy --input %t.b/k.npy --input %t.b/v.npy --input %t.b/lengths.npy --input %t.b/mask.npy --output %t.b/mc.npy
// RUN: %python %S/sdpa_ref.py check %t.b %t.b/mc.npy --scale 0.088388 --lengths --mask | FileCheck %s --check-prefix=CHECK-MC
// CHECK-MC: PASS shape=[4, 2, 13, 64] {{.*}} exact_zeros=True
//
// Causal with a broadcast [Sq, Sk] mask over 1030 positions (two chunks).
// RUN: tfm-run %t.so --call causal_masked --input %t.c/q.npy --input %t.c/k.npy --input %t.c/v.npy --input %t.c/mask.npy --output %t.c/cm.npy
// RUN: %python %S/sdpa_ref.py check %t.c %t.c/cm.npy --scale 0.125 --causal --mask | FileCheck %s --check-prefix=CHECK-CM
// CHECK-CM: PASS shape=[2, 1, 1030, 64]
//
// Head dim 32, causal with key lengths.
// RUN: tfm-run %t.so --call causal_padded_32 --input %t.d/q.npy --input %t.d/k.npy --input %t.d/v.npy --input %t.d/lengths.npy --output %t.d/cp.npy
// RUN: %python %S/sdpa_ref.py check %t.d %t.d/cp.npy --scale 0.176777 --causal --lengths | FileCheck %s --check-prefix=CHECK-D32
// CHECK-D32: PASS shape=[2, 2, 77, 32] {{.*}} exact_zeros=True
//
// Head dim 40, value dim 24 (a 16 + 8 column tail), 20 queries at the end
// of 2100 keys (three chunks, the last partial), causal with key lengths.
// RUN: tfm-run %t.so --call causal_padded_odd --input %t.e/q.npy --input %t.e/k.npy --input %t.e/v.npy --input %t.e/lengths.npy --output %t.e/cp.npy
// RUN: %python %S/sdpa_ref.py check %t.e %t.e/cp.npy --scale 0.158114 --causal --lengths | FileCheck %s --check-prefix=CHECK-ODD
// CHECK-ODD: PASS shape=[3, 2, 20, 24]
//
// Fewer keys than a panel (5 of 32) under a block of 8 rows: the packed
// panel's missing keys are masked.
// RUN: tfm-run %t.so --call plain --input %t.f/q.npy --input %t.f/k.npy --input %t.f/v.npy --output %t.f/plain.npy
// RUN: %python %S/sdpa_ref.py check %t.f %t.f/plain.npy --scale 0.125 | FileCheck %s --check-prefix=CHECK-FEW
// CHECK-FEW: PASS shape=[2, 2, 9, 64]

func.func @plain(%q: tensor<?x2x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x2x?x64xf32> {
  %o = tfm.attention %q, %k, %v {scale = 0.125 : f32}
      : tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x2x?x64xf32>
  return %o : tensor<?x2x?x64xf32>
}

func.func @causal_padded(%q: tensor<?x2x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>,
                         %len: tensor<?xi32>) -> tensor<?x2x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.125 : f32}
      : tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x2x?x64xf32>
  return %o : tensor<?x2x?x64xf32>
}

func.func @masked_cross(%q: tensor<?x2x?x128xf32>, %k: tensor<?x2x?x128xf32>, %v: tensor<?x2x?x64xf32>,
                        %len: tensor<?xi32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x2x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) mask(%mask : tensor<?x1x?x?xf32>) {scale = 0.088388 : f32}
      : tensor<?x2x?x128xf32>, tensor<?x2x?x128xf32>, tensor<?x2x?x64xf32> -> tensor<?x2x?x64xf32>
  return %o : tensor<?x2x?x64xf32>
}

func.func @causal_masked(%q: tensor<?x1x?x64xf32>, %k: tensor<?x1x?x64xf32>, %v: tensor<?x1x?x64xf32>,
                         %mask: tensor<?x?xf32>) -> tensor<?x1x?x64xf32> {
  %o = tfm.attention %q, %k, %v mask(%mask : tensor<?x?xf32>) {causal, scale = 0.125 : f32}
      : tensor<?x1x?x64xf32>, tensor<?x1x?x64xf32>, tensor<?x1x?x64xf32> -> tensor<?x1x?x64xf32>
  return %o : tensor<?x1x?x64xf32>
}

func.func @causal_padded_32(%q: tensor<?x2x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>,
                            %len: tensor<?xi32>) -> tensor<?x2x?x32xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.176777 : f32}
      : tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x2x?x32xf32>
  return %o : tensor<?x2x?x32xf32>
}

func.func @causal_padded_odd(%q: tensor<?x2x?x40xf32>, %k: tensor<?x2x?x40xf32>, %v: tensor<?x2x?x24xf32>,
                             %len: tensor<?xi32>) -> tensor<?x2x?x24xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.158114 : f32}
      : tensor<?x2x?x40xf32>, tensor<?x2x?x40xf32>, tensor<?x2x?x24xf32> -> tensor<?x2x?x24xf32>
  return %o : tensor<?x2x?x24xf32>
}
