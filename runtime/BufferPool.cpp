//===- BufferPool.cpp - Where compiled code's buffers come from -----------===//

#include "runtime/BufferPool.h"

#include "absl/strings/str_cat.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tfm {

namespace {
struct CallGuard;

/// In front of every block: its pool (null: the system's) and its size
/// class; while a guarded call that allocated it runs, its place in that
/// call's list of live blocks. A cache line, so that the block stays 64-byte
/// aligned.
struct alignas(64) Header {
  BufferPool *pool;
  size_t size;
  CallGuard *guard;
  Header *previous, *next;
};
static_assert(sizeof(Header) == 64, "the header keeps blocks aligned");

/// The state of one callGuarded() on its thread.
struct CallGuard {
  std::jmp_buf resume;
  /// Blocks allocated by the call and not freed yet.
  Header *live = nullptr;
  bool outOfMemory = false;
  char message[512] = {};
};

thread_local BufferPool *currentPool = nullptr;
thread_local CallGuard *currentGuard = nullptr;

Header *headerOf(void *block) { return static_cast<Header *>(block) - 1; }

void track(Header *header) {
  CallGuard *guard = currentGuard;
  header->guard = guard;
  header->previous = nullptr;
  header->next = nullptr;
  if (!guard)
    return;
  header->next = guard->live;
  if (guard->live)
    guard->live->previous = header;
  guard->live = header;
}

void untrack(Header *header) {
  CallGuard *guard = header->guard;
  if (!guard)
    return;
  if (header->previous)
    header->previous->next = header->next;
  else
    guard->live = header->next;
  if (header->next)
    header->next->previous = header->previous;
  header->guard = nullptr;
}

/// Frees what the guarded call allocated and resumes at its setjmp. Formats
/// nothing that allocates: memory may be exhausted.
[[noreturn]] void abandonCall(CallGuard *guard) {
  while (guard->live)
    bufferFree(guard->live + 1);
  std::longjmp(guard->resume, 1);
}

/// Outside any guarded call there is nobody to return an error to.
[[noreturn]] void endProcess(const char *message) {
  std::fprintf(stderr, "tfm: %s\n", message);
  std::abort();
}

[[noreturn]] void allocationFailed(int64_t bytes) {
  CallGuard *guard = currentGuard;
  if (!guard) {
    char message[128];
    std::snprintf(message, sizeof message,
                  "out of memory: a compiled module asked for %lld bytes "
                  "outside a guarded call",
                  static_cast<long long>(bytes));
    endProcess(message);
  }
  guard->outOfMemory = true;
  std::snprintf(guard->message, sizeof guard->message,
                "out of memory: it asked for a buffer of %lld bytes",
                static_cast<long long>(bytes));
  abandonCall(guard);
}
} // namespace

BufferPool::~BufferPool() {
  for (auto &[size, blocks] : free_)
    for (void *block : blocks)
      std::free(headerOf(block));
}

BufferPoolScope::BufferPoolScope(BufferPool *pool) : previous_(currentPool) {
  currentPool = pool;
}

BufferPoolScope::~BufferPoolScope() { currentPool = previous_; }

void *bufferAllocate(int64_t bytes) {
  if (bytes < 0)
    allocationFailed(bytes);
  // Size classes of 64 bytes: a step asks for the same sizes every time.
  size_t size = (static_cast<size_t>(bytes) + 63) / 64 * 64;
  if (size == 0)
    size = 64;
  BufferPool *pool = currentPool;
  if (pool) {
    ++pool->requests_;
    auto it = pool->free_.find(size);
    if (it != pool->free_.end() && !it->second.empty()) {
      void *block = it->second.back();
      it->second.pop_back();
      track(headerOf(block));
      return block;
    }
    ++pool->systemAllocations_;
  }
  if (size > SIZE_MAX - sizeof(Header))
    allocationFailed(bytes);
  auto *header =
      static_cast<Header *>(std::aligned_alloc(64, sizeof(Header) + size));
  if (!header)
    allocationFailed(bytes);
  header->pool = pool;
  header->size = size;
  track(header);
  return header + 1;
}

void bufferFree(void *block) {
  if (!block)
    return;
  Header *header = headerOf(block);
  untrack(header);
  if (header->pool)
    header->pool->free_[header->size].push_back(block);
  else
    std::free(header);
}

void compiledCheckFailed(const char *message) {
  CallGuard *guard = currentGuard;
  if (!guard)
    endProcess(message);
  std::snprintf(guard->message, sizeof guard->message, "%s", message);
  abandonCall(guard);
}

/// The setjmp, in a frame of its own that holds nothing across it.
[[gnu::noinline]] static bool runEntry(CallGuard &guard, tfm_entry_fn entry,
                                       void **args) {
  if (setjmp(guard.resume))
    return false;
  entry(args);
  return true;
}

absl::Status callGuarded(tfm_entry_fn entry, void **args,
                         const char *entryName) {
  CallGuard guard;
  CallGuard *previous = currentGuard;
  currentGuard = &guard;
  bool completed = runEntry(guard, entry, args);
  currentGuard = previous;
  // What is still live belongs to the results: no longer the call's.
  while (Header *header = guard.live) {
    guard.live = header->next;
    header->guard = nullptr;
    header->previous = header->next = nullptr;
  }
  if (completed)
    return absl::OkStatus();
  std::string message =
      absl::StrCat("entry '", entryName, "': ", guard.message);
  if (guard.outOfMemory)
    return absl::ResourceExhaustedError(message);
  return absl::InvalidArgumentError(message);
}

} // namespace tfm
