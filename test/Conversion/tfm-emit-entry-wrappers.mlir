// RUN: tfm-opt %s --split-input-file --tfm-emit-entry-wrappers --verify-diagnostics | FileCheck %s

// The packed entry of runtime/tfm_abi.h: args[0] is the result storage,
// args[1 + i] input i, each forwarded to the C interface. Only the ABI's
// symbols are exported: the functions behind them become internal.
// CHECK-LABEL: llvm.func internal @f()
// CHECK-LABEL: llvm.func internal @_mlir_ciface_f
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
// CHECK: %[[P2:.*]] = llvm.getelementptr %[[ARGS]][2]
// CHECK: %[[IN1:.*]] = llvm.load %[[P2]]
// CHECK: llvm.call @_mlir_ciface_g(%[[IN0]], %[[IN1]])
// An inout argument is an input the manifest marks as written in place.
// CHECK: llvm.mlir.global external constant @tfm_abi_version(2 : i32)
// CHECK: llvm.mlir.global external constant @tfm_manifest("tfm-abi 2\0Aentry f in f32[?,4] in i32[?] out f32[?,4]\0Aentry g inout f32[3] in i32[1]\0A\00")
!desc = !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
module {
  llvm.func @f() -> !desc attributes {tfm.entry = {inputs = ["f32[?,4]", "i32[?]"], inout = array<i64>, results = ["f32[?,4]"]}} {
    %0 = llvm.mlir.undef : !desc
    llvm.return %0 : !desc
  }
  llvm.func @_mlir_ciface_f(%r: !llvm.ptr, %a: !llvm.ptr, %b: !llvm.ptr) attributes {tfm.entry = {inputs = ["f32[?,4]", "i32[?]"], inout = array<i64>, results = ["f32[?,4]"]}} {
    llvm.return
  }
  llvm.func @g() attributes {tfm.entry = {inputs = ["f32[3]", "i32[1]"], inout = array<i64: 0>, results = []}} {
    llvm.return
  }
  llvm.func @_mlir_ciface_g(%a: !llvm.ptr, %b: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Not an entry: no wrapper, not exported; a declaration stays external.
// The globals still say the module's ABI.
// CHECK-LABEL: llvm.func internal @internal
// CHECK-LABEL: llvm.func @malloc
// CHECK-NOT: llvm.func @tfm_entry_
// CHECK: llvm.mlir.global external constant @tfm_manifest("tfm-abi 2\0A\00")
module {
  llvm.func @internal() {
    llvm.return
  }
  llvm.func @malloc(i64) -> !llvm.ptr
}

// -----

// A failed run-time check (tfm-lower-checks) calls __tfm_check_failed,
// defined here as a call through the exported table tfm_error_hook, which
// the runtime fills in; while it is empty, the message goes to stderr
// (write(2, ...)) and the process aborts.
//       CHECK: llvm.func internal @__tfm_check_failed_abort(%[[M:.*]]: !llvm.ptr)
//       CHECK:   %[[LEN:.*]] = llvm.call @strlen(%[[M]])
//       CHECK:   llvm.call @write(%{{.*}}, %[[M]], %[[LEN]])
//       CHECK:   llvm.call @abort()
//  CHECK-NEXT:   llvm.unreachable
//       CHECK: llvm.func internal @__tfm_check_failed(
//  CHECK-SAME:   %[[MSG:.*]]: !llvm.ptr)
//       CHECK:   %[[TABLE:.*]] = llvm.mlir.addressof @tfm_error_hook : !llvm.ptr
//       CHECK:   %[[SLOT:.*]] = llvm.getelementptr %[[TABLE]][0]
//       CHECK:   %[[HOOK:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
//       CHECK:   %[[NULL:.*]] = llvm.icmp "eq" %[[HOOK]], %{{.*}} : !llvm.ptr
//       CHECK:   llvm.cond_br %[[NULL]], ^[[FALLBACK:bb[0-9]+]], ^[[VIAHOOK:bb[0-9]+]]
//       CHECK: ^[[FALLBACK]]:
//  CHECK-NEXT:   llvm.call @__tfm_check_failed_abort(%[[MSG]])
//       CHECK: ^[[VIAHOOK]]:
//  CHECK-NEXT:   llvm.call %[[HOOK]](%[[MSG]])
//       CHECK: llvm.mlir.global external @tfm_error_hook() {{.*}} : !llvm.array<1 x ptr>
module {
  llvm.func @__tfm_check_failed(!llvm.ptr)
  llvm.mlir.global private constant @__tfm_check_0("sizes disagree\00") {addr_space = 0 : i32}
  llvm.func @checked() {
    %m = llvm.mlir.addressof @__tfm_check_0 : !llvm.ptr
    llvm.call @__tfm_check_failed(%m) : (!llvm.ptr) -> ()
    llvm.unreachable
  }
}

// -----

// A module compiled from a model states the model's config and the hashes
// of its weights and weight index (tfmc sets the two attributes), one
// manifest line each, for the runtime to check the artifact against.
// CHECK-LABEL: llvm.func internal @only
// CHECK: llvm.mlir.global external constant @tfm_manifest("tfm-abi 2\0Aconfig {\22d_model\22:8}\0Aweights 0123456789abcdef fedcba9876543210\0A\00")
module attributes {tfm.model_config = "{\"d_model\":8}", tfm.weights = "0123456789abcdef fedcba9876543210"} {
  llvm.func @only() {
    llvm.return
  }
}


// -----

module {
  // expected-error @+1 {{entry point has no C interface '_mlir_ciface_h'; run tfm-export-entry-points before the LLVM conversion}}
  llvm.func @h() attributes {tfm.entry = {inputs = [], inout = array<i64>, results = []}} {
    llvm.return
  }
}

// -----

module {
  // expected-error @+1 {{C interface takes 1 parameters, expected 2 inputs and a result pointer}}
  llvm.func @k() -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> attributes {tfm.entry = {inputs = ["f32[1]", "f32[1]"], inout = array<i64>, results = ["f32[1]"]}} {
    %0 = llvm.mlir.undef : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    llvm.return %0 : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
  }
  llvm.func @_mlir_ciface_k(%a: !llvm.ptr) {
    llvm.return
  }
}

// -----

// An inout argument bufferization did not update in place is still
// returned: two descriptors where the manifest has one result.
!desc = !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
module {
  // expected-error @+1 {{entry point returns 2 buffers, the manifest 1; an inout argument was not updated in place}}
  llvm.func @m() -> !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)> attributes {tfm.entry = {inputs = ["f32[1]"], inout = array<i64: 0>, results = ["f32[1]"]}} {
    %0 = llvm.mlir.undef : !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
    llvm.return %0 : !llvm.struct<(struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
  }
  llvm.func @_mlir_ciface_m(%r: !llvm.ptr, %a: !llvm.ptr) {
    llvm.return
  }
}
