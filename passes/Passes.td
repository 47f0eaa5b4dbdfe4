//===- Passes.td - tfm passes, alphabetical ----------------*- tablegen -*-===//

#ifndef TFM_PASSES_PASSES_TD
#define TFM_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmEmitEntryWrappers : Pass<"tfm-emit-entry-wrappers", "ModuleOp"> {
  let summary = "emit the runtime's entry symbols into an LLVM dialect module";
  let description = [{
    Runs last, on the LLVM dialect. For every function marked `tfm.entry` by
    `tfm-export-entry-points` it creates the packed entry point of
    `runtime/tfm_abi.h`:

    ```
    void tfm_entry_NAME(void **args)   // args[0]: results, args[1+i]: input i
    ```

    which forwards to the `_mlir_ciface_NAME` wrapper, and it emits the
    `tfm_abi_version` and `tfm_manifest` globals that the runtime reads
    before it calls anything.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numEntries", "entries", "Number of entry points emitted">
  ];
}

def TfmExportEntryPoints : Pass<"tfm-export-entry-points", "ModuleOp"> {
  let summary = "mark the public functions as runtime entry points";
  let description = [{
    Every public function with a body becomes an entry point of the compiled
    module. The pass checks that its arguments and results are ranked tensors
    of f32, i32 or i64 (what the runtime can pass), records their types in a
    `tfm.entry` attribute (read later by `tfm-emit-entry-wrappers`) and asks
    the LLVM lowering for a C interface (`llvm.emit_c_interface`).

    The runtime takes ownership of every result and frees it, so a result
    must be a buffer of its own: a returned argument, or a value returned
    twice, is copied (`bufferization.alloc_tensor ... copy(...)`).

    A function whose signature the runtime cannot pass is an error.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def TfmLowerToLinalg : Pass<"tfm-lower-to-linalg", "func::FuncOp"> {
  let summary = "reference lowering of every tfm op to linalg/tensor/arith/math";
  let description = [{
    A straightforward, unfused, correct lowering of each tfm op on its own,
    with dynamic shapes: element-wise ops and reductions become
    `linalg.generic`, reshapes become `tensor.expand_shape`/`collapse_shape`
    with `linalg.transpose`. `tfm.attention` is first written back as its
    unfused chain (`matmul`, `scale`, `mask`, `softmax`, `matmul`).

    Softmax subtracts the row maximum and gives zeros for a row that is all
    `-inf`; layer norm computes mean and variance in f32 in two passes.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "lowered-ops", "Number of tfm ops lowered">
  ];
}

#endif // TFM_PASSES_PASSES_TD
