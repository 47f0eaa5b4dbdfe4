//===- ModelDirectory.cpp - A model directory, whatever its format --------===//

#include "frontend/ModelDirectory.h"
#include "frontend/HuggingFace.h"
#include "runtime/Json.h"
#include "runtime/MappedFile.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <optional>

#include <sys/stat.h>

namespace tfm {

static bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

WeightSource ModelDirectory::source(const std::string &name) const {
  if (auto it = sources.find(name); it != sources.end())
    return it->second;
  WeightSource source;
  source.tensor = name;
  // P.{q,k,v}_proj.{weight,bias}: a third of P.in_proj_{weight,bias}.
  for (const char *kind : {"weight", "bias"}) {
    std::string suffix = absl::StrCat("_proj.", kind);
    if (format != "tfm" || !endsWith(name, suffix) ||
        name.size() < suffix.size() + 3 ||
        name[name.size() - suffix.size() - 2] != '.')
      continue;
    char which = name[name.size() - suffix.size() - 1];
    int64_t index = which == 'q' ? 0 : which == 'k' ? 1 : which == 'v' ? 2 : -1;
    if (index < 0)
      continue;
    source.tensor = absl::StrCat(
        name.substr(0, name.size() - suffix.size() - 2), ".in_proj_", kind);
    source.rowBegin = index * config.dModel;
    source.rowEnd = (index + 1) * config.dModel;
  }
  return source;
}

static absl::Status prefixed(const std::string &path, const absl::Status &s) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

absl::StatusOr<ModelDirectory> loadModelDirectory(const std::string &dir) {
  std::string configPath = dir + "/config.json";
  absl::StatusOr<json::Value> root = json::parseFile(configPath);
  if (!root.ok())
    return root.status();

  ModelDirectory model;
  if (!isHuggingFaceConfig(*root)) {
    absl::StatusOr<ModelConfig> config = loadConfig(configPath);
    if (!config.ok())
      return config.status();
    auto file = SafetensorsFile::open(dir + "/model.safetensors");
    if (!file.ok())
      return file.status();
    if (absl::Status s = validateWeights(*config, **file); !s.ok())
      return s;
    model.format = "tfm";
    model.config = *config;
    model.checkpoint = std::make_unique<Checkpoint>(
        std::shared_ptr<const SafetensorsFile>(std::move(*file)));
    return model;
  }

  auto checkpoint = Checkpoint::open(dir);
  if (!checkpoint.ok())
    return checkpoint.status();
  std::string generationPath = dir + "/generation_config.json";
  std::optional<json::Value> generation;
  struct stat info;
  if (stat(generationPath.c_str(), &info) == 0) {
    absl::StatusOr<json::Value> parsed = json::parseFile(generationPath);
    if (!parsed.ok())
      return parsed.status();
    generation = std::move(*parsed);
  }
  absl::StatusOr<HuggingFaceModel> hf = readHuggingFaceModel(
      *root, generation ? &*generation : nullptr, **checkpoint);
  if (!hf.ok()) {
    // Messages about generation_config.json name it already.
    if (absl::StartsWith(hf.status().message(), "generation_config.json: "))
      return absl::Status(hf.status().code(),
                          absl::StrCat(dir, "/", hf.status().message()));
    return prefixed(configPath, hf.status());
  }
  if (absl::Status s = validateCheckpoint(hf->spec, **checkpoint); !s.ok())
    return s;
  model.format = hf->modelClass;
  model.config = std::move(hf->config);
  model.sources = std::move(hf->sources);
  model.checkpoint = std::move(*checkpoint);
  return model;
}

} // namespace tfm
