/*===- tfm.h - The C API of the tfm runtime -------------------------------===*\
|*                                                                            *|
|* Load a model compiled by `tfmc MODEL_DIR -o OUT`, open sessions on it and *|
|* decode: start a batch (the encoder once, or the prompts' prefill), then    *|
|* one token per sequence and step against the session's KV cache, reading   *|
|* the logits in between; or let tfm_generate do greedy decoding; or give    *|
|* text and get text back as it is generated (tfm_generate_text).            *|
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

/* ---- Text: the checkpoint's tokenizer (tfmc copies it into the artifact).
 * A model compiled from a directory without one fails these with
 * TFM_ERROR_FAILED_PRECONDITION. */

/* The ids transformers' tokenizer(text) gives `text` (UTF-8, `text_len`
 * bytes), with the special tokens when add_special_tokens is non-zero
 * (Marian: the source side). Their number goes to *out_count; they go to
 * out_ids when it fits in `capacity` (else TFM_ERROR_OUT_OF_RANGE: call
 * again with *out_count). */
tfm_status tfm_tokenize(const tfm_model *model, const char *text,
                        int64_t text_len, int32_t add_special_tokens,
                        int64_t *out_ids, int64_t capacity, int64_t *out_count);

/* The text of `count` ids (transformers' decode; special tokens skipped
 * when skip_special_tokens is non-zero; Marian: the target side). Its
 * length in bytes goes to *out_len; the text, NUL-terminated, to out_text
 * when *out_len + 1 fits in `capacity` (else TFM_ERROR_OUT_OF_RANGE). */
tfm_status tfm_detokenize(const tfm_model *model, const int64_t *ids,
                          int64_t count, int32_t skip_special_tokens,
                          char *out_text, int64_t capacity, int64_t *out_len);

/* How the next token is chosen (transformers' GenerationConfig fields). */
typedef struct tfm_sampling {
  int32_t do_sample;         /* 0: greedy */
  double temperature;        /* > 0 */
  int64_t top_k;             /* 0: off */
  double top_p;              /* in (0, 1]; 1: off */
  double repetition_penalty; /* > 0; 1: off */
  uint64_t seed;             /* the same seed, the same text */
} tfm_sampling;

/* The model's defaults: its generation_config.json, seed 0. */
tfm_status tfm_sampling_defaults(const tfm_model *model,
                                 tfm_sampling *sampling);

/* Receives generated text as it becomes final (UTF-8, `len` bytes, not
 * NUL-terminated; never a partial character). Return 0 to go on, non-zero
 * to end the reply there (e.g. at a stop string). */
typedef int (*tfm_text_callback)(const char *text, int64_t len,
                                 void *user_data);

/* Generates a reply to `prompt` (UTF-8), at most max_new_tokens tokens,
 * with `sampling` (NULL: the model's defaults), giving the text to
 * `on_text` as it comes (NULL: nowhere). A decoder-only model continues the
 * session's conversation: the first call starts it (special tokens added
 * to the prompt), each later one goes on after the previous reply on the
 * same KV cache (nothing before is recomputed). An encoder-decoder model
 * answers each prompt on its own. */
tfm_status tfm_generate_text(tfm_session *session, const char *prompt,
                             int64_t prompt_len, int64_t max_new_tokens,
                             const tfm_sampling *sampling,
                             tfm_text_callback on_text, void *user_data);

/* Forgets the session's conversation: the next tfm_generate_text starts a
 * new one. */
void tfm_session_reset_text(tfm_session *session);

#ifdef __cplusplus
}
#endif

#endif /* TFM_RUNTIME_TFM_H */
