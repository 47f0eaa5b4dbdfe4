//===- Json.cpp - A small strict JSON reader and writer -------------------===//
//
// A recursive-descent parser over the RFC 8259 grammar. The input comes from
// users, so every production checks its bounds, nesting depth is limited,
// strings must be valid UTF-8, and errors point at a line and column.
//
//===----------------------------------------------------------------------===//

#include "support/Json.h"
#include "support/MappedFile.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace tfm::json {

std::string_view Value::kindName() const {
  switch (kind_) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "boolean";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "unknown";
}

bool Value::asBool() const {
  assert(isBool() && "not a boolean");
  return bool_;
}

int64_t Value::asInt() const {
  assert(isInt() && "not an int64 integer");
  return isInt() ? int_ : 0;
}

double Value::asDouble() const {
  assert(isNumber() && "not a number");
  return double_;
}

const std::string &Value::asString() const {
  assert(isString() && "not a string");
  return string_;
}

const Array &Value::asArray() const {
  assert(isArray() && "not an array");
  return array_;
}

const Object &Value::asObject() const {
  assert(isObject() && "not an object");
  return object_;
}

const Value *Value::find(std::string_view key) const {
  if (!isObject())
    return nullptr;
  for (const auto &[name, value] : object_)
    if (name == key)
      return &value;
  return nullptr;
}

Value &Value::push(Value element) {
  assert(isArray() && "push() on a non-array");
  return array_.emplace_back(std::move(element));
}

Value &Value::set(std::string key, Value value) {
  assert(isObject() && "set() on a non-object");
  for (auto &[name, member] : object_)
    if (name == key)
      return member = std::move(value);
  return object_.emplace_back(std::move(key), std::move(value)).second;
}

