//===- hf_config.cpp - Fuzzer: Hugging Face config.json and friends -------===//
//
// The input is config.json, optionally followed by a NUL byte and
// generation_config.json; readHuggingFaceModel rejects it or returns a model
// whose weight list is consistent (every source names a tensor the spec
// requires, or a computed table).
//
//===----------------------------------------------------------------------===//

#include "frontend/Checkpoint.h"
#include "frontend/HuggingFace.h"
#include "test/fuzz/FuzzInput.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  size_t split = input.find('\0');
  absl::StatusOr<tfm::json::Value> config =
      tfm::json::parse(input.substr(0, split));
  if (!config.ok())
    return 0;
  std::optional<tfm::json::Value> generation;
  if (split != std::string_view::npos) {
    auto parsed = tfm::json::parse(input.substr(split + 1));
    if (!parsed.ok())
      return 0;
    generation = std::move(*parsed);
  }
  // An empty checkpoint: the reader only asks it whether a pooler exists.
  static const uint8_t kEmpty[] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
  tfm::fuzz::MemoryFile file(kEmpty, sizeof(kEmpty));
  auto opened = tfm::SafetensorsFile::open(file.path());
  if (!opened.ok())
    std::abort();
  tfm::Checkpoint checkpoint(
      std::shared_ptr<const tfm::SafetensorsFile>(std::move(*opened)));
  auto model = tfm::readHuggingFaceModel(
      *config, generation ? &*generation : nullptr, checkpoint);
  if (!model.ok())
    return 0;
  for (const auto &named : model->sources) {
    const tfm::WeightSource &source = named.second;
    if (source.kind != tfm::WeightSource::Kind::Tensor)
      continue;
    bool required = std::any_of(
        model->spec.required.begin(), model->spec.required.end(),
        [&](const tfm::WeightSpec &w) { return w.name == source.tensor; });
    if (!required)
      std::abort();
  }
  return 0;
}
