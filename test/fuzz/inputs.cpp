//===- inputs.cpp - Fuzzer: tfm-run's --inputs batch ----------------------===//
//
// parseBatchInputs rejects the text or returns sequences whose every id
// came from an integer of the text; then the checks tfm-run applies before
// a forward pass (range, lengths, token types) must give an answer, not a
// crash, for any such batch.
//
//===----------------------------------------------------------------------===//

#include "runtime/Batch.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  absl::StatusOr<tfm::BatchInputs> batch =
      tfm::parseBatchInputs(text, "inputs.json");
  if (!batch.ok())
    return 0;
  (void)tfm::checkSequences(batch->src, 100, 16, "src");
  if (batch->tgt)
    (void)tfm::checkSequences(*batch->tgt, 100, 16, "tgt");
  return 0;
}
