/*===- work_count.c - How the threads share a kernel's work ---------------===*
 *
 * Preloaded into tfm-run (LD_PRELOAD) for test/Tools/work-share.test: a
 * model compiled with tfm-tile-matmul's count-work option calls
 * tfm_count_work(units) at the start of each task of its matmul kernels
 * (units: rows x panels of that task). Each thread's units add up in its
 * own slot; at exit one line per thread that did any work, in the order
 * the threads first counted, goes to the file $TFM_WORK_COUNTS.
 *
 *===----------------------------------------------------------------------===*/

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { kMaxThreads = 1024 };

static _Atomic long long counts[kMaxThreads];
static atomic_int threads;
static atomic_int overflow;
static _Thread_local int slot = -1;

void tfm_count_work(long long units) {
  if (slot < 0)
    slot = atomic_fetch_add(&threads, 1);
  if (slot < kMaxThreads)
    atomic_fetch_add(&counts[slot], units);
  else
    atomic_store(&overflow, 1);
}

__attribute__((destructor)) static void report(void) {
  const char *path = getenv("TFM_WORK_COUNTS");
  if (!path)
    return;
  FILE *out = fopen(path, "w");
  if (!out)
    return;
  int n = atomic_load(&threads);
  if (atomic_load(&overflow))
    fprintf(out, "overflow: more than %d threads\n", kMaxThreads);
  for (int i = 0; i < n && i < kMaxThreads; ++i)
    fprintf(out, "%lld\n", atomic_load(&counts[i]));
  fclose(out);
}
