//===- bench.cpp - tfm's JSON parser beside nlohmann and simdjson ---------===//
//
// Median microseconds per parse of generated inputs (gen.py) by tfm's parser,
// nlohmann's DOM, nlohmann's SAX building a tfm::json::Value (with the
// duplicate-key check tfm needs), simdjson's DOM alone and simdjson plus
// the conversion to a tfm::json::Value. Run by bench/json.sh.
//
//===----------------------------------------------------------------------===//

#include "builders.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

using Clock = std::chrono::steady_clock;
static std::string slurp(const char *p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

template <class F> static double medianUs(int reps, F &&f) {
  f();
  f(); // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = Clock::now();
    f();
    auto b = Clock::now();
    t.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char **argv) {
  int bigReps = argc > 1 ? atoi(argv[1]) : 31,
      smallReps = argc > 2 ? atoi(argv[2]) : 1001;
  const char *files[] = {"tokenizer.json", "safetensors_header.json",
                         "config.json"};
  std::printf("%-32s %9s %9s %9s %9s %9s %9s\n", "input (bytes)", "tfm",
              "nl-DOM", "nl-SAX", "simd-DOM", "simd+conv", "reps");
  std::printf("simdjson implementation: %s\n",
              simdjson::get_active_implementation()->name().c_str());
  simdjson::dom::parser sp;
  for (const char *file : files) {
    std::string text = slurp(file);
    simdjson::padded_string padded(text);
    int reps = text.size() > 100000 ? bigReps : smallReps;
    long sink = 0;
    // The result is destroyed inside the timed region for every method that
    // builds a tree.
    double a = medianUs(reps, [&] {
      auto v = tfm::json::parse(text);
      if (!v.ok())
        abort();
      sink += v->isObject();
    });
    double b = medianUs(reps, [&] {
      auto j = nlohmann::json::parse(text);
      sink += j.size();
    });
    double c = medianUs(reps, [&] {
      tfm::json::Value v;
      std::string e;
      if (!bench::nlohmannSaxParse(text, v, e))
        abort();
      sink += v.isObject();
    });
    double d = medianUs(reps, [&] {
      auto r = sp.parse(padded);
      if (r.error())
        abort();
      sink += r.is_object();
    });
    double e = medianUs(reps, [&] {
      auto r = sp.parse(padded);
      tfm::json::Value v;
      std::string err;
      if (r.error() || !bench::fromSimdjson(r.value_unsafe(), v, err))
        abort();
      sink += v.isObject();
    });
    char label[64];
    std::snprintf(label, sizeof label, "%s (%zu)", file, text.size());
    std::printf("%-32s %9.1f %9.1f %9.1f %9.1f %9.1f %9d\n", label, a, b, c, d,
                e, reps);
    if (sink == 42)
      std::puts("");
  }
}
