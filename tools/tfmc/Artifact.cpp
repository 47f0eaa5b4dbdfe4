//===- Artifact.cpp - What tfmc writes for a model ------------------------===//

#include "tools/tfmc/Artifact.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "dialect/TfmDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "support/MappedFile.h"
#include "support/StringViews.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

using namespace mlir;
using namespace mlir::tfm;

/// Alignment of each weight in weights.bin: a cache line, and what the
/// runtime's vector loads want.
static constexpr uint64_t kWeightAlignment = 64;

static LogicalResult fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tfmc") << message << "\n";
  return failure();
}

namespace {

/// `weight` [n, k] in tfm.pack_weight's layout: [ceil(n / panel)][k][panel],
/// zero past the last row, each element converted by `convert`.
template <typename T, typename Convert>
std::vector<T> packPanels(const std::vector<float> &weight, int64_t n,
                          int64_t k, int64_t panel, Convert convert) {
  int64_t panels = (n + panel - 1) / panel;
  std::vector<T> packed(panels * k * panel, T(0));
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      packed[((row / panel) * k + col) * panel + row % panel] =
          convert(row, weight[row * k + col]);
  return packed;
}

/// The bits of the bf16 nearest to finite `v`, ties to even (what
/// tfm.pack_weight's bf16 rounding states).
uint16_t toBF16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

/// `weight` [n, k] in tfm.pack_weight's k-pair layout (bf16 bits):
/// [ceil(n / panel)][ceil(k / 2)][panel][2], zero past the last row or k.
std::vector<uint16_t> packPairs(const std::vector<float> &weight, int64_t n,
                                int64_t k, int64_t panel) {
  int64_t panels = (n + panel - 1) / panel, half = (k + 1) / 2;
  std::vector<uint16_t> packed(panels * half * panel * 2, 0);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      packed[(((row / panel) * half + col / 2) * panel + row % panel) * 2 +
             col % 2] = toBF16(weight[row * k + col]);
  return packed;
}

/// tfm.weight_scales of `weight` [n, k]: max_k |w[row, k]| / 127 per row.
std::vector<float> int8Scales(const std::vector<float> &weight, int64_t n,
                              int64_t k) {
  std::vector<float> scales(n);
  for (int64_t row = 0; row < n; ++row) {
    float max = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      max = std::max(max, std::fabs(weight[row * k + col]));
    scales[row] = max / 127.0f;
  }
  return scales;
}

/// `v` as int8 at `scale`, as tfm.pack_weight states: clamp(round_even(v /
/// scale), -127, 127), 0 where the scale is 0.
int8_t toInt8(float v, float scale) {
  if (scale == 0.0f)
    return 0;
  float q = std::nearbyint(v / scale); // the default mode: ties to even
  return static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
}

/// `values` as bytes.
template <typename T> std::vector<char> asBytes(const std::vector<T> &values) {
  std::vector<char> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// The stored element type of `element` (null: f32).
::tfm::DType storedType(Type element) {
  if (element && element.isBF16())
    return ::tfm::DType::BF16;
  if (element && element.isInteger(8))
    return ::tfm::DType::I8;
  return ::tfm::DType::F32;
}

/// The bytes weights.bin holds for `w`, whose values (as the graph takes
/// them, f32) are `values`.
std::vector<char> storedBytes(const PlacedWeight &w,
                              const std::vector<float> &values) {
  int64_t n = w.sourceShape.empty() ? 0 : w.sourceShape[0];
  int64_t k = w.sourceShape.size() == 2 ? w.sourceShape[1] : 0;
  if (w.scales)
    return asBytes(int8Scales(values, n, k));
  if (!w.packedPanel)
    return asBytes(values);
  if (w.kPairs)
    return asBytes(packPairs(values, n, k, w.packedPanel));
  switch (w.dtype) {
  case ::tfm::DType::BF16:
    return asBytes(
        packPanels<uint16_t>(values, n, k, w.packedPanel,
                             [](int64_t, float v) { return toBF16(v); }));
  case ::tfm::DType::I8: {
    std::vector<float> scales = int8Scales(values, n, k);
    return asBytes(packPanels<int8_t>(
        values, n, k, w.packedPanel,
        [&](int64_t row, float v) { return toInt8(v, scales[row]); }));
  }
  default:
    return asBytes(packPanels<float>(values, n, k, w.packedPanel,
                                     [](int64_t, float v) { return v; }));
  }
}
} // namespace

llvm::json::Object mlir::tfm::artifactConfig(const ::tfm::ModelConfig &config) {
  llvm::json::Object object{
      {"architecture",
       std::string(::tfm::architectureName(config.architecture))},
      {"d_model", config.dModel},
      {"num_heads", config.numHeads},
      {"src_vocab_size", config.srcVocabSize},
      {"tgt_vocab_size", config.tgtVocabSize},
      {"max_seq_len", config.maxSeqLen},
      {"pad_id", config.padId},
      {"bos_id", config.bosId},
      {"eos_id", config.eosId}};
  if (config.typeVocabSize)
    object["type_vocab_size"] = config.typeVocabSize;
  if (!config.moreEosIds.empty())
    object["more_eos_ids"] = llvm::json::Array(config.moreEosIds);
  if (config.forcedEosId >= 0)
    object["forced_eos_id"] = config.forcedEosId;
  if (!config.badWordsIds.empty()) {
    llvm::json::Array words;
    for (const std::vector<int64_t> &word : config.badWordsIds)
      words.push_back(llvm::json::Array(word));
    object["bad_words_ids"] = std::move(words);
  }
  return object;
}

void mlir::tfm::recordModelConfig(ModuleOp module,
                                  const ::tfm::ModelConfig &config) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(artifactConfig(config));
  module->setAttr(TfmDialect::kModelConfigAttrName,
                  StringAttr::get(module.getContext(), os.str()));
}

