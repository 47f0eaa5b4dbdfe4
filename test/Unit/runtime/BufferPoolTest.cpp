//===- BufferPoolTest.cpp - Guarded calls into compiled code --------------===//
//
// callGuarded() against stand-in entries that allocate through the
// runtime's allocator the way compiled code does: a refused allocation or
// a failed check ends the call with an error, and every block the call
// took is given back.
//
//===----------------------------------------------------------------------===//

#include "runtime/BufferPool.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <limits>

using namespace tfm;

namespace {
// Blocks the stand-in entries hand back as "results" (args[0]).
void *result = nullptr;

void allocatesThenSucceeds(void **) {
  void *scratch = bufferAllocate(4096);
  result = bufferAllocate(256);
  bufferFree(scratch);
}

void allocatesThenRunsOut(void **) {
  result = bufferAllocate(4096); // A result under construction...
  (void)bufferAllocate(1024);    // ...and scratch, never freed...
  // ...when the system refuses a block (more than the address space).
  (void)bufferAllocate(std::numeric_limits<int64_t>::max() - 1024);
  ADD_FAILURE() << "the call went on after a refused allocation";
}

void failsACheck(void **) {
  result = bufferAllocate(4096);
  compiledCheckFailed("the operands of the op at f.mlir:3:8 have dynamic "
                      "sizes that disagree");
  ADD_FAILURE() << "the call went on after a failed check";
}
} // namespace

TEST(GuardedCallTest, SuccessKeepsResults) {
  BufferPool pool;
  BufferPoolScope scope(&pool);
  ASSERT_TRUE(callGuarded(allocatesThenSucceeds, nullptr, "ok").ok());
  ASSERT_NE(result, nullptr);
  static_cast<char *>(result)[255] = 1; // Still the caller's.
  bufferFree(result);
  EXPECT_EQ(pool.systemAllocations(), 2);
}

TEST(GuardedCallTest, RefusedAllocationIsAnErrorAndFreesTheCallsBlocks) {
  BufferPool pool;
  BufferPoolScope scope(&pool);
  absl::Status status = callGuarded(allocatesThenRunsOut, nullptr, "encode");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "entry 'encode': out of memory: it asked for a "
                              "buffer of 9223372036854774783 bytes");
  // Both blocks went back to the pool: the same sizes again take nothing
  // new from the system.
  int64_t before = pool.systemAllocations();
  void *a = bufferAllocate(4096);
  void *b = bufferAllocate(1024);
  EXPECT_EQ(pool.systemAllocations(), before);
  bufferFree(a);
  bufferFree(b);
}

TEST(GuardedCallTest, FailedCheckIsAnErrorWithItsMessage) {
  BufferPool pool;
  BufferPoolScope scope(&pool);
  absl::Status status = callGuarded(failsACheck, nullptr, "add");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "entry 'add': the operands of the op at "
                              "f.mlir:3:8 have dynamic sizes that disagree");
  int64_t before = pool.systemAllocations();
  void *a = bufferAllocate(4096);
  EXPECT_EQ(pool.systemAllocations(), before);
  bufferFree(a);
}

TEST(GuardedCallTest, WithoutAPoolTheBlocksGoBackToTheSystem) {
  // Nothing to count here: under ASan/LSan a block left behind is a leak
  // report.
  absl::Status status = callGuarded(allocatesThenRunsOut, nullptr, "encode");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(GuardedCallTest, FailedCheckOutsideAGuardedCallEndsTheProcess) {
  EXPECT_DEATH(compiledCheckFailed("sizes disagree"), "tfm: sizes disagree");
}
