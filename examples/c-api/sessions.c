/* One loaded model, many sessions, each on its own thread (runtime/tfm.h):
 * every thread decodes the same batch REPEAT times with tfm_generate on its
 * own session, and every result must equal the one a single session
 * produced alone, first. Prints "sessions: N threads x R runs agree" or the
 * first difference (exit 1). Built with -fsanitize=thread as
 * tfm-sessions-tsan when TFM_ENABLE_TSAN is on (and the ASan build is not).
 *
 *   tfm-sessions ARTIFACT_DIR THREADS REPEAT MAX_NEW "5 17 42" "7 8" ...
 */
#include "runtime/tfm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxTokens = 4096 };

static tfm_model *model;
static int64_t tokens[kMaxTokens], lengths[64], batch, maxNew, repeat;
static int64_t *expected, *expectedLengths;

static int decode(tfm_session *session, int64_t *out, int64_t *outLengths) {
  tfm_status s =
      tfm_generate(session, tokens, lengths, batch, maxNew, out, outLengths);
  if (s != TFM_OK)
    fprintf(stderr, "tfm-sessions: %s (status %d)\n", tfm_last_error(), s);
  return s != TFM_OK;
}

static int same(const int64_t *out, const int64_t *outLengths) {
  for (int64_t b = 0; b < batch; ++b)
    if (outLengths[b] != expectedLengths[b] ||
        memcmp(out + b * maxNew, expected + b * maxNew,
               sizeof(int64_t) * (size_t)outLengths[b]) != 0)
      return 0;
  return 1;
}

static void *worker(void *arg) {
  (void)arg;
  long failed = 1;
  tfm_session *session = NULL;
  int64_t *out = calloc((size_t)(batch * maxNew + 1), sizeof(int64_t));
  int64_t *outLengths = calloc((size_t)batch, sizeof(int64_t));
  if (!out || !outLengths || tfm_session_create(model, &session) != TFM_OK) {
    fprintf(stderr, "tfm-sessions: cannot create a session: %s\n",
            tfm_last_error());
    goto done;
  }
  for (int64_t r = 0; r < repeat; ++r) {
    if (decode(session, out, outLengths))
      goto done;
    if (!same(out, outLengths)) {
      fprintf(stderr, "tfm-sessions: run %lld differs from the lone run\n",
              (long long)r);
      goto done;
    }
  }
  failed = 0;
done:
  tfm_session_free(session);
  free(out);
  free(outLengths);
  return (void *)failed;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: tfm-sessions ARTIFACT_DIR THREADS REPEAT MAX_NEW "
                    "\"IDS\"...\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  repeat = atoll(argv[3]);
  maxNew = atoll(argv[4]);
  int64_t used = 0;
  for (int i = 5; i < argc && batch < 64; ++i, ++batch) {
    lengths[batch] = 0;
    for (char *s = argv[i], *end; used < kMaxTokens; s = end) {
      long long id = strtoll(s, &end, 10);
      if (end == s)
        break;
      tokens[used++] = id;
      ++lengths[batch];
    }
  }
  if (threads < 1 || threads > 64 || repeat < 1 || maxNew < 1) {
    fprintf(stderr, "tfm-sessions: bad THREADS, REPEAT or MAX_NEW\n");
    return 2;
  }
  if (tfm_model_load(argv[1], &model) != TFM_OK) {
    fprintf(stderr, "tfm-sessions: %s\n", tfm_last_error());
    return 1;
  }
  expected = calloc((size_t)(batch * maxNew), sizeof(int64_t));
  expectedLengths = calloc((size_t)batch, sizeof(int64_t));
  tfm_session *alone = NULL;
  int rc = 1;
  if (!expected || !expectedLengths ||
      tfm_session_create(model, &alone) != TFM_OK ||
      decode(alone, expected, expectedLengths))
    goto done;

  pthread_t ids[64];
  for (int t = 0; t < threads; ++t)
    if (pthread_create(&ids[t], NULL, worker, NULL) != 0) {
      fprintf(stderr, "tfm-sessions: cannot start thread %d\n", t);
      threads = t;
      break;
    }
  long failures = 0;
  for (int t = 0; t < threads; ++t) {
    void *failed;
    pthread_join(ids[t], &failed);
    failures += (long)failed;
  }
  if (failures == 0) {
    printf("sessions: %d threads x %lld runs agree\n", threads,
           (long long)repeat);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < expectedLengths[b]; ++i)
        printf(i ? " %lld" : "%lld", (long long)expected[b * maxNew + i]);
      printf("\n");
    }
    rc = 0;
  }
done:
  tfm_session_free(alone);
  free(expected);
  free(expectedLengths);
  tfm_model_free(model);
  return rc;
}
