//===- safetensors.cpp - Fuzzer: safetensors headers and data bounds ------===//
//
// A file SafetensorsFile::open accepts has every tensor inside the mapping:
// the harness reads every byte of every tensor (ASan catches a read past
// the mapping) and widens F32/F16/BF16 tensors as tfmc does.
//
//===----------------------------------------------------------------------===//

#include "frontend/Safetensors.h"
#include "frontend/Checkpoint.h"
#include "test/fuzz/FuzzInput.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfm::fuzz::MemoryFile file(data, size);
  auto opened = tfm::SafetensorsFile::open(file.path());
  if (!opened.ok())
    return 0;
  unsigned sum = 0;
  for (const tfm::SafetensorsTensor &tensor : (*opened)->tensors())
    for (size_t i = 0; i < tensor.byteSize; ++i)
      sum += static_cast<const unsigned char *>(tensor.data)[i];
  tfm::Checkpoint checkpoint(
      std::shared_ptr<const tfm::SafetensorsFile>(std::move(*opened)));
  for (const tfm::SafetensorsTensor *tensor : checkpoint.tensors()) {
    tfm::WeightSource source;
    source.tensor = tensor->name;
    int64_t count = 1;
    for (int64_t d : tensor->shape)
      count *= d;
    if (count > (1 << 20))
      continue; // A big tensor is fine, but slow to widen at every input.
    (void)tfm::readWeight(checkpoint, source, {count});
  }
  return static_cast<int>(sum & 0);
}
