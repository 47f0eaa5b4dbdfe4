//===- Checkpoint.h - The weights of a model directory ----------*- C++ -*-===//
//
// A model directory's tensors: one model.safetensors, or the shards that
// model.safetensors.index.json maps names to (what transformers'
// save_pretrained writes for a large model). Which tensors a model needs,
// and where each weight the graph asks for comes from in them (a tensor, a
// transposed tensor, a range of its rows, or a table tfmc computes).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_CHECKPOINT_H
#define TFM_FRONTEND_CHECKPOINT_H

#include "frontend/Config.h"
#include "frontend/Safetensors.h"

#include "absl/status/statusor.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

/// The open, validated safetensors files of one model, seen as one set of
/// uniquely named tensors.
class Checkpoint {
public:
  /// Opens `dir`/model.safetensors.index.json and its shards when the index
  /// exists, `dir`/model.safetensors otherwise. Every shard is validated as
  /// SafetensorsFile::open does; the index must name each tensor of each
  /// shard exactly once, in the shard it says, and only files in `dir`.
  static absl::StatusOr<std::unique_ptr<Checkpoint>>
  open(const std::string &dir);

  /// A checkpoint of one file, which it may share with the caller.
  explicit Checkpoint(std::shared_ptr<const SafetensorsFile> file);

  const SafetensorsTensor *find(std::string_view name) const;
  /// The file that holds `name` (the index, for a name it lacks), for
  /// messages.
  const std::string &pathOf(std::string_view name) const;
  /// Every tensor: file by file, each in header order.
  std::vector<const SafetensorsTensor *> tensors() const;
  /// The index file, or the one file.
  const std::string &path() const { return path_; }

private:
  Checkpoint() = default;
  absl::Status add(std::shared_ptr<const SafetensorsFile> file);

  std::string path_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  struct Located {
    const SafetensorsTensor *tensor;
    const std::string *path;
  };
  std::map<std::string, Located, std::less<>> index_;
};

/// What a checkpoint must hold: these tensors with these shapes, in one of
/// `dtypes`; tensors named in `ignored` may be there too (buffers that
/// older versions saved, tied copies) and are not read; anything else is an
/// error naming it and `model`.
struct CheckpointSpec {
  std::vector<WeightSpec> required;
  std::vector<std::string> ignored;
  std::vector<std::string> dtypes{"F32"};
  /// "an encoder model with d_model 512, ..." for "not used by" messages.
  std::string model;
};

/// Reports the first problem in `spec`'s order, then in the checkpoint's:
/// "FILE: missing weight 'x'", "FILE: weight 'x' has dtype I64, expected
/// F32, F16 or BF16", "FILE: weight 'x' has shape [3, 4], expected [4, 4]",
/// "FILE: unexpected weight 'y' (not used by MODEL)".
absl::Status validateCheckpoint(const CheckpointSpec &spec,
                                const Checkpoint &checkpoint);

/// Where a weight that the graph asks for comes from.
struct WeightSource {
  enum class Kind {
    /// Rows [rowBegin, rowEnd) of a tensor (-1: to the end), after
    /// transposing it when `transpose` (a [in, out] matrix such as GPT-2's
    /// Conv1D weights).
    Tensor,
    /// A sinusoidal position table [positions, d] computed by tfmc in
    /// double precision: sin(p / 10000^(2j/d)) in feature j < d/2, cos of
    /// the same angle in feature d/2 + j (Marian's layout, not the paper's
    /// interleaved one).
    SinusoidalHalves,
  };
  Kind kind = Kind::Tensor;
  std::string tensor;
  bool transpose = false;
  int64_t rowBegin = 0;
  int64_t rowEnd = -1;

  /// Sources that give the same values in the same layout compare equal:
  /// a tied weight is stored once.
  bool operator<(const WeightSource &other) const;
};

/// The values of `source` as a row-major f32 array of `shape`, converted
/// from the checkpoint's F32, F16 or BF16. Fails when the source does not
/// hold exactly that many values.
absl::StatusOr<std::vector<float>>
readWeight(const Checkpoint &checkpoint, const WeightSource &source,
           const std::vector<int64_t> &shape);

} // namespace tfm

#endif // TFM_FRONTEND_CHECKPOINT_H
