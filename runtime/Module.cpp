//===- Module.cpp - Loading and calling compiled modules ------------------===//
//
// dlopen()s a module, checks it against runtime/tfm_abi.h, and marshals
// tensors to and from the strided memref descriptors its entries take.
//
//===----------------------------------------------------------------------===//

#include "runtime/Module.h"
#include "runtime/BufferPool.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits>
#include <sys/stat.h>

namespace tfm {

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

std::optional<bool> cpuHasFeature(std::string_view feature) {
  // __builtin_cpu_supports takes a literal: one branch per name the
  // compiler may state.
  if (feature == "avx512bf16")
    return __builtin_cpu_supports("avx512bf16");
  if (feature == "avx512f")
    return __builtin_cpu_supports("avx512f");
  if (feature == "avx2")
    return __builtin_cpu_supports("avx2");
  return std::nullopt;
}

absl::Status checkCpuFeatures(
    std::string_view features, std::string_view module,
    const std::function<std::optional<bool>(std::string_view)> &has) {
  for (absl::string_view feature :
       absl::StrSplit(toAbsl(features), ' ', absl::SkipEmpty())) {
    std::optional<bool> present = has(toStd(feature));
    if (!present)
      return absl::FailedPreconditionError(absl::StrCat(
          toAbsl(module), ": needs CPU feature '", feature,
          "', which this runtime does not know; update the runtime"));
    if (!*present)
      return absl::FailedPreconditionError(absl::StrCat(
          toAbsl(module), ": compiled for a CPU with ", feature,
          ", which this CPU does not have (bf16 weights use vdpbf16ps "
          "where the compiling machine has it); recompile the model on "
          "this machine, or with tfmc --mcpu for this CPU"));
  }
  return absl::OkStatus();
}

/// Parses a non-negative decimal without sign or spaces; nullopt on anything
/// else, including overflow.
static std::optional<int64_t> parseDecimal(absl::string_view text) {
  if (text.empty())
    return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    int digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

static bool isIdentifier(absl::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (char c : name)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  return true;
}

/// Parses "f32[?,8,?,64]"; returns the problem as an error message.
static absl::StatusOr<ArgSpec> parseArgSpec(absl::string_view text) {
  size_t open = text.find('[');
  if (open == absl::string_view::npos || text.back() != ']')
    return absl::InvalidArgumentError(
        absl::StrCat("expected a type like f32[?,8], got '", text, "'"));
  std::optional<DType> dtype = parseDType(toStd(text.substr(0, open)));
  if (!dtype)
    return absl::InvalidArgumentError(
        absl::StrCat("unknown element type '", text.substr(0, open), "' in '",
                     text, "' (expected f32, i32 or i64)"));
  ArgSpec spec;
  spec.dtype = *dtype;
  absl::string_view dims = text.substr(open + 1, text.size() - open - 2);
  if (dims.empty())
    return spec;
  for (absl::string_view dim : absl::StrSplit(dims, ',')) {
    if (dim == "?") {
      spec.dims.push_back(-1);
      continue;
    }
    std::optional<int64_t> size = parseDecimal(dim);
    if (!size)
      return absl::InvalidArgumentError(
          absl::StrCat("bad dimension '", dim, "' in '", text,
                       "' (expected a non-negative size or '?')"));
    spec.dims.push_back(*size);
  }
  return spec;
}

absl::StatusOr<std::vector<EntrySpec>>
parseManifest(std::string_view manifest) {
  absl::string_view text = toAbsl(manifest);
  std::vector<EntrySpec> entries;
  bool seenHeader = false;
  size_t lineNumber = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++lineNumber;
    auto lineError = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest line ", lineNumber, ": ", what));
    };
    std::vector<absl::string_view> tokens =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (tokens.empty())
      continue;

    if (!seenHeader) {
      if (tokens[0] != "tfm-abi" || tokens.size() != 2)
        return lineError(absl::StrCat("expected 'tfm-abi ", TFM_ABI_VERSION,
                                      "', got '", absl::StrJoin(tokens, " "),
                                      "'"));
      std::optional<int64_t> version = parseDecimal(tokens[1]);
      if (!version || *version != TFM_ABI_VERSION)
        return lineError(absl::StrCat("manifest is for tfm ABI version '",
                                      tokens[1], "', this runtime supports ",
                                      TFM_ABI_VERSION));
      seenHeader = true;
      continue;
    }

    // The model's configuration and weights (CompiledModule::load keeps
    // them).
    if (tokens[0] == "config" || tokens[0] == "weights" ||
        tokens[0] == "requires")
      continue;
    if (tokens[0] != "entry")
      return lineError(
          absl::StrCat("expected 'entry NAME ...', got '", tokens[0], "'"));
    if (tokens.size() < 2)
      return lineError("missing entry name");
    EntrySpec entry;
    entry.name = std::string(tokens[1]);
    if (!isIdentifier(entry.name))
      return lineError(
          absl::StrCat("entry name '", entry.name, "' is not a C identifier"));
    for (const EntrySpec &other : entries)
      if (other.name == entry.name)
        return lineError(absl::StrCat("duplicate entry '", entry.name, "'"));
    for (size_t i = 2; i < tokens.size(); i += 2) {
      absl::string_view kind = tokens[i];
      if (kind != "in" && kind != "inout" && kind != "out")
        return lineError(absl::StrCat("expected 'in', 'inout' or 'out', got '",
                                      kind, "' in entry '", entry.name, "'"));
      if (i + 1 == tokens.size())
        return lineError(absl::StrCat("'", kind, "' without a type in entry '",
                                      entry.name, "'"));
      absl::StatusOr<ArgSpec> spec = parseArgSpec(tokens[i + 1]);
      if (!spec.ok())
        return lineError(spec.status().message());
      spec->inout = kind == "inout";
      (kind == "out" ? entry.results : entry.inputs)
          .push_back(std::move(*spec));
    }
    entries.push_back(std::move(entry));
  }
  if (!seenHeader)
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest is empty (expected 'tfm-abi ", TFM_ABI_VERSION, "')"));
  return entries;
}

