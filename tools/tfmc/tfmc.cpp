//===- tfmc.cpp - The tfm compiler driver ---------------------------------===//
//
//   tfmc INPUT -o OUT [--emit=mlir|llvm|obj|so] [-v]
//
// INPUT is a `.mlir` file in the tfm dialect (model directories come with the
// frontend). The default output is a shared object for tfm-run and the
// runtime; --emit stops early. The standard MLIR flags apply
// (--mlir-print-ir-after-all, --mlir-timing, --mlir-pass-statistics, ...).
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmDialect.h"
#include "passes/Passes.h"
#include "tools/tfmc/Codegen.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <chrono>

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Emit { Mlir, Llvm, Obj, SharedObject };

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input.mlir>"),
                               cl::Required);
cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::Required);
cl::opt<Emit>
    emit("emit", cl::desc("What to write"), cl::init(Emit::SharedObject),
         cl::values(clEnumValN(Emit::Mlir, "mlir",
                               "the tfm dialect input, verified"),
                    clEnumValN(Emit::Llvm, "llvm", "optimized LLVM IR (text)"),
                    clEnumValN(Emit::Obj, "obj", "an object file"),
                    clEnumValN(Emit::SharedObject, "so",
                               "a shared object for the runtime (default)")));
cl::opt<bool> verbose("v", cl::desc("Print each stage with its time"));
cl::opt<std::string> cpu("mcpu", cl::desc("Target CPU (default: the host)"),
                         cl::init(""));
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                           cl::Prefix, cl::init(3));

/// Prints "tfmc: STAGE  12.3 ms" when -v is given.
class StageTimer {
public:
  explicit StageTimer(const char *name)
      : name(name), start(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    if (!verbose)
      return;
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    llvm::errs() << llvm::format("tfmc: %-10s %9.1f ms\n", name, ms);
  }

private:
  const char *name;
  std::chrono::steady_clock::time_point start;
};

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tfmc") << message << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  tfm::registerTfmPassesAndPipelines();
  cl::ParseCommandLineOptions(argc, argv, "tfm compiler\n");

  if (llvm::sys::fs::is_directory(inputPath))
    return fail("'" + inputPath +
                "' is a directory: compiling model directories is not "
                "implemented yet; pass a .mlir file in the tfm dialect");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<tfm::TfmDialect>();
  MLIRContext context(registry);

  OwningOpRef<ModuleOp> module;
  {
    StageTimer timer("parse");
    std::string error;
    auto file = openInputFile(inputPath, &error);
    if (!file)
      return fail(error);
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1; // The parser has reported the error.
  }

  auto writeText = [&](auto print) {
    std::string error;
    auto out = openOutputFile(outputPath, &error);
    if (!out)
      return fail(error);
    print(out->os());
    out->keep();
    return 0;
  };
  if (emit == Emit::Mlir)
    return writeText([&](llvm::raw_ostream &os) { module->print(os); });

  {
    StageTimer timer("lower");
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return fail("invalid pass manager options");
    applyDefaultTimingPassManagerCLOptions(pm);
    tfm::buildTfmToLLVMPipeline(pm);
    if (failed(pm.run(*module)))
      return fail("lowering '" + inputPath + "' failed");
  }

  tfm::CodegenOptions options;
  options.cpu = cpu;
  options.optLevel = optLevel;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  {
    StageTimer timer("llvm-opt");
    llvmModule = tfm::translateAndOptimize(*module, llvmContext, options);
    if (!llvmModule)
      return 1;
  }
  if (emit == Emit::Llvm)
    return writeText(
        [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });

  std::string objectPath = outputPath;
  llvm::SmallString<128> tempObject;
  if (emit == Emit::SharedObject) {
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("tfmc", "o", tempObject))
      return fail("cannot create a temporary file: " + ec.message());
    objectPath = tempObject.str().str();
  }
  auto removeTemp = llvm::make_scope_exit([&] {
    if (!tempObject.empty())
      llvm::sys::fs::remove(tempObject);
  });
  {
    StageTimer timer("codegen");
    if (failed(tfm::emitObject(*llvmModule, options, objectPath)))
      return 1;
  }
  if (emit == Emit::Obj)
    return 0;
  {
    StageTimer timer("link");
    if (failed(tfm::linkSharedObject(objectPath, outputPath)))
      return 1;
  }
  return 0;
}
