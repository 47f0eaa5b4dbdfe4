//===- BufferPool.h - Where compiled code's buffers come from ---*- C++ -*-===//
//
// A compiled module allocates every intermediate buffer and result through
// the runtime (tfm_allocator in runtime/tfm_abi.h). While a BufferPoolScope
// is alive on a thread, those buffers come from its BufferPool: a block
// freed goes back to the pool's list for its size and serves the next
// request of that size. A decoding session asks for the same sizes step
// after step, so once its first steps have run, its steps take no memory
// from the system (and touch no fresh pages). Elsewhere (no scope, or an
// OpenMP worker thread) blocks come from the system.
//
// A call into compiled code runs under callGuarded(): an allocation the
// system refuses, or a run-time check the compiled code fails (a dynamic
// size that disagrees between inputs), frees every block the call took and
// returns an error to the caller instead of ending the process. Only the
// calling thread allocates (tfm-hoist-parallel-allocs moves the scratch of
// parallel loops before them), so the call is always unwound from its own
// thread.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_BUFFERPOOL_H
#define TFM_RUNTIME_BUFFERPOOL_H

#include "absl/status/status.h"
#include "runtime/tfm_abi.h"

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tfm {

/// A cache of freed blocks by size. One thread uses a pool at a time; it
/// must outlive every block it handed out (a session declares its pool
/// before the tensors that hold its blocks).
class BufferPool {
public:
  BufferPool() = default;
  ~BufferPool();
  BufferPool(const BufferPool &) = delete;
  BufferPool &operator=(const BufferPool &) = delete;

  /// Requests served so far, and how many of them took a new block from the
  /// system (the rest reused a freed one).
  int64_t requests() const { return requests_; }
  int64_t systemAllocations() const { return systemAllocations_; }

private:
  friend void *bufferAllocate(int64_t bytes);
  friend void bufferFree(void *block);

  std::unordered_map<size_t, std::vector<void *>> free_;
  int64_t requests_ = 0;
  int64_t systemAllocations_ = 0;
};

/// Makes `pool` the source of this thread's module buffers while alive
/// (scopes nest; the previous pool comes back at the end).
class BufferPoolScope {
public:
  explicit BufferPoolScope(BufferPool *pool);
  ~BufferPoolScope();
  BufferPoolScope(const BufferPoolScope &) = delete;
  BufferPoolScope &operator=(const BufferPoolScope &) = delete;

private:
  BufferPool *previous_;
};

/// The allocator a compiled module calls: 64-byte aligned blocks. A block
/// records its pool, so it may be freed from any scope (on the pool's
/// thread). When the system refuses a block: inside callGuarded(), the call
/// ends with a ResourceExhausted error; elsewhere (a worker thread, which
/// compiled code never allocates on) the process ends with a message.
void *bufferAllocate(int64_t bytes);
void bufferFree(void *block);

/// What a compiled module calls when a run-time check fails (the
/// `tfm_error_hook` of runtime/tfm_abi.h): inside callGuarded(), the call
/// ends with an InvalidArgument error carrying `message`; elsewhere the
/// process ends with it.
void compiledCheckFailed(const char *message);

/// Calls `entry(args)`. If an allocation fails or a check fails inside it,
/// the blocks it allocated are freed, its result descriptors are left as
/// they were, and the error names `entryName`; inout arguments may have
/// been written in part.
absl::Status callGuarded(tfm_entry_fn entry, void **args,
                         const char *entryName);

} // namespace tfm

#endif // TFM_RUNTIME_BUFFERPOOL_H