bool operator==(const Value &a, const Value &b) {
  if (a.kind_ != b.kind_)
    return false;
  switch (a.kind_) {
  case Value::Kind::Null:
    return true;
  case Value::Kind::Bool:
    return a.bool_ == b.bool_;
  case Value::Kind::Number:
    if (a.isInt_ || b.isInt_)
      return a.isInt_ == b.isInt_ && a.int_ == b.int_;
    return a.intOverflow_ == b.intOverflow_ && a.double_ == b.double_;
  case Value::Kind::String:
    return a.string_ == b.string_;
  case Value::Kind::Array:
    return a.array_ == b.array_;
  case Value::Kind::Object:
    return a.object_ == b.object_;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// Not file-local: Value befriends it to record integer overflow.
class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  absl::StatusOr<Value> parseDocument();

private:
  absl::Status error(std::string_view what) const { return errorAt(pos, what); }
  absl::Status errorAt(size_t at, std::string_view what) const;

  bool atEnd() const { return pos >= text.size(); }
  void skipSpace() {
    while (!atEnd() && (text[pos] == ' ' || text[pos] == '\t' ||
                        text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  absl::Status expectLiteral(std::string_view literal);

  absl::StatusOr<Value> parseValue(int depth);
  absl::StatusOr<Value> parseNumber();
  absl::StatusOr<std::string> parseString();
  absl::StatusOr<Value> parseArray(int depth);
  absl::StatusOr<Value> parseObject(int depth);
  absl::StatusOr<uint32_t> parseHex4();

  std::string_view text;
  size_t pos = 0;
};

absl::Status Parser::errorAt(size_t at, std::string_view what) const {
  size_t line = 1, lineStart = 0;
  for (size_t i = 0; i < at && i < text.size(); ++i)
    if (text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  return absl::InvalidArgumentError(absl::StrCat(
      "line ", line, ", column ", at - lineStart + 1, ": ", toAbsl(what)));
}

/// Describes the character at `pos` for an error message.
static std::string describeChar(std::string_view text, size_t pos) {
  if (pos >= text.size())
    return "end of input";
  unsigned char c = text[pos];
  if (c >= 0x20 && c < 0x7f)
    return absl::StrCat("'", std::string(1, c), "'");
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "0x%02x", c);
  return absl::StrCat("byte ", buffer);
}

absl::Status Parser::expectLiteral(std::string_view literal) {
  if (text.substr(pos, literal.size()) != literal)
    return error(absl::StrCat("unexpected ", describeChar(text, pos)));
  pos += literal.size();
  return absl::OkStatus();
}

absl::StatusOr<Value> Parser::parseDocument() {
  // A byte order mark is not JSON, but editors add it; it carries no meaning.
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    pos = 3;
  skipSpace();
  if (atEnd())
    return error("expected a value, got end of input");
  absl::StatusOr<Value> value = parseValue(0);
  if (!value.ok())
    return value.status();
  skipSpace();
  if (!atEnd())
    return error(absl::StrCat("unexpected ", describeChar(text, pos),
                              " after the value"));
  return value;
}

absl::StatusOr<Value> Parser::parseValue(int depth) {
  skipSpace();
  if (atEnd())
    return error("expected a value, got end of input");
  switch (text[pos]) {
  case 'n':
    TFM_RETURN_IF_ERROR(expectLiteral("null"));
    return Value();
  case 't':
    TFM_RETURN_IF_ERROR(expectLiteral("true"));
    return Value(true);
  case 'f':
    TFM_RETURN_IF_ERROR(expectLiteral("false"));
    return Value(false);
  case '"': {
    TFM_ASSIGN_OR_RETURN(std::string string, parseString());
    return Value(std::move(string));
  }
  case '[':
    return parseArray(depth + 1);
  case '{':
    return parseObject(depth + 1);
  default:
    if (text[pos] == '-' || (text[pos] >= '0' && text[pos] <= '9'))
      return parseNumber();
    return error(
        absl::StrCat("expected a value, got ", describeChar(text, pos)));
  }
}

absl::StatusOr<Value> Parser::parseNumber() {
  size_t start = pos;
  auto isDigit = [&] {
    return !atEnd() && text[pos] >= '0' && text[pos] <= '9';
  };
  if (text[pos] == '-')
    ++pos;
  if (!isDigit())
    return error("expected a digit after '-'");
  if (text[pos] == '0') {
    ++pos;
    if (isDigit())
      return errorAt(start, "leading zeros are not allowed in numbers");
  } else {
    while (isDigit())
      ++pos;
  }
  bool integer = true;
  if (!atEnd() && text[pos] == '.') {
    integer = false;
    ++pos;
    if (!isDigit())
      return error("expected a digit after '.'");
    while (isDigit())
      ++pos;
  }
  if (!atEnd() && (text[pos] == 'e' || text[pos] == 'E')) {
    integer = false;
    ++pos;
    if (!atEnd() && (text[pos] == '+' || text[pos] == '-'))
      ++pos;
    if (!isDigit())
      return error("expected a digit in the exponent");
    while (isDigit())
      ++pos;
  }
  const char *first = text.data() + start, *last = text.data() + pos;

  Value value(0.0);
  if (integer) {
    int64_t exact = 0;
    auto [end, ec] = std::from_chars(first, last, exact);
    if (ec == std::errc() && end == last) {
      return Value(exact);
    }
    // Too large for int64_t: keep the approximate value, remember that it
    // was an integer, and let asInt() callers report the overflow.
    value.intOverflow_ = true;
  }
  // from_chars is locale-independent, unlike strtod.
  auto [end, ec] = std::from_chars(first, last, value.double_);
  if (ec == std::errc::result_out_of_range) {
    // Underflow rounds to zero; overflow has no JSON-representable value.
    bool tiny = false;
    for (const char *p = first; p < last; ++p)
      if (*p == 'e' || *p == 'E') {
        tiny = p + 1 < last && p[1] == '-';
        break;
      }
    if (!tiny)
      return errorAt(start, "number out of range");
    value.double_ = *first == '-' ? -0.0 : 0.0;
  } else if (ec != std::errc() || end != last) {
    return errorAt(start, "malformed number");
  }
  return value;
}

absl::StatusOr<uint32_t> Parser::parseHex4() {
  uint32_t code = 0;
  for (int i = 0; i < 4; ++i, ++pos) {
    if (atEnd())
      return error("unterminated \\u escape");
    char c = text[pos];
    uint32_t digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return error("expected 4 hex digits after \\u");
    code = code << 4 | digit;
  }
  return code;
}

static void appendUtf8(std::string &out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | code >> 6);
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | code >> 12);
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | code >> 18);
    out += static_cast<char>(0x80 | (code >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

/// Length of the well-formed UTF-8 sequence at the start of `text` (after
/// Unicode 3.9 D92: no overlong forms, no surrogates, at most U+10FFFF), or 0.
static size_t utf8SequenceLength(std::string_view text) {
  auto byte = [&](size_t i) -> unsigned {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0x100;
  };
  auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return byte(i) >= lo && byte(i) <= hi;
  };
  unsigned b0 = byte(0);
  if (b0 < 0x80)
    return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

absl::StatusOr<std::string> Parser::parseString() {
  size_t start = pos++; // The opening quote.
  std::string out;
  while (true) {
    if (atEnd())
      return errorAt(start, "unterminated string");
    unsigned char c = text[pos];
    if (c == '"') {
      ++pos;
      return out;
    }
    if (c < 0x20)
      return error("control character in string (escape it)");
    if (c >= 0x80) {
      size_t length = utf8SequenceLength(text.substr(pos));
      if (length == 0)
        return error("invalid UTF-8 in string");
      out.append(text.substr(pos, length));
      pos += length;
      continue;
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      ++pos;
      continue;
    }
    size_t escape = pos++;
    if (atEnd())
      return errorAt(start, "unterminated string");
    switch (text[pos++]) {
    case '"':
      out += '"';
      break;
    case '\\':
      out += '\\';
      break;
    case '/':
      out += '/';
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    case 'u': {
      TFM_ASSIGN_OR_RETURN(uint32_t code, parseHex4());
      if (code >= 0xDC00 && code <= 0xDFFF)
        return errorAt(escape, "unpaired low surrogate in \\u escape");
      if (code >= 0xD800 && code <= 0xDBFF) {
        if (text.substr(pos, 2) != "\\u")
          return errorAt(escape, "unpaired high surrogate in \\u escape");
        pos += 2;
        TFM_ASSIGN_OR_RETURN(uint32_t low, parseHex4());
        if (low < 0xDC00 || low > 0xDFFF)
          return errorAt(escape, "unpaired high surrogate in \\u escape");
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      }
      appendUtf8(out, code);
      break;
    }
    default: {
      unsigned char bad = text[pos - 1];
      if (bad >= 0x20 && bad < 0x7f)
        return errorAt(escape, absl::StrCat("invalid escape '\\",
                                            std::string(1, bad), "'"));
      return errorAt(escape, absl::StrCat("invalid escape: '\\' followed by ",
                                          describeChar(text, pos - 1)));
    }
    }
  }
}

absl::StatusOr<Value> Parser::parseArray(int depth) {
  if (depth > kMaxDepth)
    return error(absl::StrCat("nesting deeper than ", kMaxDepth, " levels"));
  ++pos; // '['
  Value array = Value::array();
  skipSpace();
  if (!atEnd() && text[pos] == ']') {
    ++pos;
    return array;
  }
  while (true) {
    TFM_ASSIGN_OR_RETURN(Value element, parseValue(depth));
    array.push(std::move(element));
    skipSpace();
    if (!atEnd() && text[pos] == ',') {
      ++pos;
      continue;
    }
    if (!atEnd() && text[pos] == ']') {
      ++pos;
      return array;
    }
    return error(absl::StrCat("expected ',' or ']' in array, got ",
                              describeChar(text, pos)));
  }
}

absl::StatusOr<Value> Parser::parseObject(int depth) {
  if (depth > kMaxDepth)
    return error(absl::StrCat("nesting deeper than ", kMaxDepth, " levels"));
  ++pos; // '{'
  Value object = Value::object();
  skipSpace();
  if (!atEnd() && text[pos] == '}') {
    ++pos;
    return object;
  }
  // Value::find() is linear; a set keeps duplicate detection linear too.
  std::unordered_set<std::string> keys;
  while (true) {
    skipSpace();
    if (atEnd() || text[pos] != '"')
      return error(absl::StrCat("expected a string key in object, got ",
                                describeChar(text, pos)));
    size_t keyPos = pos;
    TFM_ASSIGN_OR_RETURN(std::string key, parseString());
    if (!keys.insert(key).second)
      return errorAt(keyPos, absl::StrCat("duplicate key \"", key, "\""));
    skipSpace();
    if (atEnd() || text[pos] != ':')
      return error(absl::StrCat("expected ':' after key, got ",
                                describeChar(text, pos)));
    ++pos;
    TFM_ASSIGN_OR_RETURN(Value value, parseValue(depth));
    object.object_.emplace_back(std::move(key), std::move(value));
    skipSpace();
    if (!atEnd() && text[pos] == ',') {
      ++pos;
      continue;
    }
    if (!atEnd() && text[pos] == '}') {
      ++pos;
      return object;
    }
    return error(absl::StrCat("expected ',' or '}' in object, got ",
                              describeChar(text, pos)));
  }
}

absl::StatusOr<Value> parse(std::string_view text) {
  return Parser(text).parseDocument();
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

static void writeString(std::string &out, const std::string &text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

static void writeDouble(std::string &out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // Equivalent to "%.17g", but independent of the C locale.
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                 std::chars_format::general, 17);
  assert(ec == std::errc() && "buffer too small for %.17g");
  (void)ec;
  std::string_view digits(buffer, end - buffer);
  out += digits;
  if (digits.find_first_of(".e") == std::string_view::npos)
    out += ".0";
}

static void write(std::string &out, const Value &value) {
  switch (value.kind()) {
  case Value::Kind::Null:
    out += "null";
    return;
  case Value::Kind::Bool:
    out += value.asBool() ? "true" : "false";
    return;
  case Value::Kind::Number:
    if (value.isInt())
      out += std::to_string(value.asInt());
    else
      writeDouble(out, value.asDouble());
    return;
  case Value::Kind::String:
    writeString(out, value.asString());
    return;
  case Value::Kind::Array: {
    out += '[';
    bool first = true;
    for (const Value &element : value.asArray()) {
      if (!first)
        out += ',';
      first = false;
      write(out, element);
    }
    out += ']';
    return;
  }
  case Value::Kind::Object: {
    out += '{';
    bool first = true;
    for (const auto &[key, member] : value.asObject()) {
      if (!first)
        out += ',';
      first = false;
      writeString(out, key);
      out += ':';
      write(out, member);
    }
    out += '}';
    return;
  }
  }
}

std::string serialize(const Value &value) {
  std::string out;
  write(out, value);
  return out;
}

absl::StatusOr<Value> parseFile(const std::string &path) {
  TFM_ASSIGN_OR_RETURN(std::string text, readFile(path));
  absl::StatusOr<Value> value = parse(text);
  if (!value.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid JSON: ", value.status().message()));
  return value;
}

} // namespace tfm::json
