//===- builders.h - tfm::json::Value from nlohmann and simdjson -*- C++ -*-===//
//
// Builders that produce a tfm::json::Value from nlohmann SAX events and from
// a simdjson DOM, rejecting duplicate keys and nesting deeper than kMaxDepth:
// what replacing tfm's parser by either library would take.
//
//===----------------------------------------------------------------------===//

#pragma once
#include "support/Json.h"
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <string>
#include <unordered_set>
#include <vector>

namespace bench {
using tfm::json::Value;

// ~80 lines: the SAX handler a nlohmann-based replacement would need.
class TfmSax {
public:
  Value result;
  std::string error;   // set when a handler callback rejects
  size_t errorPos = 0; // byte offset from nlohmann (parse errors only)

  bool null() { return add(Value()); }
  bool boolean(bool b) { return add(Value(b)); }
  bool number_integer(int64_t v) { return add(Value(v)); }
  bool number_unsigned(uint64_t v) {
    // > INT64_MAX: tfm keeps it as an "integer literal that overflowed"; the
    // public Value API cannot mark that, so it becomes a double here.
    if (v > static_cast<uint64_t>(INT64_MAX))
      return add(Value(static_cast<double>(v)));
    return add(Value(static_cast<int64_t>(v)));
  }
  bool number_float(double v, const std::string &raw) {
    if (!std::isfinite(v))
      return fail("number out of range: " + raw);
    return add(Value(v));
  }
  bool string(std::string &s) { return add(Value(std::move(s))); }
  bool binary(nlohmann::json::binary_t &) { return fail("binary not allowed"); }
  bool start_object(size_t) { return open(true); }
  bool start_array(size_t) { return open(false); }
  bool key(std::string &k) {
    Frame &f = stack.back();
    if (!f.keys.insert(k).second)
      return fail("duplicate key \"" + k + "\"");
    f.key = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(size_t pos, const std::string &,
                   const nlohmann::detail::exception &ex) {
    errorPos = pos;
    error = ex.what();
    return false;
  }

private:
  struct Frame {
    bool isObject;
    tfm::json::Array array;
    tfm::json::Object object;
    std::string key;
    std::unordered_set<std::string> keys;
  };
  std::vector<Frame> stack;

  bool fail(std::string what) {
    error = std::move(what);
    return false;
  }
  bool add(Value v) {
    if (stack.empty()) {
      result = std::move(v);
      return true;
    }
    Frame &f = stack.back();
    if (f.isObject)
      f.object.emplace_back(std::move(f.key), std::move(v));
    else
      f.array.push_back(std::move(v));
    return true;
  }
  bool open(bool isObject) {
    if (stack.size() >= static_cast<size_t>(tfm::json::kMaxDepth))
      return fail("nesting too deep");
    stack.push_back(Frame{isObject, {}, {}, {}, {}});
    return true;
  }
  bool close() {
    Frame f = std::move(stack.back());
    stack.pop_back();
    return f.isObject ? add(Value(std::move(f.object)))
                      : add(Value(std::move(f.array)));
  }
};

// Returns false (with `error`) on a nlohmann parse error or a handler
// rejection.
inline bool nlohmannSaxParse(std::string_view text, Value &out,
                             std::string &error) {
  TfmSax sax;
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok) {
    error = sax.error;
    return false;
  }
  out = std::move(sax.result);
  return true;
}

// simdjson DOM -> tfm Value, with duplicate-key rejection.
inline bool fromSimdjson(simdjson::dom::element e, Value &out,
                         std::string &error) {
  using simdjson::dom::element_type;
  switch (e.type()) {
  case element_type::NULL_VALUE:
    out = Value();
    return true;
  case element_type::BOOL:
    out = Value(bool(e.get_bool().value_unsafe()));
    return true;
  case element_type::INT64:
    out = Value(int64_t(e.get_int64().value_unsafe()));
    return true;
  case element_type::UINT64:
    out = Value(double(e.get_uint64().value_unsafe()));
    return true;
  case element_type::DOUBLE:
    out = Value(double(e.get_double().value_unsafe()));
    return true;
  case element_type::STRING:
    out = Value(std::string_view(e.get_string().value_unsafe()));
    return true;
  case element_type::ARRAY: {
    tfm::json::Array a;
    for (simdjson::dom::element c : e.get_array().value_unsafe()) {
      if (!fromSimdjson(c, a.emplace_back(), error))
        return false;
    }
    out = Value(std::move(a));
    return true;
  }
  case element_type::OBJECT: {
    tfm::json::Object o;
    std::unordered_set<std::string_view> keys;
    for (auto field : e.get_object().value_unsafe()) {
      if (!keys.insert(field.key).second) {
        error = "duplicate key \"" + std::string(field.key) + "\"";
        return false;
      }
      o.emplace_back(std::string(field.key), Value());
      if (!fromSimdjson(field.value, o.back().second, error))
        return false;
    }
    out = Value(std::move(o));
    return true;
  }
  }
  return false;
}
} // namespace bench