std::string formatArgSpec(const ArgSpec &spec) {
  return formatTensorType(spec.dtype, spec.dims);
}

std::string formatEntrySpec(const EntrySpec &entry) {
  std::string line = absl::StrCat("entry ", entry.name);
  for (const ArgSpec &input : entry.inputs)
    absl::StrAppend(&line, input.inout ? " inout " : " in ",
                    formatArgSpec(input));
  for (const ArgSpec &result : entry.results)
    absl::StrAppend(&line, " out ", formatArgSpec(result));
  return line;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

absl::StatusOr<std::unique_ptr<CompiledModule>>
CompiledModule::load(const std::string &path) {
  // dlopen's own message for a missing file is "cannot open shared object
  // file"; say it in the user's terms first.
  struct stat info;
  if (stat(path.c_str(), &info) != 0)
    return absl::ErrnoToStatus(errno,
                               absl::StrCat(path, ": cannot open module"));
  if (S_ISDIR(info.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a compiled module"));

  // Without a '/', dlopen would search the library path instead of the
  // working directory.
  std::string dlPath = path.find('/') == std::string::npos ? "./" + path : path;
  dlerror();
  void *handle = dlopen(dlPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    absl::string_view message = reason ? reason : "unknown dlopen error";
    // dlerror repeats the path; keep the message to one mention of it.
    std::string prefix = dlPath + ": ";
    if (message.substr(0, prefix.size()) == prefix)
      message.remove_prefix(prefix.size());
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot load module: ", message));
  }
  // From here on the destructor unloads the module on every error path.
  std::unique_ptr<CompiledModule> module(new CompiledModule(path, handle));

  const void *versionSymbol = dlsym(handle, TFM_ABI_VERSION_SYMBOL);
  if (!versionSymbol)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a tfm compiled module (no '",
                     TFM_ABI_VERSION_SYMBOL, "' symbol)"));
  int32_t version;
  std::memcpy(&version, versionSymbol, sizeof(version));
  if (version != TFM_ABI_VERSION)
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": module was compiled for tfm ABI version ",
                     version, ", this runtime supports version ",
                     TFM_ABI_VERSION, "; recompile it with a matching tfmc"));

  const char *manifest =
      static_cast<const char *>(dlsym(handle, TFM_MANIFEST_SYMBOL));
  if (!manifest)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a tfm compiled module (no '",
                     TFM_MANIFEST_SYMBOL, "' symbol)"));
  absl::StatusOr<std::vector<EntrySpec>> entries = parseManifest(manifest);
  if (!entries.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid manifest: ", entries.status().message()));
  module->entries_ = std::move(*entries);
  for (absl::string_view line : absl::StrSplit(manifest, '\n'))
    if (absl::ConsumePrefix(&line, "config "))
      module->modelConfig_ = std::string(line);
    else if (absl::ConsumePrefix(&line, "weights "))
      module->weightChecksums_ = absl::StrSplit(line, ' ', absl::SkipEmpty());
    else if (absl::ConsumePrefix(&line, "requires "))
      TFM_RETURN_IF_ERROR(checkCpuFeatures(toStd(line), path));

  // The module's buffers come from the runtime's allocator.
  module->freeResult_ = std::free;
  if (void *table = dlsym(handle, TFM_ALLOCATOR_SYMBOL)) {
    tfm_alloc_fn alloc = bufferAllocate;
    tfm_free_fn release = bufferFree;
    std::memcpy(static_cast<char *>(table), &alloc, sizeof(alloc));
    std::memcpy(static_cast<char *>(table) + sizeof(void *), &release,
                sizeof(release));
    module->freeResult_ = bufferFree;
  }
  // Failed checks in compiled code end the call, not the process.
  if (void *table = dlsym(handle, TFM_ERROR_HOOK_SYMBOL)) {
    tfm_fail_fn fail = compiledCheckFailed;
    std::memcpy(table, &fail, sizeof(fail));
  }

  for (const EntrySpec &entry : module->entries_) {
    std::string symbol = TFM_ENTRY_PREFIX + entry.name;
    void *function = dlsym(handle, symbol.c_str());
    if (!function)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": manifest lists entry '", entry.name,
                       "' but the module does not export '", symbol, "'"));
    module->functions_.push_back(reinterpret_cast<tfm_entry_fn>(function));
  }
  return module;
}

