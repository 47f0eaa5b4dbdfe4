//===- Conversation.h - Prompts that continue one another -------*- C++ -*-===//
//
// A decoder-only model's conversation: each prompt continues after the
// previous reply on the same KV cache, so nothing said before is computed
// again.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_CONVERSATION_H
#define TFM_RUNTIME_CONVERSATION_H

#include "runtime/DecodeSession.h"
#include "runtime/Generate.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <vector>

namespace tfm {

class Conversation {
public:
  explicit Conversation(const Artifact &artifact)
      : artifact_(artifact), session_(artifact) {}

  /// Appends `prompt` to the conversation and generates the reply under
  /// `options` (its maxNewTokens, sampling, callback); returns the reply's
  /// tokens (an eos that ended it is not part of the conversation). The
  /// first prompt runs as one prefill pass; a later one goes into the cache
  /// after the previous reply in one pass too (DecodeSession::extend), its
  /// earlier tokens untouched. Each turn samples
  /// from its own stream (the seed plus the turn's index). Fails past
  /// max_seq_len, or for a model without a decoder-only architecture.
  absl::StatusOr<std::vector<int64_t>> say(absl::Span<const int64_t> prompt,
                                           GenerateOptions options);

  /// Every token so far: prompts and replies.
  const std::vector<int64_t> &tokens() const { return history_; }

private:
  const Artifact &artifact_;
  DecodeSession session_;
  std::vector<int64_t> history_;
  int64_t turns_ = 0;
};

} // namespace tfm

#endif // TFM_RUNTIME_CONVERSATION_H
