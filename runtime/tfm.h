/*===- tfm.h - The C API of the tfm runtime -------------------------------===*\
|*                                                                            *|
|* Load a model compiled by `tfmc MODEL_DIR -o OUT`, open sessions on it and *|
|* decode: start a batch (the encoder once, or the prompts' prefill), then    *|
|* one token per sequence and step against the session's KV cache, reading   *|
|* the logits in between; or let tfm_generate do greedy decoding.            *|
|*                                                                            *|
|* Every function that can fail returns a tfm_status; on failure,            *|
|* tfm_last_error() returns the message (per thread, valid until the next    *|
|* failing call on that thread). A model may be shared by many sessions,     *|
|* each used by one thread at a time.                                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TFM_RUNTIME_TFM_H
#define TFM_RUNTIME_TFM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tfm_status {
  TFM_OK = 0,
  TFM_ERROR_INVALID_ARGUMENT = 1,    /* bad input: ids, lengths, sizes */
  TFM_ERROR_NOT_FOUND = 2,           /* a missing file or entry */
  TFM_ERROR_FAILED_PRECONDITION = 3, /* e.g. a step before tfm_session_start */
  TFM_ERROR_OUT_OF_RANGE = 4,        /* a sequence past max_seq_len */
  TFM_ERROR_RESOURCE_EXHAUSTED = 5,  /* out of memory */
  TFM_ERROR_INTERNAL = 6,            /* a broken artifact or a bug */
  TFM_ERROR_UNKNOWN = 7
} tfm_status;

typedef struct tfm_model tfm_model;
typedef struct tfm_session tfm_session;

/* What a caller needs to know about a model. */
typedef struct tfm_model_info {
  int64_t src_vocab_size; /* 0 for a decoder-only model */
  int64_t tgt_vocab_size; /* the logits' width */
  int64_t max_seq_len;
  int64_t bos_id, eos_id, pad_id;
  int32_t has_encoder; /* 1: tfm_session_start takes source sequences;
                          0: it takes prompts */
} tfm_model_info;

/* The message of this thread's last failure ("" if none). */
const char *tfm_last_error(void);

tfm_status tfm_model_load(const char *artifact_dir, tfm_model **model);
tfm_status tfm_model_get_info(const tfm_model *model, tfm_model_info *info);
/* Sessions must be freed before their model. NULL is ignored. */
void tfm_model_free(tfm_model *model);

tfm_status tfm_session_create(const tfm_model *model, tfm_session **session);
void tfm_session_free(tfm_session *session);

/* Starts decoding `batch` sequences, given back to back in `tokens`, the
 * length of sequence b in lengths[b]: source sequences (encoder-decoder) or
 * prompts (decoder-only). Afterwards the logits predict each sequence's
 * next token. Restarting a session reuses its buffers. */
tfm_status tfm_session_start(tfm_session *session, const int64_t *tokens,
                             const int64_t *lengths, int64_t batch);

/* Appends tokens[b] to sequence b, for every sequence of the batch, and
 * computes the next logits. */
tfm_status tfm_session_step(tfm_session *session, const int64_t *tokens);

/* The latest logits, [batch, tgt_vocab_size] row-major; valid until the
 * session's next start, step or free. */
tfm_status tfm_session_logits(const tfm_session *session, const float **logits,
                              int64_t *batch, int64_t *vocab);

/* Greedy decoding of `batch` sequences (given as for tfm_session_start):
 * sequence b's generated tokens go to out_tokens[b * max_new_tokens ...],
 * their number to out_lengths[b]; each stops at eos_id (not included),
 * after max_new_tokens tokens, or at max_seq_len. */
tfm_status tfm_generate(tfm_session *session, const int64_t *tokens,
                        const int64_t *lengths, int64_t batch,
                        int64_t max_new_tokens, int64_t *out_tokens,
                        int64_t *out_lengths);

#ifdef __cplusplus
}
#endif

#endif /* TFM_RUNTIME_TFM_H */