CompiledModule::~CompiledModule() {
  if (handle_)
    dlclose(handle_);
}

const EntrySpec *CompiledModule::findEntry(std::string_view name) const {
  for (const EntrySpec &entry : entries_)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Calling
//===----------------------------------------------------------------------===//

using RawResult = PreparedCall::RawResult;

static void *wordToPointer(int64_t word) {
  return reinterpret_cast<void *>(static_cast<intptr_t>(word));
}

static int64_t pointerToWord(const void *pointer) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(pointer));
}

static bool isRowMajor(const RawResult &result) {
  // An empty result has nothing to gather, whatever its strides.
  for (int64_t size : result.sizes)
    if (size == 0)
      return true;
  int64_t expected = 1;
  for (size_t k = result.sizes.size(); k-- > 0;) {
    // The stride of a size-1 dimension is never used.
    if (result.sizes[k] != 1 && result.strides[k] != expected)
      return false;
    if (__builtin_mul_overflow(expected, result.sizes[k], &expected))
      return false;
  }
  return true;
}

/// Gathers a strided result into contiguous row-major `dst`.
static void copyStrided(const RawResult &result, size_t elementSize,
                        char *dst) {
  const char *base = static_cast<const char *>(result.aligned) +
                     result.offset * static_cast<int64_t>(elementSize);
  size_t rank = result.sizes.size();
  if (rank == 0) {
    std::memcpy(dst, base, elementSize);
    return;
  }
  std::vector<int64_t> index(rank, 0);
  const int64_t innerSize = result.sizes[rank - 1];
  const int64_t innerStride =
      result.strides[rank - 1] * static_cast<int64_t>(elementSize);
  while (true) {
    int64_t outer = 0;
    for (size_t k = 0; k + 1 < rank; ++k)
      outer += index[k] * result.strides[k];
    const char *src = base + outer * static_cast<int64_t>(elementSize);
    for (int64_t i = 0; i < innerSize; ++i, dst += elementSize)
      std::memcpy(dst, src + i * innerStride, elementSize);
    // Odometer increment over the outer dimensions.
    size_t k = rank - 1;
    while (k > 0 && ++index[k - 1] == result.sizes[k - 1])
      index[--k] = 0;
    if (k == 0)
      return;
  }
}

absl::StatusOr<std::vector<Tensor>>
CompiledModule::call(std::string_view name,
                     absl::Span<const Tensor *const> inputs) const {
  TFM_ASSIGN_OR_RETURN(
      auto prepared,
      prepare(name, std::vector<const Tensor *>(inputs.begin(), inputs.end())));
  std::vector<Tensor> results;
  TFM_RETURN_IF_ERROR(prepared.run(results));
  return results;
}

