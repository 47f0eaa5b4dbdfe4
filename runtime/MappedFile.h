//===- MappedFile.h - Reading files -----------------------------*- C++ -*-===//
//
// Weights are read where they lie: mapped, never copied. Small text files
// (JSON) are read whole.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_MAPPEDFILE_H
#define TFM_RUNTIME_MAPPEDFILE_H

#include "absl/status/statusor.h"

#include <cstddef>
#include <memory>
#include <string>

namespace tfm {

/// A whole file mapped read-only; unmapped when destroyed.
class MappedFile {
public:
  /// Maps `path`. An empty file maps to an empty range. Errors name the
  /// path and the system's reason.
  static absl::StatusOr<std::unique_ptr<MappedFile>>
  open(const std::string &path);

  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const char *data() const { return data_; }
  size_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  MappedFile(std::string path, const char *data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const char *data_;
  size_t size_;
};

/// Reads the whole file at `path`. Errors name the path and the reason
/// (including "is a directory").
absl::StatusOr<std::string> readFile(const std::string &path);

} // namespace tfm

#endif // TFM_RUNTIME_MAPPEDFILE_H
