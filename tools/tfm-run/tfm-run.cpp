//===- tfm-run.cpp - Run a tfm compiled module ----------------------------===//
//
// Loads an artifact produced by tfmc and runs it with the runtime alone.
// Modes:
//   --list              print the entry points of the artifact
//   --call NAME ...     call one entry on .npy inputs, write .npy results
// The model mode of DESIGN.md (--src, --inputs, ...) is not implemented yet.
//
//===----------------------------------------------------------------------===//

#include "runtime/Module.h"
#include "runtime/Npy.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

using namespace tfm;

static constexpr char kUsage[] =
    R"(usage: tfm-run ARTIFACT.so --list
       tfm-run ARTIFACT.so --call NAME [--input IN.npy]... [--output OUT.npy]...

Runs a module compiled by tfmc.

  --list            print the artifact's entry points, one manifest line each
  --call NAME       call entry NAME: one --input per entry input, in order,
                    and one --output per entry result, in order
  --input FILE      an input tensor (.npy: <f4, <i4 or <i8, C order)
  --output FILE     where to write a result (.npy)
  -h, --help        show this help

Options taking a value also accept the --option=VALUE form.
)";

namespace {

enum class Mode { None, List, Call };

/// The parsed command line.
struct Options {
  std::string artifact;
  Mode mode = Mode::None;
  std::string entry;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  bool help = false;
};

} // namespace

static absl::Status usageError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " (see tfm-run --help)"));
}

static absl::Status setMode(Options &options, Mode mode) {
  if (options.mode != Mode::None && options.mode != mode)
    return usageError("--list and --call cannot be combined");
  if (options.mode == mode)
    return usageError(mode == Mode::List ? "--list given twice"
                                         : "--call given twice");
  options.mode = mode;
  return absl::OkStatus();
}

static absl::StatusOr<Options> parseArgs(int argc, char **argv) {
  Options options;
  bool positionalOnly = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (positionalOnly || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!options.artifact.empty())
        return usageError(absl::StrCat("unexpected argument '", arg,
                                       "' (only one artifact is accepted)"));
      options.artifact = std::string(arg);
      continue;
    }
    if (arg == "--") {
      positionalOnly = true;
      continue;
    }
    absl::string_view name = arg;
    std::optional<absl::string_view> inlineValue;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      inlineValue = arg.substr(eq + 1);
    }
    // Options that take a value: --name VALUE or --name=VALUE.
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inlineValue) {
        if (inlineValue->empty())
          return usageError(absl::StrCat(name, " needs a non-empty value"));
        return std::string(*inlineValue);
      }
      if (i + 1 >= argc)
        return usageError(absl::StrCat(name, " needs a value"));
      return std::string(argv[++i]);
    };

    if ((name == "-h" || name == "--help" || name == "--list") && inlineValue)
      return usageError(absl::StrCat(name, " takes no value"));
    if (name == "-h" || name == "--help") {
      options.help = true;
    } else if (name == "--list") {
      if (absl::Status status = setMode(options, Mode::List); !status.ok())
        return status;
    } else if (name == "--call") {
      if (absl::Status status = setMode(options, Mode::Call); !status.ok())
        return status;
      absl::StatusOr<std::string> entry = value();
      if (!entry.ok())
        return entry.status();
      options.entry = std::move(*entry);
    } else if (name == "--input" || name == "--output") {
      absl::StatusOr<std::string> file = value();
      if (!file.ok())
        return file.status();
      (name == "--input" ? options.inputs : options.outputs)
          .push_back(std::move(*file));
    } else if (name == "--src" || name == "--inputs" ||
               name == "--max-new-tokens" || name == "--logits" ||
               name == "--bench") {
      return usageError(absl::StrCat(name,
                                     " belongs to model mode, which is not "
                                     "implemented yet; use --list or --call"));
    } else {
      return usageError(absl::StrCat("unknown option '", name, "'"));
    }
  }
  if (options.help)
    return options;

  if (options.artifact.empty())
    return usageError("no artifact given");
  if (options.mode == Mode::None)
    return usageError("nothing to do: give --list or --call NAME");
  if (options.mode != Mode::Call &&
      (!options.inputs.empty() || !options.outputs.empty()))
    return usageError("--input and --output need --call");
  return options;
}

static absl::Status runList(const CompiledModule &module) {
  for (const EntrySpec &entry : module.entries())
    std::printf("%s\n", formatEntrySpec(entry).c_str());
  if (std::fflush(stdout) != 0)
    return absl::UnknownError("cannot write to standard output");
  return absl::OkStatus();
}

static absl::Status runCall(const CompiledModule &module,
                            const Options &options) {
  const EntrySpec *entry = module.findEntry(options.entry);
  if (!entry) {
    std::vector<absl::string_view> names;
    for (const EntrySpec &each : module.entries())
      names.push_back(each.name);
    return absl::NotFoundError(absl::StrCat(
        module.path(), ": no entry '", options.entry, "' (entries: ",
        names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  // Count mismatches are reported before any file is read.
  if (options.inputs.size() != entry->inputs.size())
    return absl::InvalidArgumentError(
        absl::StrCat("entry '", entry->name, "' takes ", entry->inputs.size(),
                     " input", entry->inputs.size() == 1 ? "" : "s", ", got ",
                     options.inputs.size(), " --input"));
  if (options.outputs.size() != entry->results.size())
    return absl::InvalidArgumentError(absl::StrCat(
        "entry '", entry->name, "' returns ", entry->results.size(), " result",
        entry->results.size() == 1 ? "" : "s", ", got ", options.outputs.size(),
        " --output"));

  std::vector<Tensor> inputs;
  inputs.reserve(options.inputs.size());
  for (const std::string &path : options.inputs) {
    absl::StatusOr<Tensor> tensor = readNpy(path);
    if (!tensor.ok())
      return tensor.status();
    inputs.push_back(std::move(*tensor));
  }
  std::vector<const Tensor *> inputPointers;
  for (const Tensor &input : inputs)
    inputPointers.push_back(&input);

  absl::StatusOr<std::vector<Tensor>> results =
      module.call(entry->name, inputPointers);
  if (!results.ok())
    return results.status();
  for (size_t i = 0; i < results->size(); ++i)
    if (absl::Status status = writeNpy(options.outputs[i], (*results)[i]);
        !status.ok())
      return status;
  return absl::OkStatus();
}

static absl::Status run(int argc, char **argv) {
  absl::StatusOr<Options> options = parseArgs(argc, argv);
  if (!options.ok())
    return options.status();
  if (options->help) {
    std::fputs(kUsage, stdout);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(options->artifact);
  if (!module.ok())
    return module.status();
  switch (options->mode) {
  case Mode::List:
    return runList(**module);
  case Mode::Call:
    return runCall(**module, *options);
  case Mode::None:
    break;
  }
  return absl::InternalError("no mode selected");
}

int main(int argc, char **argv) {
  absl::Status status;
  // Nothing in the runtime throws on bad input; this catches allocation
  // failures so that even those end in one line and exit code 1.
  try {
    status = run(argc, argv);
  } catch (const std::exception &e) {
    status = absl::InternalError(e.what());
  }
  if (status.ok())
    return 0;
  std::fprintf(stderr, "tfm-run: error: %.*s\n",
               static_cast<int>(status.message().size()),
               status.message().data());
  return 1;
}
