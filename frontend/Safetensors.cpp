//===- Safetensors.cpp - Reading model.safetensors ------------------------===//
//
// The header comes from users (and from tools with bugs), so nothing in it is
// trusted: every length and offset is checked against the mapped file before
// a tensor's data pointer is handed out.
//
//===----------------------------------------------------------------------===//

#include "frontend/Safetensors.h"
#include "support/Json.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <limits>
#include <numeric>
#include <sys/mman.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace tfm {

/// The reference implementation's limit; real headers are a few hundred KiB.
static constexpr uint64_t kMaxHeaderSize = 100'000'000;

size_t safetensorsDTypeSize(std::string_view dtype) {
  static constexpr std::pair<std::string_view, size_t> kDTypes[] = {
      {"BOOL", 1},    {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},     {"BF16", 2},
      {"I32", 4},     {"U32", 4}, {"F32", 4}, {"C64", 8},     {"F64", 8},
      {"I64", 8},     {"U64", 8}};
  for (auto [name, size] : kDTypes)
    if (name == dtype)
      return size;
  return 0;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

static absl::Status fileError(const std::string &path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", toAbsl(what)));
}

static absl::Status tensorError(const std::string &path, std::string_view name,
                                std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": tensor '", toAbsl(name), "': ", toAbsl(what)));
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_)
    munmap(mapping_, mappingSize_);
}

