//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// The format: a 6-byte magic string, a 2-byte version, a little-endian header
// length (2 bytes in 1.0, 4 bytes in 2.0/3.0), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and a newline, then the raw elements.
//
// Files come from users, so every length and shape is checked against what
// the file actually holds before memory is allocated or read.
//
//===----------------------------------------------------------------------===//

#include "tools/tfm-run/Npy.h"
#include "support/MappedFile.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <sys/stat.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer assume a little-endian host");

namespace tfm {

static constexpr char kMagic[] = "\x93NUMPY";
static constexpr size_t kMagicSize = 6;
/// No header we support comes close; the bound keeps a lying length field
/// from making us allocate gigabytes.
static constexpr uint32_t kMaxHeaderSize = 1 << 20;

namespace {

struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// What the header dict says.
struct NpyHeader {
  DType dtype = DType::F32;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// Parses the Python dict literal of a .npy header. Accepts what NumPy (any
/// version) writes: the three keys in any order, single or double quotes,
/// optional trailing commas, `L` suffixes on integers, surrounding spaces.
class HeaderParser {
public:
  explicit HeaderParser(absl::string_view text) : text(text) {}

  /// Returns the header or an error message (without the path).
  absl::StatusOr<NpyHeader> parse();

private:
  absl::Status error(absl::string_view what) const {
    constexpr size_t kMaxShown = 120;
    std::string shown = absl::CHexEscape(text.substr(0, kMaxShown));
    if (text.size() > kMaxShown)
      shown += "...";
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed header: ", what, " at offset ", pos, " in \"", shown, "\""));
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skipSpace();
    return pos < text.size() && text[pos] == c;
  }
  absl::StatusOr<std::string> parseString();
  absl::StatusOr<bool> parseBool();
  absl::StatusOr<std::vector<int64_t>> parseShape();
  absl::StatusOr<DType> parseDescr();

  absl::string_view text;
  size_t pos = 0;
};

} // namespace

absl::StatusOr<std::string> HeaderParser::parseString() {
  skipSpace();
  if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
    return error("expected a quoted string");
  char quote = text[pos++];
  size_t start = pos;
  while (pos < text.size() && text[pos] != quote) {
    if (text[pos] == '\\')
      return error("unsupported escape in string");
    ++pos;
  }
  if (pos >= text.size())
    return error("unterminated string");
  return std::string(text.substr(start, pos++ - start));
}

absl::StatusOr<bool> HeaderParser::parseBool() {
  skipSpace();
  if (text.substr(pos, 4) == "True") {
    pos += 4;
    return true;
  }
  if (text.substr(pos, 5) == "False") {
    pos += 5;
    return false;
  }
  return error("expected True or False");
}

absl::StatusOr<std::vector<int64_t>> HeaderParser::parseShape() {
  if (!consume('('))
    return error("expected '(' to start the shape");
  std::vector<int64_t> shape;
  while (!consume(')')) {
    skipSpace();
    if (pos >= text.size() || text[pos] < '0' || text[pos] > '9')
      return error("expected a non-negative integer dimension");
    int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      int digit = text[pos++] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
        return error("dimension too large");
      value = value * 10 + digit;
    }
    // Python 2 NumPy wrote longs as `3L`.
    if (pos < text.size() && text[pos] == 'L')
      ++pos;
    shape.push_back(value);
    if (shape.size() > kMaxNpyRank)
      return absl::InvalidArgumentError(
          absl::StrCat("rank above the supported maximum of ", kMaxNpyRank));
    if (!consume(',') && !peek(')'))
      return error("expected ',' or ')' in the shape");
  }
  return shape;
}

absl::StatusOr<DType> HeaderParser::parseDescr() {
  if (peek('['))
    return absl::InvalidArgumentError(
        "structured dtypes are not supported (expected <f4, <i4 or <i8)");
  TFM_ASSIGN_OR_RETURN(std::string descr, parseString());
  absl::string_view code = descr;
  // '<' little-endian, '=' native (little-endian here), '|' not applicable.
  if (!code.empty() && (code[0] == '<' || code[0] == '=' || code[0] == '|'))
    code.remove_prefix(1);
  else if (!code.empty() && code[0] == '>')
    return absl::InvalidArgumentError(absl::StrCat(
        "big-endian dtype '", descr, "' is not supported (save with .astype('<",
        code.substr(1), "'))"));
  if (code == "f4")
    return DType::F32;
  if (code == "i4")
    return DType::I32;
  if (code == "i8")
    return DType::I64;
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported dtype '", descr, "' (supported: <f4, <i4, <i8)"));
}

