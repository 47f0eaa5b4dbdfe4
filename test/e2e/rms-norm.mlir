// REQUIRES: compiler
// tfm.rms_norm compiled and run against NumPy (norm_ref.py), to 1e-5: a
// Llama-sized row (4096), a small one (64) with rows of scales 1e-3 to 30
// and a row of zeros.
//
// RUN: tfmc %s -o %t.so
// RUN: rm -rf %t.a %t.b
// RUN: %python %S/norm_ref.py gen %t.a --shape 2,3,4096 --seed 1
// RUN: %python %S/norm_ref.py gen %t.b --shape 5,7,64 --seed 2
// RUN: tfm-run %t.so --call rms_norm_llama --input %t.a/x.npy --input %t.a/weight.npy --output %t.a/y.npy
// RUN: %python %S/norm_ref.py check %t.a %t.a/y.npy --eps 1e-6 | FileCheck %s --check-prefix=CHECK-LLAMA
// CHECK-LLAMA: PASS shape=[2, 3, 4096]
// RUN: tfm-run %t.so --call rms_norm_small --input %t.b/x.npy --input %t.b/weight.npy --output %t.b/y.npy
// RUN: %python %S/norm_ref.py check %t.b %t.b/y.npy --eps 1e-5 | FileCheck %s --check-prefix=CHECK-SMALL
// CHECK-SMALL: PASS shape=[5, 7, 64]

func.func @rms_norm_llama(%x: tensor<?x?x4096xf32>, %w: tensor<4096xf32>) -> tensor<?x?x4096xf32> {
  %y = tfm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<?x?x4096xf32>, tensor<4096xf32>
  return %y : tensor<?x?x4096xf32>
}

func.func @rms_norm_small(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %y = tfm.rms_norm %x, %w {epsilon = 1.0e-5 : f32} : tensor<?x?x64xf32>, tensor<64xf32>
  return %y : tensor<?x?x64xf32>
}
