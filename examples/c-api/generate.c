/* A program that uses tfm from C (runtime/tfm.h): greedy decoding of one
 * sequence, twice: with tfm_generate, and step by step with
 * tfm_session_start / tfm_session_logits / tfm_session_step, taking the
 * argmax by hand. Prints the tokens of each on a line; exits 1 on any error
 * (with tfm's message) or if the two disagree.
 *
 *   tfm-c-example ARTIFACT_DIR "5 17 42" [MAX_NEW_TOKENS]
 */
#include "runtime/tfm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(tfm_status status, const char *what) {
  if (status == TFM_OK)
    return 0;
  fprintf(stderr, "tfm-c-example: %s: %s (status %d)\n", what, tfm_last_error(),
          (int)status);
  return 1;
}

static void print(const int64_t *tokens, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    printf(i ? " %lld" : "%lld", (long long)tokens[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tfm-c-example ARTIFACT_DIR \"IDS\" [MAX_NEW]\n");
    return 2;
  }
  int64_t src[512], length = 0;
  for (char *s = argv[2], *end; length < 512; s = end) {
    long long id = strtoll(s, &end, 10);
    if (end == s)
      break;
    src[length++] = id;
  }
  int64_t maxNew = argc > 3 ? atoll(argv[3]) : 16;

  tfm_model *model = NULL;
  if (check(tfm_model_load(argv[1], &model), "loading the model"))
    return 1;
  tfm_model_info info;
  tfm_session *session = NULL;
  if (check(tfm_model_get_info(model, &info), "model info") ||
      check(tfm_session_create(model, &session), "creating a session")) {
    tfm_model_free(model);
    return 1;
  }

  int rc = 1;
  int64_t *generated = malloc(sizeof(int64_t) * (maxNew > 0 ? maxNew : 1));
  int64_t *stepped = malloc(sizeof(int64_t) * (maxNew > 0 ? maxNew : 1));
  int64_t count = 0, steps = 0;
  if (!generated || !stepped ||
      check(tfm_generate(session, src, &length, 1, maxNew, generated, &count),
            "tfm_generate"))
    goto done;
  print(generated, count);

  /* The same by hand: start, then argmax and step until eos_id. */
  if (check(tfm_session_start(session, src, &length, 1), "starting"))
    goto done;
  int64_t inCache = info.has_encoder ? 1 : length; /* bos_id, or the prompt */
  while (steps < maxNew) {
    const float *logits;
    int64_t batch, vocab;
    if (check(tfm_session_logits(session, &logits, &batch, &vocab), "logits"))
      goto done;
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v)
      if (logits[v] > logits[best])
        best = v;
    if (best == info.eos_id)
      break;
    stepped[steps++] = best;
    if (steps == maxNew || inCache + 1 >= info.max_seq_len)
      break;
    if (check(tfm_session_step(session, &best), "stepping"))
      goto done;
    ++inCache;
  }
  print(stepped, steps);
  rc = steps == count &&
               memcmp(generated, stepped, sizeof(int64_t) * (size_t)count) == 0
           ? 0
           : 1;
  if (rc)
    fprintf(stderr, "tfm-c-example: tfm_generate and the steps disagree\n");

done:
  free(generated);
  free(stepped);
  tfm_session_free(session);
  tfm_model_free(model);
  return rc;
}
