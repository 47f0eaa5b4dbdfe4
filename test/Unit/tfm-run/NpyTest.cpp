//===- NpyTest.cpp - Tests for tools/tfm-run/Npy.h
//------------------------------===//

#include "tools/tfm-run/Npy.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace tfm;

namespace {

/// Creates uniquely named files in the test temp directory and removes them
/// at the end of the test.
class NpyTest : public ::testing::Test {
protected:
  ~NpyTest() override {
    for (const std::string &path : created)
      std::remove(path.c_str());
  }

  std::string tempPath(const std::string &name) {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string path = absl::StrCat(::testing::TempDir(), "tfm_npy_",
                                    info->name(), "_", getpid(), "_", name);
    created.push_back(path);
    return path;
  }

  std::string writeBytes(const std::string &name, const std::string &bytes) {
    std::string path = tempPath(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string readBytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  /// Builds a .npy file around a header dict, padded the way NumPy pads it.
  static std::string makeNpy(std::string_view dict, std::string_view data,
                             int major = 1) {
    size_t lengthSize = major == 1 ? 2 : 4;
    size_t unpadded = 8 + lengthSize + dict.size() + 1;
    size_t headerSize = dict.size() + 1 + (64 - unpadded % 64) % 64;
    std::string bytes("\x93NUMPY", 6);
    bytes += static_cast<char>(major);
    bytes += '\0';
    for (size_t i = 0; i < lengthSize; ++i)
      bytes += static_cast<char>((headerSize >> (8 * i)) & 0xff);
    bytes += dict;
    bytes.append(headerSize - dict.size() - 1, ' ');
    bytes += '\n';
    bytes += data;
    return bytes;
  }

  /// Expects readNpy(path) to fail with a message that names the file and
  /// contains `what`.
  static void expectReadError(const std::string &path, std::string_view what) {
    absl::StatusOr<Tensor> tensor = readNpy(path);
    ASSERT_FALSE(tensor.ok())
        << "expected an error containing '" << what << "'";
    std::string message(tensor.status().message());
    EXPECT_EQ(message.substr(0, path.size()), path) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }

  std::vector<std::string> created;
};

/// The bytes of `np.save(f, np.arange(6, dtype='<f4').reshape(2, 3) * 0.5 - 1)`
/// with NumPy 1.24.
static std::string numpyF32Fixture() {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string bytes = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict +
                      std::string(118 - dict.size() - 1, ' ') + "\n";
  const float values[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  bytes.append(reinterpret_cast<const char *>(values), sizeof(values));
  return bytes;
}

TEST_F(NpyTest, ReadsNumpyOutput) {
  std::string path = writeBytes("numpy.npy", numpyF32Fixture());
  absl::StatusOr<Tensor> tensor = readNpy(path);
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->dtype(), DType::F32);
  EXPECT_EQ(tensor->shape(), (std::vector<int64_t>{2, 3}));
  const float *data = tensor->data<float>();
  EXPECT_EQ(data[0], -1.0f);
  EXPECT_EQ(data[1], -0.5f);
  EXPECT_EQ(data[5], 1.5f);
}

TEST_F(NpyTest, WritesWhatNumpyWrites) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::F32, {2, 3});
  ASSERT_TRUE(tensor.ok());
  for (int i = 0; i < 6; ++i)
    tensor->data<float>()[i] = i * 0.5f - 1.0f;
  std::string path = tempPath("out.npy");
  ASSERT_TRUE(writeNpy(path, *tensor).ok());
  EXPECT_EQ(readBytes(path), numpyF32Fixture());
}

TEST_F(NpyTest, ReadsVersion2) {
  const int64_t values[] = {-3, 7, int64_t(1) << 40};
  std::string path = writeBytes(
      "v2.npy",
      makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
              std::string_view(reinterpret_cast<const char *>(values),
                               sizeof(values)),
              /*major=*/2));
  absl::StatusOr<Tensor> tensor = readNpy(path);
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->dtype(), DType::I64);
  EXPECT_EQ(tensor->shape(), std::vector<int64_t>{3});
  EXPECT_EQ(tensor->data<int64_t>()[0], -3);
  EXPECT_EQ(tensor->data<int64_t>()[2], int64_t(1) << 40);
}

TEST_F(NpyTest, AcceptsHeaderVariants) {
  // Keys in another order, double quotes, no byte-order mark, Python 2 longs,
  // no trailing comma.
  const int32_t values[] = {1, 2, 3, 4};
  std::string data(reinterpret_cast<const char *>(values), sizeof(values));
  for (std::string dict :
       {"{\"shape\": (2,2), \"fortran_order\": False, \"descr\": \"i4\"}",
        "{'descr': '|i4', 'fortran_order': False, 'shape': (2L, 2L)}",
        "{'descr':'=i4','fortran_order':False,'shape':(2,2),}"}) {
    std::string path = writeBytes("variant.npy", makeNpy(dict, data));
    absl::StatusOr<Tensor> tensor = readNpy(path);
    ASSERT_TRUE(tensor.ok()) << dict << ": " << tensor.status();
    EXPECT_EQ(tensor->dtype(), DType::I32);
    EXPECT_EQ(tensor->shape(), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(tensor->data<int32_t>()[3], 4);
  }
}

/// Fills a tensor with distinct values that exercise sign and fraction.
static void fill(Tensor &tensor) {
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    switch (tensor.dtype()) {
    case DType::F32:
      tensor.data<float>()[i] = 0.25f * i - 3.0f;
      break;
    case DType::I32:
      tensor.data<int32_t>()[i] = static_cast<int32_t>(i * 1000003 - 77);
      break;
    case DType::I64:
      tensor.data<int64_t>()[i] = (int64_t(1) << 35) * i - 5;
      break;
    case DType::BF16: // weights only: never written to .npy
    case DType::I8:
      FAIL() << "no .npy element type for " << dtypeName(tensor.dtype());
    }
  }
}

