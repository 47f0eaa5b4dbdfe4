//===- TensorTest.cpp - Tests for runtime/Tensor.h ------------------------===//

#include "runtime/Tensor.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdlib>
#include <utility>

using namespace tfm;

namespace {

TEST(DTypeTest, SizesAndNames) {
  EXPECT_EQ(dtypeSize(DType::F32), 4u);
  EXPECT_EQ(dtypeSize(DType::I32), 4u);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_EQ(dtypeSize(DType::BF16), 2u);
  EXPECT_EQ(dtypeSize(DType::I8), 1u);
  EXPECT_EQ(dtypeName(DType::BF16), "bf16");
  EXPECT_EQ(dtypeName(DType::I8), "i8");
  EXPECT_EQ(dtypeName(DType::F32), "f32");
  EXPECT_EQ(dtypeName(DType::I32), "i32");
  EXPECT_EQ(dtypeName(DType::I64), "i64");
  static_assert(DTypeOf<float>::value == DType::F32);
  static_assert(DTypeOf<int32_t>::value == DType::I32);
  static_assert(DTypeOf<int64_t>::value == DType::I64);
}

TEST(DTypeTest, ParseRoundTripsNames) {
  for (DType dtype :
       {DType::F32, DType::I32, DType::I64, DType::BF16, DType::I8}) {
    std::optional<DType> parsed = parseDType(dtypeName(dtype));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, dtype);
  }
}

TEST(DTypeTest, ParseRejectsOtherSpellings) {
  for (const char *name :
       {"", "f64", "F32", "f32 ", "float32", "<f4", "u8", "BF16", "f16"})
    EXPECT_FALSE(parseDType(name).has_value()) << name;
}

TEST(DTypeTest, FormatTensorType) {
  EXPECT_EQ(formatTensorType(DType::F32, {-1, 8, -1, 64}), "f32[?,8,?,64]");
  EXPECT_EQ(formatTensorType(DType::I64, {}), "i64[]");
  EXPECT_EQ(formatTensorType(DType::I32, {0, 3}), "i32[0,3]");
}

TEST(TensorTest, AllocateIsZeroFilledAndAligned) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::F32, {2, 3});
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->dtype(), DType::F32);
  EXPECT_EQ(tensor->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor->rank(), 2u);
  EXPECT_EQ(tensor->dim(1), 3);
  EXPECT_EQ(tensor->numElements(), 6);
  EXPECT_EQ(tensor->byteSize(), 24u);
  EXPECT_EQ(tensor->typeString(), "f32[2,3]");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->rawData()) % 64, 0u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(tensor->data<float>()[i], 0.0f);
}

TEST(TensorTest, RankZeroHasOneElement) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::I64, {});
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->numElements(), 1);
  EXPECT_EQ(tensor->byteSize(), 8u);
  tensor->data<int64_t>()[0] = -7;
  EXPECT_EQ(tensor->data<int64_t>()[0], -7);
}

TEST(TensorTest, EmptyTensorHasValidData) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::I32, {0, 5});
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->numElements(), 0);
  EXPECT_EQ(tensor->byteSize(), 0u);
  EXPECT_NE(tensor->rawData(), nullptr);
}

TEST(TensorTest, AllocateRejectsNegativeDimension) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::F32, {2, -1});
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(tensor.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensor.status().message().find("negative dimension"),
            std::string::npos)
      << tensor.status();
}

TEST(TensorTest, AllocateRejectsOverflow) {
  int64_t big = int64_t(1) << 31;
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::I64, {big, big, big});
  ASSERT_FALSE(tensor.ok());
  EXPECT_NE(tensor.status().message().find("too large"), std::string::npos)
      << tensor.status();
  // One zero dimension makes any shape empty, without overflow.
  absl::StatusOr<int64_t> count =
      checkedNumElements(DType::F32, {big, big, big, 0});
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 0);
}

TEST(TensorTest, MoveTransfersOwnership) {
  absl::StatusOr<Tensor> made = Tensor::allocate(DType::I32, {4});
  ASSERT_TRUE(made.ok());
  Tensor a = std::move(*made);
  a.data<int32_t>()[3] = 11;
  void *data = a.rawData();

  Tensor b(std::move(a));
  EXPECT_EQ(a.rawData(), nullptr);
  EXPECT_EQ(a.numElements(), 0);
  EXPECT_EQ(b.rawData(), data);
  EXPECT_EQ(b.data<int32_t>()[3], 11);

  absl::StatusOr<Tensor> other = Tensor::allocate(DType::F32, {2});
  ASSERT_TRUE(other.ok());
  Tensor c = std::move(*other);
  c = std::move(b); // Frees c's old memory (checked under ASan).
  EXPECT_EQ(b.rawData(), nullptr);
  EXPECT_EQ(c.rawData(), data);
  EXPECT_EQ(c.dtype(), DType::I32);
  EXPECT_EQ(c.shape(), std::vector<int64_t>{4});
}

TEST(TensorTest, AdoptHonoursOffsetAndFreesBlock) {
  // A module result: a malloc()ed block, data 3 elements past `aligned`.
  auto *block = static_cast<int64_t *>(std::malloc(8 * sizeof(int64_t)));
  int64_t *aligned = block + 1;
  for (int i = 0; i < 4; ++i)
    aligned[3 + i] = 100 + i;
  Tensor tensor = Tensor::adopt(DType::I64, {2, 2}, block, aligned, 3);
  EXPECT_EQ(tensor.numElements(), 4);
  EXPECT_EQ(tensor.data<int64_t>(), aligned + 3);
  EXPECT_EQ(tensor.data<int64_t>()[0], 100);
  EXPECT_EQ(tensor.data<int64_t>()[3], 103);
  // The destructor frees `block`; ASan reports a leak or a bad free.
}

} // namespace
