//===- JsonTest.cpp - Tests for support/Json.h ----------------------------===//

#include "support/Json.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <string>

using namespace tfm;

namespace {

json::Value parseOk(std::string_view text) {
  absl::StatusOr<json::Value> value = json::parse(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *value : json::Value();
}

/// Expects parse(text) to fail with a message containing `what`.
void expectError(std::string_view text, std::string_view what) {
  absl::StatusOr<json::Value> value = json::parse(text);
  ASSERT_FALSE(value.ok()) << "expected an error containing '" << what
                           << "' for: " << text;
  std::string message(value.status().message());
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(JsonTest, Literals) {
  EXPECT_TRUE(parseOk("null").isNull());
  EXPECT_TRUE(parseOk(" true ").asBool());
  EXPECT_FALSE(parseOk("\n\tfalse\r\n").asBool());
  EXPECT_EQ(parseOk("null").kindName(), "null");
  EXPECT_EQ(parseOk("true").kindName(), "boolean");
}

TEST(JsonTest, Integers) {
  json::Value v = parseOk("42");
  EXPECT_TRUE(v.isNumber());
  EXPECT_TRUE(v.isInt());
  EXPECT_EQ(v.asInt(), 42);
  EXPECT_EQ(v.asDouble(), 42.0);
  EXPECT_EQ(parseOk("-0").asInt(), 0);
  EXPECT_EQ(parseOk("-17").asInt(), -17);

  // int64 edges are exact, not rounded through a double.
  EXPECT_EQ(parseOk("9223372036854775807").asInt(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parseOk("-9223372036854775808").asInt(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parseOk("9007199254740993").asInt(), 9007199254740993);

  // One past the edges: still a number, but not an int64.
  for (const char *text : {"9223372036854775808", "-9223372036854775809",
                           "100000000000000000000000"}) {
    json::Value big = parseOk(text);
    EXPECT_TRUE(big.isNumber()) << text;
    EXPECT_FALSE(big.isInt()) << text;
    EXPECT_TRUE(big.isIntegerLiteral()) << text;
  }
  EXPECT_DOUBLE_EQ(parseOk("9223372036854775808").asDouble(),
                   9.223372036854775808e18);
}

TEST(JsonTest, Doubles) {
  json::Value v = parseOk("1.5");
  EXPECT_TRUE(v.isNumber());
  EXPECT_FALSE(v.isInt());
  EXPECT_FALSE(v.isIntegerLiteral());
  EXPECT_EQ(v.asDouble(), 1.5);
  EXPECT_EQ(parseOk("1e-5").asDouble(), 1e-5);
  EXPECT_EQ(parseOk("-2.5E+3").asDouble(), -2500.0);
  EXPECT_EQ(parseOk("0.1").asDouble(), 0.1);
  // Written with an exponent or a fraction: a double even when whole.
  EXPECT_FALSE(parseOk("1e2").isInt());
  EXPECT_FALSE(parseOk("512.0").isInt());
  EXPECT_EQ(parseOk("512.0").asDouble(), 512.0);
  // Underflow rounds to zero; overflow is an error.
  EXPECT_EQ(parseOk("1e-400").asDouble(), 0.0);
  expectError("1e400", "line 1, column 1: number out of range");
}

TEST(JsonTest, Strings) {
  EXPECT_EQ(parseOk(R"("")").asString(), "");
  EXPECT_EQ(parseOk(R"("abc")").asString(), "abc");
  EXPECT_EQ(parseOk(R"("a\"b\\c\/d\b\f\n\r\t")").asString(),
            "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parseOk(R"("\u0041\u00e9\u20AC")").asString(),
            "A\xC3\xA9\xE2\x82\xAC");
  // A surrogate pair: U+1F600.
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").asString(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parseOk(R"("\u0000")").asString(), std::string(1, '\0'));
  // Raw UTF-8 passes through.
  EXPECT_EQ(parseOk("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").asString(),
            "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(parseOk(R"("x")").kindName(), "string");
}

TEST(JsonTest, ArraysAndObjects) {
  json::Value array = parseOk("[1, \"two\", [3], {}, null]");
  ASSERT_TRUE(array.isArray());
  ASSERT_EQ(array.asArray().size(), 5u);
  EXPECT_EQ(array.asArray()[0].asInt(), 1);
  EXPECT_EQ(array.asArray()[1].asString(), "two");
  EXPECT_EQ(array.asArray()[2].asArray()[0].asInt(), 3);
  EXPECT_TRUE(array.asArray()[3].isObject());
  EXPECT_TRUE(array.asArray()[4].isNull());
  EXPECT_TRUE(parseOk("[]").asArray().empty());
  EXPECT_EQ(array.kindName(), "array");

  json::Value object = parseOk(R"({"z": 1, "a": {"b": [true]}, "m": "x"})");
  ASSERT_TRUE(object.isObject());
  EXPECT_EQ(object.kindName(), "object");
  // Insertion order is kept.
  ASSERT_EQ(object.asObject().size(), 3u);
  EXPECT_EQ(object.asObject()[0].first, "z");
  EXPECT_EQ(object.asObject()[1].first, "a");
  EXPECT_EQ(object.asObject()[2].first, "m");
  ASSERT_NE(object.find("a"), nullptr);
  EXPECT_TRUE(object.find("a")->find("b")->asArray()[0].asBool());
  EXPECT_EQ(object.find("missing"), nullptr);
  EXPECT_EQ(array.find("a"), nullptr);
  EXPECT_TRUE(parseOk("{ }").asObject().empty());
  // A leading byte order mark is skipped.
  EXPECT_EQ(parseOk("\xEF\xBB\xBF{\"a\":1}").find("a")->asInt(), 1);
}

TEST(JsonTest, SyntaxErrors) {
  expectError("", "line 1, column 1: expected a value, got end of input");
  expectError("   ", "expected a value, got end of input");
  expectError("nul", "line 1, column 1: unexpected 'n'");
  expectError("tru", "unexpected 't'");
  expectError("[1, 2", "line 1, column 6: expected ',' or ']' in array, got "
                       "end of input");
  expectError("[1 2]",
              "line 1, column 4: expected ',' or ']' in array, got '2'");
  expectError("[1,]", "line 1, column 4: expected a value, got ']'");
  expectError("{\"a\" 1}", "expected ':' after key, got '1'");
  expectError("{\"a\": 1,}", "expected a string key in object, got '}'");
  expectError("{a: 1}", "expected a string key in object, got 'a'");
  expectError("{\"a\": 1", "expected ',' or '}' in object, got end of input");
  expectError("1 2", "line 1, column 3: unexpected '2' after the value");
  expectError("{}\n\n  x", "line 3, column 3: unexpected 'x' after the value");
  expectError("// comment\n1", "expected a value, got '/'");
  expectError("'a'", "expected a value, got '''");
  expectError("\x01", "expected a value, got byte 0x01");
}

TEST(JsonTest, NumberErrors) {
  expectError("01", "leading zeros are not allowed");
  expectError("-", "expected a digit after '-'");
  expectError("-a", "expected a digit after '-'");
  expectError("1.", "expected a digit after '.'");
  expectError(".5", "expected a value, got '.'");
  expectError("1e", "expected a digit in the exponent");
  expectError("1e+", "expected a digit in the exponent");
  expectError("+1", "expected a value, got '+'");
  expectError("NaN", "expected a value, got 'N'");
  expectError("Infinity", "expected a value, got 'I'");
  expectError("0x10", "unexpected 'x' after the value");
}

TEST(JsonTest, StringErrors) {
  expectError("\"abc", "line 1, column 1: unterminated string");
  expectError("\"a\\", "unterminated string");
  expectError("\"a\nb\"", "line 1, column 3: control character in string");
  expectError("\"\t\"", "control character in string");
  expectError(R"("\x")", "line 1, column 2: invalid escape '\\x'");
  expectError(R"("\u12")", "expected 4 hex digits after \\u");
  expectError(R"("\u12G4")", "expected 4 hex digits after \\u");
  expectError(R"("\ud83d")", "unpaired high surrogate");
  expectError(R"("\ud83dx")", "unpaired high surrogate");
  expectError(R"("\ud83d\u0041")", "unpaired high surrogate");
  expectError(R"("\ude00")", "unpaired low surrogate");
  // Invalid UTF-8: a lone continuation byte, an overlong encoding, an
  // encoded surrogate, a truncated sequence, a code point above U+10FFFF.
  for (const char *text : {"\"\x80\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"",
                           "\"\xE2\x82\"", "\"\xF4\x90\x80\x80\"", "\"\xFF\""})
    expectError(text, "invalid UTF-8 in string");
}

TEST(JsonTest, DuplicateKeys) {
  expectError(R"({"a": 1, "b": 2, "a": 3})",
              "line 1, column 18: duplicate key \"a\"");
  // The same key after escapes are decoded is the same key.
  expectError(R"({"a": 1, "\u0061": 2})", "duplicate key \"a\"");
  // The same key in different objects is fine.
  EXPECT_TRUE(json::parse(R"({"a": {"a": 1}, "b": {"a": 2}})").ok());
}

TEST(JsonTest, DepthLimit) {
  std::string ok =
      std::string(json::kMaxDepth, '[') + std::string(json::kMaxDepth, ']');
  EXPECT_TRUE(json::parse(ok).ok());
  std::string deep = std::string(json::kMaxDepth + 1, '[') +
                     std::string(json::kMaxDepth + 1, ']');
  expectError(deep, "nesting deeper than 256 levels");
  // Objects count too, and hostile depth does not blow the stack.
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\":";
  expectError(objects, "nesting deeper than 256 levels");
}

TEST(JsonTest, Builders) {
  json::Value object = json::Value::object();
  object.set("name", "tfm");
  object.set("layers", 6);
  object.set("eps", 1e-5);
  json::Value &shape = object.set("shape", json::Value::array());
  shape.push(int64_t(2));
  shape.push(int64_t(3));
  object.set("layers", 8); // Replaces in place.
  ASSERT_EQ(object.asObject().size(), 4u);
  EXPECT_EQ(object.asObject()[1].first, "layers");
  EXPECT_EQ(object.find("layers")->asInt(), 8);
  EXPECT_EQ(json::serialize(object),
            R"({"name":"tfm","layers":8,"eps":1.0000000000000001e-05,)"
            R"("shape":[2,3]})");
}

TEST(JsonTest, Serialize) {
  EXPECT_EQ(json::serialize(json::Value()), "null");
  EXPECT_EQ(json::serialize(true), "true");
  EXPECT_EQ(json::serialize(std::numeric_limits<int64_t>::min()),
            "-9223372036854775808");
  // Whole doubles keep a fraction, so they read back as doubles.
  EXPECT_EQ(json::serialize(2.0), "2.0");
  EXPECT_EQ(json::serialize(0.5), "0.5");
  EXPECT_EQ(json::serialize(1e300), "1.0000000000000001e+300");
  EXPECT_EQ(json::serialize(std::nan("")), "null");
  EXPECT_EQ(json::serialize(INFINITY), "null");
  EXPECT_EQ(json::serialize("a\"\\\n\x01\xC3\xA9"),
            "\"a\\\"\\\\\\n\\u0001\xC3\xA9\"");
  EXPECT_EQ(json::serialize(json::Value::array()), "[]");
  EXPECT_EQ(json::serialize(json::Value::object()), "{}");
}

TEST(JsonTest, RoundTrip) {
  const char *text =
      R"({"a":[1,-2,9223372036854775807,-9223372036854775808,0.1,)"
      R"(3.141592653589793,1e-300,2.0,-0.0],"s":"tab\there \ud83d\ude00 \u0001",)"
      R"("n":null,"t":true,"f":false,"o":{"x":{}},"e":[]})";
  json::Value value = parseOk(text);
  std::string written = json::serialize(value);
  json::Value again = parseOk(written);
  EXPECT_EQ(value, again) << written;
  EXPECT_EQ(json::serialize(again), written);
  // Bit-exact doubles.
  const json::Array &a = again.find("a")->asArray();
  EXPECT_EQ(a[4].asDouble(), 0.1);
  EXPECT_EQ(a[5].asDouble(), 3.141592653589793);
  EXPECT_EQ(a[6].asDouble(), 1e-300);
  EXPECT_FALSE(a[7].isInt());
  EXPECT_TRUE(std::signbit(a[8].asDouble()));
  EXPECT_EQ(a[2].asInt(), std::numeric_limits<int64_t>::max());
}

} // namespace