// The weights' storage types have no .npy spelling (NumPy has no bf16, and
// an entry never returns them): writing one is an error naming the type.
TEST_F(NpyTest, RefusesWeightTypes) {
  for (DType dtype : {DType::BF16, DType::I8}) {
    absl::StatusOr<Tensor> tensor = Tensor::allocate(dtype, {2});
    ASSERT_TRUE(tensor.ok());
    absl::Status written = writeNpy(tempPath("typed.npy"), *tensor);
    EXPECT_FALSE(written.ok());
    EXPECT_NE(std::string(written.message())
                  .find(std::string("cannot write a tensor of ") +
                        std::string(dtypeName(dtype))),
              std::string::npos)
        << written;
  }
}

TEST_F(NpyTest, RoundTripsEveryDTypeAndRank) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {7}, {2, 3, 4}, {0}};
  for (DType dtype : {DType::F32, DType::I32, DType::I64}) {
    for (const std::vector<int64_t> &shape : shapes) {
      SCOPED_TRACE(formatTensorType(dtype, shape));
      absl::StatusOr<Tensor> tensor = Tensor::allocate(dtype, shape);
      ASSERT_TRUE(tensor.ok());
      fill(*tensor);
      std::string path = tempPath("roundtrip.npy");
      absl::Status written = writeNpy(path, *tensor);
      ASSERT_TRUE(written.ok()) << written;
      // The data starts on a 64-byte boundary, as with NumPy.
      std::string bytes = readBytes(path);
      EXPECT_EQ((bytes.size() - tensor->byteSize()) % 64, 0u);
      EXPECT_EQ(bytes[bytes.size() - tensor->byteSize() - 1], '\n');

      absl::StatusOr<Tensor> back = readNpy(path);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->dtype(), dtype);
      EXPECT_EQ(back->shape(), shape);
      ASSERT_EQ(back->byteSize(), tensor->byteSize());
      EXPECT_EQ(
          std::memcmp(back->rawData(), tensor->rawData(), tensor->byteSize()),
          0);
    }
  }
}

TEST_F(NpyTest, RoundTripKeepsExactValues) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::I64, {2});
  ASSERT_TRUE(tensor.ok());
  tensor->data<int64_t>()[0] = INT64_MIN;
  tensor->data<int64_t>()[1] = INT64_MAX;
  std::string path = tempPath("extremes.npy");
  ASSERT_TRUE(writeNpy(path, *tensor).ok());
  absl::StatusOr<Tensor> back = readNpy(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->data<int64_t>()[0], INT64_MIN);
  EXPECT_EQ(back->data<int64_t>()[1], INT64_MAX);
}

TEST_F(NpyTest, MissingFile) {
  expectReadError(tempPath("missing.npy"), "No such file or directory");
}

TEST_F(NpyTest, Directory) {
  expectReadError(::testing::TempDir(), "is a directory");
}

TEST_F(NpyTest, EmptyFile) {
  expectReadError(writeBytes("empty.npy", ""), "file is empty");
}

TEST_F(NpyTest, BadMagic) {
  expectReadError(writeBytes("magic.npy", "PK\x03\x04 this is a zip file"),
                  "bad magic string");
  expectReadError(writeBytes("short.npy", "\x93NU"), "truncated");
}

TEST_F(NpyTest, TruncatedPreamble) {
  expectReadError(writeBytes("preamble.npy", std::string("\x93NUMPY\x01", 7)),
                  "truncated .npy preamble");
  expectReadError(
      writeBytes("length.npy", std::string("\x93NUMPY\x02\x00\x10\x00", 10)),
      "truncated .npy preamble");
}

TEST_F(NpyTest, TruncatedHeader) {
  std::string full = makeNpy(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "12345678");
  expectReadError(
      writeBytes("header.npy", full.substr(0, 40)),
      "truncated header: it should be 118 bytes, the file holds 30");
}

TEST_F(NpyTest, UnsupportedVersion) {
  std::string bytes = makeNpy(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "1234");
  bytes[6] = 4;
  expectReadError(writeBytes("version.npy", bytes),
                  "unsupported .npy format version 4.0");
}

