//===- CApi.cpp - The C API of runtime/tfm.h ------------------------------===//
//
// Thin: every call converts its arguments, forwards to Artifact and
// DecodeSession, and turns an absl::Status into a tfm_status plus this
// thread's message. No exception or abort crosses the C boundary.
//
//===----------------------------------------------------------------------===//

#include "runtime/tfm.h"

#include "runtime/Artifact.h"
#include "runtime/Generate.h"

#include "absl/strings/str_cat.h"

#include <cstring>
#include <memory>
#include <new>
#include <string>

using namespace tfm;

struct tfm_model {
  std::unique_ptr<Artifact> artifact;
};

struct tfm_session {
  explicit tfm_session(const Artifact &artifact) : decoder(artifact) {}
  DecodeSession decoder;
  bool started = false;
};

namespace {
thread_local std::string lastError;

tfm_status fail(tfm_status code, std::string message) {
  lastError = std::move(message);
  return code;
}

tfm_status fromStatus(const absl::Status &status) {
  if (status.ok())
    return TFM_OK;
  tfm_status code;
  switch (status.code()) {
  case absl::StatusCode::kInvalidArgument:
    code = TFM_ERROR_INVALID_ARGUMENT;
    break;
  case absl::StatusCode::kNotFound:
    code = TFM_ERROR_NOT_FOUND;
    break;
  case absl::StatusCode::kFailedPrecondition:
    code = TFM_ERROR_FAILED_PRECONDITION;
    break;
  case absl::StatusCode::kOutOfRange:
    code = TFM_ERROR_OUT_OF_RANGE;
    break;
  case absl::StatusCode::kResourceExhausted:
    code = TFM_ERROR_RESOURCE_EXHAUSTED;
    break;
  case absl::StatusCode::kInternal:
    code = TFM_ERROR_INTERNAL;
    break;
  default:
    code = TFM_ERROR_UNKNOWN;
    break;
  }
  return fail(code, std::string(status.message()));
}

/// Runs `body`, turning an escaping exception (std::bad_alloc from a
/// container) into an error code.
template <typename Body> tfm_status guarded(Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(TFM_ERROR_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception &e) {
    return fail(TFM_ERROR_INTERNAL, e.what());
  }
}

/// Sequences given back to back with their lengths.
/// Copies the caller's concatenated sequences. Every length is checked
/// against the model's max_seq_len before a token is read, so that a bad
/// length never makes us read past the caller's arrays.
tfm_status toSequences(const int64_t *tokens, const int64_t *lengths,
                       int64_t batch, int64_t maxSeqLen, Sequences &out) {
  if (batch <= 0)
    return fail(TFM_ERROR_INVALID_ARGUMENT,
                absl::StrCat("batch must be positive, got ", batch));
  if (!tokens || !lengths)
    return fail(TFM_ERROR_INVALID_ARGUMENT, "tokens and lengths are required");
  for (int64_t b = 0; b < batch; ++b) {
    if (lengths[b] < 0)
      return fail(
          TFM_ERROR_INVALID_ARGUMENT,
          absl::StrCat("sequence ", b, " has negative length ", lengths[b]));
    if (lengths[b] > maxSeqLen)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  absl::StrCat("sequence ", b, " has ", lengths[b],
                               " tokens, more than max_seq_len ", maxSeqLen));
  }
  out.resize(batch);
  int64_t at = 0; // At most batch * max_seq_len: no overflow.
  for (int64_t b = 0; b < batch; ++b) {
    out[b].assign(tokens + at, tokens + at + lengths[b]);
    at += lengths[b];
  }
  return TFM_OK;
}
} // namespace

