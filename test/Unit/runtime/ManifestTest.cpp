//===- ManifestTest.cpp - Tests for the module manifest parser ------------===//

#include "runtime/Module.h"

#include "gtest/gtest.h"

using namespace tfm;

namespace {

/// Expects parseManifest(text) to fail with a message containing `what`.
static void expectManifestError(std::string_view text, std::string_view what) {
  absl::StatusOr<std::vector<EntrySpec>> entries = parseManifest(text);
  ASSERT_FALSE(entries.ok())
      << "expected an error containing '" << what << "' for:\n"
      << text;
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(entries.status().message()).find(what),
            std::string::npos)
      << entries.status();
}

TEST(ManifestTest, ParsesMultipleEntries) {
  absl::StatusOr<std::vector<EntrySpec>> entries = parseManifest(
      "tfm-abi 2\n"
      "entry encode in i32[?,?] in i32[?] out f32[?,?,512]\n"
      "\n"
      "entry decode_step  in f32[?,8,?,64]\tin i64[] inout f32[?,8,?,64] "
      "out f32[?,32000] \n"
      "entry noop\n");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);

  const EntrySpec &encode = (*entries)[0];
  EXPECT_EQ(encode.name, "encode");
  ASSERT_EQ(encode.inputs.size(), 2u);
  EXPECT_EQ(encode.inputs[0].dtype, DType::I32);
  EXPECT_EQ(encode.inputs[0].dims, (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(encode.inputs[1].dims, (std::vector<int64_t>{-1}));
  ASSERT_EQ(encode.results.size(), 1u);
  EXPECT_EQ(encode.results[0].dtype, DType::F32);
  EXPECT_EQ(encode.results[0].dims, (std::vector<int64_t>{-1, -1, 512}));

  const EntrySpec &step = (*entries)[1];
  EXPECT_EQ(step.name, "decode_step");
  ASSERT_EQ(step.inputs.size(), 3u);
  EXPECT_EQ(step.inputs[0].dims, (std::vector<int64_t>{-1, 8, -1, 64}));
  EXPECT_FALSE(step.inputs[0].inout);
  EXPECT_EQ(step.inputs[1].dtype, DType::I64);
  EXPECT_TRUE(step.inputs[1].dims.empty());
  // An inout input is an input, in call order, marked as updated in place.
  EXPECT_TRUE(step.inputs[2].inout);
  EXPECT_EQ(step.inputs[2].dims, (std::vector<int64_t>{-1, 8, -1, 64}));
  EXPECT_EQ(formatEntrySpec(step),
            "entry decode_step in f32[?,8,?,64] in "
            "i64[] inout f32[?,8,?,64] out f32[?,32000]");
  ASSERT_EQ(step.results.size(), 1u);
  EXPECT_EQ(step.results[0].dims, (std::vector<int64_t>{-1, 32000}));

  EXPECT_EQ((*entries)[2].name, "noop");
  EXPECT_TRUE((*entries)[2].inputs.empty());
  EXPECT_TRUE((*entries)[2].results.empty());
}

TEST(ManifestTest, InputsAndResultsMayInterleave) {
  absl::StatusOr<std::vector<EntrySpec>> entries =
      parseManifest("tfm-abi 2\r\nentry f out i64[2] in f32[0] out i32[]\r\n");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  const EntrySpec &f = (*entries)[0];
  ASSERT_EQ(f.inputs.size(), 1u);
  EXPECT_EQ(f.inputs[0].dims, std::vector<int64_t>{0});
  ASSERT_EQ(f.results.size(), 2u);
  EXPECT_EQ(f.results[0].dtype, DType::I64);
  EXPECT_EQ(f.results[0].dims, std::vector<int64_t>{2});
  EXPECT_EQ(f.results[1].dtype, DType::I32);
  EXPECT_TRUE(f.results[1].dims.empty());
}

TEST(ManifestTest, HeaderOnlyHasNoEntries) {
  absl::StatusOr<std::vector<EntrySpec>> entries = parseManifest("tfm-abi 2");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(entries->empty());
}

TEST(ManifestTest, BadHeader) {
  expectManifestError("", "manifest is empty");
  expectManifestError("\n  \n", "manifest is empty");
  expectManifestError("entry f in f32[?]\n",
                      "manifest line 1: expected 'tfm-abi 2', got 'entry f");
  expectManifestError("tfm-abi\n", "expected 'tfm-abi 2'");
  expectManifestError("tfm-abi 1\nentry f\n",
                      "manifest line 1: manifest is for tfm ABI version '1', "
                      "this runtime supports 2");
  expectManifestError("tfm-abi one\n", "ABI version 'one'");
}

TEST(ManifestTest, MalformedLines) {
  expectManifestError(
      "tfm-abi 2\nentry f in f32[?]\nbogus line\n",
      "manifest line 3: expected 'entry NAME ...', got 'bogus'");
  expectManifestError("tfm-abi 2\ntfm-abi 2\n", "manifest line 2: expected "
                                                "'entry NAME ...'");
  expectManifestError("tfm-abi 2\nentry\n", "manifest line 2: missing entry "
                                            "name");
  expectManifestError("tfm-abi 2\nentry 2fast in f32[?]\n",
                      "entry name '2fast' is not a C identifier");
  expectManifestError("tfm-abi 2\nentry a-b in f32[?]\n",
                      "entry name 'a-b' is not a C identifier");
  expectManifestError("tfm-abi 2\nentry f in f32[?]\nentry f out f32[?]\n",
                      "manifest line 3: duplicate entry 'f'");
  expectManifestError("tfm-abi 2\nentry f in f32[?] update f32[?]\n",
                      "expected 'in', 'inout' or 'out', got 'update' in "
                      "entry 'f'");
  expectManifestError("tfm-abi 2\nentry f in f32[?] out\n",
                      "'out' without a type in entry 'f'");
  expectManifestError("tfm-abi 2\nentry f f32[?]\n",
                      "expected 'in', 'inout' or 'out', got 'f32[?]'");
}

TEST(ManifestTest, UnknownElementType) {
  expectManifestError("tfm-abi 2\nentry f in f16[?]\n",
                      "manifest line 2: unknown element type 'f16' in "
                      "'f16[?]' (expected f32, i32 or i64)");
  expectManifestError("tfm-abi 2\nentry f out [4]\n",
                      "unknown element type '' in '[4]'");
}

TEST(ManifestTest, BadDimensions) {
  const std::pair<const char *, const char *> cases[] = {
      {"f32[-1]", "bad dimension '-1' in 'f32[-1]'"},
      {"f32[8,]", "bad dimension '' in 'f32[8,]'"},
      {"f32[,]", "bad dimension ''"},
      {"f32[x]", "bad dimension 'x'"},
      {"f32[+3]", "bad dimension '+3'"},
      {"f32[?\?]", "bad dimension '?\?'"},
      {"f32[99999999999999999999]", "bad dimension '99999999999999999999'"},
      {"f32[?", "expected a type like f32[?,8], got 'f32[?'"},
      {"f32", "expected a type like f32[?,8], got 'f32'"},
      {"f32[2]x", "expected a type like f32[?,8]"},
  };
  for (const auto &[type, what] : cases) {
    SCOPED_TRACE(type);
    expectManifestError(std::string("tfm-abi 2\nentry f in ") + type + "\n",
                        what);
  }
  // Spaces split a type into two tokens.
  expectManifestError("tfm-abi 2\nentry f in f32[2, 3]\n",
                      "expected a type like f32[?,8], got 'f32[2,'");
}

TEST(ManifestTest, FormatArgSpec) {
  EXPECT_EQ(formatArgSpec({DType::F32, {-1, 8, -1, 64}}), "f32[?,8,?,64]");
  EXPECT_EQ(formatArgSpec({DType::I64, {}}), "i64[]");
  EXPECT_EQ(formatArgSpec({DType::I32, {0}}), "i32[0]");
}

TEST(ManifestTest, FormatEntrySpecRoundTrips) {
  const char *line = "entry step in f32[?,8,?,64] in i32[?] out f32[?,8,?,64] "
                     "out i64[]";
  absl::StatusOr<std::vector<EntrySpec>> entries =
      parseManifest(std::string("tfm-abi 2\n") + line);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(formatEntrySpec((*entries)[0]), line);
}

// A module's "requires" line (the CPU features its code needs), against a
// stated CPU: every feature present passes; the first one missing, or one
// this runtime does not know, is an error naming it.
TEST(CpuFeaturesTest, ChecksEachFeature) {
  auto cpu = [](std::string_view feature) -> std::optional<bool> {
    if (feature == "avx512f")
      return true;
    if (feature == "avx512bf16")
      return false;
    return std::nullopt;
  };
  EXPECT_TRUE(checkCpuFeatures("", "m.so", cpu).ok());
  EXPECT_TRUE(checkCpuFeatures("avx512f", "m.so", cpu).ok());
  absl::Status missing = checkCpuFeatures("avx512f avx512bf16", "m.so", cpu);
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(missing.message())
                .find("m.so: compiled for a CPU with avx512bf16, which this "
                      "CPU does not have"),
            std::string::npos)
      << missing;
  absl::Status unknown = checkCpuFeatures("sse9", "m.so", cpu);
  EXPECT_NE(std::string(unknown.message())
                .find("needs CPU feature 'sse9', which this runtime does not "
                      "know"),
            std::string::npos)
      << unknown;
}

// The real CPU: the names the compiler states are known.
TEST(CpuFeaturesTest, KnowsTheCompilersNames) {
  for (const char *feature : {"avx512bf16", "avx512f", "avx2"})
    EXPECT_TRUE(cpuHasFeature(feature).has_value()) << feature;
  EXPECT_FALSE(cpuHasFeature("no-such-feature").has_value());
}

// parseManifest takes the line as it takes config and weights.
TEST(CpuFeaturesTest, ManifestAcceptsRequires) {
  EXPECT_TRUE(parseManifest("tfm-abi " + std::to_string(TFM_ABI_VERSION) +
                            "\nrequires avx512bf16\n")
                  .ok());
}

} // namespace
