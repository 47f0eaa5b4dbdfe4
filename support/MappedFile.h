//===- MappedFile.h - Reading files -----------------------------*- C++ -*-===//
//
// Weights are read where they lie: mapped, never copied. Small text files
// (JSON) are read whole.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_SUPPORT_MAPPEDFILE_H
#define TFM_SUPPORT_MAPPEDFILE_H

#include "absl/status/statusor.h"

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

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

/// The XXH3-64 hash of the bytes of the regular file at `path`, as 16
/// lowercase hex digits: what binds an artifact's files together
/// (model.json records the hash of model.so and of weights.bin). Read with
/// read(), not mapped, so that checking it does not fault in the pages of a
/// mapping.
absl::StatusOr<std::string> fileChecksum(const std::string &path);

/// The same hash of `bytes`.
std::string checksum(std::string_view bytes);

/// Writes the concatenation of `pieces` to `path`. A regular file (or a new
/// one) is written to a temporary file in its directory and renamed over
/// it, so that a failed write leaves what was there; anything else (a
/// device, a FIFO, a symlink to one such as /dev/stdout) is written in place
/// and, whatever happens, never removed.
absl::Status writeFileReplacing(const std::string &path,
                                std::initializer_list<std::string_view> pieces);

} // namespace tfm

#endif // TFM_SUPPORT_MAPPEDFILE_H
