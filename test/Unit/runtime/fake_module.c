/*===- fake_module.c - A hand-written module for the loader tests ---------===*\
|*                                                                            *|
|* Stands in for tfmc output: exports what runtime/tfm_abi.h asks for and     *|
|* implements the descriptor contract by hand. Some entries bend the rules    *|
|* the way a buggy compiler might (strided, aliased, wrong-sized results) so  *|
|* that the runtime's defences are tested. Compile definitions build broken   *|
|* variants: FAKE_ABI_VERSION=N, FAKE_NO_VERSION, FAKE_BAD_MANIFEST,          *|
|* FAKE_MISSING_ENTRY.                                                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "runtime/tfm_abi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION TFM_ABI_VERSION
#endif

#ifndef FAKE_NO_VERSION
const int32_t tfm_abi_version = FAKE_ABI_VERSION;
#endif

#if defined(FAKE_BAD_MANIFEST)
const char tfm_manifest[] = "tfm-abi 2\n"
                            "entry add_one in f16[?] out f32[?]\n";
#elif defined(FAKE_MISSING_ENTRY)
const char tfm_manifest[] = "tfm-abi 2\n"
                            "entry add_one in f32[?] out f32[?]\n"
                            "entry ghost in f32[?] out f32[?]\n";
#else
const char tfm_manifest[] = "tfm-abi 2\n"
                            "entry add_one in f32[?] out f32[?]\n"
                            "entry transpose in f32[2,3] out f32[3,2]\n"
                            "entry stats in i32[?,4] out i64[] out i32[4]\n"
                            "entry twice in f32[?] out f32[?] out f32[?]\n"
                            "entry echo in f32[?] out f32[?]\n"
                            "entry answer out i64[]\n"
                            "entry liar in f32[?] out f32[4]\n";
#endif

static void *ptr(int64_t word) { return (void *)(intptr_t)word; }
static int64_t word(const void *p) { return (int64_t)(intptr_t)p; }

/* y = x + 1. The result lives at a 64-byte boundary inside a larger block,
 * two elements past `aligned`, to exercise allocated/aligned/offset. */
void tfm_entry_add_one(void **args) {
  const int64_t *in = (const int64_t *)args[1];
  const float *x = (const float *)ptr(in[1]) + in[2];
  int64_t n = in[3], stride = in[4];
  char *block = (char *)malloc((size_t)n * sizeof(float) + 64 + 8);
  float *aligned = (float *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
  int64_t offset = 2;
  for (int64_t i = 0; i < n; ++i)
    aligned[offset + i] = x[i * stride] + 1.0f;
  int64_t *out = (int64_t *)args[0];
  out[0] = word(block);
  out[1] = word(aligned);
  out[2] = offset;
  out[3] = n;
  out[4] = 1;
}

/* Returns the input's elements unchanged, viewed with transposed strides:
 * a non-contiguous result the runtime has to copy. */
void tfm_entry_transpose(void **args) {
  const int64_t *in = (const int64_t *)args[1];
  const float *x = (const float *)ptr(in[1]) + in[2];
  float *buffer = (float *)malloc(6 * sizeof(float));
  memcpy(buffer, x, 6 * sizeof(float));
  int64_t *out = (int64_t *)args[0];
  out[0] = word(buffer);
  out[1] = word(buffer);
  out[2] = 0;
  out[3] = 3; /* sizes */
  out[4] = 2;
  out[5] = 1; /* strides */
  out[6] = 3;
}

/* Two results of different types and ranks, back to back: the sum of all
 * elements (i64, rank 0) and the column sums (i32[4]). */
void tfm_entry_stats(void **args) {
  const int64_t *in = (const int64_t *)args[1];
  const int32_t *x = (const int32_t *)ptr(in[1]) + in[2];
  int64_t rows = in[3], rowStride = in[5], colStride = in[6];
  int64_t *total = (int64_t *)malloc(sizeof(int64_t));
  int32_t *columns = (int32_t *)malloc(4 * sizeof(int32_t));
  *total = 0;
  for (int64_t c = 0; c < 4; ++c) {
    columns[c] = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int32_t v = x[r * rowStride + c * colStride];
      columns[c] += v;
      *total += v;
    }
  }
  int64_t *out = (int64_t *)args[0];
  out[0] = word(total); /* i64[]: 3 words */
  out[1] = word(total);
  out[2] = 0;
  out += TFM_DESCRIPTOR_WORDS(0);
  out[0] = word(columns); /* i32[4]: 5 words */
  out[1] = word(columns);
  out[2] = 0;
  out[3] = 4;
  out[4] = 1;
}

/* Both results are the same buffer (2 * x): the runtime must free it once. */
void tfm_entry_twice(void **args) {
  const int64_t *in = (const int64_t *)args[1];
  const float *x = (const float *)ptr(in[1]) + in[2];
  int64_t n = in[3];
  float *y = (float *)malloc((size_t)n * sizeof(float) + 1);
  for (int64_t i = 0; i < n; ++i)
    y[i] = 2.0f * x[i * in[4]];
  int64_t *out = (int64_t *)args[0];
  for (int r = 0; r < 2; ++r, out += TFM_DESCRIPTOR_WORDS(1)) {
    out[0] = word(y);
    out[1] = word(y);
    out[2] = 0;
    out[3] = n;
    out[4] = 1;
  }
}

/* Breaks the contract: returns the caller's input buffer as its result. The
 * runtime must copy it and must not free it. */
void tfm_entry_echo(void **args) {
  memcpy(args[0], args[1], TFM_DESCRIPTOR_WORDS(1) * sizeof(int64_t));
}

/* No inputs, one rank-0 result. */
void tfm_entry_answer(void **args) {
  int64_t *value = (int64_t *)malloc(sizeof(int64_t));
  *value = 42;
  int64_t *out = (int64_t *)args[0];
  out[0] = word(value);
  out[1] = word(value);
  out[2] = 0;
}

/* Declares f32[4] but returns f32[3]: the runtime must report it (and free
 * the block). */
void tfm_entry_liar(void **args) {
  (void)args[1];
  float *y = (float *)calloc(3, sizeof(float));
  int64_t *out = (int64_t *)args[0];
  out[0] = word(y);
  out[1] = word(y);
  out[2] = 0;
  out[3] = 3;
  out[4] = 1;
}
