//===- config.cpp - Fuzzer: tfm's own config.json -------------------------===//
//
// parseConfig either rejects the text or returns a config whose derived
// shapes (expectedWeights) are computable without overflow.
//
//===----------------------------------------------------------------------===//

#include "frontend/Config.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  absl::StatusOr<tfm::ModelConfig> config = tfm::parseConfig(text);
  if (config.ok())
    (void)tfm::expectedWeights(*config);
  return 0;
}
