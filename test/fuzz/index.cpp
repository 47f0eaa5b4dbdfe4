//===- index.cpp - Fuzzer: model.safetensors.index.json -------------------===//
//
// The index of a sharded checkpoint, in a directory of its own whose shards
// are two small valid files: Checkpoint::open must reject every index that
// disagrees with them, and never open a file outside the directory.
//
//===----------------------------------------------------------------------===//

#include "frontend/Checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

static std::string makeDirectory() {
  char pattern[] = "/tmp/tfm-fuzz-index-XXXXXX";
  if (!mkdtemp(pattern))
    std::abort();
  std::string dir = pattern;
  // Two shards: "a" [1] F32 in the first, "b" [1] F32 in the second.
  auto shard = [&](const char *file, const char *name) {
    std::string header = std::string("{\"") + name +
                         "\":{\"dtype\":\"F32\",\"shape\":[1],"
                         "\"data_offsets\":[0,4]}}";
    while ((8 + header.size()) % 8)
      header += ' ';
    std::FILE *f = std::fopen((dir + "/" + file).c_str(), "wb");
    uint64_t n = header.size();
    std::fwrite(&n, 8, 1, f);
    std::fwrite(header.data(), 1, header.size(), f);
    std::fwrite("\0\0\0\0", 1, 4, f);
    std::fclose(f);
  };
  shard("model-00001-of-00002.safetensors", "a");
  shard("model-00002-of-00002.safetensors", "b");
  return dir;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string dir = makeDirectory();
  std::FILE *f =
      std::fopen((dir + "/model.safetensors.index.json").c_str(), "wb");
  if (!f)
    std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto checkpoint = tfm::Checkpoint::open(dir);
  if (!checkpoint.ok())
    return 0;
  // Accepted: every tensor comes from a shard inside the directory.
  for (const tfm::SafetensorsTensor *tensor : (*checkpoint)->tensors()) {
    const std::string &path = (*checkpoint)->pathOf(tensor->name);
    if (path.compare(0, dir.size() + 1, dir + "/") != 0 ||
        path.find('/', dir.size() + 1) != std::string::npos)
      std::abort();
  }
  return 0;
}
