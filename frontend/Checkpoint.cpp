//===- Checkpoint.cpp - The weights of a model directory ------------------===//
//
// The index of a sharded checkpoint comes from users like the rest: its
// shard names are plain file names in the model directory, and it must agree
// with the shards' own headers tensor by tensor, so that no tensor is read
// from a file other than the one the index names, or silently left out.
//
//===----------------------------------------------------------------------===//

#include "frontend/Checkpoint.h"
#include "support/Json.h"
#include "support/MappedFile.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <tuple>
#include <unordered_set>

namespace tfm {

static absl::Status error(const std::string &path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", toAbsl(what)));
}

Checkpoint::Checkpoint(std::shared_ptr<const SafetensorsFile> file) {
  path_ = file->path();
  absl::Status added = add(std::move(file));
  (void)added; // One file cannot repeat a name: its header is a JSON object.
}

absl::Status Checkpoint::add(std::shared_ptr<const SafetensorsFile> file) {
  for (const SafetensorsTensor &tensor : file->tensors())
    if (!index_.emplace(tensor.name, Located{&tensor, &file->path()}).second)
      return error(file->path(),
                   absl::StrCat("tensor '", tensor.name, "' is also in ",
                                *index_.find(tensor.name)->second.path));
  files_.push_back(std::move(file));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Checkpoint>>
Checkpoint::open(const std::string &dir) {
  std::string indexPath = dir + "/model.safetensors.index.json";
  struct stat info;
  if (stat(indexPath.c_str(), &info) != 0) {
    TFM_ASSIGN_OR_RETURN(auto file,
                         SafetensorsFile::open(dir + "/model.safetensors"));
    return std::make_unique<Checkpoint>(
        std::shared_ptr<const SafetensorsFile>(std::move(file)));
  }

  TFM_ASSIGN_OR_RETURN(json::Value root, json::parseFile(indexPath));
  if (!root.isObject())
    return error(indexPath, "expected a JSON object at top level");
  for (const auto &[key, value] : root.asObject())
    if (key != "metadata" && key != "weight_map")
      return error(indexPath, absl::StrCat("unknown field '", key, "'"));
  if (const json::Value *metadata = root.find("metadata");
      metadata && !metadata->isObject())
    return error(indexPath, "field 'metadata' must be an object");
  const json::Value *map = root.find("weight_map");
  if (!map || !map->isObject())
    return error(indexPath, "field 'weight_map' must be an object of "
                            "tensor name: shard file name");

  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint());
  checkpoint->path_ = indexPath;
  // Shards in order of first mention; each opened once.
  std::vector<std::string> shards;
  for (const auto &[name, value] : map->asObject()) {
    if (!value.isString())
      return error(indexPath, absl::StrCat("weight_map['", name,
                                           "'] must be a file name"));
    const std::string &shard = value.asString();
    if (shard.empty() || shard == "." || shard == ".." ||
        shard.find('/') != std::string::npos ||
        shard.find('\0') != std::string::npos)
      return error(indexPath,
                   absl::StrCat("weight_map['", name, "'] is '", shard,
                                "', not a file name in the model directory"));
    if (std::find(shards.begin(), shards.end(), shard) == shards.end())
      shards.push_back(shard);
  }
  if (shards.empty())
    return error(indexPath, "'weight_map' is empty");
  for (const std::string &shard : shards) {
    TFM_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(dir + "/" + shard));
    TFM_RETURN_IF_ERROR(checkpoint->add(std::move(file)));
  }
  // The index and the shards' headers must agree on every tensor.
  for (const auto &[name, value] : map->asObject()) {
    auto it = checkpoint->index_.find(name);
    std::string shardPath = dir + "/" + value.asString();
    if (it == checkpoint->index_.end() || *it->second.path != shardPath)
      return error(indexPath,
                   absl::StrCat("tensor '", name, "' is not in ", shardPath,
                                ", where the index "
                                "puts it"));
  }
  for (const auto &[name, located] : checkpoint->index_)
    if (!map->find(name))
      return error(
          *located.path,
          absl::StrCat("tensor '", name, "' is not in the index ", indexPath));
  return checkpoint;
}

const SafetensorsTensor *Checkpoint::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.tensor;
}

const std::string &Checkpoint::pathOf(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? path_ : *it->second.path;
}

std::vector<const SafetensorsTensor *> Checkpoint::tensors() const {
  std::vector<const SafetensorsTensor *> all;
  for (const auto &file : files_)
    for (const SafetensorsTensor &tensor : file->tensors())
      all.push_back(&tensor);
  return all;
}

absl::Status validateCheckpoint(const CheckpointSpec &spec,
                                const Checkpoint &checkpoint) {
  for (const WeightSpec &weight : spec.required) {
    const SafetensorsTensor *tensor = checkpoint.find(weight.name);
    const std::string &path = checkpoint.pathOf(weight.name);
    if (!tensor)
      return error(path, absl::StrCat("missing weight '", weight.name, "'"));
    if (std::find(spec.dtypes.begin(), spec.dtypes.end(), tensor->dtype) ==
        spec.dtypes.end()) {
      std::string expected;
      for (size_t i = 0; i < spec.dtypes.size(); ++i)
        absl::StrAppend(&expected,
                        i == 0                        ? ""
                        : i + 1 == spec.dtypes.size() ? " or "
                                                      : ", ",
                        spec.dtypes[i]);
      return error(path, absl::StrCat("weight '", weight.name, "' has dtype ",
                                      tensor->dtype, ", expected ", expected));
    }
    if (tensor->shape != weight.shape)
      return error(path, absl::StrCat("weight '", weight.name, "' has shape ",
                                      formatShape(tensor->shape), ", expected ",
                                      formatShape(weight.shape)));
  }
  std::unordered_set<std::string_view> known;
  for (const WeightSpec &weight : spec.required)
    known.insert(weight.name);
  for (const std::string &name : spec.ignored)
    known.insert(name);
  for (const SafetensorsTensor *tensor : checkpoint.tensors())
    if (!known.count(tensor->name))
      return error(checkpoint.pathOf(tensor->name),
                   absl::StrCat("unexpected weight '", tensor->name,
                                "' (not used by ", spec.model, ")"));
  return absl::OkStatus();
}

