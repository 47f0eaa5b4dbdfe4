//===- manifest.cpp - Fuzzer: a compiled module's manifest ----------------===//
//
// The `tfm_manifest` string a model.so exports, as CompiledModule::load
// reads it: parseManifest either rejects it or returns entries whose
// argument types are well formed; each `config` line is compared with a
// model.json config (checkCompiledConfig), which must only ever answer.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/Module.h"
#include "support/Json.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  absl::StatusOr<std::vector<tfm::EntrySpec>> entries =
      tfm::parseManifest(text);
  if (entries.ok())
    for (const tfm::EntrySpec &entry : *entries)
      for (const tfm::ArgSpec &arg : entry.inputs)
        for (int64_t dim : arg.dims)
          if (dim < -1)
            std::abort(); // -1 is the only dynamic marker.
  static const tfm::json::Value config = *tfm::json::parse(
      R"({"architecture": "decoder", "d_model": 8, "max_seq_len": 16,
          "pad_id": 0, "bos_id": 1, "eos_id": 2, "src_vocab_size": 0,
          "tgt_vocab_size": 23})");
  for (absl::string_view line : absl::StrSplit(text, '\n'))
    if (absl::ConsumePrefix(&line, "config "))
      (void)tfm::checkCompiledConfig(config, std::string(line), "model.so");
  return 0;
}
