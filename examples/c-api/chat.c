/* Text in, text out from C (runtime/tfm.h): a conversation with a model,
 * one prompt per line of standard input, each reply printed as it is
 * generated (tfm_generate_text with a callback) and ended with a newline.
 * A decoder-only model continues one conversation on one KV cache; an
 * encoder-decoder model answers each line on its own. Sampling as the
 * model's generation_config.json says (tfm_sampling_defaults), with
 * SEED when given.
 *
 *   tfm-chat ARTIFACT_DIR [MAX_NEW_TOKENS [SEED]]
 *   tfm-chat ARTIFACT_DIR --tokenize TEXT   (the ids, then their text)
 */
#include "runtime/tfm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(tfm_status status, const char *what) {
  if (status == TFM_OK)
    return 0;
  fprintf(stderr, "tfm-chat: %s: %s (status %d)\n", what, tfm_last_error(),
          (int)status);
  return 1;
}

/* Streams the reply: each piece as it becomes final. */
static int print_text(const char *text, int64_t len, void *user_data) {
  (void)user_data;
  fwrite(text, 1, (size_t)len, stdout);
  fflush(stdout);
  return 0;
}

static int tokenize(tfm_model *model, const char *text) {
  int64_t count = 0, capacity = 16;
  int64_t *ids = malloc(sizeof(int64_t) * (size_t)capacity);
  tfm_status s = tfm_tokenize(model, text, (int64_t)strlen(text), 1, ids,
                              capacity, &count);
  if (s == TFM_ERROR_OUT_OF_RANGE) { /* Too small: again, with room. */
    free(ids);
    capacity = count;
    ids = malloc(sizeof(int64_t) * (size_t)(capacity ? capacity : 1));
    s = tfm_tokenize(model, text, (int64_t)strlen(text), 1, ids, capacity,
                     &count);
  }
  if (check(s, "tfm_tokenize")) {
    free(ids);
    return 1;
  }
  for (int64_t i = 0; i < count; ++i)
    printf(i ? " %lld" : "%lld", (long long)ids[i]);
  printf("\n");
  int64_t len = 0;
  s = tfm_detokenize(model, ids, count, 1, NULL, 0, &len); /* Its size. */
  char *back = malloc((size_t)len + 1);
  if (s == TFM_ERROR_OUT_OF_RANGE)
    s = tfm_detokenize(model, ids, count, 1, back, len + 1, &len);
  int rc = check(s, "tfm_detokenize");
  if (!rc)
    printf("%s\n", back);
  free(back);
  free(ids);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tfm-chat ARTIFACT_DIR [MAX_NEW [SEED]] | "
                    "--tokenize TEXT\n");
    return 2;
  }
  tfm_model *model = NULL;
  if (check(tfm_model_load(argv[1], &model), "loading the model"))
    return 1;
  if (argc > 3 && strcmp(argv[2], "--tokenize") == 0) {
    int rc = tokenize(model, argv[3]);
    tfm_model_free(model);
    return rc;
  }
  int64_t maxNew = argc > 2 ? atoll(argv[2]) : 64;
  tfm_sampling sampling;
  tfm_session *session = NULL;
  if (check(tfm_sampling_defaults(model, &sampling), "sampling defaults") ||
      check(tfm_session_create(model, &session), "creating a session")) {
    tfm_model_free(model);
    return 1;
  }
  if (argc > 3)
    sampling.seed = strtoull(argv[3], NULL, 10);
  int rc = 0;
  char line[4096];
  while (!rc && fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (n == 0)
      continue;
    rc = check(tfm_generate_text(session, line, (int64_t)n, maxNew, &sampling,
                                 print_text, NULL),
               "tfm_generate_text");
    printf("\n");
  }
  tfm_session_free(session);
  tfm_model_free(model);
  return rc;
}
