// RUN: tfm-opt %s --split-input-file --tfm-lower-checks | FileCheck %s

// Each cf.assert becomes a branch: on failure, a call of the runtime's
// check-failed hook with the message (one private string per distinct
// message), then unreachable; execution goes on in the rest of the block.

//       CHECK: llvm.func @__tfm_check_failed(!llvm.ptr)
//   CHECK-DAG: llvm.mlir.global private constant @[[SIZES:__tfm_check_[0-9]+]]("sizes disagree\00")
//   CHECK-DAG: llvm.mlir.global private constant @[[ROWS:__tfm_check_[0-9]+]]("rows disagree\00")
// CHECK-LABEL: func.func @checks
//  CHECK-SAME:   (%[[A:.+]]: index, %[[B:.+]]: index)
//       CHECK:   %[[EQ:.+]] = arith.cmpi eq, %[[A]], %[[B]] : index
//       CHECK:   cf.cond_br %[[EQ]], ^[[OK:bb[0-9]+]], ^[[FAIL:bb[0-9]+]]
//       CHECK: ^[[FAIL]]:
//  CHECK-NEXT:   %[[M:.+]] = llvm.mlir.addressof @[[SIZES]] : !llvm.ptr
//  CHECK-NEXT:   llvm.call @__tfm_check_failed(%[[M]]) : (!llvm.ptr) -> ()
//  CHECK-NEXT:   llvm.unreachable
//       CHECK: ^[[OK]]:
//       CHECK:   cf.cond_br %{{.+}}, ^[[OK2:bb[0-9]+]], ^[[FAIL2:bb[0-9]+]]
//       CHECK: ^[[FAIL2]]:
//  CHECK-NEXT:   llvm.mlir.addressof @[[ROWS]]
//       CHECK: ^[[OK2]]:
//       CHECK:   cf.cond_br %{{.+}}, ^[[OK3:bb[0-9]+]], ^[[FAIL3:bb[0-9]+]]
//       CHECK: ^[[FAIL3]]:
//  CHECK-NEXT:   llvm.mlir.addressof @[[SIZES]]
//       CHECK: ^[[OK3]]:
//  CHECK-NEXT:   %[[SUM:.+]] = arith.addi %[[A]], %[[B]] : index
//  CHECK-NEXT:   return %[[SUM]]
//   CHECK-NOT: cf.assert
func.func @checks(%a: index, %b: index) -> index {
  %eq = arith.cmpi eq, %a, %b : index
  cf.assert %eq, "sizes disagree"
  %le = arith.cmpi ule, %a, %b : index
  cf.assert %le, "rows disagree"
  cf.assert %eq, "sizes disagree"
  %s = arith.addi %a, %b : index
  return %s : index
}

// -----

// No assertion, nothing added: no hook declaration, no string.

// CHECK-LABEL: module
//   CHECK-NOT:   llvm.func @__tfm_check_failed
//   CHECK-NOT:   llvm.mlir.global
//       CHECK:   func.func @none
func.func @none(%a: index) -> index {
  return %a : index
}
