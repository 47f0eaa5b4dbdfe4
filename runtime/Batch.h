//===- Batch.h - Batches of token sequences ---------------------*- C++ -*-===//
//
// Unpadded batches of token ids as tfm-run and the C API take them: parsed
// from --inputs, checked against a model, and padded into the rectangles the
// compiled entries take (padding is defined by length, DESIGN.md).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_BATCH_H
#define TFM_RUNTIME_BATCH_H

#include "runtime/Tensor.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

using Sequences = std::vector<std::vector<int64_t>>;

/// The batch of `tfm-run --inputs`: {"src": [[ids], ...], "tgt": [[ids],
/// ...], "token_type_ids": [[types], ...]} ("tgt" and "token_type_ids"
/// optional), unpadded.
struct BatchInputs {
  Sequences src;
  std::optional<Sequences> tgt, types;
};

/// Parses the text of such a file (strict JSON, no other field, integers
/// only; the model checks the values); errors start with `path`.
absl::StatusOr<BatchInputs> parseBatchInputs(std::string_view text,
                                             const std::string &path);

/// Checks that `batch` is not empty, that no sequence is empty or longer than
/// `maxLen`, and that every id is in [0, vocab). `what` names the batch in
/// messages ("src", "tgt").
absl::Status checkSequences(const Sequences &batch, int64_t vocab,
                            int64_t maxLen, std::string_view what);

/// A batch padded into a rectangle: ids [B, L] (padId past each length)
/// and lengths [B], int32; L = width, the longest sequence.
struct PaddedBatch {
  Tensor ids;
  Tensor lengths;
  int64_t width = 0;
};

absl::StatusOr<PaddedBatch> padBatch(const Sequences &batch, int64_t padId);

/// Zeroes rows [length, L) of each batch element of a [B, L, N] f32 tensor.
void zeroPastLengths(Tensor &t, const Sequences &batch);

} // namespace tfm

#endif // TFM_RUNTIME_BATCH_H
