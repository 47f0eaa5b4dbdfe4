//===- GraphBuilder.cpp - Model description to tfm IR ---------------------===//

#include "frontend/GraphBuilder.h"

#include "dialect/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Regex.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfm;
using ::tfm::ModelConfig;

namespace {

/// Builds one entry function; weights become arguments on first use.
class EntryBuilder {
public:
  EntryBuilder(OpBuilder &moduleBuilder, const ModelConfig &config,
               StringRef name)
      : config(config), ctx(moduleBuilder.getContext()),
        loc(NameLoc::get(StringAttr::get(ctx, name))), b(ctx) {
    func = moduleBuilder.create<func::FuncOp>(loc, name,
                                              FunctionType::get(ctx, {}, {}));
    entry.name = name.str();
    b.setInsertionPointToStart(func.addEntryBlock());
  }

  Value input(StringRef name, Type type) {
    entry.arguments.push_back({name.str(), false, {}});
    return func.getBody().addArgument(type, loc);
  }

  Value weight(const std::string &name, ArrayRef<int64_t> shape) {
    auto it = weights.find(name);
    if (it != weights.end())
      return it->second;
    entry.arguments.push_back({name, true, shape.vec()});
    Value arg = func.getBody().addArgument(
        RankedTensorType::get(shape, b.getF32Type()), loc);
    weights[name] = arg;
    return arg;
  }

  EntryPoint finish(Value result) {
    b.create<func::ReturnOp>(loc, result);
    func.setType(FunctionType::get(ctx, func.getBody().getArgumentTypes(),
                                   {result.getType()}));
    // Model parameters are marked: tfm-pack-weights packs them ahead of time.
    for (auto [i, arg] : llvm::enumerate(entry.arguments))
      if (arg.isWeight)
        func.setArgAttr(i, "tfm.weight", b.getStringAttr(arg.name));
    return std::move(entry);
  }

  //===--------------------------------------------------------------------===//
  // Types
  //===--------------------------------------------------------------------===//

  int64_t d() const { return config.dModel; }
  int64_t heads() const { return config.numHeads; }
  static constexpr int64_t kDyn = ShapedType::kDynamic;

  RankedTensorType act(int64_t width) {
    return RankedTensorType::get({kDyn, kDyn, width}, b.getF32Type());
  }
  RankedTensorType headsType() {
    return RankedTensorType::get({kDyn, heads(), kDyn, d() / heads()},
                                 b.getF32Type());
  }
  RankedTensorType scoresType() {
    return RankedTensorType::get({kDyn, heads(), kDyn, kDyn}, b.getF32Type());
  }
  static RankedTensorType idsType(MLIRContext *ctx) {
    return RankedTensorType::get({kDyn, kDyn}, IntegerType::get(ctx, 32));
  }
  static RankedTensorType lengthsType(MLIRContext *ctx) {
    return RankedTensorType::get({kDyn}, IntegerType::get(ctx, 32));
  }

  //===--------------------------------------------------------------------===//
  // Blocks
  //===--------------------------------------------------------------------===//

  /// embedding * sqrt(d) (optional) + positions.
  Value embed(Value ids, StringRef side, int64_t vocab) {
    Value table = weight((side + "_embed.weight").str(), {vocab, d()});
    Value x = b.create<EmbeddingOp>(loc, act(d()), ids, table);
    if (config.embedScale)
      x = b.create<ScaleOp>(loc, x, b.getF32FloatAttr(std::sqrt(double(d()))));
    Value positions;
    if (config.positionalEncoding == ::tfm::PositionalEncoding::Learned)
      positions =
          weight((side + "_pos_embed.weight").str(), {config.maxSeqLen, d()});
    return b.create<PositionalEncodingOp>(loc, x, positions);
  }

  Value linear(const std::string &prefix, Value x, int64_t in, int64_t out) {
    Value w = weight(prefix + ".weight", {out, in});
    Value bias = weight(prefix + ".bias", {out});
    return b.create<LinearOp>(loc, act(out), x, w, bias);
  }

  Value layerNorm(const std::string &prefix, Value x) {
    Value w = weight(prefix + ".weight", {d()});
    Value bias = weight(prefix + ".bias", {d()});
    return b.create<LayerNormOp>(
        loc, x, w, bias,
        b.getF32FloatAttr(static_cast<float>(config.layerNormEps)));
  }

  /// Multi-head attention written out: projections, QKᵀ, scale, masks,
  /// softmax, ·V, merge, output projection.
  Value attention(const std::string &prefix, Value query, Value keyValue,
                  Value keyLengths, bool causal) {
    auto project = [&](StringRef which, Value x) {
      Value p = linear(prefix + "." + which.str() + "_proj", x, d(), d());
      return b.create<SplitHeadsOp>(loc, headsType(), p,
                                    b.getI64IntegerAttr(heads()));
    };
    Value q = project("q", query);
    Value k = project("k", keyValue);
    Value v = project("v", keyValue);
    Value s = b.create<MatmulOp>(loc, scoresType(), q, k, b.getUnitAttr());
    double headDim = double(d() / heads());
    s = b.create<ScaleOp>(loc, s, b.getF32FloatAttr(1.0 / std::sqrt(headDim)));
    s = b.create<MaskOp>(loc, MaskKind::KeyPadding, s, keyLengths);
    if (causal)
      s = b.create<MaskOp>(loc, MaskKind::Causal, s, Value());
    Value p = b.create<SoftmaxOp>(loc, s, b.getI64IntegerAttr(-1));
    Value o = b.create<MatmulOp>(loc, headsType(), p, v, UnitAttr());
    Value merged = b.create<MergeHeadsOp>(loc, act(d()), o);
    return linear(prefix + ".out_proj", merged, d(), d());
  }