absl::StatusOr<PreparedCall>
CompiledModule::prepare(std::string_view name,
                        std::vector<const Tensor *> inputs,
                        std::vector<bool> batched) const {
  size_t entryIndex = 0;
  while (entryIndex < entries_.size() && entries_[entryIndex].name != name)
    ++entryIndex;
  if (entryIndex == entries_.size()) {
    std::vector<absl::string_view> names;
    for (const EntrySpec &entry : entries_)
      names.push_back(entry.name);
    return absl::NotFoundError(
        absl::StrCat(path_, ": no entry '", toAbsl(name),
                     "' (entries: ", absl::StrJoin(names, ", "), ")"));
  }
  const EntrySpec &entry = entries_[entryIndex];
  if (inputs.size() != entry.inputs.size())
    return absl::InvalidArgumentError(absl::StrCat(
        "entry '", entry.name, "' takes ", entry.inputs.size(), " input",
        entry.inputs.size() == 1 ? "" : "s", ", got ", inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i])
      return absl::InvalidArgumentError(absl::StrCat(
          "entry '", entry.name, "' input ", i, ": no tensor given"));
  if (!batched.empty() && batched.size() != inputs.size())
    return absl::InvalidArgumentError("one batched flag per input expected");

  PreparedCall call;
  call.module_ = this;
  call.entryIndex_ = entryIndex;
  call.batched_ = batched.empty() ? std::vector<bool>(inputs.size(), false)
                                  : std::move(batched);
  // Storage for every descriptor, sized by the manifest's ranks.
  size_t inputWordCount = 0;
  for (const ArgSpec &spec : entry.inputs)
    inputWordCount += TFM_DESCRIPTOR_WORDS(spec.dims.size());
  size_t resultWordCount = 0;
  for (const ArgSpec &result : entry.results)
    resultWordCount += TFM_DESCRIPTOR_WORDS(result.dims.size());
  call.inputWords_.assign(inputWordCount, 0);
  call.resultWords_.assign(resultWordCount, 0);
  call.args_.assign(1 + inputs.size(), nullptr);
  call.raw_.resize(entry.results.size());
  for (size_t i = 0; i < entry.results.size(); ++i) {
    call.raw_[i].sizes.resize(entry.results[i].dims.size());
    call.raw_[i].strides.resize(entry.results[i].dims.size());
  }
  call.pending_.reserve(entry.results.size());
  call.inputs_ = std::move(inputs);
  return call;
}

