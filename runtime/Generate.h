//===- Generate.h - Running a compiled model on token sequences -*- C++ -*-===//
//
// What tfm-run does with an artifact: pad unpadded sequences into a
// rectangle (padding is defined by length, DESIGN.md), run the encoder once,
// teacher-forced forward passes, greedy decoding.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_GENERATE_H
#define TFM_RUNTIME_GENERATE_H

#include "runtime/Artifact.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace tfm {

using Sequences = std::vector<std::vector<int64_t>>;

/// Checks that `batch` is not empty, that no sequence is empty or longer than
/// `maxLen`, and that every id is in [0, vocab). `what` names the batch in
/// messages ("src", "tgt").
absl::Status checkSequences(const Sequences &batch, int64_t vocab,
                            int64_t maxLen, std::string_view what);

/// The forward pass over whole sequences, in the layout of DESIGN.md:
/// encoder-decoder: teacher-forced logits [batch, tgt_len, tgt_vocab] (`tgt`
/// required); encoder: final hidden states [batch, src_len, d]; decoder:
/// logits over the prompts `src` [batch, src_len, tgt_vocab]. Positions past
/// a sequence's length are zero.
absl::StatusOr<Tensor> forward(const Artifact &artifact, const Sequences &src,
                               const Sequences *tgt);

/// Time spent in a greedy run, for --bench.
struct GenerateStats {
  double encodeSeconds = 0;
  /// One entry per decoder step.
  std::vector<double> stepSeconds;
};

/// Greedy decoding. Encoder-decoder: each output starts from `bos_id`;
/// decoder: each continues its prompt. Each sequence stops at its own
/// `eos_id` (not included in the result), after `maxNewTokens` tokens, or
/// when it reaches `max_seq_len`. Returns the generated tokens only.
///
/// With `useCache`, each step runs the decoder on one new token per running
/// sequence against per-layer KV caches (the `cross_kv`, `prefill` and
/// `step` entries); finished sequences leave the batch. Without, the decoder
/// re-runs over the whole prefix at each step (`decode`): the reference the
/// cached path must agree with token for token.
absl::StatusOr<Sequences> greedy(const Artifact &artifact, const Sequences &src,
                                 int64_t maxNewTokens,
                                 GenerateStats *stats = nullptr,
                                 bool useCache = true);

} // namespace tfm

#endif // TFM_RUNTIME_GENERATE_H
