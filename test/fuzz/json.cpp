//===- json.cpp - Fuzzer: the runtime's JSON reader -----------------------===//
//
// Every JSON file tfm reads from users (model.json, --inputs, the frontend's
// config files) goes through json::parse; what it accepts must serialize
// to a text that reads back and serializes the same (an integer literal
// beyond int64 reads back as the double it is, so values themselves may
// differ in that flag).
//
//===----------------------------------------------------------------------===//

#include "support/Json.h"

#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  absl::StatusOr<tfm::json::Value> value = tfm::json::parse(text);
  if (!value.ok())
    return 0;
  std::string text1 = tfm::json::serialize(*value);
  absl::StatusOr<tfm::json::Value> again = tfm::json::parse(text1);
  if (!again.ok() || tfm::json::serialize(*again) != text1)
    std::abort();
  return 0;
}
