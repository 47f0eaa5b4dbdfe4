//===- Artifact.cpp - What tfmc writes for a model ------------------------===//

#include "tools/tfmc/Artifact.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

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
struct PlacedWeight {
  std::string name;
  std::vector<int64_t> shape; // as stored
  uint64_t offset;
  const char *data;    // as the model description has it
  uint64_t bytes;      // as stored
  int64_t packedPanel; // 0: stored as is
  std::vector<int64_t> sourceShape;
};

/// `weight` [n, k] (f32, as stored in the safetensors file, which does not
/// guarantee float alignment: read with memcpy) in tfm.pack_weight's layout:
/// [ceil(n / panel)][k][panel], zero past the last row.
std::vector<float> packPanels(const char *weight, int64_t n, int64_t k,
                              int64_t panel) {
  int64_t panels = (n + panel - 1) / panel;
  std::vector<float> packed(panels * k * panel, 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      std::memcpy(&packed[((row / panel) * k + col) * panel + row % panel],
                  weight + (row * k + col) * sizeof(float), sizeof(float));
  return packed;
}
} // namespace

void mlir::tfm::recordPackedWeights(ModuleOp module, BuiltModel &model) {
  for (EntryPoint &entry : model.entries) {
    auto func = module.lookupSymbol<func::FuncOp>(entry.name);
    if (!func)
      continue;
    for (auto [i, arg] : llvm::enumerate(entry.arguments))
      if (auto panel = func.getArgAttrOfType<IntegerAttr>(i, "tfm.packed"))
        arg.packedPanel = panel.getInt();
  }
}

LogicalResult mlir::tfm::writeArtifactData(
    const std::string &dir, const ::tfm::ModelConfig &config,
    const BuiltModel &model, const ::tfm::SafetensorsFile &weights) {
  // Place every weight once, in first-use order.
  std::vector<PlacedWeight> placed;
  llvm::StringMap<size_t> index;
  uint64_t end = 0;
  for (const EntryPoint &entry : model.entries) {
    for (const EntryArgument &arg : entry.arguments) {
      if (!arg.isWeight)
        continue;
      if (auto it = index.find(arg.name); it != index.end()) {
        // Stored once: every entry must want it in the same layout.
        if (placed[it->second].packedPanel != arg.packedPanel)
          return fail("weight '" + arg.name + "' is packed with panel " +
                      llvm::Twine(placed[it->second].packedPanel) +
                      " for one entry and " + llvm::Twine(arg.packedPanel) +
                      " for '" + entry.name + "'");
        continue;
      }
      WeightSource source = resolveWeight(arg.name, config.dModel);
      const ::tfm::SafetensorsTensor *tensor = weights.find(source.tensor);
      if (!tensor)
        return fail("weight '" + source.tensor + "' (for '" + arg.name +
                    "') is missing");
      int64_t rows = tensor->shape.empty() ? 1 : tensor->shape[0];
      uint64_t rowBytes = rows ? tensor->byteSize / rows : 0;
      int64_t rowEnd = source.rowEnd < 0 ? rows : source.rowEnd;
      uint64_t bytes = (rowEnd - source.rowBegin) * rowBytes;
      uint64_t expected = sizeof(float);
      for (int64_t d : arg.shape)
        expected *= d;
      if (bytes != expected)
        return fail("weight '" + arg.name + "' takes " + llvm::Twine(bytes) +
                    " bytes of '" + source.tensor + "', expected " +
                    llvm::Twine(expected));
      std::vector<int64_t> shape = arg.shape;
      if (arg.packedPanel) {
        if (shape.size() != 2)
          return fail("weight '" + arg.name + "' is packed but not a matrix");
        int64_t panels = (shape[0] + arg.packedPanel - 1) / arg.packedPanel;
        shape = {panels, shape[1], arg.packedPanel};
        bytes = sizeof(float) * panels * shape[1] * arg.packedPanel;
      }
      uint64_t offset = llvm::alignTo(end, kWeightAlignment);
      index[arg.name] = placed.size();
      placed.push_back(
          {arg.name, shape, offset,
           static_cast<const char *>(tensor->data) + source.rowBegin * rowBytes,
           bytes, arg.packedPanel, arg.shape});
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
    bin.write_zeros(w.offset - pos);
    if (w.packedPanel) {
      std::vector<float> packed =
          packPanels(w.data, w.sourceShape[0], w.sourceShape[1], w.packedPanel);
      bin.write(reinterpret_cast<const char *>(packed.data()), w.bytes);
    } else {
      bin.write(w.data, w.bytes);
    }
    pos = w.offset + w.bytes;
  }
  bin.close();
  if (bin.has_error())
    return fail("cannot write '" + binPath + "'");

  std::string jsonPath = dir + "/model.json";
  llvm::raw_fd_ostream out(jsonPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + jsonPath + "': " + ec.message());
  llvm::json::OStream j(out, 1);
  j.object([&] {
    j.attribute("format", "tfm-artifact");
    j.attribute("version", ::tfm::kArtifactVersion);
    j.attribute("library", "model.so");
    j.attributeObject("config", [&] {
      j.attribute("architecture",
                  std::string(::tfm::architectureName(config.architecture)));
      j.attribute("d_model", config.dModel);
      j.attribute("num_heads", config.numHeads);
      j.attribute("src_vocab_size", config.srcVocabSize);
      j.attribute("tgt_vocab_size", config.tgtVocabSize);
      j.attribute("max_seq_len", config.maxSeqLen);
      j.attribute("pad_id", config.padId);
      j.attribute("bos_id", config.bosId);
      j.attribute("eos_id", config.eosId);
    });
    j.attributeObject("weights", [&] {
      j.attribute("file", "weights.bin");
      j.attribute("bytes", static_cast<int64_t>(end));
      j.attributeArray("tensors", [&] {
        for (const PlacedWeight &w : placed)
          j.object([&] {
            j.attribute("name", w.name);
            j.attributeArray("shape", [&] {
              for (int64_t d : w.shape)
                j.value(d);
            });
            j.attribute("offset", static_cast<int64_t>(w.offset));
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
