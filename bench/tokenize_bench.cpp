//===- tokenize_bench.cpp - Tokenizer throughput --------------------------===//
//
//   tokenize_bench TOKENIZER_DIR CORPUS.txt [RUNS]
//
// Encodes every line of CORPUS (tokenizer(text) with special tokens, as
// tfm-run --text does), then decodes each line's ids, RUNS times (default
// 7); prints one JSON object: the corpus bytes, tokens, and the median
// MB/s (corpus bytes per second) of encoding and of decoding. Measured in
// process: no process start, no file reading in the timed part.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace tfm;

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tokenize_bench TOKENIZER_DIR CORPUS [RUNS]\n");
    return 2;
  }
  int runs = argc > 3 ? std::atoi(argv[3]) : 7;
  auto tokenizer = Tokenizer::load(argv[1]);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "tokenize_bench: %s\n",
                 std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  std::ifstream in(argv[2]);
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    bytes += line.size();
    lines.push_back(std::move(line));
  }
  std::vector<std::vector<int64_t>> ids(lines.size());
  std::vector<double> encode, decode;
  size_t tokens = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < lines.size(); ++i) {
      auto encoded = (*tokenizer)->encode(lines[i]);
      if (!encoded.ok()) {
        std::fprintf(stderr, "tokenize_bench: line %zu: %s\n", i + 1,
                     std::string(encoded.status().message()).c_str());
        return 1;
      }
      ids[i] = std::move(*encoded);
    }
    auto t1 = std::chrono::steady_clock::now();
    size_t out = 0;
    for (const std::vector<int64_t> &seq : ids)
      out += (*tokenizer)->decode(seq)->size();
    auto t2 = std::chrono::steady_clock::now();
    encode.push_back(std::chrono::duration<double>(t1 - t0).count());
    decode.push_back(std::chrono::duration<double>(t2 - t1).count());
    tokens = 0;
    for (const std::vector<int64_t> &seq : ids)
      tokens += seq.size();
    (void)out;
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("{\"bytes\": %zu, \"lines\": %zu, \"tokens\": %zu, "
              "\"encode_mb_s\": %.3f, \"decode_mb_s\": %.3f}\n",
              bytes, lines.size(), tokens, bytes / median(encode) / 1e6,
              bytes / median(decode) / 1e6);
  return 0;
}
