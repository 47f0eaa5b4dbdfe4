//===- strict.cpp - What each JSON parser accepts -------------------------===//
//
// The strictness cases of bench/RESULTS.md (duplicate keys, invalid UTF-8,
// large integers, deep nesting, ...) through each parser, each in a forked
// child so that a crash is reported, not fatal. Run by bench/json.sh.
//
//===----------------------------------------------------------------------===//

#include "builders.h"
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

static std::string numInfo(const tfm::json::Value &v) {
  char b[128];
  std::snprintf(b, sizeof b, "isInt=%d isIntegerLiteral=%d double=%.17g",
                v.isInt(), v.isIntegerLiteral(), v.asDouble());
  return b;
}
// Show the first number found (for the number cases), else the serialized
// value.
static const tfm::json::Value *firstNum(const tfm::json::Value &v) {
  if (v.isNumber())
    return &v;
  if (v.isArray() && v.asArray().size() == 1)
    return firstNum(v.asArray()[0]);
  return nullptr;
}
static std::string show(const tfm::json::Value &v) {
  if (auto *n = firstNum(v))
    return numInfo(*n);
  std::string s = tfm::json::serialize(v), o;
  for (unsigned char c : s) {
    char b[8];
    if (c >= 0x20 && c < 0x7f)
      o += c;
    else {
      std::snprintf(b, sizeof b, "\\x%02X", c);
      o += b;
    }
  }
  return o.size() > 60 ? o.substr(0, 60) + "..." : o;
}
static std::string nlType(const nlohmann::json &j) {
  const nlohmann::json *p = &j;
  int depth = 0;
  while (p->is_array() && p->size() == 1) {
    p = &(*p)[0];
    ++depth;
  }
  if (depth > 1000)
    return "accepted, arrays nested " + std::to_string(depth + 1) +
           " deep (dump() of it would recurse)";
  if (p->is_number_unsigned())
    return "uint64 " + std::to_string(p->get<uint64_t>());
  if (p->is_number_integer())
    return "int64 " + std::to_string(p->get<int64_t>());
  if (p->is_number_float()) {
    char b[64];
    std::snprintf(b, sizeof b, "double %.17g", p->get<double>());
    return b;
  }
  std::string s =
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 60) + "..." : s;
}
static std::string simdType(simdjson::dom::element e) {
  while (e.is_array() && e.get_array().value_unsafe().size() == 1)
    e = e.get_array().value_unsafe().at(0).value_unsafe();
  char b[96];
  switch (e.type()) {
  case simdjson::dom::element_type::UINT64:
    std::snprintf(b, sizeof b, "uint64 %llu",
                  (unsigned long long)e.get_uint64().value_unsafe());
    return b;
  case simdjson::dom::element_type::INT64:
    std::snprintf(b, sizeof b, "int64 %lld",
                  (long long)e.get_int64().value_unsafe());
    return b;
  case simdjson::dom::element_type::DOUBLE:
    std::snprintf(b, sizeof b, "double %.17g", e.get_double().value_unsafe());
    return b;
  default: {
    std::string s = simdjson::minify(e);
    return s.size() > 60 ? s.substr(0, 60) + "..." : s;
  }
  }
}

static void runCase(const std::string &name, const std::string &text) {
  std::printf("== %s\n", name.c_str());
  for (int m = 0; m < 4; ++m) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      static const char *names[] = {"tfm     ", "nl-DOM  ", "nl-SAX  ",
                                    "simdjson"};
      std::string out;
      if (m == 0) {
        auto v = tfm::json::parse(text);
        out = v.ok() ? "OK  " + show(*v)
                     : "ERR " + std::string(v.status().message());
      } else if (m == 1) {
        try {
          auto j = nlohmann::json::parse(text);
          out = "OK  " + nlType(j);
        } catch (const std::exception &e) {
          out = std::string("ERR ") + e.what();
        }
      } else if (m == 2) {
        tfm::json::Value v;
        std::string e;
        out =
            bench::nlohmannSaxParse(text, v, e) ? "OK  " + show(v) : "ERR " + e;
      } else {
        simdjson::dom::parser p;
        auto r = p.parse(text);
        out = r.error()
                  ? std::string("ERR ") + simdjson::error_message(r.error())
                  : "OK  " + simdType(r.value_unsafe());
      }
      std::printf("  %s %s\n", names[m], out.c_str());
      std::fflush(stdout);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
      std::printf("  method %d CRASHED with signal %d\n", m, WTERMSIG(st));
  }
}

int main() {
  runCase("duplicate key", R"({"a": 1, "a": 2})");
  runCase("trailing comma (array)", "[1, 2,]");
  runCase("trailing comma (object)", R"({"a": 1,})");
  runCase("block comment", "[1 /* c */, 2]");
  runCase("line comment", "[1, // c\n 2]");
  runCase("NaN", "[NaN]");
  runCase("Infinity", "[-Infinity]");
  runCase("invalid UTF-8 C0 AF", "[\"\xC0\xAF\"]");
  runCase("lone surrogate \\uD800", R"(["\uD800"])");
  runCase("2^64", "[18446744073709551616]");
  runCase("2^63", "[9223372036854775808]");
  runCase("-2^63 (fits)", "[-9223372036854775808]");
  runCase("1e400", "[1e400]");
  runCase("1.0 (float written with fraction)", "[1.0]");
  runCase("100000 '[' unbalanced", std::string(100000, '['));
  runCase("100000 '[' balanced",
          std::string(100000, '[') + std::string(100000, ']'));
  runCase("300 '[' balanced", std::string(300, '[') + std::string(300, ']'));
  runCase("UTF-8 BOM", "\xEF\xBB\xBF{\"a\": 1}");
  runCase("[1, 2", "[1, 2");
  runCase("{\"a\": }", "{\"a\": }");
  runCase("multi-line error", "{\n  \"a\": 1,\n  \"b\": tru\n}");
}
