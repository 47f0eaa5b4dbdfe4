//===- Generate.h - Greedy decoding and beam search -------------*- C++ -*-===//
//
// What tfm-run does to generate: greedy decoding (with the KV cache of a
// DecodeSession, or recomputing the whole prefix as the reference) and beam
// search, under the generation rules of the model's config.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_GENERATE_H
#define TFM_RUNTIME_GENERATE_H

#include "runtime/DecodeSession.h"
#include "runtime/Sampling.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace tfm {

/// Time spent in a greedy run, for --bench.
struct GenerateStats {
  double encodeSeconds = 0;
  /// One entry per decoder step.
  std::vector<double> stepSeconds;
};

/// Greedy decoding. Encoder-decoder: each output starts from `bos_id`;
/// decoder: each continues its prompt. Each sequence stops at its own
/// `eos_id` (or another of the config's eos ids; not included in the
/// result), after `maxNewTokens` tokens, or when it reaches `max_seq_len`.
/// The config's generation rules apply as transformers applies them: a
/// bad word's last token is never taken after the rest of it, and the last
/// token `maxNewTokens` allows is the forced eos when there is one. Returns
/// the generated tokens only.
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

/// Called with each token a sequence takes (its index in the batch), as it
/// takes it (streaming); returning false ends that sequence after it (a
/// stop string).
using TokenCallback = std::function<bool(size_t sequence, int64_t token)>;

/// Greedy decoding with the cache on `session` (its buffers reused);
/// `onToken`, when given, sees each token as it is taken.
absl::StatusOr<Sequences> greedy(DecodeSession &session, const Sequences &src,
                                 int64_t maxNewTokens,
                                 GenerateStats *stats = nullptr,
                                 const TokenCallback &onToken = nullptr);

/// How generate() chooses and reports tokens.
struct GenerateOptions {
  int64_t maxNewTokens = 0;
  /// Greedy by default; see runtime/Sampling.h.
  SamplingParams sampling;
  TokenCallback onToken;
  GenerateStats *stats = nullptr;
};

/// The decoding loop of generate() on a session already started (or
/// extended): the running sequences' logits predict their next tokens, and
/// prefixes[sequence] is what precedes them (the prompt, or bos_id and the
/// decoder tokens so far), for the penalty and the generation rules.
absl::StatusOr<Sequences> generateFrom(DecodeSession &session,
                                       const Sequences &prefixes,
                                       const GenerateOptions &options);

/// greedy() with the repetition penalty and sampling of `options.sampling`
/// (checked first); the generation config's rules apply as in greedy().
absl::StatusOr<Sequences> generate(DecodeSession &session, const Sequences &src,
                                   const GenerateOptions &options);

/// Beam search with `beams` beams per sequence, on the KV cache. Each step
/// extends every live beam by its 2*beams most likely tokens, keeps the
/// `beams` best continuations by summed log-probability, and sets aside a
/// beam that ends in eos_id (among the `beams` best) as a hypothesis scored
/// sum / length^lengthPenalty (length: generated tokens plus eos). A
/// sequence is done when it has `beams` hypotheses and its best live beam,
/// normalized the same way, does not beat the beams-th best of them; at
/// maxNewTokens or max_seq_len the live beams become hypotheses. The
/// generation rules apply to the log-probabilities as in greedy(). Returns
/// the best hypothesis of each sequence (without eos). Ties go to the
/// earlier beam, then the smaller token id.
absl::StatusOr<Sequences> beamSearch(const Artifact &artifact,
                                     const Sequences &src, int64_t beams,
                                     int64_t maxNewTokens, double lengthPenalty,
                                     GenerateStats *stats = nullptr);

} // namespace tfm

#endif // TFM_RUNTIME_GENERATE_H
