// RUN: tfm-opt %s --split-input-file --tfm-emit-entry-wrappers --verify-diagnostics | FileCheck %s

// The packed entry of runtime/tfm_abi.h: args[0] is the result storage,
// args[1 + i] input i, each forwarded to the C interface.
// CHECK-LABEL: llvm.func @_mlir_ciface_f
// CHECK-NOT: tfm.entry
// CHECK-LABEL: llvm.func @tfm_entry_f
// CHECK-SAME: (%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[RES:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[IN0:.*]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P2:.*]] = llvm.getelementptr %[[ARGS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[IN1:.*]] = llvm.load %[[P2]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @_mlir_ciface_f(%[[RES]], %[[IN0]], %[[IN1]])
// CHECK: llvm.return
// A function without results: args[0] is not read.
// CHECK-LABEL: llvm.func @tfm_entry_g
// CHECK-SAME: (%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[IN0:.*]] = llvm.load %[[P1]]
// CHECK: llvm.call @_mlir_ciface_g(%[[IN0]])
// CHECK: llvm.mlir.global external constant @tfm_abi_version(1 : i32)
// CHECK: llvm.mlir.global external constant @tfm_manifest("tfm-abi 1\0Aentry f in f32[?,4] in i32[?] out f32[?,4]\0Aentry g in f32[3]\0A\00")
module {
  llvm.func @f() attributes {tfm.entry = {inputs = ["f32[?,4]", "i32[?]"], results = ["f32[?,4]"]}} {
    llvm.return
  }
  llvm.func @_mlir_ciface_f(%r: !llvm.ptr, %a: !llvm.ptr, %b: !llvm.ptr) attributes {tfm.entry = {inputs = ["f32[?,4]", "i32[?]"], results = ["f32[?,4]"]}} {
    llvm.return
  }
  llvm.func @g() attributes {tfm.entry = {inputs = ["f32[3]"], results = []}} {
    llvm.return
  }
  llvm.func @_mlir_ciface_g(%a: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Not an entry: no wrapper; the globals still say the module's ABI.
// CHECK-LABEL: llvm.func @internal
// CHECK-NOT: llvm.func @tfm_entry_
// CHECK: llvm.mlir.global external constant @tfm_manifest("tfm-abi 1\0A\00")
module {
  llvm.func @internal() {
    llvm.return
  }
}

// -----

module {
  // expected-error @+1 {{entry point has no C interface '_mlir_ciface_h'; run tfm-export-entry-points before the LLVM conversion}}
  llvm.func @h() attributes {tfm.entry = {inputs = [], results = []}} {
    llvm.return
  }
}

// -----

module {
  // expected-error @+1 {{C interface takes 1 parameters, expected 2 inputs and a result pointer}}
  llvm.func @k() attributes {tfm.entry = {inputs = ["f32[1]", "f32[1]"], results = ["f32[1]"]}} {
    llvm.return
  }
  llvm.func @_mlir_ciface_k(%a: !llvm.ptr) {
    llvm.return
  }
}