absl::Status validateWeights(const ModelConfig &config,
                             const SafetensorsFile &file) {
  // A view of the caller's file.
  Checkpoint checkpoint(std::shared_ptr<const SafetensorsFile>(
      &file, [](const SafetensorsFile *) {}));
  CheckpointSpec spec;
  spec.required = expectedWeights(config);
  spec.model = describeConfig(config);
  return validateCheckpoint(spec, checkpoint);
}

bool WeightSource::operator<(const WeightSource &other) const {
  return std::tie(kind, tensor, transpose, rowBegin, rowEnd) <
         std::tie(other.kind, other.tensor, other.transpose, other.rowBegin,
                  other.rowEnd);
}

/// IEEE binary16 to binary32, exactly (every half is a float).
static float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu, mantissa = half & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t bits = exponent == 0x1f
                      ? sign | 0x7f800000u | (mantissa << 13) // inf, NaN
                      : sign | ((exponent + 112) << 23) | (mantissa << 13);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// Every element of `tensor` as f32. The data is not necessarily aligned to
/// its element size (the format does not promise it): read with memcpy.
static std::vector<float> toFloat(const SafetensorsTensor &tensor) {
  const char *data = static_cast<const char *>(tensor.data);
  std::vector<float> values;
  if (tensor.byteSize == 0)
    return values; // memcpy from or to null is undefined, even of 0 bytes.
  if (tensor.dtype == "F32") {
    values.resize(tensor.byteSize / sizeof(float));
    std::memcpy(values.data(), data, tensor.byteSize);
    return values;
  }
  values.resize(tensor.byteSize / 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, data + 2 * i, sizeof(bits));
    if (tensor.dtype == "BF16") {
      uint32_t wide = static_cast<uint32_t>(bits) << 16;
      std::memcpy(&values[i], &wide, sizeof(float));
    } else {
      values[i] = halfToFloat(bits);
    }
  }
  return values;
}

absl::StatusOr<std::vector<float>>
readWeight(const Checkpoint &checkpoint, const WeightSource &source,
           const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  if (source.kind == WeightSource::Kind::SinusoidalHalves) {
    if (shape.size() != 2 || shape[1] % 2 != 0)
      return absl::InternalError("a sinusoidal table must be [positions, d] "
                                 "with d even");
    int64_t positions = shape[0], d = shape[1], half = d / 2;
    std::vector<float> table(count);
    for (int64_t p = 0; p < positions; ++p)
      for (int64_t j = 0; j < half; ++j) {
        double angle = p / std::pow(10000.0, 2.0 * j / d);
        table[p * d + j] = static_cast<float>(std::sin(angle));
        table[p * d + half + j] = static_cast<float>(std::cos(angle));
      }
    return table;
  }

  const SafetensorsTensor *tensor = checkpoint.find(source.tensor);
  if (!tensor)
    return error(checkpoint.path(),
                 absl::StrCat("missing weight '", source.tensor, "'"));
  if (tensor->dtype != "F32" && tensor->dtype != "F16" &&
      tensor->dtype != "BF16")
    return error(checkpoint.pathOf(source.tensor),
                 absl::StrCat("weight '", source.tensor, "' has dtype ",
                              tensor->dtype, ", expected F32, F16 or BF16"));
  std::vector<float> values = toFloat(*tensor);
  std::vector<int64_t> stored = tensor->shape;
  if (source.transpose) {
    if (stored.size() != 2)
      return error(
          checkpoint.pathOf(source.tensor),
          absl::StrCat("weight '", source.tensor, "' is not a matrix"));
    int64_t rows = stored[0], cols = stored[1];
    std::vector<float> transposed(values.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        transposed[c * rows + r] = values[r * cols + c];
    values = std::move(transposed);
    stored = {cols, rows};
  }
  int64_t rows = stored.empty() ? 1 : stored[0];
  int64_t rowSize = rows ? static_cast<int64_t>(values.size()) / rows : 0;
  int64_t rowEnd = source.rowEnd < 0 ? rows : source.rowEnd;
  if (source.rowBegin < 0 || source.rowBegin > rowEnd || rowEnd > rows ||
      (rowEnd - source.rowBegin) * rowSize != count)
    return error(checkpoint.pathOf(source.tensor),
                 absl::StrCat("weight '", source.tensor, "' (rows ",
                              source.rowBegin, " to ", rowEnd, " of shape ",
                              formatShape(stored), ") does not hold ",
                              formatShape(shape)));
  return std::vector<float>(values.begin() + source.rowBegin * rowSize,
                            values.begin() + rowEnd * rowSize);
}

} // namespace tfm
