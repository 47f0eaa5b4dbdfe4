// REQUIRES: compiler
// tfm.rotary compiled and run against NumPy (rope_ref.py, from transformers'
// Llama rotary embedding), to 1e-5: head dims 64 and 128, theta 10000 and
// 500000, positions from 0 (a prompt) and at per-sequence offsets up to
// 4000 (decode steps of sequences of different lengths).
//
// RUN: tfmc %s -o %t.so
// RUN: rm -rf %t.a %t.b %t.c
// RUN: %python %S/rope_ref.py gen %t.a --shape 2,4,37,64 --seed 1
// RUN: %python %S/rope_ref.py gen %t.b --shape 3,2,1,128 --max-offset 4000 --seed 2
// RUN: %python %S/rope_ref.py gen %t.c --shape 2,8,19,128 --max-offset 300 --seed 3
// RUN: tfm-run %t.so --call prompt --input %t.a/x.npy --output %t.a/y.npy
// RUN: %python %S/rope_ref.py check %t.a %t.a/y.npy --theta 10000 | FileCheck %s --check-prefix=CHECK-PROMPT
// CHECK-PROMPT: PASS shape=[2, 4, 37, 64]
// RUN: tfm-run %t.so --call step --input %t.b/x.npy --input %t.b/offsets.npy --output %t.b/y.npy
// RUN: %python %S/rope_ref.py check %t.b %t.b/y.npy --theta 500000 --offsets | FileCheck %s --check-prefix=CHECK-STEP
// CHECK-STEP: PASS shape=[3, 2, 1, 128]
// RUN: tfm-run %t.so --call continued --input %t.c/x.npy --input %t.c/offsets.npy --output %t.c/y.npy
// RUN: %python %S/rope_ref.py check %t.c %t.c/y.npy --theta 10000 --offsets | FileCheck %s --check-prefix=CHECK-CONT
// CHECK-CONT: PASS shape=[2, 8, 19, 128]

func.func @prompt(%x: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  %y = tfm.rotary %x {theta = 10000.0 : f32} : tensor<?x4x?x64xf32>
  return %y : tensor<?x4x?x64xf32>
}

func.func @step(%x: tensor<?x2x1x128xf32>, %pos: tensor<?xi32>) -> tensor<?x2x1x128xf32> {
  %y = tfm.rotary %x offsets(%pos : tensor<?xi32>) {theta = 500000.0 : f32} : tensor<?x2x1x128xf32>
  return %y : tensor<?x2x1x128xf32>
}

func.func @continued(%x: tensor<?x8x?x128xf32>, %pos: tensor<?xi32>) -> tensor<?x8x?x128xf32> {
  %y = tfm.rotary %x offsets(%pos : tensor<?xi32>) {theta = 10000.0 : f32} : tensor<?x8x?x128xf32>
  return %y : tensor<?x8x?x128xf32>
}