const SafetensorsTensor *SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(const std::string &path) {
  // O_NONBLOCK: a FIFO must not block open(); it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int savedErrno = errno;
    close(fd);
    return absl::ErrnoToStatus(savedErrno, absl::StrCat(path, ": cannot stat"));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return fileError(path, "not a regular file");
  }
  uint64_t fileSize = info.st_size;
  if (fileSize < 8) {
    close(fd);
    return fileError(path, absl::StrCat("file is ", fileSize,
                                        " bytes, too short for a safetensors "
                                        "file (it starts with an 8-byte "
                                        "header length)"));
  }

  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  void *mapping = mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  int mapErrno = errno;
  close(fd);
  if (mapping == MAP_FAILED)
    return absl::ErrnoToStatus(mapErrno, absl::StrCat(path, ": cannot map"));
  file->mapping_ = mapping;
  file->mappingSize_ = fileSize;
  const unsigned char *bytes = static_cast<const unsigned char *>(mapping);

  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | bytes[i];
  if (headerSize > fileSize - 8)
    return fileError(path, absl::StrCat("header length ", headerSize,
                                        " exceeds the file size (", fileSize,
                                        " bytes): truncated or "
                                        "not a safetensors file"));
  if (headerSize > kMaxHeaderSize)
    return fileError(path,
                     absl::StrCat("header length ", headerSize,
                                  " is above the limit of ", kMaxHeaderSize));

  std::string_view headerText(reinterpret_cast<const char *>(bytes + 8),
                              headerSize);
  // json::parse skips a byte order mark, which the format does not allow
  // (its reference implementation refuses a header that does not start
  // with '{').
  if (headerText.substr(0, 3) == "\xef\xbb\xbf")
    return fileError(path, "header starts with a byte order mark (the format "
                           "has none)");
  absl::StatusOr<json::Value> header = json::parse(headerText);
  if (!header.ok())
    return fileError(path, absl::StrCat("header is not valid JSON: ",
                                        header.status().message()));
  if (!header->isObject())
    return fileError(path, absl::StrCat("header is not a JSON object (got ",
                                        toAbsl(header->kindName()), ")"));

  const unsigned char *dataArea = bytes + 8 + headerSize;
  uint64_t dataSize = fileSize - 8 - headerSize;
  // [begin, end) of each tensor in tensors_, for the overlap check.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;

  for (const auto &[name, entry] : header->asObject()) {
    if (name == "__metadata__") {
      if (!entry.isObject())
        return fileError(path, absl::StrCat("__metadata__ must be an object, "
                                            "got ",
                                            toAbsl(entry.kindName())));
      for (const auto &[key, value] : entry.asObject()) {
        if (!value.isString())
          return fileError(path, absl::StrCat("__metadata__ entry '", key,
                                              "' must be a string, got ",
                                              toAbsl(value.kindName())));
        file->metadata_.emplace_back(key, value.asString());
      }
      continue;
    }
    if (!entry.isObject())
      return tensorError(path, name,
                         absl::StrCat("expected an object with dtype, shape "
                                      "and data_offsets, got ",
                                      toAbsl(entry.kindName())));
    for (const auto &member : entry.asObject())
      if (member.first != "dtype" && member.first != "shape" &&
          member.first != "data_offsets")
        return tensorError(path, name,
                           absl::StrCat("unknown field '", member.first, "'"));

    SafetensorsTensor tensor;
    tensor.name = name;

    const json::Value *dtype = entry.find("dtype");
    if (!dtype)
      return tensorError(path, name, "missing field 'dtype'");
    if (!dtype->isString())
      return tensorError(path, name,
                         absl::StrCat("'dtype' must be a string, got ",
                                      toAbsl(dtype->kindName())));
    tensor.dtype = dtype->asString();
    size_t elementSize = safetensorsDTypeSize(tensor.dtype);
    if (elementSize == 0)
      return tensorError(path, name,
                         absl::StrCat("unknown dtype '", tensor.dtype, "'"));

    const json::Value *shape = entry.find("shape");
    if (!shape)
      return tensorError(path, name, "missing field 'shape'");
    if (!shape->isArray())
      return tensorError(path, name,
                         absl::StrCat("'shape' must be an array, got ",
                                      toAbsl(shape->kindName())));
    // Element count and byte size, checked for overflow as they grow.
    uint64_t byteSize = elementSize;
    bool overflow = false;
    for (const json::Value &dim : shape->asArray()) {
      if (!dim.isInt() || dim.asInt() < 0)
        return tensorError(path, name,
                           absl::StrCat("'shape' must hold non-negative "
                                        "integers, got ",
                                        json::serialize(dim)));
      uint64_t size = dim.asInt();
      tensor.shape.push_back(dim.asInt());
      if (size != 0 && byteSize > std::numeric_limits<int64_t>::max() / size)
        overflow = true;
      byteSize *= size;
    }
    bool empty = std::find(tensor.shape.begin(), tensor.shape.end(), 0) !=
                 tensor.shape.end();
    if (empty)
      byteSize = 0;
    else if (overflow)
      return tensorError(
          path, name,
          absl::StrCat("shape ", formatShape(tensor.shape), " is too large"));

    const json::Value *offsets = entry.find("data_offsets");
    if (!offsets)
      return tensorError(path, name, "missing field 'data_offsets'");
    if (!offsets->isArray() || offsets->asArray().size() != 2 ||
        !offsets->asArray()[0].isInt() || !offsets->asArray()[1].isInt() ||
        offsets->asArray()[0].asInt() < 0 || offsets->asArray()[1].asInt() < 0)
      return tensorError(path, name,
                         "'data_offsets' must be two non-negative integers "
                         "[begin, end]");
    uint64_t begin = offsets->asArray()[0].asInt();
    uint64_t end = offsets->asArray()[1].asInt();
    std::string shownOffsets =
        absl::StrCat("data_offsets [", begin, ", ", end, "]");
    if (begin > end)
      return tensorError(path, name,
                         absl::StrCat(shownOffsets, " have begin > end"));
    if (end > dataSize)
      return tensorError(path, name,
                         absl::StrCat("header offsets point outside the file (",
                                      shownOffsets, ", the data area holds ",
                                      dataSize, " bytes)"));
    if (end - begin != byteSize)
      return tensorError(path, name,
                         absl::StrCat(shownOffsets, " span ", end - begin,
                                      " bytes, but shape ",
                                      formatShape(tensor.shape), " of ",
                                      tensor.dtype, " needs ", byteSize));
    tensor.data = dataArea + begin;
    tensor.byteSize = byteSize;
    file->tensors_.push_back(std::move(tensor));
    ranges.emplace_back(begin, end);
  }

  // Overlaps: after sorting by begin, a tensor overlaps an earlier one
  // exactly when it starts before the furthest end seen so far.
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    // Ties broken by header order, so messages are deterministic.
    return std::tie(ranges[a], a) < std::tie(ranges[b], b);
  });
  size_t furthest = 0;
  bool any = false;
  for (size_t i : order) {
    if (ranges[i].first == ranges[i].second)
      continue; // Empty tensors occupy no bytes.
    if (any && ranges[i].first < ranges[furthest].second) {
      auto shown = [&](size_t t) {
        return absl::StrCat("'", file->tensors_[t].name, "' [", ranges[t].first,
                            ", ", ranges[t].second, "]");
      };
      return fileError(path, absl::StrCat("tensors ", shown(furthest), " and ",
                                          shown(i), " overlap"));
    }
    if (!any || ranges[i].second > ranges[furthest].second)
      furthest = i;
    any = true;
  }
  // Bytes that no tensor covers: a file cut and pasted together, or data
  // the header does not describe (the reference implementation refuses it).
  uint64_t end = any ? ranges[furthest].second : 0;
  if (end != dataSize)
    return fileError(path, absl::StrCat("the data area holds ", dataSize,
                                        " bytes, but the tensors end at byte ",
                                        end, " (unused trailing bytes)"));

  for (size_t i = 0; i < file->tensors_.size(); ++i)
    file->index_.emplace(file->tensors_[i].name, i);
  return file;
}

} // namespace tfm
