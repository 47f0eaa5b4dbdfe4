/* Counts the heap allocations of steady-state decoding: every malloc,
 * calloc, realloc, aligned_alloc and posix_memalign of the process (the
 * runtime's and the compiled model's alike: this executable exports its
 * malloc, which the model's library binds to) while a session steps through
 * STEPS tokens after WARMUP steps. Prints the count; exits 1 unless it is 0.
 *
 *   tfm-alloc-check ARTIFACT_DIR WARMUP STEPS "5 17 42" ["3 4" ...]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "runtime/tfm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static int counting;
static long allocations;

void *malloc(size_t size) {
  allocations += counting;
  return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
  allocations += counting;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) {
  allocations += counting;
  return __libc_realloc(p, size);
}
void *aligned_alloc(size_t alignment, size_t size) {
  allocations += counting;
  return __libc_memalign(alignment, size);
}
int posix_memalign(void **p, size_t alignment, size_t size) {
  allocations += counting;
  *p = __libc_memalign(alignment, size);
  return *p ? 0 : 12;
}

static int fail(const char *what) {
  fprintf(stderr, "tfm-alloc-check: %s: %s\n", what, tfm_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: tfm-alloc-check ARTIFACT_DIR WARMUP STEPS "
                    "\"IDS\"...\n");
    return 2;
  }
  long warmup = atol(argv[2]), steps = atol(argv[3]);
  int64_t tokens[1024], lengths[64], batch = 0, used = 0;
  for (int i = 4; i < argc && batch < 64; ++i, ++batch) {
    lengths[batch] = 0;
    for (char *s = argv[i], *end; used < 1024; s = end) {
      long long id = strtoll(s, &end, 10);
      if (end == s)
        break;
      tokens[used++] = id;
      ++lengths[batch];
    }
  }
  tfm_model *model;
  tfm_session *session;
  tfm_model_info info;
  if (tfm_model_load(argv[1], &model) != TFM_OK)
    return fail("loading");
  if (tfm_model_get_info(model, &info) != TFM_OK ||
      tfm_session_create(model, &session) != TFM_OK)
    return fail("session");
  if (tfm_session_start(session, tokens, lengths, batch) != TFM_OK)
    return fail("start");
  int64_t next[64];
  for (long s = 0; s < warmup + steps; ++s) {
    counting = s >= warmup;
    const float *logits;
    int64_t rows, vocab;
    if (tfm_session_logits(session, &logits, &rows, &vocab) != TFM_OK)
      return fail("logits");
    /* The most likely token that is not eos: every sequence keeps going. */
    for (int64_t b = 0; b < rows; ++b) {
      next[b] = info.eos_id == 0 ? 1 : 0;
      for (int64_t v = 0; v < vocab; ++v)
        if (v != info.eos_id &&
            logits[b * vocab + v] > logits[b * vocab + next[b]])
          next[b] = v;
    }
    if (tfm_session_step(session, next) != TFM_OK)
      return fail("step");
  }
  counting = 0;
  printf("allocations in %ld steps after %ld warm-up steps: %ld\n", steps,
         warmup, allocations);
  tfm_session_free(session);
  tfm_model_free(model);
  return allocations == 0 ? 0 : 1;
}
