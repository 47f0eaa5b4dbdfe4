//===- Status.h - Propagating absl::Status ----------------------*- C++ -*-===//
//
// The two macros the runtime and the frontend's parsers use to pass an
// error up, instead of spelling `if (!x.ok()) return x.status();` out.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_SUPPORT_STATUS_H
#define TFM_SUPPORT_STATUS_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

/// Returns the status of `expr` (an absl::Status) from the enclosing
/// function when it is an error.
#define TFM_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    if (::absl::Status tfm_status_ = (expr); !tfm_status_.ok())                \
      return tfm_status_;                                                      \
  } while (0)

/// Evaluates `expr` (an absl::StatusOr<T>); returns its status from the
/// enclosing function when it is an error, else moves its value into `lhs`
/// (an existing variable or a declaration such as `auto x`).
#define TFM_ASSIGN_OR_RETURN(lhs, expr)                                        \
  TFM_ASSIGN_OR_RETURN_IMPL(TFM_STATUS_CONCAT(tfm_result_, __LINE__), lhs, expr)
#define TFM_ASSIGN_OR_RETURN_IMPL(result, lhs, expr)                           \
  auto result = (expr);                                                        \
  if (!result.ok())                                                            \
    return result.status();                                                    \
  lhs = std::move(*result)
#define TFM_STATUS_CONCAT(a, b) TFM_STATUS_CONCAT_IMPL(a, b)
#define TFM_STATUS_CONCAT_IMPL(a, b) a##b

#endif // TFM_SUPPORT_STATUS_H
