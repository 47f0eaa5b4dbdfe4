// REQUIRES: compiler
// tfm.attention through the tiled online-softmax kernel (tfm-lower-attention)
// against NumPy, to 1e-5: head dims 64 and 128, query and key lengths that
// are not multiples of the tiles (4 rows, 64 keys, 512-key chunks), every
// mask kind, batches holding a sequence with no visible key (exact zeros).
//
// RUN: tfmc %s -o %t.so
// RUN: rm -rf %t.a %t.b %t.c
// RUN: %python %S/sdpa_ref.py gen %t.a --batch 4 --heads 2 --sq 37 --sk 37 --dim 64 --seed 1
// RUN: %python %S/sdpa_ref.py gen %t.b --batch 4 --heads 2 --sq 7 --sk 600 --dim 128 --dv 64 --mask-shape 4,1,7,600 --seed 2
// RUN: %python %S/sdpa_ref.py gen %t.c --batch 2 --heads 1 --sq 530 --sk 530 --dim 64 --mask-shape 530,530 --seed 3
//
// RUN: tfm-run %t.so --call plain --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --output %t.a/plain.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/plain.npy --scale 0.125 | FileCheck %s --check-prefix=CHECK-PLAIN
// CHECK-PLAIN: PASS shape=[4, 2, 37, 64]
// RUN: tfm-run %t.so --call causal_padded --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/cp.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/cp.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-CP
// CHECK-CP: PASS shape=[4, 2, 37, 64] {{.*}} exact_zeros=True
//
// Cross-attention shape (7 queries, 600 keys: two chunks), head dim 128,
// Dv 64, per-batch additive mask with -inf entries, key lengths.
// RUN: tfm-run %t.so --call masked_cross --input %t.b/q.npy --input %t.b/k.npy --input %t.b/v.npy --input %t.b/lengths.npy --input %t.b/mask.npy --output %t.b/mc.npy
// RUN: %python %S/sdpa_ref.py check %t.b %t.b/mc.npy --scale 0.088388 --lengths --mask | FileCheck %s --check-prefix=CHECK-MC
// CHECK-MC: PASS shape=[4, 2, 7, 64] {{.*}} exact_zeros=True
//
// Causal with a broadcast [Sq, Sk] mask over 530 positions (two chunks).
// RUN: tfm-run %t.so --call causal_masked --input %t.c/q.npy --input %t.c/k.npy --input %t.c/v.npy --input %t.c/mask.npy --output %t.c/cm.npy
// RUN: %python %S/sdpa_ref.py check %t.c %t.c/cm.npy --scale 0.125 --causal --mask | FileCheck %s --check-prefix=CHECK-CM
// CHECK-CM: PASS shape=[2, 1, 530, 64]

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
