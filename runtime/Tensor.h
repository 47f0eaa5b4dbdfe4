//===- Tensor.h - Host tensors owned by the runtime -------------*- C++ -*-===//
//
// Element types and the dense, row-major tensors that the runtime passes to
// compiled modules and receives from them.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TENSOR_H
#define TFM_RUNTIME_TENSOR_H

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

/// Element types that cross the runtime/module boundary.
/// Element types: what entries take and return (f32, i32, i64), and what
/// weights may be stored as (f32, bf16, i8).
enum class DType { F32, I32, I64, BF16, I8 };

/// Size of one element of `dtype` in bytes.
size_t dtypeSize(DType dtype);

/// Manifest spelling of `dtype`: "f32", "i32", "i64", "bf16" or "i8".
std::string_view dtypeName(DType dtype);

/// Parses a manifest spelling (as dtypeName gives it); nullopt for anything
/// else.
std::optional<DType> parseDType(std::string_view name);

/// Maps a C++ element type to its DType (float, int32_t, int64_t).
template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <> struct DTypeOf<int32_t> {
  static constexpr DType value = DType::I32;
};
template <> struct DTypeOf<int64_t> {
  static constexpr DType value = DType::I64;
};

/// Renders a tensor type as "f32[2,?,64]"; a negative dimension prints as
/// `?` (the manifest's dynamic size). A rank-0 type is "f32[]".
std::string formatTensorType(DType dtype, absl::Span<const int64_t> dims);

/// A dense tensor in contiguous row-major order that owns its memory.
///
/// The memory either comes from the runtime (64-byte aligned) or is adopted
/// from a compiled module's result (a malloc()ed block plus a data pointer
/// inside it). Either way it is released with free() when the tensor dies.
/// Tensors are move-only. A default-constructed or moved-from tensor holds no
/// data (`rawData() == nullptr`, rank 0); only assignment and destruction are
/// meaningful on it.
class Tensor {
public:
  /// Alignment of the memory the runtime allocates, in bytes.
  static constexpr size_t kAlignment = 64;

  Tensor() = default;
  ~Tensor();
  Tensor(Tensor &&other) noexcept;
  Tensor &operator=(Tensor &&other) noexcept;
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;

  /// Allocates a zero-filled tensor. Fails on a negative dimension, a size
  /// that overflows, or when memory is exhausted.
  static absl::StatusOr<Tensor> allocate(DType dtype,
                                         std::vector<int64_t> shape);

  /// Like allocate() but leaves the contents uninitialized, for callers that
  /// overwrite every byte (file readers, copies).
  static absl::StatusOr<Tensor>
  allocateUninitialized(DType dtype, std::vector<int64_t> shape);

  /// Takes ownership of a compiled module's result: `allocated` is the block
  /// to free() (may be null when nothing needs freeing), the elements start
  /// `offset` elements past `aligned` and are contiguous row-major. The shape
  /// must already be validated (non-negative, no overflow).
  /// `deallocate` releases `allocated` (null: free()).
  static Tensor adopt(DType dtype, std::vector<int64_t> shape, void *allocated,
                      void *aligned, int64_t offset,
                      void (*deallocate)(void *) = nullptr);

  /// Releases what the tensor owns and adopts a block as adopt() does,
  /// keeping the shape's storage (no allocation when the rank fits).
  void reset(DType dtype, absl::Span<const int64_t> shape, void *allocated,
             void *aligned, int64_t offset, void (*deallocate)(void *));

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t i) const { return shape_[i]; }

  /// Number of elements: the product of the dimensions (1 for rank 0).
  int64_t numElements() const { return numElements_; }
  /// Size of the data in bytes.
  size_t byteSize() const { return numElements_ * dtypeSize(dtype_); }

  /// The first element; elements follow contiguously in row-major order.
  void *rawData() { return data_; }
  const void *rawData() const { return data_; }

  /// Typed access; `T` must match dtype() (checked in debug builds).
  template <typename T> T *data() {
    assert(DTypeOf<T>::value == dtype_ && "element type mismatch");
    return static_cast<T *>(data_);
  }
  template <typename T> const T *data() const {
    assert(DTypeOf<T>::value == dtype_ && "element type mismatch");
    return static_cast<const T *>(data_);
  }

  /// The type as text, e.g. "f32[2,3]".
  std::string typeString() const { return formatTensorType(dtype_, shape_); }

private:
  Tensor(DType dtype, std::vector<int64_t> shape, int64_t numElements,
         void *owned, void *data)
      : dtype_(dtype), shape_(std::move(shape)), numElements_(numElements),
        owned_(owned), data_(data) {}

  void release();

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numElements_ = 0;
  /// Block to release; null when the tensor owns nothing.
  void *owned_ = nullptr;
  /// How to release it (null: free()).
  void (*deallocate_)(void *) = nullptr;
  void *data_ = nullptr;
};

/// Number of elements of `shape`, or an error naming the problem when a
/// dimension is negative or the element count times `dtypeSize(dtype)` does
/// not fit in an int64_t.
absl::StatusOr<int64_t> checkedNumElements(DType dtype,
                                           absl::Span<const int64_t> shape);

} // namespace tfm

#endif // TFM_RUNTIME_TENSOR_H