void mlir::tfm::recordPackedWeights(ModuleOp module, BuiltModel &model) {
  for (EntryPoint &entry : model.entries) {
    auto func = module.lookupSymbol<func::FuncOp>(entry.name);
    if (!func)
      continue;
    // The function's arguments are the entry's, plus the scales arguments
    // tfm-pack-weights added after int8 weights.
    std::vector<EntryArgument> arguments;
    size_t next = 0;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      if (auto of = func.getArgAttrOfType<StringAttr>(
              i, TfmDialect::kScalesOfAttrName)) {
        EntryArgument scales;
        scales.name =
            func.getArgAttrOfType<StringAttr>(i, TfmDialect::kWeightAttrName)
                .getValue()
                .str();
        scales.isWeight = true;
        scales.scalesOf = of.getValue().str();
        for (const EntryArgument &arg : arguments)
          if (arg.name == scales.scalesOf)
            scales.shape = arg.shape;
        arguments.push_back(std::move(scales));
        continue;
      }
      if (next == entry.arguments.size())
        break; // Not the function the frontend built; nothing to record.
      EntryArgument arg = entry.arguments[next++];
      if (auto panel = func.getArgAttrOfType<IntegerAttr>(
              i, TfmDialect::kPackedAttrName)) {
        arg.packedPanel = panel.getInt();
        auto type = cast<RankedTensorType>(func.getArgumentTypes()[i]);
        arg.storedElement = type.getElementType();
        arg.kPairs = type.getRank() == 4;
      }
      arguments.push_back(std::move(arg));
    }
    entry.arguments = std::move(arguments);
  }
}

