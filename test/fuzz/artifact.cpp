//===- artifact.cpp - Fuzzer: an artifact's model.json --------------------===//
//
// parseArtifactDescription either rejects the text or returns a description
// whose every weight record (at its element type) lies within the
// weights.bin size it states (so
// that the loader's views into the mapped file stay inside it) and whose
// index hash is computable.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  absl::StatusOr<tfm::ArtifactDescription> d =
      tfm::parseArtifactDescription(text, "model.json");
  if (!d.ok())
    return 0;
  uint64_t bytes = static_cast<uint64_t>(d->weightBytes);
  for (const tfm::WeightRecord &w : d->weights) {
    // At its element type: f32, bf16 or int8 (model.json's "dtype").
    auto count = tfm::checkedNumElements(w.dtype, w.shape);
    if (!count.ok() || w.offset < 0 ||
        static_cast<uint64_t>(w.offset) > bytes ||
        static_cast<uint64_t>(*count) * tfm::dtypeSize(w.dtype) >
            bytes - w.offset)
      std::abort(); // A record the loader would view past the file.
  }
  (void)tfm::weightIndexChecksum(d->weights);
  return 0;
}