absl::StatusOr<NpyHeader> HeaderParser::parse() {
  NpyHeader header;
  bool seenDescr = false, seenOrder = false, seenShape = false;
  if (!consume('{'))
    return error("expected '{'");
  while (!consume('}')) {
    TFM_ASSIGN_OR_RETURN(std::string key, parseString());
    if (!consume(':'))
      return error(absl::StrCat("expected ':' after '", key, "'"));
    if (key == "descr" && !seenDescr) {
      seenDescr = true;
      TFM_ASSIGN_OR_RETURN(DType dtype, parseDescr());
      header.dtype = dtype;
    } else if (key == "fortran_order" && !seenOrder) {
      seenOrder = true;
      TFM_ASSIGN_OR_RETURN(bool order, parseBool());
      header.fortranOrder = order;
    } else if (key == "shape" && !seenShape) {
      seenShape = true;
      TFM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, parseShape());
      header.shape = std::move(shape);
    } else if (key == "descr" || key == "fortran_order" || key == "shape") {
      return error(absl::StrCat("duplicate key '", key, "'"));
    } else {
      return error(absl::StrCat("unexpected key '", key, "'"));
    }
    if (!consume(',') && !peek('}'))
      return error("expected ',' or '}'");
  }
  skipSpace();
  if (pos != text.size())
    return error("unexpected text after the dict");
  if (!seenDescr || !seenOrder || !seenShape)
    return error(absl::StrCat("missing key '",
                              !seenDescr   ? "descr"
                              : !seenOrder ? "fortran_order"
                                           : "shape",
                              "'"));
  return header;
}

/// An error about file `path`: "PATH: WHAT".
static absl::Status fileError(const std::string &path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

/// Prefixes `status`'s message with the path.
static absl::Status withPath(const std::string &path,
                             const absl::Status &status) {
  return absl::Status(status.code(),
                      absl::StrCat(path, ": ", status.message()));
}

/// Reads up to `size` bytes; returns how many were read, or an error when the
/// stream failed (as opposed to ended).
static absl::StatusOr<size_t>
readBytes(std::FILE *file, const std::string &path, void *buffer, size_t size) {
  size_t got = std::fread(buffer, 1, size, file);
  if (got < size && std::ferror(file))
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": read failed"));
  return got;
}

