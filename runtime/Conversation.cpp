//===- Conversation.cpp - Prompts that continue one another ---------------===//

#include "runtime/Conversation.h"

#include "support/Status.h"

#include "absl/strings/str_cat.h"

using namespace tfm;

absl::StatusOr<std::vector<int64_t>>
Conversation::say(absl::Span<const int64_t> prompt, GenerateOptions options) {
  const ArtifactConfig &c = artifact_.config();
  if (c.architecture != ModelArchitecture::Decoder)
    return absl::FailedPreconditionError(
        "a conversation continues a decoder-only model's text; this model "
        "is not one");
  TFM_RETURN_IF_ERROR(options.sampling.check());
  if (prompt.empty())
    return absl::InvalidArgumentError("the prompt is empty");
  Sequences prefix(1);
  if (turns_ == 0) {
    prefix[0].assign(prompt.begin(), prompt.end());
    TFM_RETURN_IF_ERROR(checkDecodable(c, prefix));
    // The cache sized for max_seq_len: later prompts continue in it.
    TFM_RETURN_IF_ERROR(session_.start(prefix));
    history_ = prefix[0];
  } else {
    // The previous reply's last token (or the whole reply, should it have
    // ended without a step) is not in the cache yet: it goes in first.
    int64_t cached = session_.length(0);
    if (static_cast<int64_t>(history_.size() + prompt.size()) > c.maxSeqLen)
      return absl::OutOfRangeError(
          absl::StrCat("the conversation would pass max_seq_len (", c.maxSeqLen,
                       " tokens): ", history_.size(), " so far, ",
                       prompt.size(), " more in the prompt"));
    std::vector<int64_t> feed(history_.begin() + cached, history_.end());
    feed.insert(feed.end(), prompt.begin(), prompt.end());
    for (int64_t token : feed)
      if (token < 0 || token >= c.tgtVocabSize)
        return absl::InvalidArgumentError(absl::StrCat(
            "token ", token, " is out of range [0, ", c.tgtVocabSize, ")"));
    TFM_RETURN_IF_ERROR(session_.extend(feed));
    history_.insert(history_.end(), prompt.begin(), prompt.end());
    prefix[0] = history_;
  }
  options.sampling.seed += static_cast<uint64_t>(turns_);
  ++turns_;
  TFM_ASSIGN_OR_RETURN(Sequences reply,
                       generateFrom(session_, prefix, options));
  history_.insert(history_.end(), reply[0].begin(), reply[0].end());
  return reply[0];
}
