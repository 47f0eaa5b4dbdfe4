//===- tfmc.cpp - The tfm compiler driver ---------------------------------===//
//
//   tfmc MODEL_DIR -o OUT [--emit=mlir|llvm|obj] [-v]
//   tfmc INPUT.mlir -o OUT.so [--emit=mlir|llvm|obj] [-v]
//
// MODEL_DIR holds config.json and model.safetensors (DESIGN.md), or is a
// Hugging Face checkpoint directory (frontend/HuggingFace.h); the default
// output is then an artifact directory (tools/tfmc/Artifact.h) for tfm-run.
// A `.mlir` file in the tfm dialect compiles to a shared object. --emit stops
// early and writes that form to OUT. The standard MLIR flags apply
// (--mlir-print-ir-after-all, --mlir-timing, --mlir-pass-statistics, ...).
//
//===----------------------------------------------------------------------===//

#include "dialect/TfmDialect.h"
#include "frontend/GraphBuilder.h"
#include "frontend/ModelDirectory.h"
#include "passes/Passes.h"
#include "support/StringViews.h"
#include "tools/tfmc/Artifact.h"
#include "tools/tfmc/Codegen.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
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
#include <optional>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Emit { Mlir, Llvm, Obj, SharedObject };

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model directory or input.mlir>"),
                               cl::Required);
cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::Required);
cl::opt<Emit> emit(
    "emit", cl::desc("What to write"), cl::init(Emit::SharedObject),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir", "the tfm dialect input, verified"),
        clEnumValN(Emit::Llvm, "llvm", "optimized LLVM IR (text)"),
        clEnumValN(Emit::Obj, "obj", "an object file"),
        clEnumValN(Emit::SharedObject, "so",
                   "what the runtime loads (default): an artifact directory "
                   "for a model, a shared object for a .mlir "
                   "file")));
cl::opt<bool> verbose("v", cl::desc("Print each stage with its time"));
cl::opt<bool> noFuse("no-fuse",
                     cl::desc("Keep attention unfused: the reference lowering "
                              "(for comparisons)"));
cl::opt<bool> allowNonFiniteWeights(
    "allow-nonfinite-weights",
    cl::desc("Compile a model whose weights hold NaN or infinities (a "
             "warning names the first of each tensor) instead of refusing "
             "it"));
cl::opt<std::string> weightType(
    "weight-type",
    cl::desc("How linear weights (and embedding tables tied to the logits "
             "projection) are stored: f32 (default), bf16 (rounded to "
             "nearest even) or int8 (symmetric, one f32 scale per output "
             "feature); activations stay f32"),
    cl::init("f32"));
cl::opt<std::string> cpu("mcpu", cl::desc("Target CPU (default: the host)"),
                         cl::init(""));
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level (0-3)"),
                           cl::Prefix, cl::init(3));
