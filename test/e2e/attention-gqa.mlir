// REQUIRES: compiler
// Grouped-query attention (k and v with fewer heads than q; query head h
// reads key/value head h / (H / H_kv)) against NumPy, to 1e-5: through the
// tiled kernel (tfm-lower-attention) and through the reference lowering
// (tfmc --no-fuse). Group sizes 2, 4 and 8 (1 is every other attention
// test), head dims 64 and 128, lengths that are not multiples of the tiles,
// causal with key padding, a single query row (a decode step), and heads
// only known at run time.
//
// RUN: tfmc %s -o %t.so
// RUN: tfmc %s -o %t.unfused.so --no-fuse
// RUN: rm -rf %t.a %t.b %t.c %t.d %t.e
// RUN: %python %S/sdpa_ref.py gen %t.a --batch 4 --heads 4 --kv-heads 2 --sq 37 --sk 37 --dim 64 --seed 11
// RUN: %python %S/sdpa_ref.py gen %t.b --batch 3 --heads 8 --kv-heads 2 --sq 13 --sk 1100 --dim 128 --dv 64 --seed 12
// RUN: %python %S/sdpa_ref.py gen %t.c --batch 4 --heads 8 --kv-heads 1 --sq 1 --sk 77 --dim 64 --seed 13
// RUN: %python %S/sdpa_ref.py gen %t.d --batch 2 --heads 6 --kv-heads 3 --sq 21 --sk 21 --dim 64 --seed 14
// RUN: %python %S/sdpa_ref.py gen %t.e --batch 2 --heads 6 --kv-heads 4 --sq 5 --sk 5 --dim 64 --seed 15
//
// Group of 2, causal with key lengths (blocks of 8 rows then single rows).
// RUN: tfm-run %t.so --call gqa2_causal --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/f.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/f.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-G2
// RUN: tfm-run %t.unfused.so --call gqa2_causal --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/u.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/u.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-G2
// CHECK-G2: PASS shape=[4, 4, 37, 64] {{.*}} exact_zeros=True
//
// The same, written out as the frontend writes it: tfm.repeat_heads, Q Kᵀ,
// scale, masks, softmax, ·V. tfmc fuses it into the kernel, which reads the
// key/value heads unrepeated; --no-fuse runs each op's reference lowering.
// RUN: tfm-run %t.so --call gqa2_chain --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/cf.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/cf.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-G2
// RUN: tfm-run %t.unfused.so --call gqa2_chain --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/cu.npy
// RUN: %python %S/sdpa_ref.py check %t.a %t.a/cu.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-G2
//
// Group of 4, head dim 128 (value dim 64), 13 queries over 1100 keys (two
// key chunks), key lengths.
// RUN: tfm-run %t.so --call gqa4_cross --input %t.b/q.npy --input %t.b/k.npy --input %t.b/v.npy --input %t.b/lengths.npy --output %t.b/f.npy
// RUN: %python %S/sdpa_ref.py check %t.b %t.b/f.npy --scale 0.088388 --lengths | FileCheck %s --check-prefix=CHECK-G4
// RUN: tfm-run %t.unfused.so --call gqa4_cross --input %t.b/q.npy --input %t.b/k.npy --input %t.b/v.npy --input %t.b/lengths.npy --output %t.b/u.npy
// RUN: %python %S/sdpa_ref.py check %t.b %t.b/u.npy --scale 0.088388 --lengths | FileCheck %s --check-prefix=CHECK-G4
// CHECK-G4: PASS shape=[3, 8, 13, 64] {{.*}} exact_zeros=True
//
// Group of 8 (one key/value head), one query row: a decode step's shape.
// RUN: tfm-run %t.so --call gqa8_step --input %t.c/q.npy --input %t.c/k.npy --input %t.c/v.npy --input %t.c/lengths.npy --output %t.c/f.npy
// RUN: %python %S/sdpa_ref.py check %t.c %t.c/f.npy --scale 0.125 --lengths | FileCheck %s --check-prefix=CHECK-G8
// RUN: tfm-run %t.unfused.so --call gqa8_step --input %t.c/q.npy --input %t.c/k.npy --input %t.c/v.npy --input %t.c/lengths.npy --output %t.c/u.npy
// RUN: %python %S/sdpa_ref.py check %t.c %t.c/u.npy --scale 0.125 --lengths | FileCheck %s --check-prefix=CHECK-G8
// CHECK-G8: PASS shape=[4, 8, 1, 64] {{.*}} exact_zeros=True
//
// Heads known only at run time: 6 query heads over 3 key/value heads.
// RUN: tfm-run %t.so --call gqa_dynamic --input %t.d/q.npy --input %t.d/k.npy --input %t.d/v.npy --input %t.d/lengths.npy --output %t.d/f.npy
// RUN: %python %S/sdpa_ref.py check %t.d %t.d/f.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-GDYN
// RUN: tfm-run %t.unfused.so --call gqa_dynamic --input %t.d/q.npy --input %t.d/k.npy --input %t.d/v.npy --input %t.d/lengths.npy --output %t.d/u.npy
// RUN: %python %S/sdpa_ref.py check %t.d %t.d/u.npy --scale 0.125 --causal --lengths | FileCheck %s --check-prefix=CHECK-GDYN
// CHECK-GDYN: PASS shape=[2, 6, 21, 64]
//
// ... and 4 key/value heads do not divide 6 query heads: an error, checked
// before the kernel runs.
// RUN: not tfm-run %t.so --call gqa_dynamic --input %t.e/q.npy --input %t.e/k.npy --input %t.e/v.npy --input %t.e/lengths.npy --output %t.e/f.npy 2>&1 | FileCheck %s --check-prefix=CHECK-NODIV
// RUN: not tfm-run %t.unfused.so --call gqa_dynamic --input %t.e/q.npy --input %t.e/k.npy --input %t.e/v.npy --input %t.e/lengths.npy --output %t.e/u.npy 2>&1 | FileCheck %s --check-prefix=CHECK-NODIV
// CHECK-NODIV: tfm-run: error: entry 'gqa_dynamic': the key/value heads of the op at {{.*}}attention-gqa.mlir:{{[0-9]+}}:{{[0-9]+}} do not divide its query heads

