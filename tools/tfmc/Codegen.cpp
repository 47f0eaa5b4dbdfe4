//===- Codegen.cpp - LLVM dialect to native shared object -----------------===//

#include "tools/tfmc/Codegen.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <mutex>
#include <thread>

using namespace mlir;

static void reportError(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tfmc") << message << "\n";
}

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const mlir::tfm::CodegenOptions &options,
                    std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple();
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = options.cpu;
  std::string features;
  if (!cpu.empty() && cpu != "native") {
    // LLVM reports an unknown CPU on stderr and carries on with a generic
    // one: refuse it here instead, by name.
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, "", ""));
    if (!info || !info->isCPUStringValid(cpu)) {
      error = "unknown CPU '" + cpu + "' for " + triple +
              " (-mcpu=native is the host's)";
      return nullptr;
    }
  }
  if (cpu.empty() || cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures list;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      list.AddFeature(feature.first(), feature.second);
    features = list.getString();
  }
  llvm::CodeGenOptLevel level =
      options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                              : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, llvm::TargetOptions(),
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    error = "cannot create a target machine for " + triple + " (" + cpu + ")";
  return machine;
}

LogicalResult mlir::tfm::checkTarget(const CodegenOptions &options) {
  std::string error;
  if (!createTargetMachine(options, error)) {
    reportError(error);
    return failure();
  }
  return success();
}

bool mlir::tfm::targetHasFeature(const CodegenOptions &options,
                                 llvm::StringRef feature) {
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  return machine &&
         machine->getMCSubtargetInfo()->checkFeatures(("+" + feature).str());
}

std::unique_ptr<llvm::Module>
mlir::tfm::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                             const CodegenOptions &options) {
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "tfm");
  if (!llvmModule) {
    reportError("cannot translate the LLVM dialect to LLVM IR");
    return nullptr;
  }
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine) {
    reportError(error);
    return nullptr;
  }
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple().str());

  return llvmModule;
}

void mlir::tfm::optimize(llvm::Module &module, const CodegenOptions &options) {
  if (options.optLevel == 0)
    return;
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine) {
    reportError(error);
    return;
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // No loop unrolling: on the reference lowering's many dynamic-bound loops
  // it multiplied the IR 3x and compile time 5x (a 2+2-layer model: 36 s ->
  // 7 s for opt + codegen) for little run-time gain. The kernels that need
  // unrolled bodies get them from tfm's own tiling, not from LLVM's unroller.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  llvm::PassBuilder builder(machine.get(), tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level =
      options.optLevel == 1   ? llvm::OptimizationLevel::O1
      : options.optLevel == 2 ? llvm::OptimizationLevel::O2
                              : llvm::OptimizationLevel::O3;
  builder.buildPerModuleDefaultPipeline(level).run(module, mam);
}

LogicalResult mlir::tfm::emitObject(llvm::Module &module,
                                    const CodegenOptions &options,
                                    const std::string &path) {
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine) {
    reportError(error);
    return failure();
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    reportError("cannot write '" + path + "': " + ec.message());
    return failure();
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    reportError("the target cannot emit object files");
    return failure();
  }
  codegen.run(module);
  out.flush();
  if (out.has_error()) {
    reportError("cannot write '" + path + "'");
    return failure();
  }
  return success();
}

LogicalResult mlir::tfm::compileInParts(std::unique_ptr<llvm::Module> module,
                                        const CodegenOptions &options,
                                        ArrayRef<std::string> objectPaths) {
  // The parts, as bitcode: each is read back into a context of its own (an
  // LLVMContext is not thread-safe). Local symbols one part uses from
  // another become hidden globals (PreserveLocals = false).
  std::vector<llvm::SmallVector<char, 0>> parts;
  llvm::SplitModule(
      *module, objectPaths.size(), [&](std::unique_ptr<llvm::Module> part) {
        llvm::SmallVector<char, 0> &bitcode = parts.emplace_back();
        llvm::raw_svector_ostream os(bitcode);
        llvm::WriteBitcodeToFile(*part, os);
      });
  module.reset();
  std::mutex errors;
  bool failedAny = false;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < parts.size(); ++i)
    threads.emplace_back([&, i] {
      llvm::LLVMContext context;
      llvm::Expected<std::unique_ptr<llvm::Module>> part =
          llvm::parseBitcodeFile(
              llvm::MemoryBufferRef(
                  llvm::StringRef(parts[i].data(), parts[i].size()), "part"),
              context);
      bool ok = static_cast<bool>(part);
      if (!ok) {
        std::lock_guard<std::mutex> lock(errors);
        reportError("cannot read back part " + llvm::Twine(i) + ": " +
                    llvm::toString(part.takeError()));
      } else {
        optimize(**part, options);
        ok = succeeded(emitObject(**part, options, objectPaths[i]));
      }
      if (!ok) {
        std::lock_guard<std::mutex> lock(errors);
        failedAny = true;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  // SplitModule makes as many parts as asked (some possibly empty).
  if (parts.size() != objectPaths.size()) {
    reportError("the module split into fewer parts than asked");
    return failure();
  }
  return failure(failedAny);
}

bool mlir::tfm::usesOpenMP(const llvm::Module &module) {
  return llvm::any_of(module.functions(), [](const llvm::Function &f) {
    return f.isDeclaration() && (f.getName().starts_with("__kmpc_") ||
                                 f.getName().starts_with("omp_"));
  });
}

LogicalResult mlir::tfm::linkSharedObject(ArrayRef<std::string> objectPaths,
                                          const std::string &outputPath,
                                          bool openmp) {
  // The generated code needs libc (malloc, free, memcpy) and libm (erff,
  // sinf, ...): the C compiler driver links both for a shared object. Code
  // with parallel loops also needs LLVM's OpenMP runtime, found at run time
  // through the rpath.
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName("clang-19");
  if (!driver)
    driver = llvm::sys::findProgramByName("cc");
  if (!driver) {
    reportError("no linker driver found (looked for clang-19 and cc)");
    return failure();
  }
  llvm::SmallVector<llvm::StringRef> args{*driver, "-shared", "-o", outputPath};
  for (const std::string &object : objectPaths)
    args.push_back(object);
  args.push_back("-lm");
  if (openmp)
    args.append(
        {"-L" TFM_OPENMP_LIBDIR, "-Wl,-rpath," TFM_OPENMP_LIBDIR, "-lomp"});
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    reportError("linking '" + outputPath + "' with " + *driver + " failed" +
                (message.empty() ? "" : ": " + message));
    return failure();
  }
  return success();
}
