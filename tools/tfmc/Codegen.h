//===- Codegen.h - LLVM dialect to native shared object ---------*- C++ -*-===//
//
// The last stages of tfmc: translate the LLVM dialect to LLVM IR, optimize
// it, compile it for the host CPU with LLVM's TargetMachine and link the
// object into a shared object the runtime can load. No JIT anywhere.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TOOLS_TFMC_CODEGEN_H
#define TFM_TOOLS_TFMC_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace mlir::tfm {

struct CodegenOptions {
  /// CPU to compile for; empty means the host CPU (with its features).
  std::string cpu;
  /// LLVM optimization level, 0-3.
  unsigned optLevel = 3;
};

/// Checks that `options` name a target this LLVM can compile for (an
/// unknown -mcpu is one error here, before any compilation).
mlir::LogicalResult checkTarget(const CodegenOptions &options);

/// Whether the target CPU has `feature` (LLVM's name, e.g. "avx512bf16").
bool targetHasFeature(const CodegenOptions &options, llvm::StringRef feature);

/// Translates an LLVM dialect module to LLVM IR for the target of
/// `options` (its triple and data layout set).
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &context,
                                                const CodegenOptions &options);

/// Runs LLVM's optimization pipeline (at options.optLevel) on `module`.
void optimize(llvm::Module &module, const CodegenOptions &options);

/// Optimizes and compiles `module` in objectPaths.size() parts on as many
/// threads: llvm::SplitModule cuts it along functions (a local symbol used
/// by another part becomes a hidden global), and each part is read into an
/// LLVMContext of its own, optimized and compiled to objectPaths[i].
mlir::LogicalResult compileInParts(std::unique_ptr<llvm::Module> module,
                                   const CodegenOptions &options,
                                   llvm::ArrayRef<std::string> objectPaths);

/// Compiles `module` to a relocatable object file (position-independent).
mlir::LogicalResult emitObject(llvm::Module &module,
                               const CodegenOptions &options,
                               const std::string &path);

/// Whether `module` calls into the OpenMP runtime (parallel loops).
bool usesOpenMP(const llvm::Module &module);

/// Links object files into a shared object with the system's C compiler
/// driver (clang-19 or cc), against libm, and against LLVM's libomp (with
/// an rpath to it) when `openmp`.
mlir::LogicalResult linkSharedObject(llvm::ArrayRef<std::string> objectPaths,
                                     const std::string &outputPath,
                                     bool openmp);

} // namespace mlir::tfm

#endif // TFM_TOOLS_TFMC_CODEGEN_H