absl::Status PreparedCall::run(std::vector<Tensor> &results) {
  if (!module_)
    return absl::FailedPreconditionError("the call was not prepared");
  const EntrySpec &entry = module_->entries_[entryIndex_];
  void (*freeResult)(void *) = module_->freeResult_;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Tensor &input = *inputs_[i];
    if (!input.rawData())
      return absl::InvalidArgumentError(absl::StrCat(
          "entry '", entry.name, "' input ", i, ": no tensor given"));
    bool batched = batched_[i] && batch_ >= 0;
    if (batched && (input.rank() == 0 || batch_ > input.dim(0)))
      return absl::InvalidArgumentError(
          absl::StrCat("entry '", entry.name, "' input ", i, ": ", batch_,
                       " rows asked of ", input.typeString()));
    const ArgSpec &spec = entry.inputs[i];
    bool matches =
        input.dtype() == spec.dtype && input.rank() == spec.dims.size();
    for (size_t k = 0; matches && k < spec.dims.size(); ++k) {
      int64_t size = k == 0 && batched ? batch_ : input.dim(k);
      matches = spec.dims[k] < 0 || spec.dims[k] == size;
    }
    if (!matches)
      return absl::InvalidArgumentError(
          absl::StrCat("entry '", entry.name, "' input ", i, ": expected ",
                       formatArgSpec(spec), ", got ", input.typeString()));
  }

  // Input descriptors, back to back; allocated and aligned both point at
  // the tensor's data, which the callee only reads (or, for an inout
  // input, updates in place).
  size_t position = 0;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Tensor &input = *inputs_[i];
    int64_t *words = inputWords_.data() + position;
    args_[1 + i] = words;
    size_t rank = input.rank();
    position += TFM_DESCRIPTOR_WORDS(rank);
    words[0] = words[1] = pointerToWord(input.rawData());
    words[2] = 0;
    // Row-major strides. Past a product that does not fit, the tensor is
    // empty (a zero dimension; sizes are checked when tensors are made) and
    // its strides are never used: saturate rather than overflow.
    int64_t stride = 1;
    for (size_t k = rank; k-- > 0;) {
      int64_t size =
          k == 0 && batched_[i] && batch_ >= 0 ? batch_ : input.dim(k);
      words[3 + k] = size;
      words[3 + rank + k] = stride;
      if (__builtin_mul_overflow(stride, input.dim(k), &stride))
        stride = std::numeric_limits<int64_t>::max();
    }
  }
  std::fill(resultWords_.begin(), resultWords_.end(), 0);
  args_[0] = entry.results.empty() ? nullptr : resultWords_.data();

  TFM_RETURN_IF_ERROR(callGuarded(module_->functions_[entryIndex_],
                                  args_.data(), entry.name.c_str()));

  // Decode every descriptor and decide who frees what before touching any
  // memory: a result may alias an input (which the caller owns) or an
  // earlier result (which must be freed once).
  position = 0;
  for (size_t i = 0; i < raw_.size(); ++i) {
    size_t rank = entry.results[i].dims.size();
    const int64_t *words = resultWords_.data() + position;
    position += TFM_DESCRIPTOR_WORDS(rank);
    RawResult &result = raw_[i];
    result.allocated = wordToPointer(words[0]);
    result.aligned = wordToPointer(words[1]);
    result.offset = words[2];
    std::copy(words + 3, words + 3 + rank, result.sizes.begin());
    std::copy(words + 3 + rank, words + 3 + 2 * rank, result.strides.begin());
    result.owned = result.allocated != nullptr;
    for (size_t j = 0; j < inputs_.size() && result.owned; ++j)
      if (result.allocated == inputs_[j]->rawData())
        result.owned = false;
    for (size_t j = 0; j < i && result.owned; ++j)
      if (result.allocated == raw_[j].allocated)
        result.owned = false;
  }
  // Frees what results [from, end) own plus the pending blocks; used on
  // error paths.
  pending_.clear();
  auto freeRemaining = [&](size_t from) {
    for (void *block : pending_)
      freeResult(block);
    for (size_t i = from; i < raw_.size(); ++i)
      if (raw_[i].owned)
        freeResult(raw_[i].allocated);
  };

  for (size_t i = 0; i < raw_.size(); ++i) {
    const ArgSpec &spec = entry.results[i];
    RawResult &result = raw_[i];
    absl::Status status;
    for (int64_t size : result.sizes)
      if (size < 0)
        status = absl::InternalError(
            absl::StrCat("entry '", entry.name, "' result ", i,
                         ": descriptor has negative size ", size));
    if (status.ok()) {
      bool staticMatch = true;
      for (size_t k = 0; k < spec.dims.size(); ++k)
        if (spec.dims[k] >= 0 && spec.dims[k] != result.sizes[k])
          staticMatch = false;
      if (!staticMatch)
        status = absl::InternalError(
            absl::StrCat("entry '", entry.name, "' result ", i, ": returned ",
                         formatTensorType(spec.dtype, result.sizes),
                         ", the manifest declares ", formatArgSpec(spec)));
    }
    if (status.ok()) {
      absl::StatusOr<int64_t> count =
          checkedNumElements(spec.dtype, result.sizes);
      if (!count.ok())
        status = absl::InternalError(absl::StrCat("entry '", entry.name,
                                                  "' result ", i, ": ",
                                                  count.status().message()));
      else
        result.numElements = *count;
    }
    if (status.ok() && result.numElements > 0 && !result.aligned)
      status = absl::InternalError(absl::StrCat(
          "entry '", entry.name, "' result ", i, ": null data pointer"));
    if (!status.ok()) {
      freeRemaining(0);
      return status;
    }
  }

  results.resize(raw_.size());
  for (size_t i = 0; i < raw_.size(); ++i) {
    RawResult &result = raw_[i];
    DType dtype = entry.results[i].dtype;
    // An empty result is copied too, so that every tensor has a valid data
    // pointer whatever the callee put in the descriptor.
    if (result.owned && result.numElements > 0 && isRowMajor(result)) {
      results[i].reset(dtype, result.sizes, result.allocated, result.aligned,
                       result.offset, freeResult);
      continue;
    }
    absl::StatusOr<Tensor> copy =
        Tensor::allocateUninitialized(dtype, result.sizes);
    if (!copy.ok()) {
      freeRemaining(i);
      return copy.status();
    }
    if (result.numElements > 0)
      copyStrided(result, dtypeSize(dtype),
                  static_cast<char *>(copy->rawData()));
    results[i] = std::move(*copy);
    if (result.owned)
      pending_.push_back(result.allocated);
  }
  for (void *block : pending_)
    freeResult(block);
  pending_.clear();
  return absl::OkStatus();
}

} // namespace tfm
