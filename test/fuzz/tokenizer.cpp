//===- tokenizer.cpp - Fuzzer: tokenizers, their files and any text -------===//
//
// The tokenizers of test/tokenizers/cases (one of each family and variant,
// and the tokenizer.json of four).
// The input's first byte picks one, the second what to do with the rest:
//   0: encode it as text (with and without special tokens; text that is not
//      UTF-8 is refused), then decode the ids and stream them: every id lies
//      in [0, size()), the streamed text is the decoded text;
//   1: decode it as ids (two bytes each, any value: out of range refused)
//      and stream them the same way;
//   2: load the tokenizer with one of its files (the third byte picks
//      which) replaced by the rest: an error, or a tokenizer that encodes
//      and decodes a text within the same invariants.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace tfm;

namespace {

/// Each case's tokenizer directory: the slow files, or tokenizer.json
/// (make_json_cases.py).
constexpr const char *kCases[] = {
    "bert/tokenizer",       "bert-cased/tokenizer",
    "gpt2/tokenizer",       "marian/tokenizer",
    "llama/tokenizer",      "llama-legacy/tokenizer",
    "bert/tokenizer-json",  "gpt2/tokenizer-json",
    "llama/tokenizer-json", "llama-legacy/tokenizer-json"};
constexpr size_t kNumCases = sizeof(kCases) / sizeof(kCases[0]);

std::string caseDir(size_t i) {
  return std::string(TFM_TOKENIZER_CASES) + "/" + kCases[i];
}

const Tokenizer &loaded(size_t i) {
  static std::unique_ptr<Tokenizer> tokenizers[kNumCases];
  if (!tokenizers[i]) {
    auto t = Tokenizer::load(caseDir(i));
    if (!t.ok()) {
      std::fprintf(stderr, "fuzz_tokenizer: %s\n",
                   std::string(t.status().message()).c_str());
      std::abort();
    }
    tokenizers[i] = std::move(*t);
  }
  return *tokenizers[i];
}

/// Decodes and streams `ids`; aborts if an invariant fails.
void decodeAndStream(const Tokenizer &tokenizer,
                     const std::vector<int64_t> &ids) {
  for (int64_t id : ids)
    if (id < 0 || id >= tokenizer.size())
      std::abort();
  auto whole = tokenizer.decode(ids);
  if (!whole.ok())
    std::abort();
  TextStream stream(tokenizer);
  std::string streamed;
  for (int64_t id : ids) {
    auto piece = stream.push(id);
    if (!piece.ok())
      std::abort();
    streamed += *piece;
  }
  auto rest = stream.finish();
  if (!rest.ok() || streamed + *rest != *whole)
    std::abort();
}

void encodeText(const Tokenizer &tokenizer, std::string_view text) {
  for (bool special : {true, false}) {
    auto ids = tokenizer.encode(text, special);
    if (!ids.ok())
      continue; // Not UTF-8.
    decodeAndStream(tokenizer, *ids);
  }
}

/// A copy of each case's files to mutate one at a time.
std::string scratch(size_t i) {
  static std::string dirs[kNumCases];
  if (dirs[i].empty()) {
    char pattern[] = "/tmp/tfm-fuzz-tokenizer-XXXXXX";
    if (!mkdtemp(pattern))
      std::abort();
    dirs[i] = pattern;
    for (const auto &entry : fs::directory_iterator(caseDir(i)))
      fs::copy_file(entry.path(),
                    dirs[i] + "/" + entry.path().filename().string());
  }
  return dirs[i];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  size_t which = data[0] % kNumCases;
  std::string_view rest(reinterpret_cast<const char *>(data) + 2, size - 2);
  switch (data[1] % 3) {
  case 0:
    encodeText(loaded(which), rest);
    return 0;
  case 1: {
    const Tokenizer &tokenizer = loaded(which);
    std::vector<int64_t> ids;
    for (size_t i = 0; i + 1 < rest.size() && ids.size() < 256; i += 2) {
      int64_t id = static_cast<uint8_t>(rest[i]) |
                   static_cast<uint8_t>(rest[i + 1]) << 8;
      ids.push_back(id);
    }
    if (!tokenizer.decode(ids).ok()) {
      // Some id is out of range: the in-range ones must still work.
      std::vector<int64_t> valid;
      for (int64_t id : ids)
        if (id < tokenizer.size())
          valid.push_back(id);
      ids = valid;
    }
    decodeAndStream(tokenizer, ids);
    return 0;
  }
  default: {
    if (rest.empty())
      return 0;
    auto files = Tokenizer::filesIn(caseDir(which));
    if (!files.ok() || files->empty())
      std::abort();
    std::string dir = scratch(which);
    const std::string &file =
        (*files)[static_cast<uint8_t>(rest[0]) % files->size()];
    std::string path = dir + "/" + file;
    std::string original;
    {
      std::ifstream in(path, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), {});
    }
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(rest.data() + 1, static_cast<std::streamsize>(rest.size() - 1));
    }
    auto tokenizer = Tokenizer::load(dir);
    if (tokenizer.ok())
      encodeText(**tokenizer,
                 "Hello world, 사천이백칠 café 👍🏽 [CLS] <s>");
    std::ofstream restore(path, std::ios::binary | std::ios::trunc);
    restore.write(original.data(),
                  static_cast<std::streamsize>(original.size()));
    return 0;
  }
  }
}
