//===- SafetensorsTest.cpp - Tests for frontend/Safetensors.h -------------===//

#include "frontend/Safetensors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace tfm;

namespace {

/// One tensor to write: its header entry and its bytes.
struct TestTensor {
  std::string name;
  std::string dtype = "F32";
  std::vector<int64_t> shape;
  /// Element values for F32 tensors; other dtypes get zero bytes.
  std::vector<float> values = {};
};

/// Writes safetensors files byte by byte into the test temp directory and
/// removes them at the end of the test.
class SafetensorsTest : public ::testing::Test {
protected:
  ~SafetensorsTest() override {
    for (const std::string &path : created)
      std::remove(path.c_str());
  }

  std::string writeFile(const std::string &bytes) {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string path =
        absl::StrCat(::testing::TempDir(), "tfm_safetensors_", info->name(),
                     "_", getpid(), "_", created.size(), ".safetensors");
    created.push_back(path);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  /// The 8-byte little-endian length, then the header, then the data.
  static std::string assemble(const std::string &header,
                              const std::string &data,
                              uint64_t headerSize = UINT64_MAX) {
    if (headerSize == UINT64_MAX)
      headerSize = header.size();
    std::string bytes;
    for (int i = 0; i < 8; ++i)
      bytes += static_cast<char>((headerSize >> (8 * i)) & 0xff);
    return bytes + header + data;
  }

  /// A well-formed file holding `tensors` back to back, with the header
  /// padded by spaces to a multiple of 8 bytes as the Python writer does.
  static std::string makeFile(const std::vector<TestTensor> &tensors,
                              const std::string &metadata = "") {
    std::string header = "{";
    if (!metadata.empty())
      header += absl::StrCat("\"__metadata__\":", metadata);
    std::string data;
    for (const TestTensor &t : tensors) {
      size_t size = sizeOf(t);
      std::string bytes(size, '\0');
      if (!t.values.empty()) {
        EXPECT_EQ(t.values.size() * 4, size) << t.name;
        std::memcpy(bytes.data(), t.values.data(), size);
      }
      absl::StrAppend(&header, header.size() > 1 ? "," : "", "\"", t.name,
                      "\":{\"dtype\":\"", t.dtype, "\",\"shape\":[",
                      absl::StrJoin(t.shape, ","), "],\"data_offsets\":[",
                      data.size(), ",", data.size() + size, "]}");
      data += bytes;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    return assemble(header, data);
  }

  static size_t sizeOf(const TestTensor &t) {
    size_t size = safetensorsDTypeSize(t.dtype);
    for (int64_t dim : t.shape)
      size *= dim;
    return size;
  }

  /// Expects open(path of `bytes`) to fail with a message that starts with
  /// the path and contains `what`.
  void expectOpenError(const std::string &bytes, std::string_view what) {
    std::string path = writeFile(bytes);
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::open(path);
    ASSERT_FALSE(file.ok()) << "expected an error containing '" << what << "'";
    std::string message(file.status().message());
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }

  /// A header with one tensor entry `entry` and `dataSize` zero data bytes.
  void expectEntryError(const std::string &entry, std::string_view what,
                        size_t dataSize = 16) {
    expectOpenError(assemble(absl::StrCat("{\"t\":", entry, "}"),
                             std::string(dataSize, '\0')),
                    what);
  }

  std::unique_ptr<SafetensorsFile> openOk(const std::string &bytes) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::open(writeFile(bytes));
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(*file) : nullptr;
  }

  std::vector<std::string> created;
};

TEST_F(SafetensorsTest, ValidFile) {
  std::unique_ptr<SafetensorsFile> file =
      openOk(makeFile({{"b", "F32", {2, 3}, {1, 2, 3, 4, 5, 6}},
                       {"a", "I64", {4}},
                       {"scalar", "F32", {}, {7}},
                       {"empty", "F16", {0, 5}},
                       {"h", "BF16", {3}}},
                      R"({"format":"pt","note":"x"})"));
  ASSERT_TRUE(file);
  const std::vector<SafetensorsTensor> &tensors = file->tensors();
  ASSERT_EQ(tensors.size(), 5u);
  // Header order.
  EXPECT_EQ(tensors[0].name, "b");
  EXPECT_EQ(tensors[1].name, "a");
  EXPECT_EQ(tensors[4].name, "h");

  const SafetensorsTensor *b = file->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, "F32");
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b->byteSize, 24u);
  float values[6];
  std::memcpy(values, b->data, sizeof(values));
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[5], 6.0f);

  EXPECT_EQ(file->find("a")->byteSize, 32u);
  EXPECT_EQ(file->find("a")->dtype, "I64");
  EXPECT_EQ(file->find("scalar")->shape, std::vector<int64_t>{});
  float scalar;
  std::memcpy(&scalar, file->find("scalar")->data, 4);
  EXPECT_EQ(scalar, 7.0f);
  EXPECT_EQ(file->find("empty")->byteSize, 0u);
  EXPECT_EQ(file->find("h")->byteSize, 6u);
  EXPECT_EQ(file->find("missing"), nullptr);
  EXPECT_EQ(file->find("__metadata__"), nullptr);

  ASSERT_EQ(file->metadata().size(), 2u);
  EXPECT_EQ(file->metadata()[0],
            (std::pair<std::string, std::string>("format", "pt")));
  EXPECT_EQ(file->metadata()[1].first, "note");
}