extern "C" {

const char *tfm_last_error(void) { return lastError.c_str(); }

tfm_status tfm_model_load(const char *artifact_dir, tfm_model **model) {
  return guarded([&] {
    if (!artifact_dir || !model)
      return fail(TFM_ERROR_INVALID_ARGUMENT, "tfm_model_load: null argument");
    *model = nullptr;
    auto artifact = Artifact::load(artifact_dir);
    if (!artifact.ok())
      return fromStatus(artifact.status());
    *model = new tfm_model{std::move(*artifact)};
    return TFM_OK;
  });
}

tfm_status tfm_model_get_info(const tfm_model *model, tfm_model_info *info) {
  if (!model || !info)
    return fail(TFM_ERROR_INVALID_ARGUMENT,
                "tfm_model_get_info: null argument");
  const ArtifactConfig &c = model->artifact->config();
  bool encoder = c.architecture == ModelArchitecture::EncoderDecoder;
  info->src_vocab_size = encoder ? c.srcVocabSize : 0;
  info->tgt_vocab_size = c.tgtVocabSize;
  info->max_seq_len = c.maxSeqLen;
  info->bos_id = c.bosId;
  info->eos_id = c.eosId;
  info->pad_id = c.padId;
  info->has_encoder = encoder ? 1 : 0;
  return TFM_OK;
}

void tfm_model_free(tfm_model *model) { delete model; }

tfm_status tfm_session_create(const tfm_model *model, tfm_session **session) {
  return guarded([&] {
    if (!model || !session)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  "tfm_session_create: null argument");
    if (model->artifact->config().architecture == ModelArchitecture::Encoder)
      return fail(TFM_ERROR_FAILED_PRECONDITION,
                  "an encoder-only model does not decode");
    *session = new tfm_session(*model->artifact);
    return TFM_OK;
  });
}

void tfm_session_free(tfm_session *session) { delete session; }

tfm_status tfm_session_start(tfm_session *session, const int64_t *tokens,
                             const int64_t *lengths, int64_t batch) {
  return guarded([&] {
    if (!session)
      return fail(TFM_ERROR_INVALID_ARGUMENT, "tfm_session_start: no session");
    session->started = false;
    Sequences src;
    if (tfm_status s =
            toSequences(tokens, lengths, batch,
                        session->decoder.artifact().config().maxSeqLen, src);
        s != TFM_OK)
      return s;
    if (tfm_status s = fromStatus(session->decoder.start(src)); s != TFM_OK)
      return s;
    session->started = true;
    return TFM_OK;
  });
}

tfm_status tfm_session_step(tfm_session *session, const int64_t *tokens) {
  return guarded([&] {
    if (!session || !tokens)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  "tfm_session_step: null argument");
    if (!session->started)
      return fail(TFM_ERROR_FAILED_PRECONDITION,
                  "tfm_session_step: the session has not been started");
    return fromStatus(session->decoder.step(
        absl::MakeConstSpan(tokens, session->decoder.running())));
  });
}

tfm_status tfm_session_logits(const tfm_session *session, const float **logits,
                              int64_t *batch, int64_t *vocab) {
  if (!session || !logits || !batch || !vocab)
    return fail(TFM_ERROR_INVALID_ARGUMENT,
                "tfm_session_logits: null argument");
  if (!session->started)
    return fail(TFM_ERROR_FAILED_PRECONDITION,
                "tfm_session_logits: the session has not been started");
  *logits = session->decoder.logits(0);
  *batch = static_cast<int64_t>(session->decoder.running());
  *vocab = session->decoder.vocabSize();
  return TFM_OK;
}

tfm_status tfm_generate(tfm_session *session, const int64_t *tokens,
                        const int64_t *lengths, int64_t batch,
                        int64_t max_new_tokens, int64_t *out_tokens,
                        int64_t *out_lengths) {
  return guarded([&] {
    if (!session || !out_lengths || (!out_tokens && max_new_tokens > 0))
      return fail(TFM_ERROR_INVALID_ARGUMENT, "tfm_generate: null argument");
    if (max_new_tokens < 0)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  absl::StrCat("max_new_tokens must not be negative, got ",
                               max_new_tokens));
    // The batch is decoded to the end; the logits are not left to read.
    session->started = false;
    Sequences src;
    if (tfm_status s =
            toSequences(tokens, lengths, batch,
                        session->decoder.artifact().config().maxSeqLen, src);
        s != TFM_OK)
      return s;
    auto generated = greedy(session->decoder, src, max_new_tokens);
    if (!generated.ok())
      return fromStatus(generated.status());
    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<int64_t> &seq = (*generated)[b];
      out_lengths[b] = static_cast<int64_t>(seq.size());
      if (!seq.empty())
        std::memcpy(out_tokens + b * max_new_tokens, seq.data(),
                    seq.size() * sizeof(int64_t));
    }
    return TFM_OK;
  });
}

} // extern "C"
