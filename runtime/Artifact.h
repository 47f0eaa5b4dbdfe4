//===- Artifact.h - A compiled model, loaded --------------------*- C++ -*-===//
//
// Loads what `tfmc MODEL_DIR -o OUT` writes (tools/tfmc/Artifact.h): the
// native library, the prepared weights (mapped, not copied) and model.json,
// and calls entry points with run-time inputs given by name while the
// weights are bound from the artifact.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_ARTIFACT_H
#define TFM_RUNTIME_ARTIFACT_H

#include "runtime/Module.h"
#include "runtime/Sampling.h"
#include "runtime/Tensor.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "support/Json.h"
#include "support/MappedFile.h"

#include "absl/status/statusor.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm {

/// Version of the artifact layout this runtime reads (2: linear weights
/// stored in tfm.pack_weight's panel layout; 3: model.json records the
/// hashes of model.so and weights.bin, and model.so's manifest the config;
/// 4: each weight's element type, f32, bf16 or i8).
inline constexpr int64_t kArtifactVersion = 4;

enum class ModelArchitecture { EncoderDecoder, Encoder, Decoder };

/// The config fields the runtime uses.
struct ArtifactConfig {
  ModelArchitecture architecture = ModelArchitecture::EncoderDecoder;
  int64_t dModel = 0;
  int64_t srcVocabSize = 0;
  int64_t tgtVocabSize = 0;
  int64_t maxSeqLen = 0;
  int64_t padId = 0;
  /// The encoder-decoder's first decoder token.
  int64_t bosId = 1;
  int64_t eosId = 2;
  /// Token types the encoder takes ("src_types"; BERT); 0: none.
  int64_t typeVocabSize = 0;
  /// Greedy decoding and beam search, as the model's generation config
  /// says: more ids that end a sequence, the token forced as the last one
  /// the token limit allows (-1: none), token sequences never generated.
  std::vector<int64_t> moreEosIds;
  int64_t forcedEosId = -1;
  std::vector<std::vector<int64_t>> badWordsIds;

  /// Whether `token` ends a sequence.
  bool isEos(int64_t token) const {
    return token == eosId || std::find(moreEosIds.begin(), moreEosIds.end(),
                                       token) != moreEosIds.end();
  }
};

/// One line of model.json's weight index.
struct WeightRecord {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0;
  DType dtype = DType::F32;
};

/// The XXH3 hash of a weight index (names, shapes, offsets and element
/// types, in order), as
/// 16 hex digits: tfmc writes it into the module's manifest, the runtime
/// recomputes it from model.json, so that an edited offset or shape is
/// refused.
std::string weightIndexChecksum(const std::vector<WeightRecord> &index);

/// model.json, parsed and checked on its own (no other file read): the
/// config, the weight index (every record within the stated size of
/// weights.bin), the library and the entries' argument lists.
struct ArtifactDescription {
  ArtifactConfig config;
  /// The config object as written, compared field by field with the one
  /// the module's manifest states.
  json::Value configJson;
  std::string weightFile;
  int64_t weightBytes = 0;
  std::string weightsChecksum;
  std::vector<WeightRecord> weights;
  std::string library;
  std::string libraryChecksum;
  struct Entry {
    std::string name;
    /// Argument names in call order, and whether each is a weight.
    std::vector<std::pair<std::string, bool>> arguments;
  };
  std::vector<Entry> entries;
  /// The tokenizer tfmc copied from the checkpoint directory into
  /// tokenizer/ (none: no files): each file's name and XXH3 hash.
  std::vector<std::pair<std::string, std::string>> tokenizerFiles;
  /// The generation config's sampling settings (transformers' defaults
  /// when model.json has none).
  SamplingParams sampling;
};

/// Parses model.json's text; errors name `path`.
absl::StatusOr<ArtifactDescription>
parseArtifactDescription(std::string_view text, const std::string &path);

/// Checks that `config` (model.json's) has every field of the config the
/// module's manifest states (`stated`, JSON text) with the same value, and
/// no other; errors name `library`.
absl::Status checkCompiledConfig(const json::Value &config,
                                 std::string_view stated,
                                 const std::string &library);

/// A run-time input of an entry, by argument name.
using NamedInputs = std::vector<std::pair<std::string, const Tensor *>>;

class Artifact {
public:
  /// Loads the artifact directory `dir`; every inconsistency (version,
  /// missing file, weight outside weights.bin, entries that do not match the
  /// library's manifest, a model.so or weights.bin other than the ones
  /// model.json was written with (their XXH3 hashes), a config field other
  /// than the one the module was compiled for) is one clear error.
  static absl::StatusOr<std::unique_ptr<Artifact>> load(const std::string &dir);

  const ArtifactConfig &config() const { return config_; }
  bool hasEntry(std::string_view name) const;

  /// The run-time inputs of entry `name` (its arguments other than weights),
  /// in call order, with their manifest types; empty if there is no such
  /// entry.
  std::vector<std::pair<std::string, ArgSpec>>
  runtimeInputs(std::string_view name) const;

  /// The manifest's description of entry `name`, or null.
  const EntrySpec *entrySpec(std::string_view name) const;

  /// Calls entry `name` with the run-time inputs by name; weights are bound
  /// from the artifact. Inputs the manifest marks inout are updated in place.
  absl::StatusOr<std::vector<Tensor>> call(std::string_view name,
                                           const NamedInputs &inputs) const;

  /// Whether the artifact has a tokenizer (the checkpoint directory had
  /// one).
  bool hasTokenizer() const { return !tokenizerFiles_.empty(); }

  /// The sampling settings of the model's generation config.
  const SamplingParams &samplingDefaults() const { return sampling_; }

  /// The model's tokenizer, read on first use from the artifact's
  /// tokenizer/ (after checking each file's hash); an error when the
  /// artifact has none.
  absl::StatusOr<const Tokenizer *> tokenizer() const;

  /// Prepares repeated calls of entry `name` (runtime/Module.h): the inputs
  /// must outlive the PreparedCall; those named in `batched` follow its
  /// setBatch().
  absl::StatusOr<PreparedCall>
  prepare(std::string_view name, const NamedInputs &inputs,
          const std::vector<std::string> &batched = {}) const;

private:
  /// The argument list of entry `name`: weights bound, run-time inputs by
  /// name (and whether each is in `batched`).
  absl::Status bind(std::string_view name, const NamedInputs &inputs,
                    const std::vector<std::string> &batched,
                    std::vector<const Tensor *> &args,
                    std::vector<bool> &isBatched) const;

  struct Argument {
    std::string name;
    const Tensor *weight = nullptr; // Null for a run-time input.
  };
  Artifact() = default;

  ArtifactConfig config_;
  std::string dir_;
  SamplingParams sampling_;
  std::vector<std::pair<std::string, std::string>> tokenizerFiles_;
  mutable std::once_flag tokenizerOnce_;
  mutable absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer_ =
      absl::UnknownError("not loaded");
  std::unique_ptr<MappedFile> weightFile_;
  std::map<std::string, Tensor, std::less<>> weights_;
  std::unique_ptr<CompiledModule> module_;
  std::map<std::string, std::vector<Argument>, std::less<>> entries_;
};

} // namespace tfm

#endif // TFM_RUNTIME_ARTIFACT_H
