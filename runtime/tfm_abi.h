/*===- tfm_abi.h - Contract between tfm-generated code and the runtime ----===*\
|*                                                                            *|
|* The one header that both sides follow. tfmc writes shared objects that    *|
|* export the symbols below; the runtime dlopen()s them, checks the version  *|
|* and calls the entry points. Plain C, no LLVM/MLIR.                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TFM_RUNTIME_TFM_ABI_H
#define TFM_RUNTIME_TFM_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever anything in this header changes meaning. */
#define TFM_ABI_VERSION 2

/* Exported data symbols of a compiled module:
 *
 *   const int32_t tfm_abi_version;     equal to TFM_ABI_VERSION
 *   const char    tfm_manifest[];      NUL-terminated text, see below
 *
 * The manifest lists the entry points, one per line:
 *
 *   tfm-abi 2
 *   entry NAME in f32[?,8,?,64] in i32[?] inout f32[?,8,?,64] out f32[?,8,?,64]
 *
 * and, in a module compiled from a model, one line with the model's
 * configuration (the "config" object of the artifact's model.json, as
 * compact JSON on one line), which the runtime checks model.json against:
 *
 *   config {"architecture":"decoder","d_model":64,...}
 *
 * and one with the XXH3-64 hashes (16 hex digits) of the artifact's
 * weights.bin and of its weight index (Artifact.h, weightIndexChecksum):
 *
 *   weights 0123456789abcdef fedcba9876543210
 *
 * Arguments appear in call order: every `in` is an input (function operand),
 * every `inout` an input the entry updates in place (a KV cache), every
 * `out` is a result. Element types are f32, i32, i64; a dimension is a
 * decimal size or `?` for a size known only at run time. A rank-0 tensor is
 * written `f32[]`.
 */
#define TFM_ABI_VERSION_SYMBOL "tfm_abi_version"
#define TFM_MANIFEST_SYMBOL "tfm_manifest"

/* Each entry NAME is exported as a packed function:
 *
 *   void tfm_entry_NAME(void **args);
 *
 * args[0] points to storage for the result descriptors, laid out back to back
 * in result order (NULL when there are no results); args[1 + i] points to the
 * descriptor of input i.
 *
 * A descriptor of rank R is the MLIR strided memref descriptor, every field 8
 * bytes wide, so it is an array of 3 + 2R int64-sized words:
 *
 *   struct { void *allocated; void *aligned; int64_t offset;
 *            int64_t sizes[R]; int64_t strides[R]; }
 *
 * The element at index (i0, ..., iR-1) is at
 *   aligned + offset + sum_k i_k * strides[k]      (in elements).
 *
 * Inputs: the caller owns them; the callee only reads them, except `inout`
 * inputs, which it writes in place (and never returns). Sizes must match
 * the manifest's static dimensions.
 * Results: the callee allocates them (see tfm_allocator below); the caller
 * takes ownership and releases `allocated` with the matching free.
 */
#define TFM_ENTRY_PREFIX "tfm_entry_"

/* Where the buffers of a compiled module come from, results included:
 *
 *   void *tfm_allocator[2];    { void *(*alloc)(int64_t bytes),
 *                                void (*free)(void *block) }
 *
 * An exported, writable table; while it holds nulls the module calls
 * malloc() and free(). The runtime fills it in once, right after loading
 * the module and before any call, with its own allocator (per-session
 * buffer pools: runtime/BufferPool.h), and releases results with the table's
 * free. A module without the symbol uses malloc() and free().
 */
#define TFM_ALLOCATOR_SYMBOL "tfm_allocator"
typedef void *(*tfm_alloc_fn)(int64_t bytes);
typedef void (*tfm_free_fn)(void *block);

/* What a compiled module calls when a run-time check fails (dynamic sizes
 * of two inputs that must agree and do not):
 *
 *   void *tfm_error_hook[1];   { void (*fail)(const char *message) }
 *
 * An exported, writable table like tfm_allocator. The hook does not return
 * into the module: the runtime's abandons the call (longjmp to the call
 * site, after freeing the call's buffers) and reports `message`. While it
 * holds null the module prints the message to stderr and aborts.
 */
#define TFM_ERROR_HOOK_SYMBOL "tfm_error_hook"
typedef void (*tfm_fail_fn)(const char *message);

typedef void (*tfm_entry_fn)(void **args);

/* Number of int64-sized words in a descriptor of the given rank. */
#define TFM_DESCRIPTOR_WORDS(rank) (3 + 2 * (rank))

#ifdef __cplusplus
}
#endif

#endif /* TFM_RUNTIME_TFM_ABI_H */
