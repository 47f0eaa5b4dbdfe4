//===- Json.h - A small strict JSON reader and writer -----------*- C++ -*-===//
//
// JSON (RFC 8259) for the files tfm reads from users (config.json, the
// safetensors header, tfm-run's --inputs) and the metadata the compiler
// writes. Parsing is strict, since a leniently accepted file is one that may
// mean something other than what its author thought: no comments, no
// trailing commas, no duplicate keys, no NaN, valid UTF-8 only.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_SUPPORT_JSON_H
#define TFM_SUPPORT_JSON_H

#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm::json {

class Value;
/// Array elements, in document order.
using Array = std::vector<Value>;
/// Object members, in document (or insertion) order; keys are unique.
using Object = std::vector<std::pair<std::string, Value>>;

/// Deepest nesting of arrays and objects that parse() accepts; bounds the
/// recursion so that hostile input cannot exhaust the stack.
inline constexpr int kMaxDepth = 256;

/// One JSON value. A number remembers whether it was written as an integer
/// (no fraction, no exponent) and, when that integer fits in an int64_t, its
/// exact value.
///
/// The as*() accessors expect the matching kind (asserted in debug builds);
/// on a mismatch they return a zero/empty value rather than misbehave.
class Value {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  /// Null.
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool value) : kind_(Kind::Bool), bool_(value) {}
  Value(int value) : Value(static_cast<int64_t>(value)) {}
  Value(int64_t value)
      : kind_(Kind::Number), isInt_(true), int_(value),
        double_(static_cast<double>(value)) {}
  Value(double value) : kind_(Kind::Number), double_(value) {}
  Value(std::string value) : kind_(Kind::String), string_(std::move(value)) {}
  Value(std::string_view value) : Value(std::string(value)) {}
  Value(const char *value) : Value(std::string(value)) {}
  Value(Array elements) : kind_(Kind::Array), array_(std::move(elements)) {}
  Value(Object members) : kind_(Kind::Object), object_(std::move(members)) {}

  /// An empty array or object, to fill with push() or set().
  static Value array() { return Value(Array()); }
  static Value object() { return Value(Object()); }

  Kind kind() const { return kind_; }
  /// "null", "boolean", "number", "string", "array" or "object".
  std::string_view kindName() const;

  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  /// True for a number written as an integer whose value fits in an int64_t.
  bool isInt() const { return kind_ == Kind::Number && isInt_; }
  /// True for a number written as an integer, whether or not it fits in an
  /// int64_t: lets callers tell "too large" apart from "not an integer".
  bool isIntegerLiteral() const {
    return kind_ == Kind::Number && (isInt_ || intOverflow_);
  }

  bool asBool() const;
  /// The exact value; requires isInt().
  int64_t asInt() const;
  /// The value as a double (integers are converted, possibly rounded).
  double asDouble() const;
  const std::string &asString() const;
  const Array &asArray() const;
  const Object &asObject() const;

  /// The member named `key` of an object; null when absent or when this is
  /// not an object.
  const Value *find(std::string_view key) const;

  /// Appends to an array; returns the new element.
  Value &push(Value element);
  /// Sets member `key` of an object, replacing an existing member of that
  /// name in place or appending a new one; returns the member's value.
  Value &set(std::string key, Value value);

  friend bool operator==(const Value &a, const Value &b);
  friend bool operator!=(const Value &a, const Value &b) { return !(a == b); }

private:
  friend class Parser;

  Kind kind_ = Kind::Null;
  bool bool_ = false;
  /// For numbers: written as an integer and fits (int_ is exact).
  bool isInt_ = false;
  /// For numbers: written as an integer but outside the int64_t range.
  bool intOverflow_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

/// Parses one JSON text (any value at top level; a leading UTF-8 byte order
/// mark is skipped). Errors read "line L, column C: WHAT", columns counted in
/// bytes from 1.
absl::StatusOr<Value> parse(std::string_view text);

/// Reads and parses the JSON file at `path` (a regular file: readFile());
/// errors start with the path: "PATH: invalid JSON: line L, column C: ...".
absl::StatusOr<Value> parseFile(const std::string &path);

/// Writes `value` compactly (no spaces). Integers are exact; doubles use 17
/// significant digits, so they read back bit for bit, and always carry a
/// '.' or an exponent, so they read back as doubles. JSON has no NaN or
/// infinity: those are written as null.
std::string serialize(const Value &value);

} // namespace tfm::json

#endif // TFM_SUPPORT_JSON_H
