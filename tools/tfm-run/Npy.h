//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reading and writing tensors in NumPy's .npy format (versions 1.0 and 2.0;
// 3.0, which differs only by allowing UTF-8 in the header, is read too).
// Supported element types: little-endian float32, int32, int64 ("<f4", "<i4",
// "<i8"); C order only; rank 0 to 8.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TFMRUN_NPY_H
#define TFM_TFMRUN_NPY_H

#include "runtime/Tensor.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <string>

namespace tfm {

/// Highest rank readNpy() accepts.
constexpr size_t kMaxNpyRank = 8;

/// Reads a .npy file. A missing, malformed, truncated or unsupported file
/// gives one error that starts with the path and names the problem.
absl::StatusOr<Tensor> readNpy(const std::string &path);

/// Writes `tensor` as a .npy file (version 1.0, or 2.0 when the header needs
/// it), through writeFileReplacing(): on failure no partial file is left
/// behind and what was at `path` stays as it was.
absl::Status writeNpy(const std::string &path, const Tensor &tensor);

} // namespace tfm

#endif // TFM_TFMRUN_NPY_H