TEST_F(SafetensorsTest, EmptyHeaderAndGaps) {
  std::unique_ptr<SafetensorsFile> file = openOk(assemble("{}", ""));
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->tensors().empty());
  // Unused bytes between tensors are allowed; overlaps are errors, and so
  // are bytes after the last tensor (issue 18: a file with data its header
  // does not describe).
  file = openOk(assemble(R"({"a":{"dtype":"U8","shape":[2],)"
                         R"("data_offsets":[4,6]}})",
                         std::string("\0\0\0\0\x05\x06", 6)));
  ASSERT_TRUE(file);
  EXPECT_EQ(static_cast<const unsigned char *>(file->find("a")->data)[1], 6);
}

TEST_F(SafetensorsTest, TrailingBytes) {
  expectOpenError(assemble(R"({"a":{"dtype":"U8","shape":[2],)"
                           R"("data_offsets":[0,2]}})",
                           std::string("\x05\x06\0\0", 4)),
                  "the data area holds 4 bytes, but the tensors end at byte 2 "
                  "(unused trailing bytes)");
  expectOpenError(assemble("{}", "x"), "the tensors end at byte 0");
}

TEST_F(SafetensorsTest, ByteOrderMark) {
  expectOpenError(assemble("\xef\xbb\xbf{}", ""),
                  "header starts with a byte order mark (the format has none)");
}

TEST_F(SafetensorsTest, OpenErrors) {
  std::string missing = absl::StrCat(::testing::TempDir(), "tfm_no_such_",
                                     getpid(), ".safetensors");
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::open(missing);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(
      std::string(file.status().message()).find(missing + ": cannot open"),
      std::string::npos)
      << file.status();

  file = SafetensorsFile::open(::testing::TempDir());
  ASSERT_FALSE(file.ok());
  EXPECT_NE(std::string(file.status().message()).find("not a regular file"),
            std::string::npos)
      << file.status();
}

TEST_F(SafetensorsTest, Truncated) {
  expectOpenError("", "file is 0 bytes, too short for a safetensors file");
  expectOpenError(std::string("\x10\0\0", 3), "file is 3 bytes, too short");
  // The header length promises more than the file holds.
  std::string valid = makeFile({{"w", "F32", {2}, {1, 2}}});
  expectOpenError(valid.substr(0, 20), "exceeds the file size (20 bytes)");
  // Cutting the data makes the offsets point past the end.
  expectOpenError(valid.substr(0, valid.size() - 1),
                  "tensor 'w': header offsets point outside the file "
                  "(data_offsets [0, 8], the data area holds 7 bytes)");
}

