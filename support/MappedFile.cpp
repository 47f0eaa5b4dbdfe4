//===- MappedFile.cpp - Read-only memory-mapped files ---------------------===//

#include "support/MappedFile.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace tfm;

absl::StatusOr<std::unique_ptr<MappedFile>>
MappedFile::open(const std::string &path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever;
  // it is refused below like any file that is not a regular one.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  size_t size = static_cast<size_t>(st.st_size);
  const char *data = nullptr;
  if (size > 0) {
    void *p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat(path, ": cannot map: ", std::strerror(err)));
    }
    data = static_cast<const char *>(p);
  }
  ::close(fd);
  return std::unique_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_)
    munmap(const_cast<char *>(data_), size_);
}

namespace {
/// A file descriptor, closed when it goes out of scope.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};
} // namespace

/// Opens `path` for reading, if it is a regular file: a FIFO would block in
/// open() (hence O_NONBLOCK) and a device such as /dev/zero would be read
/// until memory runs out.
static absl::Status openRegularFile(const std::string &path,
                                    FileDescriptor &file) {
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (file.fd < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  struct stat info;
  if (fstat(file.fd, &info) != 0)
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot stat"));
  if (S_ISDIR(info.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a file"));
  if (!S_ISREG(info.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  return absl::OkStatus();
}

/// Reads `file` to its end in chunks of `buffer`, handing each to `consume`.
template <typename Consume>
static absl::Status readChunks(const FileDescriptor &file,
                               const std::string &path,
                               std::vector<char> &buffer, Consume consume) {
  while (true) {
    ssize_t got = ::read(file.fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return absl::ErrnoToStatus(errno, absl::StrCat(path, ": read failed"));
    if (got == 0)
      return absl::OkStatus();
    consume(buffer.data(), static_cast<size_t>(got));
  }
}

absl::StatusOr<std::string> tfm::readFile(const std::string &path) {
  FileDescriptor file;
  TFM_RETURN_IF_ERROR(openRegularFile(path, file));
  std::string text;
  std::vector<char> buffer(1 << 16);
  TFM_RETURN_IF_ERROR(
      readChunks(file, path, buffer, [&](const char *data, size_t size) {
        text.append(data, size);
      }));
  return text;
}

/// Writes all of `data` to `fd`.
static bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t wrote = ::write(fd, data.data(), data.size());
    if (wrote < 0 && errno == EINTR)
      continue;
    if (wrote <= 0)
      return false;
    data.remove_prefix(static_cast<size_t>(wrote));
  }
  return true;
}

absl::Status
tfm::writeFileReplacing(const std::string &path,
                        std::initializer_list<std::string_view> pieces) {
  struct stat info;
  bool exists = ::stat(path.c_str(), &info) == 0;
  if (exists && S_ISDIR(info.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a file"));
  if (exists && !S_ISREG(info.st_mode)) {
    // A device or a FIFO: written in place (O_NONBLOCK: a FIFO without a
    // reader fails instead of waiting), never unlinked.
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return absl::ErrnoToStatus(
          errno, absl::StrCat(path, ": cannot open for writing"));
    bool ok = true;
    for (std::string_view piece : pieces)
      ok = ok && writeAll(fd, piece);
    int err = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok)
      return absl::ErrnoToStatus(err ? err : EIO,
                                 absl::StrCat(path, ": write failed"));
    return absl::OkStatus();
  }
  // A regular file: the temporary file goes beside the file itself (through
  // a symlink to it, beside its target), so that rename() replaces it.
  std::string target = path;
  if (exists) {
    if (char *resolved = ::realpath(path.c_str(), nullptr)) {
      target = resolved;
      std::free(resolved);
    }
  }
  // Created as a new file would be (mode 0666 less the umask; an existing
  // file's mode is kept below), under a name no one else uses.
  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temp = absl::StrCat(target, ".tmp.", ::getpid(), ".", counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0)
    return absl::ErrnoToStatus(
        errno, absl::StrCat(path, ": cannot create a temporary file beside "
                                  "it"));
  bool ok = true;
  for (std::string_view piece : pieces)
    ok = ok && writeAll(fd, piece);
  int err = errno;
  if (exists)
    ::fchmod(fd, info.st_mode & 07777);
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(temp.c_str(), target.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str()); // Ours; what was at `path` is left as it was.
    return absl::ErrnoToStatus(err ? err : EIO,
                               absl::StrCat(path, ": write failed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> tfm::fileChecksum(const std::string &path) {
  FileDescriptor file;
  TFM_RETURN_IF_ERROR(openRegularFile(path, file));
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t *)> state(
      XXH3_createState(), XXH3_freeState);
  if (!state || XXH3_64bits_reset(state.get()) != XXH_OK)
    return absl::ResourceExhaustedError("cannot allocate a hash state");
  std::vector<char> buffer(1 << 20);
  TFM_RETURN_IF_ERROR(
      readChunks(file, path, buffer, [&](const char *data, size_t size) {
        XXH3_64bits_update(state.get(), data, size);
      }));
  return absl::StrFormat("%016x", XXH3_64bits_digest(state.get()));
}

std::string tfm::checksum(std::string_view bytes) {
  return absl::StrFormat("%016x", XXH3_64bits(bytes.data(), bytes.size()));
}