TEST_F(NpyTest, MalformedHeader) {
  const std::pair<const char *, const char *> cases[] = {
      {"not a dict", "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}",
       "expected True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}",
       "expected a non-negative integer dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
       "expected a non-negative integer dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",
       "expected ',' or ')' in the shape"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,}",
       "expected a non-negative integer dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
       "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
       "duplicate key 'descr'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': ()}",
       "expected ':' after 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk",
       "unexpected text after the dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(99999999999999999999,)}",
       "dimension too large"},
  };
  for (const auto &[dict, what] : cases) {
    SCOPED_TRACE(dict);
    expectReadError(writeBytes("malformed.npy", makeNpy(dict, "")), what);
  }
}

TEST_F(NpyTest, FortranOrder) {
  std::string path = writeBytes(
      "fortran.npy",
      makeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
              std::string(16, '\0')));
  expectReadError(path, "Fortran-order arrays are not supported");
}

TEST_F(NpyTest, UnsupportedDTypes) {
  const std::pair<const char *, const char *> cases[] = {
      {"'<f8'", "unsupported dtype '<f8' (supported: <f4, <i4, <i8)"},
      {"'|u1'", "unsupported dtype '|u1'"},
      {"'<f2'", "unsupported dtype '<f2'"},
      {"'>f4'", "big-endian dtype '>f4' is not supported"},
      {"[('a', '<f4')]", "structured dtypes are not supported"},
  };
  for (const auto &[descr, what] : cases) {
    SCOPED_TRACE(descr);
    std::string dict = absl::StrCat(
        "{'descr': ", descr, ", 'fortran_order': False, 'shape': (1,), }");
    expectReadError(writeBytes("dtype.npy", makeNpy(dict, "12345678")), what);
  }
}

TEST_F(NpyTest, RankAboveEight) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(1, 1, 1, 1, 1, 1, 1, 1, 1), }";
  expectReadError(writeBytes("rank9.npy", makeNpy(dict, "1234")),
                  "rank above the supported maximum of 8");
}

TEST_F(NpyTest, DataShorterThanShape) {
  std::string dict =
      "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }";
  expectReadError(writeBytes("short.npy", makeNpy(dict, std::string(40, 'x'))),
                  "truncated data: shape (2, 3) of i64 needs 48 bytes of "
                  "data, the file holds 40");
}

TEST_F(NpyTest, HugeShapeIsRejectedBeforeAllocating) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(1000000000, 1000000000), }";
  expectReadError(writeBytes("huge.npy", makeNpy(dict, "1234")),
                  "truncated data");
  dict = "{'descr': '<f4', 'fortran_order': False, 'shape': "
         "(4000000000, 4000000000, 4000000000), }";
  expectReadError(writeBytes("overflow.npy", makeNpy(dict, "1234")),
                  "too large");
}

TEST_F(NpyTest, TrailingData) {
  std::string dict =
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
  expectReadError(writeBytes("trailing.npy", makeNpy(dict, "12345678")),
                  "unexpected trailing data");
}

/// Streams `bytes` through a FIFO into readNpy(), which then cannot learn the
/// size up front and must check the data as it reads it.
static absl::StatusOr<Tensor> readThroughPipe(const std::string &fifo,
                                              const std::string &bytes) {
  std::signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    int fd = open(fifo.c_str(), O_WRONLY);
    // Small enough for the pipe buffer: one write, done before the reader
    // may close its end.
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
    close(fd);
  });
  absl::StatusOr<Tensor> tensor = readNpy(fifo);
  writer.join();
  return tensor;
}

TEST_F(NpyTest, ReadsFromPipe) {
  std::string dict =
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
  const int32_t values[] = {-5, 9};
  std::string data(reinterpret_cast<const char *>(values), sizeof(values));

  absl::StatusOr<Tensor> tensor =
      readThroughPipe(tempPath("good.fifo"), makeNpy(dict, data));
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->shape(), std::vector<int64_t>{2});
  EXPECT_EQ(tensor->data<int32_t>()[0], -5);
  EXPECT_EQ(tensor->data<int32_t>()[1], 9);

  std::string path = tempPath("short.fifo");
  tensor = readThroughPipe(path, makeNpy(dict, data.substr(0, 5)));
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(std::string(tensor.status().message()),
            path + ": truncated data: shape (2,) of i32 needs 8 bytes of "
                   "data, the file holds 5");

  path = tempPath("long.fifo");
  tensor = readThroughPipe(path, makeNpy(dict, data + "x"));
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(std::string(tensor.status().message()),
            path + ": unexpected trailing data: shape (2,) of i32 needs 8 "
                   "bytes of data");
}

TEST_F(NpyTest, WriteToMissingDirectory) {
  absl::StatusOr<Tensor> tensor = Tensor::allocate(DType::F32, {1});
  ASSERT_TRUE(tensor.ok());
  std::string path = tempPath("no/such/dir/out.npy");
  absl::Status status = writeNpy(path, *tensor);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find(path), std::string::npos)
      << status;
  EXPECT_NE(std::string(status.message()).find("No such file or directory"),
            std::string::npos)
      << status;
}

TEST_F(NpyTest, WriteEmptyTensorIsAnError) {
  Tensor empty;
  absl::Status status = writeNpy(tempPath("none.npy"), empty);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("holds no data"),
            std::string::npos)
      << status;
}

} // namespace