TEST_F(SafetensorsTest, HeaderLengthTooLarge) {
  expectOpenError(assemble("{}", "", 1000),
                  "header length 1000 exceeds the file size (10 bytes)");
  expectOpenError(assemble("{}", "", UINT64_MAX - 1),
                  "header length 18446744073709551614 exceeds the file size");
}

TEST_F(SafetensorsTest, BadJson) {
  expectOpenError(assemble("{\"a\":", ""),
                  "header is not valid JSON: line 1, column 6: expected a "
                  "value, got end of input");
  expectOpenError(assemble("not json", ""), "header is not valid JSON");
  expectOpenError(assemble("[1, 2]", ""),
                  "header is not a JSON object (got array)");
  expectOpenError(assemble(R"({"t":{"dtype":"F32","shape":[],)"
                           R"("data_offsets":[0,4]},"t":{}})",
                           "abcd"),
                  "duplicate key \"t\"");
  // The header length cuts through the JSON.
  std::string valid = makeFile({{"w", "F32", {2}, {1, 2}}});
  valid[0] = 10;
  expectOpenError(valid, "header is not valid JSON");
}

TEST_F(SafetensorsTest, BadFields) {
  expectEntryError("[]", "tensor 't': expected an object with dtype, shape "
                         "and data_offsets, got array");
  expectEntryError(R"({"shape":[4],"data_offsets":[0,16]})",
                   "tensor 't': missing field 'dtype'");
  expectEntryError(R"({"dtype":"F32","data_offsets":[0,16]})",
                   "tensor 't': missing field 'shape'");
  expectEntryError(R"({"dtype":"F32","shape":[4]})",
                   "tensor 't': missing field 'data_offsets'");
  expectEntryError(R"({"dtype":32,"shape":[4],"data_offsets":[0,16]})",
                   "tensor 't': 'dtype' must be a string, got number");
  expectEntryError(R"({"dtype":"F32","shape":4,"data_offsets":[0,16]})",
                   "tensor 't': 'shape' must be an array, got number");
  expectEntryError(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16],)"
                   R"("extra":1})",
                   "tensor 't': unknown field 'extra'");
  expectEntryError(R"({"dtype":"F32","shape":[4],"data_offsets":"0-16"})",
                   "tensor 't': 'data_offsets' must be two non-negative "
                   "integers");
  expectEntryError(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16,32]})",
                   "'data_offsets' must be two non-negative integers");
  expectEntryError(R"({"dtype":"F32","shape":[4],"data_offsets":[-4,12]})",
                   "'data_offsets' must be two non-negative integers");
  expectOpenError(assemble(R"({"__metadata__":[]})", ""),
                  "__metadata__ must be an object, got array");
  expectOpenError(assemble(R"({"__metadata__":{"n":1}})", ""),
                  "__metadata__ entry 'n' must be a string, got number");
}

TEST_F(SafetensorsTest, BadDTypeAndShape) {
  expectEntryError(R"({"dtype":"F33","shape":[4],"data_offsets":[0,16]})",
                   "tensor 't': unknown dtype 'F33'");
  expectEntryError(R"({"dtype":"f32","shape":[4],"data_offsets":[0,16]})",
                   "tensor 't': unknown dtype 'f32'");
  expectEntryError(R"({"dtype":"F32","shape":[4,-1],"data_offsets":[0,16]})",
                   "tensor 't': 'shape' must hold non-negative integers, got "
                   "-1");
  expectEntryError(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,16]})",
                   "'shape' must hold non-negative integers, got 2.5");
  expectEntryError(R"({"dtype":"F32","shape":[99999999999999999999],)"
                   R"("data_offsets":[0,16]})",
                   "'shape' must hold non-negative integers");
  expectEntryError(R"({"dtype":"F32","shape":[4294967296,4294967296],)"
                   R"("data_offsets":[0,16]})",
                   "tensor 't': shape [4294967296, 4294967296] is too large");
  expectEntryError(R"({"dtype":"F64","shape":[2305843009213693952],)"
                   R"("data_offsets":[0,16]})",
                   "is too large");
}

