//===- ModelDirectory.cpp - A model directory, whatever its format --------===//

#include "frontend/ModelDirectory.h"
#include "frontend/HuggingFace.h"
#include "support/Json.h"
#include "support/MappedFile.h"
#include "support/Status.h"

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
  TFM_ASSIGN_OR_RETURN(json::Value root, json::parseFile(configPath));

  ModelDirectory model;
  if (!isHuggingFaceConfig(root)) {
    TFM_ASSIGN_OR_RETURN(ModelConfig config, loadConfig(configPath));
    TFM_ASSIGN_OR_RETURN(auto file,
                         SafetensorsFile::open(dir + "/model.safetensors"));
    TFM_RETURN_IF_ERROR(validateWeights(config, *file));
    model.format = "tfm";
    model.config = config;
    model.checkpoint = std::make_unique<Checkpoint>(
        std::shared_ptr<const SafetensorsFile>(std::move(file)));
    return model;
  }

  TFM_ASSIGN_OR_RETURN(auto checkpoint, Checkpoint::open(dir));
  std::string generationPath = dir + "/generation_config.json";
  std::optional<json::Value> generation;
  struct stat info;
  if (stat(generationPath.c_str(), &info) == 0) {
    TFM_ASSIGN_OR_RETURN(json::Value parsed, json::parseFile(generationPath));
    generation = std::move(parsed);
  }
  absl::StatusOr<HuggingFaceModel> hf = readHuggingFaceModel(
      root, generation ? &*generation : nullptr, *checkpoint);
  if (!hf.ok()) {
    // Messages about generation_config.json name it already.
    if (absl::StartsWith(hf.status().message(), "generation_config.json: "))
      return absl::Status(hf.status().code(),
                          absl::StrCat(dir, "/", hf.status().message()));
    return prefixed(configPath, hf.status());
  }
  TFM_RETURN_IF_ERROR(validateCheckpoint(hf->spec, *checkpoint));
  model.format = hf->modelClass;
  model.config = std::move(hf->config);
  model.sources = std::move(hf->sources);
  model.checkpoint = std::move(checkpoint);
  return model;
}

} // namespace tfm
