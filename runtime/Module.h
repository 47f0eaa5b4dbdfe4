//===- Module.h - Loading and calling compiled modules ----------*- C++ -*-===//
//
// A compiled module is a shared object that follows runtime/tfm_abi.h: it
// exports its ABI version, a text manifest of its entry points, and one
// packed function per entry. CompiledModule loads it, checks it, and calls
// entries with runtime tensors.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_MODULE_H
#define TFM_RUNTIME_MODULE_H

#include "runtime/Tensor.h"
#include "runtime/tfm_abi.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

/// The type of one entry argument as the manifest declares it.
struct ArgSpec {
  DType dtype = DType::F32;
  /// One size per dimension; -1 for a size known only at run time (`?`).
  std::vector<int64_t> dims;
  /// An input the entry updates in place (`inout` in the manifest).
  bool inout = false;
};

/// One entry point of a compiled module.
struct EntrySpec {
  std::string name;
  std::vector<ArgSpec> inputs;
  std::vector<ArgSpec> results;
};

/// Parses a module manifest (format in runtime/tfm_abi.h): a `tfm-abi N` line
/// with N == TFM_ABI_VERSION, then one `entry` line per entry point. Blank
/// lines are ignored. Errors name the line and the problem.
absl::StatusOr<std::vector<EntrySpec>> parseManifest(std::string_view text);

/// Formats an argument type the way the manifest writes it: "f32[?,8,?,64]".
std::string formatArgSpec(const ArgSpec &spec);

/// Formats an entry as its manifest line:
/// "entry NAME in f32[?] inout f32[?,4] out f32[?]".
std::string formatEntrySpec(const EntrySpec &entry);

/// Whether this CPU has `feature` (LLVM's name, e.g. "avx512bf16");
/// nullopt for a name this runtime does not know.
std::optional<bool> cpuHasFeature(std::string_view feature);

/// Checks a manifest's "requires" list (feature names, space-separated)
/// with `has` (this CPU's by default): an error names the first feature
/// missing, or unknown, and says what to do.
absl::Status checkCpuFeatures(
    std::string_view features, std::string_view module,
    const std::function<std::optional<bool>(std::string_view)> &has =
        cpuHasFeature);

class CompiledModule;

/// A call of one entry on fixed input tensors, prepared once: run() builds
/// the descriptors from the tensors' current data and shapes in buffers
/// allocated here, and reuses the result tensors it is given, so that a call
/// repeated step after step allocates nothing itself (the results come from
/// the runtime's buffer allocator: runtime/BufferPool.h).
class PreparedCall {
public:
  PreparedCall() = default;

  /// Sets dimension 0 of the inputs marked `batched` at prepare() (a view of
  /// their first `rows` rows) until the next call; -1 for their own size.
  void setBatch(int64_t rows) { batch_ = rows; }

  /// Calls the entry with the bound inputs (checked against the manifest as
  /// CompiledModule::call does) and leaves the results in `results`, whose
  /// tensors are reused (released first).
  absl::Status run(std::vector<Tensor> &results);

  /// A result descriptor as the entry filled it in.
  struct RawResult {
    void *allocated = nullptr;
    void *aligned = nullptr;
    int64_t offset = 0;
    std::vector<int64_t> sizes, strides;
    int64_t numElements = 0;
    /// Whether this result is the one to free `allocated` (false when it
    /// aliases an input or an earlier result).
    bool owned = false;
  };

private:
  friend class CompiledModule;
  const CompiledModule *module_ = nullptr;
  size_t entryIndex_ = 0;
  std::vector<const Tensor *> inputs_;
  std::vector<bool> batched_;
  int64_t batch_ = -1;
  std::vector<int64_t> inputWords_, resultWords_;
  std::vector<void *> args_;
  std::vector<RawResult> raw_;
  std::vector<void *> pending_;
};

/// A loaded compiled module. Unloaded (dlclose) when destroyed; tensors it
/// returned stay valid, since they own their memory (runtime/BufferPool.h).
class CompiledModule {
public:
  /// Loads the shared object at `path`, checks `tfm_abi_version`, parses
  /// `tfm_manifest` and resolves every `tfm_entry_NAME`. A path without '/'
  /// is taken relative to the working directory (not searched for like a
  /// library).
  static absl::StatusOr<std::unique_ptr<CompiledModule>>
  load(const std::string &path);

  ~CompiledModule();
  CompiledModule(const CompiledModule &) = delete;
  CompiledModule &operator=(const CompiledModule &) = delete;

  /// The path the module was loaded from.
  const std::string &path() const { return path_; }

  /// Entry points in manifest order.
  const std::vector<EntrySpec> &entries() const { return entries_; }
  /// The model configuration the manifest states (JSON text), or empty for
  /// a module compiled from a .mlir file.
  const std::string &modelConfig() const { return modelConfig_; }
  /// The hashes of weights.bin and of its index the manifest states (two
  /// hex strings), or none for a module compiled from a .mlir file.
  const std::vector<std::string> &weightChecksums() const {
    return weightChecksums_;
  }

  /// The entry called `name`, or null.
  const EntrySpec *findEntry(std::string_view name) const;

  /// Calls entry `name`. Checks the number of inputs and each input's element
  /// type, rank and static sizes against the manifest. Inputs the manifest
  /// marks `inout` are written in place (the caller passes tensors it owns
  /// and means to have updated); the others are only read. Returns the
  /// results as contiguous tensors that own their memory. Results whose
  /// sizes contradict the manifest are an error too.
  absl::StatusOr<std::vector<Tensor>>
  call(std::string_view name, absl::Span<const Tensor *const> inputs) const;

  /// Prepares calls of entry `name` on `inputs` (which must outlive the
  /// PreparedCall; their data and shapes are read at each run). `batched`
  /// (empty, or one flag per input) marks the inputs whose dimension 0
  /// follows PreparedCall::setBatch.
  absl::StatusOr<PreparedCall> prepare(std::string_view name,
                                       std::vector<const Tensor *> inputs,
                                       std::vector<bool> batched = {}) const;

private:
  friend class PreparedCall;
  CompiledModule(std::string path, void *handle)
      : path_(std::move(path)), handle_(handle) {}

  std::string path_;
  void *handle_;
  std::vector<EntrySpec> entries_;
  std::string modelConfig_;
  std::vector<std::string> weightChecksums_;
  /// functions_[i] is the packed function of entries_[i].
  std::vector<tfm_entry_fn> functions_;
  /// Releases a result block: the runtime's buffer allocator when the module
  /// has a tfm_allocator table (filled in at load), else free().
  void (*freeResult_)(void *) = nullptr;
};

} // namespace tfm

#endif // TFM_RUNTIME_MODULE_H
