//===- StringViews.h - std::string_view <-> absl::string_view ---*- C++ -*-===//
//
// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is its own type, not an alias of std::string_view, and
// the two do not convert implicitly. The runtime's API speaks
// std::string_view; these helpers convert where Abseil functions (StrCat,
// StrSplit, Status::message) are involved.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_SUPPORT_STRINGVIEWS_H
#define TFM_SUPPORT_STRINGVIEWS_H

#include "absl/strings/string_view.h"

#include <string_view>

namespace tfm {

/// Views `text` as an absl::string_view.
inline absl::string_view toAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

/// Views `text` as a std::string_view.
inline std::string_view toStd(absl::string_view text) {
  return std::string_view(text.data(), text.size());
}

} // namespace tfm

#endif // TFM_SUPPORT_STRINGVIEWS_H
