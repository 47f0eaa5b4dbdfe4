//===- Safetensors.h - Reading model.safetensors ----------------*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {string: string}}, then the data area, which the offsets
// index. Files are memory-mapped read-only; tensor data is never copied.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_SAFETENSORS_H
#define TFM_FRONTEND_SAFETENSORS_H

#include "frontend/Config.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tfm {

/// Size in bytes of one element of a safetensors dtype ("F32", "BF16",
/// "BOOL", ...); 0 for a dtype the format does not define.
size_t safetensorsDTypeSize(std::string_view dtype);

/// "[3, 4]"; "[]" for a scalar.
std::string formatShape(const std::vector<int64_t> &shape);

/// One tensor of a safetensors file, viewing the mapped data.
struct SafetensorsTensor {
  std::string name;
  /// The format's spelling: "F32", "F16", "BF16", "I64", ...
  std::string dtype;
  std::vector<int64_t> shape;
  /// Into the mapping; valid while the file is open. Not necessarily aligned
  /// to the element size: the format does not promise alignment.
  const void *data = nullptr;
  size_t byteSize = 0;
};

/// An open, validated safetensors file.
class SafetensorsFile {
public:
  /// Maps the file at `path` and validates its header completely: lengths,
  /// JSON, field types, dtypes, shapes, and offsets (inside the data area,
  /// matching the shape, not overlapping). Errors are one message starting
  /// with the path and naming the tensor concerned.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>>
  open(const std::string &path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const std::string &path() const { return path_; }
  /// The tensors in header order.
  const std::vector<SafetensorsTensor> &tensors() const { return tensors_; }
  /// The tensor called `name`, or null.
  const SafetensorsTensor *find(std::string_view name) const;
  /// The optional "__metadata__" entries, in header order.
  const std::vector<std::pair<std::string, std::string>> &metadata() const {
    return metadata_;
  }

private:
  SafetensorsFile() = default;

  std::string path_;
  void *mapping_ = nullptr;
  size_t mappingSize_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  /// Views the names in tensors_, which does not change after open().
  std::unordered_map<std::string_view, size_t> index_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

/// Checks that `file` holds exactly the weights of `config`'s model
/// (expectedWeights()): each present, F32 and of the expected shape, and no
/// other tensor. Reports the first problem, in expectedWeights() order and
/// then header order, prefixed by the file's path: "missing weight
/// 'encoder.layers.0.norm1.weight'", "weight 'x' has dtype F16, expected
/// F32", "weight 'x' has shape [3, 4], expected [4, 4]", "unexpected weight
/// 'y' (not used by an encoder model with d_model 512, ...)".
/// (Defined with the general check, validateCheckpoint in Checkpoint.h.)
absl::Status validateWeights(const ModelConfig &config,
                             const SafetensorsFile &file);

} // namespace tfm

#endif // TFM_FRONTEND_SAFETENSORS_H