TEST_F(SafetensorsTest, OffsetsOutsideFile) {
  expectEntryError(R"({"dtype":"F32","shape":[4],"data_offsets":[0,20]})",
                   "tensor 't': header offsets point outside the file "
                   "(data_offsets [0, 20], the data area holds 16 bytes)");
  expectEntryError(
      R"({"dtype":"F32","shape":[1],)"
      R"("data_offsets":[9223372036854775800,9223372036854775804]})",
      "header offsets point outside the file");
  expectEntryError(R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})",
                   "tensor 't': data_offsets [8, 4] have begin > end");
}

TEST_F(SafetensorsTest, SizeMismatch) {
  expectEntryError(R"({"dtype":"F32","shape":[3],"data_offsets":[0,16]})",
                   "tensor 't': data_offsets [0, 16] span 16 bytes, but shape "
                   "[3] of F32 needs 12");
  expectEntryError(R"({"dtype":"F16","shape":[2,2],"data_offsets":[0,16]})",
                   "shape [2, 2] of F16 needs 8");
  expectEntryError(R"({"dtype":"F32","shape":[0],"data_offsets":[0,4]})",
                   "shape [0] of F32 needs 0");
}

TEST_F(SafetensorsTest, Overlap) {
  expectOpenError(assemble(R"({"a":{"dtype":"F32","shape":[2],)"
                           R"("data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],)"
                           R"("data_offsets":[4,12]}})",
                           std::string(12, '\0')),
                  "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
  // Header order does not matter, nor does containment.
  expectOpenError(assemble(R"({"inner":{"dtype":"U8","shape":[2],)"
                           R"("data_offsets":[3,5]},)"
                           R"("mid":{"dtype":"U8","shape":[1],)"
                           R"("data_offsets":[8,9]},)"
                           R"("outer":{"dtype":"U8","shape":[10],)"
                           R"("data_offsets":[0,10]}})",
                           std::string(10, '\0')),
                  "tensors 'outer' [0, 10] and 'inner' [3, 5] overlap");
  // The same range twice.
  expectOpenError(assemble(R"({"a":{"dtype":"F32","shape":[1],)"
                           R"("data_offsets":[0,4]},)"
                           R"("b":{"dtype":"I32","shape":[1],)"
                           R"("data_offsets":[0,4]}})",
                           std::string(4, '\0')),
                  "tensors 'a' [0, 4] and 'b' [0, 4] overlap");
  // Empty tensors occupy nothing, so they overlap nothing.
  std::unique_ptr<SafetensorsFile> file =
      openOk(assemble(R"({"a":{"dtype":"F32","shape":[1],)"
                      R"("data_offsets":[0,4]},)"
                      R"("e":{"dtype":"F32","shape":[0],)"
                      R"("data_offsets":[2,2]}})",
                      std::string(4, '\0')));
  EXPECT_TRUE(file);
}

//===----------------------------------------------------------------------===//
// validateWeights
//===----------------------------------------------------------------------===//

class ValidateWeightsTest : public SafetensorsTest {
protected:
  ValidateWeightsTest() {
    config.architecture = Architecture::Encoder;
    config.dModel = 4;
    config.numHeads = 2;
    config.dFF = 8;
    config.numEncoderLayers = 1;
    config.srcVocabSize = 5;
    config.maxSeqLen = 6;
  }

  /// Every expected weight, F32 and well-shaped.
  std::vector<TestTensor> goodTensors() const {
    std::vector<TestTensor> tensors;
    for (const WeightSpec &spec : expectedWeights(config))
      tensors.push_back({spec.name, "F32", spec.shape});
    return tensors;
  }