cl::opt<unsigned> codegenThreads(
    "codegen-threads",
    cl::desc("Parts the LLVM module is split into for optimization and "
             "code generation, one thread each (a shared object only; "
             "default 0: two per core, at most 16)"),
    cl::init(0));

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
  // Passes first: --mlir-print-ir-after=PASS takes a registered name.
  mlir::tfm::registerTfmPassesAndPipelines();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "tfm compiler\n");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<mlir::tfm::TfmDialect>();
  MLIRContext context(registry);

  if (weightType != "f32" && weightType != "bf16" && weightType != "int8")
    return fail("--weight-type must be f32, bf16 or int8, got '" + weightType +
                "'");
  mlir::tfm::CodegenOptions options;
  options.cpu = cpu;
  options.optLevel = optLevel;
  if (failed(mlir::tfm::checkTarget(options)))
    return 1;
  bool bf16Pairs = weightType == "bf16" &&
                   mlir::tfm::targetHasFeature(options, "avx512bf16");

  bool isModel = llvm::sys::fs::is_directory(inputPath);
  OwningOpRef<ModuleOp> module;
  ::tfm::ModelDirectory source;
  mlir::tfm::BuiltModel model;
  mlir::tfm::WrittenWeights weights;
  std::vector<std::string> tokenizerFiles;
  if (isModel) {
    {
      StageTimer timer("parse");
      auto loaded = ::tfm::loadModelDirectory(inputPath);
      if (!loaded.ok())
        return fail(::tfm::toStd(loaded.status().message()));
      source = std::move(*loaded);
      // The ids a tokenizer gives are the input's: the decoder's for a
      // decoder-only model, else the encoder's.
      auto files = mlir::tfm::checkTokenizer(
          inputPath, source.config.architecture == ::tfm::Architecture::Decoder
                         ? source.config.tgtVocabSize
                         : source.config.srcVocabSize);
      if (failed(files))
        return 1;
      tokenizerFiles = std::move(*files);
    }
    {
      StageTimer timer("build");
      model = mlir::tfm::buildModel(context, source.config);
      if (failed(verify(*model.module)))
        return fail("internal error: the graph built for '" + inputPath +
                    "' does not verify");
      module = std::move(model.module);
      mlir::tfm::recordModelConfig(*module, source.config);
    }
  } else {
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

  // The pipeline of `tfm-opt --tfm-to-llvm`, one pass manager per stage so
  // that -v can time each.
  for (const mlir::tfm::PipelineStage &stage :
       mlir::tfm::getTfmToLLVMStages()) {
    StageTimer timer(stage.name);
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return fail("invalid pass manager options");
    applyDefaultTimingPassManagerCLOptions(pm);
    mlir::tfm::TfmPipelineOptions pipelineOptions;
    pipelineOptions.fuse = !noFuse;
    pipelineOptions.weightType =
        weightType == "int8" ? std::string("i8") : std::string(weightType);
    // bf16 weights in k pairs for vdpbf16ps where the target has it; else
    // the kernels widen them to f32.
    pipelineOptions.bf16Pairs = bf16Pairs;
    stage.build(pm, pipelineOptions);
    if (failed(pm.run(*module)))
      return fail("compiling '" + inputPath + "' failed in stage '" +
                  stage.name + "'");
    // The weights tfm-pack-weights packed ahead of time are written packed,
    // before the module is lowered further: its manifest names their hash.
    if (isModel && stage.build == mlir::tfm::buildTfmTensorPipeline) {
      mlir::tfm::recordPackedWeights(*module, model);
      if (emit == Emit::SharedObject) {
        StageTimer timer("weights");
        if (std::error_code ec = llvm::sys::fs::create_directories(outputPath))
          return fail("cannot create '" + outputPath + "': " + ec.message());
        auto written = mlir::tfm::writeWeights(outputPath, source, model,
                                               allowNonFiniteWeights);
        if (failed(written))
          return 1;
        weights = std::move(*written);
        mlir::tfm::recordWeights(*module, weights);
      }
    }
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  {
    StageTimer timer("translate");
    llvmModule = mlir::tfm::translateToLLVMIR(*module, llvmContext, options);
    if (!llvmModule)
      return 1;
  }
  // LLVM IR text and an object file come from the module as one.
  if (emit != Emit::SharedObject) {
    {
      StageTimer timer("llvm-opt");
      mlir::tfm::optimize(*llvmModule, options);
    }
    if (emit == Emit::Llvm)
      return writeText(
          [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });
    StageTimer timer("codegen");
    return failed(mlir::tfm::emitObject(*llvmModule, options, outputPath));
  }

  // A shared object: the module in parts, optimized and compiled on as
  // many threads, then linked. A model compiles into a directory; its
  // library is model.so.
  std::string libraryPath = outputPath;
  if (isModel)
    libraryPath = outputPath + "/model.so";
  // Two parts per core: the parts differ in size (a part may hold one big
  // entry), and more of them balance the cores. Paper-size 6+6 model on 2
  // cores: 24.1 s in one part, 14.9 s in 2, 13.4 s in 4.
  unsigned parts = codegenThreads;
  if (parts == 0)
    parts = std::clamp(2 * std::thread::hardware_concurrency(), 1u, 16u);
  std::vector<std::string> objects;
  auto removeObjects = llvm::make_scope_exit([&] {
    for (const std::string &object : objects)
      llvm::sys::fs::remove(object);
  });
  for (unsigned i = 0; i < parts; ++i) {
    llvm::SmallString<128> path;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("tfmc", "o", path))
      return fail("cannot create a temporary file: " + ec.message());
    objects.push_back(path.str().str());
  }
  bool openmp = mlir::tfm::usesOpenMP(*llvmModule);
  {
    StageTimer timer(parts == 1 ? "llvm-opt+codegen"
                                : "llvm-opt+codegen (parallel)");
    if (parts == 1) {
      mlir::tfm::optimize(*llvmModule, options);
      if (failed(mlir::tfm::emitObject(*llvmModule, options, objects[0])))
        return 1;
    } else if (failed(mlir::tfm::compileInParts(std::move(llvmModule), options,
                                                objects))) {
      return 1;
    }
  }
  {
    StageTimer timer("link");
    if (failed(mlir::tfm::linkSharedObject(objects, libraryPath, openmp)))
      return 1;
  }
  if (isModel) {
    auto tokenizer =
        mlir::tfm::copyTokenizer(inputPath, tokenizerFiles, outputPath);
    if (failed(tokenizer) ||
        failed(mlir::tfm::writeModelJson(outputPath, source, model, weights,
                                         weightType, *tokenizer)))
      return 1;
  }
  return 0;
}
