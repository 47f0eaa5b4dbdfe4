// REQUIRES: compiler
// Compiled once; run at two batch/length combinations (dynamic shapes, no
// recompiling); each batch holds a full, a half and an empty (length 0)
// sequence. Compared with the NumPy reference of attention_ref.py to 1e-5.
//
// RUN: tfmc %s -o %t.so
// RUN: rm -rf %t.a %t.b
// RUN: %python %S/attention_ref.py gen %t.a --batch 3 --seq 7 --seed 1
// RUN: %python %S/attention_ref.py gen %t.b --batch 4 --seq 33 --seed 2
//
// RUN: tfm-run %t.so --call mha --input %t.a/x.npy --input %t.a/lengths.npy --input %t.a/wq.npy --input %t.a/bq.npy --input %t.a/wk.npy --input %t.a/bk.npy --input %t.a/wv.npy --input %t.a/bv.npy --input %t.a/wo.npy --input %t.a/bo.npy --output %t.a/mha.npy
// RUN: %python %S/attention_ref.py check %t.a mha %t.a/mha.npy | FileCheck %s --check-prefix=CHECK-MHA-A
// CHECK-MHA-A: PASS mha shape=[3, 7, 32] {{.*}} masked_rows=1
//
// RUN: tfm-run %t.so --call mha --input %t.b/x.npy --input %t.b/lengths.npy --input %t.b/wq.npy --input %t.b/bq.npy --input %t.b/wk.npy --input %t.b/bk.npy --input %t.b/wv.npy --input %t.b/bv.npy --input %t.b/wo.npy --input %t.b/bo.npy --output %t.b/mha.npy
// RUN: %python %S/attention_ref.py check %t.b mha %t.b/mha.npy | FileCheck %s --check-prefix=CHECK-MHA-B
// CHECK-MHA-B: PASS mha shape=[4, 33, 32] {{.*}} masked_rows=1
//
// RUN: tfm-run %t.so --call sdpa_chain --input %t.a/q.npy --input %t.a/k.npy --input %t.a/v.npy --input %t.a/lengths.npy --output %t.a/chain.npy
// RUN: %python %S/attention_ref.py check %t.a sdpa_chain %t.a/chain.npy | FileCheck %s --check-prefix=CHECK-CHAIN
// CHECK-CHAIN: PASS sdpa_chain shape=[3, 4, 7, 8] {{.*}} masked_rows=1
//
// RUN: tfm-run %t.so --call sdpa_op --input %t.b/q.npy --input %t.b/k.npy --input %t.b/v.npy --input %t.b/lengths.npy --output %t.b/op.npy
// RUN: %python %S/attention_ref.py check %t.b sdpa_op %t.b/op.npy | FileCheck %s --check-prefix=CHECK-OP
// CHECK-OP: PASS sdpa_op shape=[4, 4, 33, 8] {{.*}} masked_rows=1
//

// Multi-head self-attention of a decoder layer, written the way a model is
// written down: projections, split heads, QKᵀ, scale, masks (causal and key
// padding from lengths), softmax, ·V, merge heads, output projection.
// Batch and sequence length are dynamic.
func.func @mha(%x: tensor<?x?x32xf32>, %lengths: tensor<?xi32>,
               %wq: tensor<32x32xf32>, %bq: tensor<32xf32>,
               %wk: tensor<32x32xf32>, %bk: tensor<32xf32>,
               %wv: tensor<32x32xf32>, %bv: tensor<32xf32>,
               %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<?x?x32xf32> {
  %q0 = tfm.linear %x, %wq, %bq : tensor<?x?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  %k0 = tfm.linear %x, %wk, %bk : tensor<?x?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  %v0 = tfm.linear %x, %wv, %bv : tensor<?x?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  %q = tfm.split_heads %q0, heads = 4 : tensor<?x?x32xf32> -> tensor<?x4x?x8xf32>
  %k = tfm.split_heads %k0, heads = 4 : tensor<?x?x32xf32> -> tensor<?x4x?x8xf32>
  %v = tfm.split_heads %v0, heads = 4 : tensor<?x?x32xf32> -> tensor<?x4x?x8xf32>
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %ss = tfm.scale %s by 0.35355339 : tensor<?x4x?x?xf32>
  %c = tfm.mask causal %ss : tensor<?x4x?x?xf32>
  %m = tfm.mask key_padding %c, %lengths : tensor<?x4x?x?xf32>, tensor<?xi32>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>
  %mo = tfm.merge_heads %o : tensor<?x4x?x8xf32> -> tensor<?x?x32xf32>
  %y = tfm.linear %mo, %wo, %bo : tensor<?x?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// The attention chain alone, on [batch, heads, seq, head_dim].
func.func @sdpa_chain(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>,
                      %lengths: tensor<?xi32>) -> tensor<?x4x?x8xf32> {
  %s = tfm.matmul %q, %k transpose_rhs : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x?xf32>
  %ss = tfm.scale %s by 0.35355339 : tensor<?x4x?x?xf32>
  %c = tfm.mask causal %ss : tensor<?x4x?x?xf32>
  %m = tfm.mask key_padding %c, %lengths : tensor<?x4x?x?xf32>, tensor<?xi32>
  %p = tfm.softmax %m : tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %v : tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// The same through the kernel-level op.
func.func @sdpa_op(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>,
                   %lengths: tensor<?xi32>) -> tensor<?x4x?x8xf32> {
  %o = tfm.attention %q, %k, %v key_lengths(%lengths : tensor<?xi32>) {causal, scale = 0.35355339 : f32}
      : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}