static std::string formatNpyShape(const std::vector<int64_t> &shape) {
  if (shape.size() == 1)
    return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

absl::StatusOr<Tensor> readNpy(const std::string &path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));

  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0)
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot stat"));
  if (S_ISDIR(info.st_mode))
    return fileError(path, "is a directory, not a .npy file");
  // For regular files, sizes are checked before anything is allocated; other
  // files (pipes) are read and checked as they come.
  std::optional<uint64_t> fileSize;
  if (S_ISREG(info.st_mode))
    fileSize = static_cast<uint64_t>(info.st_size);

  // Magic string and version.
  unsigned char preamble[kMagicSize + 2];
  TFM_ASSIGN_OR_RETURN(size_t got,
                       readBytes(file.get(), path, preamble, sizeof(preamble)));
  if (got == 0)
    return fileError(path, "file is empty, not a .npy file");
  if (std::memcmp(preamble, kMagic, std::min(got, kMagicSize)) != 0)
    return fileError(path, "not a .npy file (bad magic string)");
  if (got < sizeof(preamble))
    return fileError(path, "truncated .npy preamble");
  unsigned major = preamble[kMagicSize], minor = preamble[kMagicSize + 1];
  if (major < 1 || major > 3 || minor != 0)
    return fileError(path,
                     absl::StrCat("unsupported .npy format version ", major,
                                  ".", minor, " (supported: 1.0, 2.0, 3.0)"));

  // Header length: 2 bytes in version 1.0, 4 bytes later.
  unsigned char lengthBytes[4] = {0, 0, 0, 0};
  size_t lengthSize = major == 1 ? 2 : 4;
  TFM_ASSIGN_OR_RETURN(got,
                       readBytes(file.get(), path, lengthBytes, lengthSize));
  if (got < lengthSize)
    return fileError(path, "truncated .npy preamble");
  uint32_t headerSize = lengthBytes[0] | lengthBytes[1] << 8 |
                        uint32_t(lengthBytes[2]) << 16 |
                        uint32_t(lengthBytes[3]) << 24;
  uint64_t dataStart = sizeof(preamble) + lengthSize + uint64_t(headerSize);
  if (headerSize > kMaxHeaderSize)
    return fileError(path, absl::StrCat("header length ", headerSize,
                                        " is implausibly large"));
  if (fileSize && *fileSize < dataStart)
    return fileError(path, absl::StrCat("truncated header: it should be ",
                                        headerSize, " bytes, the file holds ",
                                        *fileSize - (dataStart - headerSize)));
  std::string headerText(headerSize, '\0');
  TFM_ASSIGN_OR_RETURN(
      got, readBytes(file.get(), path, headerText.data(), headerSize));
  if (got < headerSize)
    return fileError(path,
                     absl::StrCat("truncated header: it should be ", headerSize,
                                  " bytes, the file holds ", got));

  absl::StatusOr<NpyHeader> header = HeaderParser(headerText).parse();
  if (!header.ok())
    return withPath(path, header.status());
  if (header->fortranOrder)
    return fileError(path, "Fortran-order arrays are not supported (save a "
                           "C-order array, e.g. np.ascontiguousarray(a))");
  absl::StatusOr<int64_t> count =
      checkedNumElements(header->dtype, header->shape);
  if (!count.ok())
    return withPath(path, count.status());
  uint64_t dataSize = uint64_t(*count) * dtypeSize(header->dtype);
  auto describe = [&] {
    return absl::StrCat("shape ", formatNpyShape(header->shape), " of ",
                        toAbsl(dtypeName(header->dtype)), " needs ", dataSize,
                        " bytes of data");
  };
  if (fileSize && *fileSize - dataStart < dataSize)
    return fileError(path,
                     absl::StrCat("truncated data: ", describe(),
                                  ", the file holds ", *fileSize - dataStart));
  if (fileSize && *fileSize - dataStart > dataSize)
    return fileError(path,
                     absl::StrCat("unexpected trailing data: ", describe(),
                                  ", the file holds ", *fileSize - dataStart));

  absl::StatusOr<Tensor> tensor =
      Tensor::allocateUninitialized(header->dtype, header->shape);
  if (!tensor.ok())
    return withPath(path, tensor.status());
  TFM_ASSIGN_OR_RETURN(
      got, readBytes(file.get(), path, tensor->rawData(), dataSize));
  if (got < dataSize)
    return fileError(path, absl::StrCat("truncated data: ", describe(),
                                        ", the file holds ", got));
  if (std::fgetc(file.get()) != EOF)
    return fileError(path,
                     absl::StrCat("unexpected trailing data: ", describe()));
  return tensor;
}

absl::Status writeNpy(const std::string &path, const Tensor &tensor) {
  if (!tensor.rawData())
    return fileError(path, "cannot write a tensor that holds no data");

  const char *descr = nullptr;
  switch (tensor.dtype()) {
  case DType::F32:
    descr = "f4";
    break;
  case DType::I32:
    descr = "i4";
    break;
  case DType::I64:
    descr = "i8";
    break;
  case DType::BF16: // NumPy has no bf16; entries never return weights.
  case DType::I8:
    return fileError(path, absl::StrCat("cannot write a tensor of ",
                                        toAbsl(dtypeName(tensor.dtype()))));
  }
  std::string dict = absl::StrCat("{'descr': '<", descr,
                                  "', 'fortran_order': False, 'shape': ",
                                  formatNpyShape(tensor.shape()), ", }");
  // Pad with spaces and end with a newline so that the data starts on a
  // 64-byte boundary, as NumPy does.
  auto paddedSize = [&](size_t lengthSize) {
    size_t unpadded = kMagicSize + 2 + lengthSize + dict.size() + 1;
    return dict.size() + 1 + (64 - unpadded % 64) % 64;
  };
  bool version1 = paddedSize(2) <= 0xffff;
  size_t headerSize = paddedSize(version1 ? 2 : 4);
  std::string header(kMagic, kMagicSize);
  header += static_cast<char>(version1 ? 1 : 2);
  header += '\0';
  for (size_t i = 0, e = version1 ? 2 : 4; i < e; ++i)
    header += static_cast<char>((headerSize >> (8 * i)) & 0xff);
  header += dict;
  header.append(headerSize - dict.size() - 1, ' ');
  header += '\n';

  return writeFileReplacing(
      path,
      {header, std::string_view(static_cast<const char *>(tensor.rawData()),
                                tensor.byteSize())});
}

} // namespace tfm
