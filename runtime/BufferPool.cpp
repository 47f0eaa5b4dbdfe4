//===- BufferPool.cpp - Where compiled code's buffers come from -----------===//

#include "runtime/BufferPool.h"

#include <cstdlib>

namespace tfm {

namespace {
/// In front of every block: its pool (null: the system's) and its size
/// class. A cache line, so that the block stays 64-byte aligned.
struct alignas(64) Header {
  BufferPool *pool;
  size_t size;
};
static_assert(sizeof(Header) == 64, "the header keeps blocks aligned");

thread_local BufferPool *currentPool = nullptr;

Header *headerOf(void *block) { return static_cast<Header *>(block) - 1; }
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
    return nullptr;
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
      return block;
    }
    ++pool->systemAllocations_;
  }
  if (size > SIZE_MAX - sizeof(Header))
    return nullptr;
  auto *header =
      static_cast<Header *>(std::aligned_alloc(64, sizeof(Header) + size));
  if (!header)
    return nullptr;
  header->pool = pool;
  header->size = size;
  return header + 1;
}

void bufferFree(void *block) {
  if (!block)
    return;
  Header *header = headerOf(block);
  if (header->pool)
    header->pool->free_[header->size].push_back(block);
  else
    std::free(header);
}

} // namespace tfm