FailureOr<WrittenWeights>
mlir::tfm::writeWeights(const std::string &dir,
                        const ::tfm::ModelDirectory &source,
                        const BuiltModel &model, bool allowNonFinite) {
  WrittenWeights written;
  // Place every weight once, in first-use order; names whose values and
  // layout are the same (tied weights) share one placement.
  std::vector<PlacedWeight> &placed = written.placed;
  llvm::StringMap<size_t> index;
  std::map<std::tuple<::tfm::WeightSource, int64_t, ::tfm::DType, bool, bool>,
           size_t>
      bySource;
  std::vector<std::pair<std::string, size_t>> &names = written.names;
  uint64_t &end = written.bytes;
  for (const EntryPoint &entry : model.entries) {
    for (const EntryArgument &arg : entry.arguments) {
      if (!arg.isWeight)
        continue;
      bool scales = !arg.scalesOf.empty();
      ::tfm::DType dtype = scales || !arg.packedPanel
                               ? ::tfm::DType::F32
                               : storedType(arg.storedElement);
      if (auto it = index.find(arg.name); it != index.end()) {
        // Stored once: every entry must want it in the same layout.
        const PlacedWeight &first = placed[it->second];
        if (first.packedPanel != arg.packedPanel || first.dtype != dtype ||
            first.kPairs != arg.kPairs)
          return fail(
              "weight '" + arg.name + "' is stored as " +
              std::string(::tfm::dtypeName(first.dtype)) + " with panel " +
              llvm::Twine(first.packedPanel) + " for one entry and " +
              std::string(::tfm::dtypeName(dtype)) + " with panel " +
              llvm::Twine(arg.packedPanel) + " for '" + entry.name + "'");
        continue;
      }
      ::tfm::WeightSource from =
          source.source(scales ? arg.scalesOf : arg.name);
      auto key =
          std::make_tuple(from, arg.packedPanel, dtype, scales, arg.kPairs);
      if (auto it = bySource.find(key);
          it != bySource.end() && placed[it->second].sourceShape == arg.shape) {
        index[arg.name] = it->second;
        names.push_back({arg.name, it->second});
        continue;
      }
      std::vector<int64_t> shape = arg.shape;
      uint64_t elements = 1;
      if (scales) {
        if (shape.size() != 2)
          return fail("weight '" + arg.scalesOf +
                      "' has int8 scales but is not a matrix");
        shape = {shape[0]};
      } else if (arg.packedPanel) {
        if (shape.size() != 2)
          return fail("weight '" + arg.name + "' is packed but not a matrix");
        int64_t panels = (shape[0] + arg.packedPanel - 1) / arg.packedPanel;
        shape = arg.kPairs
                    ? std::vector<int64_t>{panels, (shape[1] + 1) / 2,
                                           arg.packedPanel, 2}
                    : std::vector<int64_t>{panels, shape[1], arg.packedPanel};
      }
      for (int64_t d : shape)
        elements *= d;
      uint64_t offset = llvm::alignTo(end, kWeightAlignment);
      index[arg.name] = bySource[key] = placed.size();
      names.push_back({arg.name, placed.size()});
      uint64_t bytes = elements * ::tfm::dtypeSize(dtype);
      placed.push_back({arg.name, from, arg.shape, shape, arg.packedPanel,
                        dtype, arg.kPairs, scales, offset, bytes});
      end = offset + bytes;
    }
  }

  std::string binPath = dir + "/weights.bin";
  std::error_code ec;
  llvm::raw_fd_ostream bin(binPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + binPath + "': " + ec.message());
  uint64_t pos = 0;
  for (const PlacedWeight &w : placed) {
    absl::StatusOr<std::vector<float>> values =
        ::tfm::readWeight(*source.checkpoint, w.source, w.sourceShape);
    if (!values.ok())
      return fail(::tfm::toStd(values.status().message()));
    // A NaN or an infinity in a weight poisons every output it reaches (a
    // greedy decoder then prints token 0 forever): refuse it by name.
    auto bad = std::find_if(values->begin(), values->end(),
                            [](float v) { return !std::isfinite(v); });
    if (bad != values->end()) {
      std::string what = "weight '" + w.name + "' (tensor '" +
                         (w.source.tensor.empty() ? w.name : w.source.tensor) +
                         "') holds " +
                         (std::isnan(*bad) ? "NaN" : "an infinity") +
                         " at element " + std::to_string(bad - values->begin());
      if (!allowNonFinite)
        return fail(what + " (--allow-nonfinite-weights compiles it anyway)");
      llvm::WithColor::warning(llvm::errs(), "tfmc") << what << "\n";
    }
    std::vector<char> bytes = storedBytes(w, *values);
    if (bytes.size() != w.bytes)
      return fail("internal error: weight '" + w.name + "' has " +
                  llvm::Twine(bytes.size()) + " bytes, placed as " +
                  llvm::Twine(w.bytes));
    bin.write_zeros(w.offset - pos);
    bin.write(bytes.data(), bytes.size());
    pos = w.offset + w.bytes;
  }
  bin.close();
  if (bin.has_error())
    return fail("cannot write '" + binPath + "'");

  absl::StatusOr<std::string> checksum = ::tfm::fileChecksum(binPath);
  if (!checksum.ok())
    return fail(::tfm::toStd(checksum.status().message()));
  written.checksum = *checksum;
  for (const std::pair<std::string, size_t> &named : names) {
    const PlacedWeight &w = placed[named.second];
    written.index.push_back(
        {named.first, w.shape, static_cast<int64_t>(w.offset), w.dtype});
  }
  return written;
}

void mlir::tfm::recordWeights(ModuleOp module, const WrittenWeights &weights) {
  module->setAttr(
      TfmDialect::kWeightsAttrName,
      StringAttr::get(module.getContext(),
                      weights.checksum + " " +
                          ::tfm::weightIndexChecksum(weights.index)));
}

FailureOr<std::vector<std::string>>
mlir::tfm::checkTokenizer(const std::string &modelDir, int64_t vocabSize) {
  absl::StatusOr<std::vector<std::string>> files =
      ::tfm::Tokenizer::filesIn(modelDir);
  if (!files.ok())
    return fail(llvm::Twine("tokenizer: ") +
                ::tfm::toStd(files.status().message()));
  if (files->empty())
    return *files;
  absl::StatusOr<std::unique_ptr<::tfm::Tokenizer>> tokenizer =
      ::tfm::Tokenizer::load(modelDir);
  if (!tokenizer.ok())
    return fail(llvm::Twine("tokenizer: ") +
                ::tfm::toStd(tokenizer.status().message()));
  if ((*tokenizer)->size() > vocabSize)
    return fail("tokenizer: " + modelDir + "'s tokenizer has ids up to " +
                llvm::Twine((*tokenizer)->size() - 1) +
                ", the model's vocabulary " + llvm::Twine(vocabSize) +
                " tokens");
  return *files;
}

