//===- GraphBuilder.cpp - Model description to tfm IR ---------------------===//

#include "frontend/GraphBuilder.h"

#include "dialect/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

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

  Value input(StringRef name, Type type, bool inout = false) {
    EntryArgument arg;
    arg.name = name.str();
    arg.inout = inout;
    entry.arguments.push_back(std::move(arg));
    return func.getBody().addArgument(type, loc);
  }

  Value weight(const std::string &name, ArrayRef<int64_t> shape) {
    auto it = weights.find(name);
    if (it != weights.end())
      return it->second;
    EntryArgument arg;
    arg.name = name;
    arg.isWeight = true;
    arg.shape = shape.vec();
    entry.arguments.push_back(std::move(arg));
    Value value = func.getBody().addArgument(
        RankedTensorType::get(shape, b.getF32Type()), loc);
    weights[name] = value;
    return value;
  }

  /// Returns `results`, then the new value of each inout input, in order.
  EntryPoint finish(ValueRange results) {
    SmallVector<Value> returned(results);
    for (auto [name, value] : updated)
      returned.push_back(value);
    b.create<func::ReturnOp>(loc, returned);
    func.setType(FunctionType::get(ctx, func.getBody().getArgumentTypes(),
                                   ValueRange(returned).getTypes()));
    // Model parameters are marked: tfm-pack-weights packs them ahead of time.
    // Inout inputs are marked for tfm-export-entry-points.
    for (auto [i, arg] : llvm::enumerate(entry.arguments)) {
      if (arg.isWeight)
        func.setArgAttr(i, TfmDialect::kWeightAttrName,
                        b.getStringAttr(arg.name));
      if (arg.inout)
        func.setArgAttr(i, TfmDialect::kInoutAttrName, b.getUnitAttr());
    }
    return std::move(entry);
  }

  /// A KV cache: an inout input whose new value the entry returns.
  Value cache(const std::string &name) {
    Value arg = input(name, cacheType(), /*inout=*/true);
    updated.push_back({name, arg});
    return arg;
  }

  /// Writes `rows` into cache `name` at `positions`; later reads of the cache
  /// see them.
  Value appendToCache(const std::string &name, Value rows, Value positions) {
    for (auto &[cacheName, value] : updated) {
      if (cacheName != name)
        continue;
      value = b.create<CacheUpdateOp>(loc, value, rows, positions);
      return value;
    }
    llvm_unreachable("appending to a cache that is not an input");
  }

  //===--------------------------------------------------------------------===//
  // Types
  //===--------------------------------------------------------------------===//

  int64_t d() const { return config.dModel; }
  int64_t heads() const { return config.numHeads; }
  int64_t kvHeads() const { return config.kvHeads(); }
  int64_t headDim() const { return config.headDim(); }
  static constexpr int64_t kDyn = ShapedType::kDynamic;

  RankedTensorType act(int64_t width) {
    return RankedTensorType::get({kDyn, kDyn, width}, b.getF32Type());
  }
  RankedTensorType headsType(int64_t count) {
    return RankedTensorType::get({kDyn, count, kDyn, headDim()},
                                 b.getF32Type());
  }
  /// A KV cache: the key/value heads.
  RankedTensorType cacheType() { return headsType(kvHeads()); }
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

  /// embedding * sqrt(d) (optional) + positions (from `offsets[b]` on, when
  /// given) [+ token type embeddings of `types`] [, then a LayerNorm].
  Value embed(Value ids, StringRef side, int64_t vocab, Value offsets = Value(),
              Value types = Value()) {
    Value table = weight(embeddingName(side), {vocab, d()});
    Value x =
        b.create<EmbeddingOp>(loc, act(d()), ids, table, /*scales=*/Value());
    if (config.embedScale)
      x = b.create<ScaleOp>(loc, x, b.getF32FloatAttr(std::sqrt(double(d()))));
    using ::tfm::PositionalEncoding;
    if (config.positionalEncoding != PositionalEncoding::Rotary) {
      Value positions;
      if (config.positionalEncoding == PositionalEncoding::Learned)
        positions =
            weight((side + "_pos_embed.weight").str(), {config.maxSeqLen, d()});
      x = b.create<PositionalEncodingOp>(loc, x, positions, offsets);
    }
    if (types) {
      Value typeTable = weight((side + "_type_embed.weight").str(),
                               {config.typeVocabSize, d()});
      x = b.create<AddOp>(loc, x,
                          b.create<EmbeddingOp>(loc, act(d()), types, typeTable,
                                                /*scales=*/Value()));
    }
    if (config.embeddingNorm)
      x = norm((side + "_embed_norm").str(), x);
    return x;
  }

  /// The embedding table of `side` ("src", "tgt"): one name for a shared
  /// table.
  std::string embeddingName(StringRef side) const {
    if (config.sharedEmbeddings)
      return "tgt_embed.weight";
    return (side + "_embed.weight").str();
  }

  /// The logits projection over `vocab`, from `side`'s hidden states: its
  /// own weight, or the side's embedding table when tied.
  Value generator(Value x, StringRef side, int64_t vocab) {
    std::string w =
        config.tiedEmbeddings ? embeddingName(side) : "generator.weight";
    return linear(w, config.generatorBias ? "generator.bias" : "", x, d(),
                  vocab);
  }

  /// Linear layer `prefix` (`prefix.weight`, and `prefix.bias` if `bias`).
  Value linear(const std::string &prefix, Value x, int64_t in, int64_t out,
               bool bias = true) {
    return linear(prefix + ".weight", bias ? prefix + ".bias" : "", x, in, out);
  }

  /// A linear layer of weight `weightName` [out, in] and bias `biasName`
  /// [out] (none when empty).
  Value linear(const std::string &weightName, const std::string &biasName,
               Value x, int64_t in, int64_t out) {
    Value w = weight(weightName, {out, in});
    Value bias = biasName.empty() ? Value() : weight(biasName, {out});
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = out;
    return b.create<LinearOp>(loc, RankedTensorType::get(shape, b.getF32Type()),
                              x, w, bias);
  }

  /// The configured activation (FFN, masked-LM head).
  Value activation(Value x) {
    switch (config.activation) {
    case ::tfm::Activation::Relu:
      return b.create<ReluOp>(loc, x);
    case ::tfm::Activation::Gelu:
      return b.create<GeluOp>(loc, x);
    case ::tfm::Activation::GeluTanh:
      return b.create<GeluTanhOp>(loc, x);
    case ::tfm::Activation::Silu:
      return b.create<SiluOp>(loc, x);
    }
    llvm_unreachable("unknown activation");
  }

  /// The configured normalization `prefix`: LayerNorm (`prefix.weight`,
  /// `prefix.bias`) or RMSNorm (`prefix.weight`).
  Value norm(const std::string &prefix, Value x) {
    Value w = weight(prefix + ".weight", {d()});
    FloatAttr eps = b.getF32FloatAttr(static_cast<float>(config.layerNormEps));
    if (config.norm == ::tfm::NormKind::RmsNorm)
      return b.create<RmsNormOp>(loc, x, w, eps);
    Value bias = weight(prefix + ".bias", {d()});
    return b.create<LayerNormOp>(loc, x, w, bias, eps);
  }

  /// The heads of projection `which` (q: the query heads; k or v: the
  /// key/value heads) of `x`.
  Value project(const std::string &prefix, StringRef which, Value x) {
    int64_t count = which == "q" ? heads() : kvHeads();
    Value p = linear(prefix + "." + which.str() + "_proj", x, d(),
                     count * headDim(), config.attentionBias);
    return b.create<SplitHeadsOp>(loc, headsType(count), p,
                                  b.getI64IntegerAttr(count));
  }

  /// Rotary positions on the heads `x`: token s of sequence b at
  /// offsets[b] + s (s without offsets).
  Value rotate(Value x, Value offsets) {
    if (config.positionalEncoding != ::tfm::PositionalEncoding::Rotary)
      return x;
    return b.create<RotaryOp>(
        loc, x, offsets,
        b.getF32FloatAttr(static_cast<float>(config.ropeTheta)));
  }

  /// Scaled dot-product attention written out (QKᵀ, scale, masks, softmax,
  /// ·V), heads merged, output projection.
  Value attend(const std::string &prefix, Value q, Value k, Value v,
               Value keyLengths, bool causal) {
    // Grouped-query attention: each key/value head repeated for its group
    // of query heads (tfm-fuse-attention reads them unrepeated).
    if (kvHeads() != heads()) {
      auto repeat = [&](Value kv) {
        return b.create<RepeatHeadsOp>(
            loc, headsType(heads()), kv,
            b.getI64IntegerAttr(heads() / kvHeads()));
      };
      k = repeat(k);
      v = repeat(v);
    }
    Value s = b.create<MatmulOp>(loc, scoresType(), q, k, b.getUnitAttr());
    double scale =
        config.scaleAttention ? 1.0 / std::sqrt(double(headDim())) : 1.0;
    s = b.create<ScaleOp>(loc, s, b.getF32FloatAttr(scale));
    s = b.create<MaskOp>(loc, MaskKind::KeyPadding, s, keyLengths);
    if (causal)
      s = b.create<MaskOp>(loc, MaskKind::Causal, s, Value());
    Value p = b.create<SoftmaxOp>(loc, s, b.getI64IntegerAttr(-1));
    Value o = b.create<MatmulOp>(loc, headsType(heads()), p, v, UnitAttr());
    int64_t width = heads() * headDim();
    Value merged = b.create<MergeHeadsOp>(loc, act(width), o);
    return linear(prefix + ".out_proj", merged, width, d(),
                  config.attentionBias);
  }

  /// Multi-head attention of `query` over `keyValue`.
  Value attention(const std::string &prefix, Value query, Value keyValue,
                  Value keyLengths, bool causal) {
    Value q = project(prefix, "q", query);
    Value k = project(prefix, "k", keyValue);
    Value v = project(prefix, "v", keyValue);
    return attend(prefix, q, k, v, keyLengths, causal);
  }

  /// linear2(act(linear1(x))), or gated: linear2(act(gate_proj(x)) *
  /// linear1(x)).
  Value feedForward(const std::string &prefix, Value x) {
    bool bias = config.feedForwardBias;
    Value h = linear(prefix + ".linear1", x, d(), config.dFF, bias);
    if (config.gatedFeedForward)
      h = b.create<MulOp>(
          loc,
          activation(linear(prefix + ".gate_proj", x, d(), config.dFF, bias)),
          h);
    else
      h = activation(h);
    return linear(prefix + ".linear2", h, config.dFF, d(), bias);
  }

  /// A residual sub-layer in the configured order: post-norm
  /// `norm(x + f(x))`, or pre-norm `x + f(norm(x))`.
  Value residual(const std::string &norm, Value x,
                 function_ref<Value(Value)> sublayer) {
    if (config.normFirst)
      return b.create<AddOp>(loc, x, sublayer(this->norm(norm, x)));
    return this->norm(norm, b.create<AddOp>(loc, x, sublayer(x)));
  }

  /// How a decoder layer's self-attention meets the KV cache of layer
  /// `layer`: not at all (a whole-sequence pass), by writing its keys and
  /// values there (prefill), or by attending over the cache after appending
  /// to it (a step).
  /// Extend: a prompt continued after what the caches hold (one sequence,
  /// or sequences whose caches hold the same number of tokens): written at
  /// `positions`, attending causally over the cache up to `keyLengths`.
  enum class CacheUse { None, Write, Attend, Extend };
  struct SelfAttentionCache {
    CacheUse use = CacheUse::None;
    int64_t layer = 0;
    Value positions;
    Value keyLengths;
  };

  /// The first `keyLengths[0]` positions of cache `kv` ([batch, kv heads,
  /// capacity, head_dim]).
  Value cachePrefix(Value kv, Value keyLengths) {
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value length = b.create<arith::IndexCastOp>(
        loc, b.getIndexType(),
        b.create<tensor::ExtractOp>(loc, keyLengths, ValueRange{zero}));
    Value batch = b.create<tensor::DimOp>(loc, kv, zero);
    SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes{batch, b.getIndexAttr(kvHeads()), length,
                                    b.getIndexAttr(headDim())};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    return b.create<tensor::ExtractSliceOp>(loc, cacheType(), kv, offsets,
                                           sizes, strides);
  }

  /// Self-attention over `x`, through the cache as `cache` says.
  Value selfAttention(const std::string &prefix, Value x, Value lengths,
                      bool causal, const SelfAttentionCache &cache) {
    std::string attn = prefix + ".self_attn";
    // Rotary positions: from 0, or from each sequence's position in its
    // cache.
    Value offsets = cache.use == CacheUse::None ? Value() : cache.positions;
    Value q = rotate(project(attn, "q", x), offsets);
    Value k = rotate(project(attn, "k", x), offsets);
    Value v = project(attn, "v", x);
    if (cache.use == CacheUse::None)
      return attend(attn, q, k, v, lengths, causal);
    std::string layer = std::to_string(cache.layer);
    Value kc = appendToCache("self_k." + layer, k, cache.positions);
    Value vc = appendToCache("self_v." + layer, v, cache.positions);
    if (cache.use == CacheUse::Write)
      return attend(attn, q, k, v, lengths, causal);
    // The new queries see the cache's earlier tokens and, causally, each
    // other: the causal triangle is aligned to the end of the keys.
    if (cache.use == CacheUse::Extend)
      return attend(attn, q, cachePrefix(kc, cache.keyLengths),
                    cachePrefix(vc, cache.keyLengths), cache.keyLengths,
                    /*causal=*/true);
    // Each sequence sees its cache up to its own length: the causal
    // triangle is implicit for one new token.
    return attend(attn, q, kc, vc, lengths, /*causal=*/false);
  }

  /// Self-attention + FFN (encoder layers, decoder-only layers).
  Value selfAttentionLayer(const std::string &prefix, Value x, Value lengths,
                           bool causal, const SelfAttentionCache &cache) {
    x = residual(prefix + ".norm1", x, [&](Value in) {
      return selfAttention(prefix, in, lengths, causal, cache);
    });
    return residual(prefix + ".norm2", x,
                    [&](Value in) { return feedForward(prefix, in); });
  }

  /// Where cross-attention finds the encoder side: the encoder output
  /// (`memory`), or its keys and values projected once, per layer.
  struct CrossSource {
    Value memory, srcLengths;
    SmallVector<Value> keys, values;
  };

  /// Causal self-attention, cross-attention, FFN.
  Value crossAttentionLayer(const std::string &prefix, Value y,
                            Value tgtLengths, const CrossSource &source,
                            const SelfAttentionCache &cache) {
    y = residual(prefix + ".norm1", y, [&](Value in) {
      return selfAttention(prefix, in, tgtLengths, /*causal=*/true, cache);
    });
    y = residual(prefix + ".norm2", y, [&](Value in) {
      std::string attn = prefix + ".multihead_attn";
      if (source.memory)
        return attention(attn, in, source.memory, source.srcLengths, false);
      return attend(attn, project(attn, "q", in), source.keys[cache.layer],
                    source.values[cache.layer], source.srcLengths, false);
    });
    return residual(prefix + ".norm3", y,
                    [&](Value in) { return feedForward(prefix, in); });
  }

  Value finalNorm(StringRef stack, Value x) {
    return config.finalNorm ? norm((stack + ".norm").str(), x) : x;
  }

  /// The self-attention caches of every decoder layer, as inout inputs
  /// (self_k.0, self_v.0, self_k.1, ...).
  void declareCaches() {
    for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
      cache("self_k." + std::to_string(i));
      cache("self_v." + std::to_string(i));
    }
  }

  /// The decoder from token ids to logits. With `use` Attend, `tgt` holds
  /// one new token per sequence, at `positions`; `lengths` are then the
  /// cache lengths after it.
  Value decoderStack(Value tgt, Value lengths, const CrossSource &cross,
                     CacheUse use, Value positions,
                     Value keyLengths = Value()) {
    Value offsets =
        use == CacheUse::Attend || use == CacheUse::Extend ? positions : Value();
    Value y = embed(tgt, "tgt", config.tgtVocabSize, offsets);
    bool crossAttention = cross.memory || !cross.keys.empty();
    for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
      std::string prefix = "decoder.layers." + std::to_string(i);
      SelfAttentionCache cache{use, i, positions, keyLengths};
      y = crossAttention
              ? crossAttentionLayer(prefix, y, lengths, cross, cache)
              : selfAttentionLayer(prefix, y, lengths, /*causal=*/true, cache);
    }
    // A prompt pass predicts each sequence's next token: the norm and the
    // logits of its last position only.
    if (use == CacheUse::Write || use == CacheUse::Extend)
      y = b.create<LastTokenOp>(
          loc, RankedTensorType::get({kDyn, 1, d()}, b.getF32Type()), y,
          lengths);
    y = finalNorm("decoder", y);
    return generator(y, "tgt", config.tgtVocabSize);
  }

  /// A masked-LM head over the encoder's hidden states: dense, activation,
  /// LayerNorm, then the (tied) projection to the vocabulary.
  Value maskedLMHead(Value x) {
    x = activation(linear("mlm.dense", x, d(), d()));
    x = norm("mlm.norm", x);
    return generator(x, "src", config.srcVocabSize);
  }

  /// BERT's pooler: tanh(dense(hidden[:, 0])), [batch, d].
  Value pooler(Value hidden) {
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value batch = b.create<tensor::DimOp>(loc, hidden, zero);
    SmallVector<OpFoldResult> offsets(3, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes{batch, b.getIndexAttr(1),
                                    b.getIndexAttr(d())};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto rows = RankedTensorType::get({kDyn, d()}, b.getF32Type());
    Value first = b.create<tensor::ExtractSliceOp>(loc, rows, hidden, offsets,
                                                   sizes, strides);
    return b.create<TanhOp>(loc, linear("pooler", first, d(), d()));
  }

  OpBuilder &builder() { return b; }

private:
  /// Inout inputs by name, with the latest value written to each.
  SmallVector<std::pair<std::string, Value>> updated;
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
  context.loadDialect<TfmDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
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

  using ::tfm::EncoderHead;
  if (hasEncoder) {
    EntryBuilder e(mb, config, "encode");
    Value src = e.input("src_ids", ids);
    Value srcLengths = e.input("src_lengths", lengths);
    Value types = config.typeVocabSize ? e.input("src_types", ids) : Value();
    Value x = e.embed(src, "src", config.srcVocabSize, Value(), types);
    for (int64_t i = 0; i < config.numEncoderLayers; ++i)
      x = e.selfAttentionLayer("encoder.layers." + std::to_string(i), x,
                               srcLengths, /*causal=*/false, {});
    x = e.finalNorm("encoder", x);
    if (!crossAttention && config.encoderHead == EncoderHead::MaskedLM)
      x = e.maskedLMHead(x);
    model.entries.push_back(e.finish(ValueRange{x}));
  }
  if (!crossAttention && config.encoderHead == EncoderHead::Pooler) {
    EntryBuilder e(mb, config, "pool");
    Value hidden = e.input("hidden", e.act(config.dModel));
    model.entries.push_back(e.finish(ValueRange{e.pooler(hidden)}));
  }

  using CacheUse = EntryBuilder::CacheUse;
  if (hasDecoder) {
    EntryBuilder e(mb, config, "decode");
    Value tgt = e.input("tgt_ids", ids);
    Value tgtLengths = e.input("tgt_lengths", lengths);
    EntryBuilder::CrossSource cross;
    if (crossAttention) {
      cross.memory = e.input("memory", e.act(config.dModel));
      cross.srcLengths = e.input("src_lengths", lengths);
    }
    model.entries.push_back(e.finish(
        e.decoderStack(tgt, tgtLengths, cross, CacheUse::None, Value())));
  }

  // Decoding with a KV cache: cross-attention keys and values once per
  // input, a prompt in one pass, then one token per step.
  if (crossAttention) {
    EntryBuilder e(mb, config, "cross_kv");
    Value memory = e.input("memory", e.act(config.dModel));
    SmallVector<Value> kv;
    for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
      std::string attn =
          "decoder.layers." + std::to_string(i) + ".multihead_attn";
      kv.push_back(e.project(attn, "k", memory));
      kv.push_back(e.project(attn, "v", memory));
    }
    model.entries.push_back(e.finish(kv));
  }
  if (hasDecoder && !crossAttention) {
    EntryBuilder e(mb, config, "prefill");
    Value tgt = e.input("tgt_ids", ids);
    Value tgtLengths = e.input("tgt_lengths", lengths);
    Value positions = e.input("positions", lengths);
    e.declareCaches();
    model.entries.push_back(e.finish(
        e.decoderStack(tgt, tgtLengths, {}, CacheUse::Write, positions)));
  }
  if (hasDecoder && !crossAttention) {
    // A prompt continued after the tokens a cache holds (a conversation's
    // next turn): written from `positions`, attending over the cache up to
    // `key_lengths` (positions + the prompt's length). The cache is read
    // up to key_lengths[0], so the sequences of one call must hold the
    // same number of tokens (the runtime calls it for one).
    EntryBuilder e(mb, config, "extend");
    Value tgt = e.input("tgt_ids", ids);
    Value tgtLengths = e.input("tgt_lengths", lengths);
    Value positions = e.input("positions", lengths);
    Value keyLengths = e.input("key_lengths", lengths);
    e.declareCaches();
    model.entries.push_back(e.finish(e.decoderStack(
        tgt, tgtLengths, {}, CacheUse::Extend, positions, keyLengths)));
  }
  if (hasDecoder) {
    EntryBuilder e(mb, config, "step");
    auto oneToken = RankedTensorType::get({ShapedType::kDynamic, 1},
                                          IntegerType::get(&context, 32));
    Value tgt = e.input("tgt_ids", oneToken);
    Value positions = e.input("positions", lengths);
    Value cacheLengths = e.input("cache_lengths", lengths);
    EntryBuilder::CrossSource cross;
    if (crossAttention) {
      cross.srcLengths = e.input("src_lengths", lengths);
      for (int64_t i = 0; i < config.numDecoderLayers; ++i) {
        std::string layer = std::to_string(i);
        cross.keys.push_back(e.input("cross_k." + layer, e.cacheType()));
        cross.values.push_back(e.input("cross_v." + layer, e.cacheType()));
      }
    }
    e.declareCaches();
    model.entries.push_back(e.finish(
        e.decoderStack(tgt, cacheLengths, cross, CacheUse::Attend, positions)));
  }
  return model;
}