  /// Expects validateWeights() on a file of `tensors` to fail with a message
  /// that starts with the path and contains `what`.
  void expectInvalid(const std::vector<TestTensor> &tensors,
                     std::string_view what) {
    std::unique_ptr<SafetensorsFile> file = openOk(makeFile(tensors));
    ASSERT_TRUE(file);
    absl::Status status = validateWeights(config, *file);
    ASSERT_FALSE(status.ok())
        << "expected an error containing '" << what << "'";
    std::string message(status.message());
    EXPECT_EQ(message.rfind(file->path() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }

  ModelConfig config;
};

TEST_F(ValidateWeightsTest, Valid) {
  std::unique_ptr<SafetensorsFile> file = openOk(makeFile(goodTensors()));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->tensors().size(), 15u);
  EXPECT_TRUE(validateWeights(config, *file).ok());
  // Order in the file does not matter.
  std::vector<TestTensor> reversed = goodTensors();
  std::reverse(reversed.begin(), reversed.end());
  file = openOk(makeFile(reversed));
  ASSERT_TRUE(file);
  EXPECT_TRUE(validateWeights(config, *file).ok());
}

TEST_F(ValidateWeightsTest, Missing) {
  std::vector<TestTensor> tensors = goodTensors();
  tensors.erase(tensors.begin() + 9); // encoder.layers.0.norm1.weight
  expectInvalid(tensors, "missing weight 'encoder.layers.0.norm1.weight'");
  // Learned positions need a table the file does not have.
  config.positionalEncoding = PositionalEncoding::Learned;
  tensors = goodTensors();
  ASSERT_EQ(tensors[1].name, "src_pos_embed.weight");
  tensors.erase(tensors.begin() + 1);
  expectInvalid(tensors, "missing weight 'src_pos_embed.weight'");
}

TEST_F(ValidateWeightsTest, WrongDType) {
  std::vector<TestTensor> tensors = goodTensors();
  tensors[3].dtype = "F16";
  expectInvalid(tensors, "weight 'encoder.layers.0.self_attn.out_proj.weight' "
                         "has dtype F16, expected F32");
  tensors = goodTensors();
  tensors[0].dtype = "BF16";
  expectInvalid(tensors,
                "weight 'src_embed.weight' has dtype BF16, expected F32");
}

TEST_F(ValidateWeightsTest, WrongShape) {
  std::vector<TestTensor> tensors = goodTensors();
  ASSERT_EQ(tensors[1].name, "encoder.layers.0.self_attn.in_proj_weight");
  tensors[1].shape = {3, 4};
  expectInvalid(tensors, "weight 'encoder.layers.0.self_attn.in_proj_weight' "
                         "has shape [3, 4], expected [12, 4]");
  tensors = goodTensors();
  tensors[5].shape = {4, 8}; // linear1.weight is [d_ff, d].
  expectInvalid(tensors, "weight 'encoder.layers.0.linear1.weight' has shape "
                         "[4, 8], expected [8, 4]");
  tensors = goodTensors();
  tensors.back().shape = {};
  expectInvalid(tensors,
                "weight 'encoder.norm.bias' has shape [], expected [4]");
}

TEST_F(ValidateWeightsTest, Unexpected) {
  std::vector<TestTensor> tensors = goodTensors();
  tensors.push_back({"foo", "F32", {1}});
  expectInvalid(tensors, "unexpected weight 'foo' (not used by an encoder "
                         "model with d_model 4, 1 encoder layers, final_norm "
                         "true, sinusoidal positions)");
  // A final norm the config turned off.
  config.finalNorm = false;
  tensors = goodTensors();
  tensors.push_back({"encoder.norm.weight", "F32", {4}});
  expectInvalid(tensors, "unexpected weight 'encoder.norm.weight'");
}

TEST_F(ValidateWeightsTest, FirstProblemOnly) {
  // Missing beats unexpected, and expected weights are checked in
  // expectedWeights() order whatever the file's order.
  std::vector<TestTensor> tensors = goodTensors();
  tensors.push_back({"zzz", "F32", {1}});
  tensors.back().dtype = "F16";
  tensors[12].shape = {5};
  tensors.erase(tensors.begin() + 2);
  std::reverse(tensors.begin(), tensors.end());
  expectInvalid(tensors,
                "missing weight 'encoder.layers.0.self_attn.in_proj_bias'");
}

} // namespace
