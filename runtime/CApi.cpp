//===- CApi.cpp - The C API of runtime/tfm.h ------------------------------===//
//
// Thin: every call converts its arguments, forwards to Artifact and
// DecodeSession, and turns an absl::Status into a tfm_status plus this
// thread's message. No exception or abort crosses the C boundary.
//
//===----------------------------------------------------------------------===//

#include "runtime/tfm.h"

#include "runtime/Artifact.h"
#include "runtime/Conversation.h"
#include "runtime/Generate.h"
#include "runtime/tokenizer/Tokenizer.h"

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
  /// tfm_generate_text's conversation (decoder-only), on its own cache.
  std::unique_ptr<Conversation> conversation;
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

tfm_status tfm_tokenize(const tfm_model *model, const char *text,
                        int64_t text_len, int32_t add_special_tokens,
                        int64_t *out_ids, int64_t capacity,
                        int64_t *out_count) {
  return guarded([&] {
    if (!model || (!text && text_len) || !out_count ||
        (!out_ids && capacity > 0) || text_len < 0 || capacity < 0)
      return fail(TFM_ERROR_INVALID_ARGUMENT, "tfm_tokenize: bad argument");
    auto tokenizer = model->artifact->tokenizer();
    if (!tokenizer.ok())
      return fromStatus(tokenizer.status());
    auto ids =
        (*tokenizer)
            ->encode(std::string_view(text, text_len), add_special_tokens != 0);
    if (!ids.ok())
      return fromStatus(ids.status());
    *out_count = static_cast<int64_t>(ids->size());
    if (*out_count > capacity)
      return fail(TFM_ERROR_OUT_OF_RANGE,
                  absl::StrCat("tfm_tokenize: ", *out_count, " ids, room for ",
                               capacity));
    if (!ids->empty())
      std::memcpy(out_ids, ids->data(), ids->size() * sizeof(int64_t));
    return TFM_OK;
  });
}

tfm_status tfm_detokenize(const tfm_model *model, const int64_t *ids,
                          int64_t count, int32_t skip_special_tokens,
                          char *out_text, int64_t capacity, int64_t *out_len) {
  return guarded([&] {
    if (!model || (!ids && count) || !out_len || (!out_text && capacity > 0) ||
        count < 0 || capacity < 0)
      return fail(TFM_ERROR_INVALID_ARGUMENT, "tfm_detokenize: bad argument");
    auto tokenizer = model->artifact->tokenizer();
    if (!tokenizer.ok())
      return fromStatus(tokenizer.status());
    auto text =
        (*tokenizer)
            ->decode(absl::MakeConstSpan(ids, count), skip_special_tokens != 0);
    if (!text.ok())
      return fromStatus(text.status());
    *out_len = static_cast<int64_t>(text->size());
    if (*out_len + 1 > capacity)
      return fail(TFM_ERROR_OUT_OF_RANGE,
                  absl::StrCat("tfm_detokenize: ", *out_len + 1,
                               " bytes with the NUL, room for ", capacity));
    std::memcpy(out_text, text->c_str(), text->size() + 1);
    return TFM_OK;
  });
}

tfm_status tfm_sampling_defaults(const tfm_model *model,
                                 tfm_sampling *sampling) {
  if (!model || !sampling)
    return fail(TFM_ERROR_INVALID_ARGUMENT,
                "tfm_sampling_defaults: null argument");
  const SamplingParams &p = model->artifact->samplingDefaults();
  sampling->do_sample = p.doSample;
  sampling->temperature = p.temperature;
  sampling->top_k = p.topK;
  sampling->top_p = p.topP;
  sampling->repetition_penalty = p.repetitionPenalty;
  sampling->seed = 0;
  return TFM_OK;
}

tfm_status tfm_generate_text(tfm_session *session, const char *prompt,
                             int64_t prompt_len, int64_t max_new_tokens,
                             const tfm_sampling *sampling,
                             tfm_text_callback on_text, void *user_data) {
  return guarded([&] {
    if (!session || (!prompt && prompt_len) || prompt_len < 0)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  "tfm_generate_text: bad argument");
    if (max_new_tokens < 0)
      return fail(TFM_ERROR_INVALID_ARGUMENT,
                  absl::StrCat("max_new_tokens must not be negative, got ",
                               max_new_tokens));
    const Artifact &artifact = session->decoder.artifact();
    auto tokenizer = artifact.tokenizer();
    if (!tokenizer.ok())
      return fromStatus(tokenizer.status());
    bool decoder = artifact.config().architecture == ModelArchitecture::Decoder;
    bool first =
        !session->conversation || session->conversation->tokens().empty();
    auto ids = (*tokenizer)
                   ->encode(std::string_view(prompt, prompt_len),
                            /*addSpecialTokens=*/!decoder || first);
    if (!ids.ok())
      return fromStatus(ids.status());

    GenerateOptions options;
    options.maxNewTokens = max_new_tokens;
    options.sampling = artifact.samplingDefaults();
    if (sampling) {
      options.sampling.doSample = sampling->do_sample != 0;
      options.sampling.temperature = sampling->temperature;
      options.sampling.topK = sampling->top_k;
      options.sampling.topP = sampling->top_p;
      options.sampling.repetitionPenalty = sampling->repetition_penalty;
      options.sampling.seed = sampling->seed;
    }
    TextStream text(**tokenizer);
    absl::Status textStatus;
    bool stopped = false;
    auto give = [&](const std::string &piece) {
      if (on_text && !piece.empty() &&
          on_text(piece.data(), static_cast<int64_t>(piece.size()),
                  user_data) != 0)
        stopped = true;
    };
    options.onToken = [&](size_t, int64_t token) {
      absl::StatusOr<std::string> piece = text.push(token);
      if (!piece.ok()) {
        textStatus = piece.status();
        return false;
      }
      give(*piece);
      return !stopped;
    };
    absl::Status status;
    if (decoder) {
      if (first)
        session->conversation = std::make_unique<Conversation>(artifact);
      status = session->conversation->say(*ids, options).status();
    } else {
      session->started = false;
      Sequences src{std::move(*ids)};
      status = checkDecodable(artifact.config(), src);
      if (status.ok())
        status = generate(session->decoder, src, options).status();
    }
    if (!status.ok())
      return fromStatus(status);
    if (!textStatus.ok())
      return fromStatus(textStatus);
    if (!stopped) {
      absl::StatusOr<std::string> rest = text.finish();
      if (!rest.ok())
        return fromStatus(rest.status());
      give(*rest);
    }
    return TFM_OK;
  });
}

void tfm_session_reset_text(tfm_session *session) {
  if (session)
    session->conversation.reset();
}

} // extern "C"
