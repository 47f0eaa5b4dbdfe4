//===- FuzzInput.h - Fuzzer bytes as a file ---------------------*- C++ -*-===//
//
// The parsers of outside input read paths (files are mapped, not copied);
// a harness hands them its bytes as an anonymous in-memory file
// (memfd_create), /proc/self/fd/N, which is a regular file like any other.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TEST_FUZZ_FUZZINPUT_H
#define TFM_TEST_FUZZ_FUZZINPUT_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace tfm::fuzz {

/// An in-memory file holding a copy of `data`.
class MemoryFile {
public:
  MemoryFile(const uint8_t *data, size_t size) {
    fd_ = memfd_create("tfm-fuzz", MFD_CLOEXEC);
    if (fd_ < 0)
      std::abort(); // The harness cannot run at all.
    size_t done = 0;
    while (done < size) {
      ssize_t wrote = write(fd_, data + done, size - done);
      if (wrote <= 0)
        std::abort();
      done += static_cast<size_t>(wrote);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile &) = delete;
  MemoryFile &operator=(const MemoryFile &) = delete;

  const std::string &path() const { return path_; }

private:
  int fd_ = -1;
  std::string path_;
};

} // namespace tfm::fuzz

#endif // TFM_TEST_FUZZ_FUZZINPUT_H