func.func @gqa2_causal(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>,
                       %len: tensor<?xi32>) -> tensor<?x4x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.125 : f32}
      : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

func.func @gqa2_chain(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>,
                      %len: tensor<?xi32>) -> tensor<?x4x?x64xf32> {
  %kr = tfm.repeat_heads %k {repeats = 2 : i64} : tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  %vr = tfm.repeat_heads %v {repeats = 2 : i64} : tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>
  %s = tfm.matmul %q, %kr transpose_rhs : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32> -> tensor<?x4x?x?xf32>
  %t = tfm.scale %s by 0.125 : tensor<?x4x?x?xf32>
  %m = tfm.mask key_padding %t, %len : tensor<?x4x?x?xf32>, tensor<?xi32>
  %c = tfm.mask causal %m : tensor<?x4x?x?xf32>
  %p = tfm.softmax %c : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %vr : tensor<?x4x?x?xf32>, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

func.func @gqa4_cross(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>, %v: tensor<?x2x?x64xf32>,
                      %len: tensor<?xi32>) -> tensor<?x8x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {scale = 0.088388 : f32}
      : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

func.func @gqa8_step(%q: tensor<?x8x1x64xf32>, %k: tensor<?x1x?x64xf32>, %v: tensor<?x1x?x64xf32>,
                     %len: tensor<?xi32>) -> tensor<?x8x1x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {scale = 0.125 : f32}
      : tensor<?x8x1x64xf32>, tensor<?x1x?x64xf32>, tensor<?x1x?x64xf32> -> tensor<?x8x1x64xf32>
  return %o : tensor<?x8x1x64xf32>
}

func.func @gqa_dynamic(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x64xf32>, %v: tensor<?x?x?x64xf32>,
                       %len: tensor<?xi32>) -> tensor<?x?x?x64xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%len : tensor<?xi32>) {causal, scale = 0.125 : f32}
      : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return %o : tensor<?x?x?x64xf32>
}