FailureOr<CopiedTokenizer>
mlir::tfm::copyTokenizer(const std::string &modelDir,
                         const std::vector<std::string> &files,
                         const std::string &dir) {
  std::string target = dir + "/tokenizer";
  if (std::error_code ec = llvm::sys::fs::remove_directories(target))
    return fail("cannot remove '" + target + "': " + ec.message());
  CopiedTokenizer copied;
  if (files.empty())
    return copied;
  if (std::error_code ec = llvm::sys::fs::create_directories(target))
    return fail("cannot create '" + target + "': " + ec.message());
  for (const std::string &name : files) {
    std::string from = modelDir + "/" + name, to = target + "/" + name;
    if (std::error_code ec = llvm::sys::fs::copy_file(from, to))
      return fail("cannot copy '" + from + "' to '" + to +
                  "': " + ec.message());
    absl::StatusOr<std::string> hash = ::tfm::fileChecksum(to);
    if (!hash.ok())
      return fail(::tfm::toStd(hash.status().message()));
    copied.files.emplace_back(name, *hash);
  }
  absl::StatusOr<std::unique_ptr<::tfm::Tokenizer>> tokenizer =
      ::tfm::Tokenizer::load(target);
  if (!tokenizer.ok())
    return fail(llvm::Twine("tokenizer: ") +
                ::tfm::toStd(tokenizer.status().message()));
  copied.className = std::string((*tokenizer)->className());
  return copied;
}

LogicalResult mlir::tfm::writeModelJson(const std::string &dir,
                                        const ::tfm::ModelDirectory &source,
                                        const BuiltModel &model,
                                        const WrittenWeights &weights,
                                        llvm::StringRef weightType,
                                        const CopiedTokenizer &tokenizer) {
  const ::tfm::ModelConfig &config = source.config;
  const std::vector<PlacedWeight> &placed = weights.placed;
  const std::vector<std::pair<std::string, size_t>> &names = weights.names;
  // model.so's hash: a library other than the one this file was written
  // with is refused before it is loaded.
  absl::StatusOr<std::string> libraryChecksum =
      ::tfm::fileChecksum(dir + "/model.so");
  if (!libraryChecksum.ok())
    return fail(::tfm::toStd(libraryChecksum.status().message()));
  std::error_code ec;
  std::string jsonPath = dir + "/model.json";
  llvm::raw_fd_ostream out(jsonPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + jsonPath + "': " + ec.message());
  llvm::json::OStream j(out, 1);
  j.object([&] {
    j.attribute("format", "tfm-artifact");
    j.attribute("version", ::tfm::kArtifactVersion);
    j.attribute("library", "model.so");
    j.attribute("library_xxh3", *libraryChecksum);
    j.attribute("config", artifactConfig(config));
    j.attribute("source", source.format);
    j.attribute("weight_type", weightType);
    // Sampling defaults of the generation config: tfm-run's, not the
    // compiled code's.
    j.attributeObject("sampling", [&] {
      j.attribute("do_sample", config.doSample);
      j.attribute("temperature", config.temperature);
      j.attribute("top_k", config.topK);
      j.attribute("top_p", config.topP);
      j.attribute("repetition_penalty", config.repetitionPenalty);
    });
    if (!tokenizer.files.empty())
      j.attributeObject("tokenizer", [&] {
        j.attribute("class", tokenizer.className);
        j.attributeArray("files", [&] {
          for (const auto &file : tokenizer.files)
            j.object([&] {
              j.attribute("name", file.first);
              j.attribute("xxh3", file.second);
            });
        });
      });
    j.attributeObject("weights", [&] {
      j.attribute("file", "weights.bin");
      j.attribute("bytes", static_cast<int64_t>(weights.bytes));
      j.attribute("xxh3", weights.checksum);
      j.attributeArray("tensors", [&] {
        for (const std::pair<std::string, size_t> &named : names)
          j.object([&] {
            const PlacedWeight &w = placed[named.second];
            j.attribute("name", named.first);
            j.attributeArray("shape", [&] {
              for (int64_t d : w.shape)
                j.value(d);
            });
            j.attribute("offset", static_cast<int64_t>(w.offset));
            j.attribute("dtype", std::string(::tfm::dtypeName(w.dtype)));
            if (w.packedPanel)
              j.attribute("packed_panel", w.packedPanel);
          });
      });
    });
    j.attributeArray("entries", [&] {
      for (const EntryPoint &entry : model.entries)
        j.object([&] {
          j.attribute("name", entry.name);
          j.attributeArray("arguments", [&] {
            for (const EntryArgument &arg : entry.arguments)
              j.object([&] {
                j.attribute("name", arg.name);
                j.attribute("weight", arg.isWeight);
              });
          });
        });
    });
  });
  out << "\n";
  out.close();
  if (out.has_error())
    return fail("cannot write '" + jsonPath + "'");
  return success();
}
