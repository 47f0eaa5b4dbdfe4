//===- Tensor.cpp - Host tensors owned by the runtime ---------------------===//
//
// Element type helpers and tensor memory management.
//
//===----------------------------------------------------------------------===//

#include "runtime/Tensor.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

namespace tfm {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I64:
    return 8;
  case DType::BF16:
    return 2;
  case DType::I8:
    return 1;
  }
  return 0;
}

std::string_view dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::BF16:
    return "bf16";
  case DType::I8:
    return "i8";
  }
  return "<invalid dtype>";
}

std::optional<DType> parseDType(std::string_view name) {
  if (name == "f32")
    return DType::F32;
  if (name == "i32")
    return DType::I32;
  if (name == "i64")
    return DType::I64;
  if (name == "bf16")
    return DType::BF16;
  if (name == "i8")
    return DType::I8;
  return std::nullopt;
}

std::string formatTensorType(DType dtype, absl::Span<const int64_t> dims) {
  std::string text = absl::StrCat(toAbsl(dtypeName(dtype)), "[");
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      text += ',';
    if (dims[i] < 0)
      text += '?';
    else
      absl::StrAppend(&text, dims[i]);
  }
  text += ']';
  return text;
}

absl::StatusOr<int64_t> checkedNumElements(DType dtype,
                                           absl::Span<const int64_t> shape) {
  // Bound by bytes, not elements, so that byteSize() cannot overflow either.
  const int64_t maxElements = std::numeric_limits<int64_t>::max() /
                              static_cast<int64_t>(dtypeSize(dtype));
  int64_t count = 1;
  for (int64_t dim : shape)
    if (dim < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "negative dimension in shape [", absl::StrJoin(shape, ","), "]"));
  // A zero dimension makes the product zero however large the others are.
  for (int64_t dim : shape)
    if (dim == 0)
      return 0;
  for (int64_t dim : shape) {
    if (count > maxElements / dim)
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor of shape [", absl::StrJoin(shape, ","), "] and type ",
          toAbsl(dtypeName(dtype)), " is too large"));
    count *= dim;
  }
  return count;
}

/// Allocates 64-byte aligned memory for a tensor of `shape`.
static absl::StatusOr<void *>
allocateAligned(DType dtype, absl::Span<const int64_t> shape, bool zeroFill) {
  TFM_ASSIGN_OR_RETURN(int64_t count, checkedNumElements(dtype, shape));
  uint64_t bytes = static_cast<uint64_t>(count) * dtypeSize(dtype);
  // aligned_alloc wants a size that is a multiple of the alignment; never ask
  // for zero bytes so that even an empty tensor has a valid data pointer.
  uint64_t rounded = (bytes + Tensor::kAlignment - 1) / Tensor::kAlignment *
                     Tensor::kAlignment;
  if (rounded == 0)
    rounded = Tensor::kAlignment;
  void *memory = nullptr;
  if (rounded >= bytes && rounded <= std::numeric_limits<size_t>::max())
    memory = std::aligned_alloc(Tensor::kAlignment, rounded);
  if (!memory)
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes for a tensor of type ",
                     formatTensorType(dtype, shape)));
  if (zeroFill)
    std::memset(memory, 0, rounded);
  return memory;
}

absl::StatusOr<Tensor> Tensor::allocate(DType dtype,
                                        std::vector<int64_t> shape) {
  TFM_ASSIGN_OR_RETURN(void *memory,
                       allocateAligned(dtype, shape, /*zeroFill=*/true));
  return adopt(dtype, std::move(shape), memory, memory, 0);
}

absl::StatusOr<Tensor>
Tensor::allocateUninitialized(DType dtype, std::vector<int64_t> shape) {
  TFM_ASSIGN_OR_RETURN(void *memory,
                       allocateAligned(dtype, shape, /*zeroFill=*/false));
  return adopt(dtype, std::move(shape), memory, memory, 0);
}

/// The product of `shape`, 0 when any dimension is 0 (however large the
/// others: their product may not fit in int64_t), saturated at the int64_t
/// maximum otherwise. Shapes that reach here were checked by whoever made
/// the memory; this only keeps the arithmetic defined.
static int64_t elementCount(absl::Span<const int64_t> shape) {
  for (int64_t dim : shape)
    if (dim == 0)
      return 0;
  int64_t count = 1;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(count, dim, &count))
      return std::numeric_limits<int64_t>::max();
  return count;
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape, void *allocated,
                     void *aligned, int64_t offset,
                     void (*deallocate)(void *)) {
  int64_t count = elementCount(shape);
  void *data = static_cast<char *>(aligned) +
               offset * static_cast<int64_t>(dtypeSize(dtype));
  Tensor t(dtype, std::move(shape), count, allocated, data);
  t.deallocate_ = deallocate;
  return t;
}

void Tensor::reset(DType dtype, absl::Span<const int64_t> shape,
                   void *allocated, void *aligned, int64_t offset,
                   void (*deallocate)(void *)) {
  release();
  dtype_ = dtype;
  shape_.assign(shape.begin(), shape.end());
  numElements_ = elementCount(shape);
  owned_ = allocated;
  deallocate_ = deallocate;
  data_ = static_cast<char *>(aligned) +
          offset * static_cast<int64_t>(dtypeSize(dtype));
}

Tensor::~Tensor() { release(); }

Tensor::Tensor(Tensor &&other) noexcept
    : dtype_(other.dtype_), shape_(std::move(other.shape_)),
      numElements_(other.numElements_), owned_(other.owned_),
      deallocate_(other.deallocate_), data_(other.data_) {
  other.shape_.clear();
  other.numElements_ = 0;
  other.owned_ = nullptr;
  other.data_ = nullptr;
}

Tensor &Tensor::operator=(Tensor &&other) noexcept {
  if (this == &other)
    return *this;
  release();
  dtype_ = other.dtype_;
  shape_ = std::move(other.shape_);
  numElements_ = other.numElements_;
  owned_ = other.owned_;
  deallocate_ = other.deallocate_;
  data_ = other.data_;
  other.shape_.clear();
  other.numElements_ = 0;
  other.owned_ = nullptr;
  other.data_ = nullptr;
  return *this;
}

void Tensor::release() {
  // aligned_alloc() blocks are released by free(); a module's results by
  // the free of the allocator it was given.
  if (owned_)
    (deallocate_ ? deallocate_ : std::free)(owned_);
  owned_ = nullptr;
  data_ = nullptr;
}

} // namespace tfm