  Value feedForward(const std::string &prefix, Value x) {
    Value h = linear(prefix + ".linear1", x, d(), config.dFF);
    if (config.activation == ::tfm::Activation::Gelu)
      h = b.create<GeluOp>(loc, h);
    else
      h = b.create<ReluOp>(loc, h);
    return linear(prefix + ".linear2", h, config.dFF, d());
  }

  /// A residual sub-layer in the configured order: post-norm
  /// `norm(x + f(x))`, or pre-norm `x + f(norm(x))`.
  Value residual(const std::string &norm, Value x,
                 function_ref<Value(Value)> sublayer) {
    if (config.normFirst)
      return b.create<AddOp>(loc, x, sublayer(layerNorm(norm, x)));
    return layerNorm(norm, b.create<AddOp>(loc, x, sublayer(x)));
  }

  /// Self-attention + FFN (encoder layers, decoder-only layers).
  Value selfAttentionLayer(const std::string &prefix, Value x, Value lengths,
                           bool causal) {
    x = residual(prefix + ".norm1", x, [&](Value in) {
      return attention(prefix + ".self_attn", in, in, lengths, causal);
    });
    return residual(prefix + ".norm2", x,
                    [&](Value in) { return feedForward(prefix, in); });
  }

  /// Causal self-attention, cross-attention, FFN.
  Value crossAttentionLayer(const std::string &prefix, Value y,
                            Value tgtLengths, Value memory, Value srcLengths) {
    y = residual(prefix + ".norm1", y, [&](Value in) {
      return attention(prefix + ".self_attn", in, in, tgtLengths, true);
    });
    y = residual(prefix + ".norm2", y, [&](Value in) {
      return attention(prefix + ".multihead_attn", in, memory, srcLengths,
                       false);
    });
    return residual(prefix + ".norm3", y,
                    [&](Value in) { return feedForward(prefix, in); });
  }

  Value finalNorm(StringRef stack, Value x) {
    return config.finalNorm ? layerNorm((stack + ".norm").str(), x) : x;
  }

  OpBuilder &builder() { return b; }

private:
  const ModelConfig &config;
  MLIRContext *ctx;
  Location loc;
  OpBuilder b;
  func::FuncOp func;
  EntryPoint entry;
  llvm::StringMap<Value> weights;
};

} // namespace

BuiltModel mlir::tfm::buildModel(MLIRContext &context,
                                 const ModelConfig &config) {
  context.loadDialect<TfmDialect, func::FuncDialect>();
  BuiltModel model;
  model.module = ModuleOp::create(UnknownLoc::get(&context));
  OpBuilder mb(&context);
  mb.setInsertionPointToEnd(model.module->getBody());
  auto ids = EntryBuilder::idsType(&context);
  auto lengths = EntryBuilder::lengthsType(&context);
  using ::tfm::Architecture;
  bool hasEncoder = config.architecture != Architecture::Decoder;
  bool hasDecoder = config.architecture != Architecture::Encoder;
  bool crossAttention = config.architecture == Architecture::EncoderDecoder;

  if (hasEncoder) {
    EntryBuilder e(mb, config, "encode");
    Value src = e.input("src_ids", ids);
    Value srcLengths = e.input("src_lengths", lengths);
    Value x = e.embed(src, "src", config.srcVocabSize);
    for (int64_t i = 0; i < config.numEncoderLayers; ++i)
      x = e.selfAttentionLayer("encoder.layers." + std::to_string(i), x,
                               srcLengths, /*causal=*/false);
    model.entries.push_back(e.finish(e.finalNorm("encoder", x)));
  }

  if (hasDecoder) {
    EntryBuilder e(mb, config, "decode");
    Value tgt = e.input("tgt_ids", ids);
    Value tgtLengths = e.input("tgt_lengths", lengths);
    Value memory, srcLengths;
    if (crossAttention) {
      memory = e.input("memory", e.act(config.dModel));
      srcLengths = e.input("src_lengths", lengths);
    }
    Value y = e.embed(tgt, "tgt", config.tgtVocabSize);
    for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
      std::string prefix = "decoder.layers." + std::to_string(i);
      y = crossAttention
              ? e.crossAttentionLayer(prefix, y, tgtLengths, memory, srcLengths)
              : e.selfAttentionLayer(prefix, y, tgtLengths,
                                     /*causal=*/true);
    }
    y = e.finalNorm("decoder", y);
    Value logits = e.linear("generator", y, config.dModel, config.tgtVocabSize);
    model.entries.push_back(e.finish(logits));
  }
  return model;
}

WeightSource mlir::tfm::resolveWeight(const std::string &name, int64_t dModel) {
  static const llvm::Regex split("^(.*)\\.([qkv])_proj\\.(weight|bias)$");
  SmallVector<StringRef> m;
  if (!split.match(name, &m))
    return {name, 0, -1};
  int64_t index = m[2] == "q" ? 0 : m[2] == "k" ? 1 : 2;
  return {(m[1] + ".in_proj_" + m[3]).str(), index * dModel,
          (index + 1) * dModel};
}
