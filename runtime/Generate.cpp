//===- Generate.cpp - Running a compiled model on token sequences ---------===//

#include "runtime/Generate.h"
#include "runtime/Json.h"
#include "runtime/Status.h"
#include "runtime/StringViews.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unistd.h>

using namespace tfm;

absl::Status tfm::checkSequences(const Sequences &batch, int64_t vocab,
                                 int64_t maxLen, std::string_view what) {
  std::string name(what);
  if (batch.empty())
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty batch"));
  for (size_t b = 0; b < batch.size(); ++b) {
    const std::vector<int64_t> &seq = batch[b];
    if (seq.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(name, " sequence ", b, " is empty"));
    if (static_cast<int64_t>(seq.size()) > maxLen)
      return absl::InvalidArgumentError(
          absl::StrCat(name, " sequence ", b, " has ", seq.size(),
                       " tokens, more than max_seq_len ", maxLen));
    for (size_t t = 0; t < seq.size(); ++t)
      if (seq[t] < 0 || seq[t] >= vocab)
        return absl::InvalidArgumentError(
            absl::StrCat(name, " sequence ", b, " token ", t, ": id ", seq[t],
                         " is out of range [0, ", vocab, ")"));
  }
  return absl::OkStatus();
}

/// Reads one field of --inputs: an array of arrays of integers.
static absl::StatusOr<Sequences> readSequences(const json::Value &doc,
                                               std::string_view key,
                                               const std::string &path) {
  const json::Value *v = doc.find(key);
  Sequences out;
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": \"", toAbsl(key), "\" ", toAbsl(what)));
  };
  if (!v->isArray())
    return bad("must be an array of sequences (arrays of token ids)");
  for (const json::Value &seq : v->asArray()) {
    if (!seq.isArray())
      return bad("must be an array of sequences (arrays of token ids)");
    std::vector<int64_t> ids;
    for (const json::Value &id : seq.asArray()) {
      if (!id.isInt())
        return bad(absl::StrCat("sequence ", out.size(),
                                " holds a value that is not an integer id"));
      ids.push_back(id.asInt());
    }
    out.push_back(std::move(ids));
  }
  return out;
}

absl::StatusOr<BatchInputs> tfm::parseBatchInputs(std::string_view text,
                                                  const std::string &path) {
  absl::StatusOr<json::Value> doc = json::parse(text);
  if (!doc.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", doc.status().message()));
  if (!doc->isObject() || !doc->find("src"))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object with a \"src\" field"));
  for (const auto &[key, value] : doc->asObject())
    if (key != "src" && key != "tgt" && key != "token_type_ids")
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unknown field \"", key, "\""));
  BatchInputs batch;
  TFM_ASSIGN_OR_RETURN(batch.src, readSequences(*doc, "src", path));
  if (doc->find("tgt")) {
    TFM_ASSIGN_OR_RETURN(batch.tgt, readSequences(*doc, "tgt", path));
  }
  if (doc->find("token_type_ids")) {
    TFM_ASSIGN_OR_RETURN(batch.types,
                         readSequences(*doc, "token_type_ids", path));
  }
  return batch;
}

namespace {
/// A batch padded into a rectangle: ids [B, L] (pad_id past each length) and
/// lengths [B].
struct Padded {
  Tensor ids;
  Tensor lengths;
  int64_t width = 0;
};
} // namespace

static absl::StatusOr<Padded> pad(const Sequences &batch, int64_t padId) {
  Padded p;
  for (const auto &seq : batch)
    p.width = std::max<int64_t>(p.width, seq.size());
  int64_t b = batch.size();
  auto ids = Tensor::allocateUninitialized(DType::I32, {b, p.width});
  auto lengths = Tensor::allocateUninitialized(DType::I32, {b});
  if (!ids.ok())
    return ids.status();
  if (!lengths.ok())
    return lengths.status();
  int32_t *id = ids->data<int32_t>();
  for (int64_t i = 0; i < b; ++i) {
    const auto &seq = batch[i];
    for (int64_t t = 0; t < p.width; ++t)
      id[i * p.width + t] = static_cast<int32_t>(
          t < static_cast<int64_t>(seq.size()) ? seq[t] : padId);
    lengths->data<int32_t>()[i] = static_cast<int32_t>(seq.size());
  }
  p.ids = std::move(*ids);
  p.lengths = std::move(*lengths);
  return p;
}

/// Zeroes rows [length, L) of each batch element of a [B, L, N] tensor.
static void zeroPastLengths(Tensor &t, const Sequences &batch) {
  int64_t l = t.dim(1), n = t.dim(2);
  float *data = t.data<float>();
  for (size_t b = 0; b < batch.size(); ++b) {
    int64_t len = batch[b].size();
    std::memset(data + (b * l + len) * n, 0, (l - len) * n * sizeof(float));
  }
}

static absl::StatusOr<Tensor> single(absl::StatusOr<std::vector<Tensor>> r) {
  if (!r.ok())
    return r.status();
  if (r->size() != 1)
    return absl::InternalError("an entry returned more than one result");
  return std::move(r->front());
}

/// Runs the encoder; `types` (padded like `src`) where the model takes
/// token types, zeros when not given.
static absl::StatusOr<Tensor> encode(const Artifact &artifact,
                                     const Padded &src,
                                     const Tensor *types = nullptr) {
  NamedInputs inputs{{"src_ids", &src.ids}, {"src_lengths", &src.lengths}};
  Tensor zeros;
  if (artifact.config().typeVocabSize > 0) {
    if (!types) {
      TFM_ASSIGN_OR_RETURN(auto allocated,
                           Tensor::allocate(DType::I32, src.ids.shape()));
      zeros = std::move(allocated);
      types = &zeros;
    }
    inputs.push_back({"src_types", types});
  }
  return single(artifact.call("encode", inputs));
}

/// Checks that `types` has one type in [0, typeVocabSize) per token of
/// `src`.
static absl::Status checkTypes(const Sequences &types, const Sequences &src,
                               int64_t typeVocabSize) {
  if (typeVocabSize == 0)
    return absl::InvalidArgumentError(
        "\"token_type_ids\" given, but the model has no token types");
  if (types.size() != src.size())
    return absl::InvalidArgumentError(absl::StrCat("\"src\" has ", src.size(),
                                                   " sequences, "
                                                   "\"token_type_ids\" ",
                                                   types.size()));
  for (size_t b = 0; b < src.size(); ++b) {
    if (types[b].size() != src[b].size())
      return absl::InvalidArgumentError(
          absl::StrCat("token_type_ids sequence ", b, " has ", types[b].size(),
                       " types for ", src[b].size(), " tokens"));
    for (size_t t = 0; t < types[b].size(); ++t)
      if (types[b][t] < 0 || types[b][t] >= typeVocabSize)
        return absl::InvalidArgumentError(absl::StrCat(
            "token_type_ids sequence ", b, " token ", t, ": type ", types[b][t],
            " is out of range [0, ", typeVocabSize, ")"));
  }
  return absl::OkStatus();
}

/// The forward pass over one chunk of the batch.
static absl::StatusOr<Tensor> forwardChunk(const Artifact &artifact,
                                           const Sequences &src,
                                           const ForwardInputs &in) {
  const ArtifactConfig &c = artifact.config();
  bool encoderSide = c.architecture != ModelArchitecture::Decoder;
  TFM_RETURN_IF_ERROR(checkSequences(
      src, encoderSide ? c.srcVocabSize : c.tgtVocabSize, c.maxSeqLen, "src"));
  if (in.tgt && c.architecture != ModelArchitecture::EncoderDecoder)
    return absl::InvalidArgumentError(absl::StrCat(
        "\"tgt\" is for an encoder-decoder model; this one is ",
        c.architecture == ModelArchitecture::Encoder ? "encoder-only"
                                                     : "decoder-only"));
  if (in.pooled && !artifact.hasEntry("pool"))
    return absl::InvalidArgumentError(
        "the model has no pooler (only a BertModel saved with its pooler "
        "has one)");
  std::optional<Padded> types;
  if (in.types) {
    TFM_RETURN_IF_ERROR(checkTypes(*in.types, src, c.typeVocabSize));
    TFM_ASSIGN_OR_RETURN(auto padded, pad(*in.types, 0));
    types = std::move(padded);
  }
  TFM_ASSIGN_OR_RETURN(auto srcPadded, pad(src, c.padId));

  std::optional<BufferPoolScope> scope;
  if (in.pool)
    scope.emplace(in.pool);
  absl::StatusOr<Tensor> out;
  const Sequences *outLengths = &src;
  switch (c.architecture) {
  case ModelArchitecture::Encoder:
    out = encode(artifact, srcPadded, types ? &types->ids : nullptr);
    if (out.ok() && in.pooled) {
      TFM_ASSIGN_OR_RETURN(auto pooled,
                           single(artifact.call("pool", {{"hidden", &*out}})));
      *in.pooled = std::move(pooled);
    }
    break;
  case ModelArchitecture::Decoder:
    out =
        single(artifact.call("decode", {{"tgt_ids", &srcPadded.ids},
                                        {"tgt_lengths", &srcPadded.lengths}}));
    break;
  case ModelArchitecture::EncoderDecoder: {
    const Sequences *tgt = in.tgt;
    if (!tgt)
      return absl::InvalidArgumentError(
          "an encoder-decoder model needs \"tgt\" for a forward pass");
    if (tgt->size() != src.size())
      return absl::InvalidArgumentError(absl::StrCat(
          "\"src\" has ", src.size(), " sequences, \"tgt\" ", tgt->size()));
    TFM_RETURN_IF_ERROR(
        checkSequences(*tgt, c.tgtVocabSize, c.maxSeqLen, "tgt"));
    TFM_ASSIGN_OR_RETURN(auto tgtPadded, pad(*tgt, c.padId));
    TFM_ASSIGN_OR_RETURN(auto memory, encode(artifact, srcPadded));
    out =
        single(artifact.call("decode", {{"tgt_ids", &tgtPadded.ids},
                                        {"tgt_lengths", &tgtPadded.lengths},
                                        {"memory", &memory},
                                        {"src_lengths", &srcPadded.lengths}}));
    outLengths = tgt;
    break;
  }
  }
  if (!out.ok())
    return out.status();
  zeroPastLengths(*out, *outLengths);
  return out;
}

/// Sequences [begin, end) of `all`.
static Sequences slice(const Sequences &all, size_t begin, size_t end) {
  return Sequences(all.begin() + begin, all.begin() + end);
}

/// Copies `chunk` [b, l, n] into rows [row, row + b) of `out` [B, L, n]
/// (l <= L; out's positions past l stay as they are).
static void copyRows(const Tensor &chunk, Tensor &out, int64_t row) {
  int64_t b = chunk.dim(0), l = chunk.dim(1), n = chunk.dim(2);
  int64_t width = out.dim(1);
  const float *from = chunk.data<float>();
  float *to = out.data<float>();
  for (int64_t i = 0; i < b; ++i)
    std::memcpy(to + ((row + i) * width) * n, from + i * l * n,
                l * n * sizeof(float));
}

absl::StatusOr<Tensor> tfm::forward(const Artifact &artifact,
                                    const Sequences &src,
                                    const ForwardInputs &in) {
  // A batch of many sequences runs in chunks of about kForwardChunkTokens
  // padded tokens, so that the compiled code's intermediate buffers
  // (activations, scores) stay bounded whatever the batch; only the result
  // grows with it. (100k sequences of 7 tokens took 7.4 GB of memory in one
  // call, 0.2-0.3 GB in chunks of 4096-16384 tokens, and no longer.)
  constexpr int64_t kForwardChunkTokens = 8192;
  const Sequences *tgt = in.tgt;
  auto widest = [](const Sequences &batch) {
    size_t width = 0;
    for (const auto &seq : batch)
      width = std::max(width, seq.size());
    return static_cast<int64_t>(width);
  };
  int64_t width =
      std::max<int64_t>({1, widest(src), tgt ? widest(*tgt) : int64_t(0)});
  size_t rows = std::max<int64_t>(1, kForwardChunkTokens / width);
  bool pairsAgree = (!tgt || tgt->size() == src.size()) &&
                    (!in.types || in.types->size() == src.size());
  if (src.size() <= rows || !pairsAgree)
    return forwardChunk(artifact, src, in); // (which reports a disagreement)

  Tensor out, pooled;
  for (size_t begin = 0; begin < src.size(); begin += rows) {
    size_t end = std::min(src.size(), begin + rows);
    Sequences chunkSrc = slice(src, begin, end), chunkTgt, chunkTypes;
    ForwardInputs chunkIn = in;
    if (tgt) {
      chunkTgt = slice(*tgt, begin, end);
      chunkIn.tgt = &chunkTgt;
    }
    if (in.types) {
      chunkTypes = slice(*in.types, begin, end);
      chunkIn.types = &chunkTypes;
    }
    Tensor chunkPooled;
    if (in.pooled)
      chunkIn.pooled = &chunkPooled;
    TFM_ASSIGN_OR_RETURN(Tensor chunk,
                         forwardChunk(artifact, chunkSrc, chunkIn));
    if (begin == 0) {
      // The whole batch's shape: its widest sequence (of the side the
      // result follows) and the chunk's last dimension.
      int64_t length = widest(tgt ? *tgt : src);
      TFM_ASSIGN_OR_RETURN(
          out, Tensor::allocate(DType::F32, {static_cast<int64_t>(src.size()),
                                             length, chunk.dim(2)}));
      if (in.pooled) {
        TFM_ASSIGN_OR_RETURN(
            pooled,
            Tensor::allocate(DType::F32, {static_cast<int64_t>(src.size()),
                                          chunkPooled.dim(1)}));
      }
    }
    copyRows(chunk, out, begin);
    if (in.pooled)
      std::memcpy(pooled.data<float>() + begin * pooled.dim(1),
                  chunkPooled.data<float>(),
                  chunkPooled.numElements() * sizeof(float));
  }
  if (in.pooled)
    *in.pooled = std::move(pooled);
  return out;
}

namespace {
/// The generation config's rules for the next token of one sequence, as
/// transformers' NoBadWordsLogitsProcessor and ForcedEOSTokenLogitsProcessor
/// apply them. The tokens before it are `prefix` (the prompt, or bos_id)
/// then `generated`.
class GenerationRules {
public:
  GenerationRules(const ArtifactConfig &c, int64_t maxNewTokens)
      : c(c), maxNewTokens(maxNewTokens) {
    banned.reserve(c.badWordsIds.size());
  }

  /// The token forced at this point, or -1.
  int64_t forced(size_t generated) const {
    return c.forcedEosId >= 0 &&
                   static_cast<int64_t>(generated) + 1 == maxNewTokens
               ? c.forcedEosId
               : -1;
  }

  /// The tokens banned at this point (valid until the next call).
  const std::vector<int64_t> &bannedAfter(absl::Span<const int64_t> prefix,
                                          absl::Span<const int64_t> generated) {
    banned.clear();
    for (const std::vector<int64_t> &word : c.badWordsIds) {
      // The word's tokens but its last must end the sequence so far.
      size_t need = word.size() - 1;
      if (need > prefix.size() + generated.size())
        continue;
      bool matches = true;
      for (size_t i = 0; i < need && matches; ++i) {
        size_t back = need - i; // 1 = the last token so far.
        int64_t token = back <= generated.size()
                            ? generated[generated.size() - back]
                            : prefix[prefix.size() - (back - generated.size())];
        matches = token == word[i];
      }
      if (matches)
        banned.push_back(word.back());
    }
    return banned;
  }

  /// The greedy choice over `logits`: the forced token, or the first
  /// largest logit of a token not banned.
  int64_t choose(const float *logits, int64_t vocab,
                 absl::Span<const int64_t> prefix,
                 absl::Span<const int64_t> generated) {
    if (int64_t token = forced(generated.size()); token >= 0)
      return token;
    const std::vector<int64_t> &ban = bannedAfter(prefix, generated);
    int64_t best = -1;
    for (int64_t t = 0; t < vocab; ++t)
      if ((best < 0 || logits[t] > logits[best]) &&
          std::find(ban.begin(), ban.end(), t) == ban.end())
        best = t;
    return best;
  }

  /// The same rules on log-probabilities (beam search): banned and, when a
  /// token is forced, every other token get -inf; the forced one 0.
  void apply(std::vector<double> &logp, absl::Span<const int64_t> prefix,
             absl::Span<const int64_t> generated) {
    constexpr double kNegInf = -std::numeric_limits<double>::infinity();
    if (int64_t token = forced(generated.size()); token >= 0) {
      std::fill(logp.begin(), logp.end(), kNegInf);
      logp[token] = 0;
      return;
    }
    for (int64_t token : bannedAfter(prefix, generated))
      logp[token] = kNegInf;
  }

private:
  const ArtifactConfig &c;
  int64_t maxNewTokens;
  std::vector<int64_t> banned;
};
} // namespace

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// Greedy decoding that re-runs the decoder over the whole prefix at each
/// step (the `decode` entry): the reference for the cached path.
static absl::StatusOr<Sequences> greedyRecompute(const Artifact &artifact,
                                                 const Sequences &src,
                                                 int64_t maxNewTokens,
                                                 GenerateStats *stats) {
  const ArtifactConfig &c = artifact.config();
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  TFM_ASSIGN_OR_RETURN(Padded srcPadded, pad(src, c.padId));
  Tensor memory;
  Sequences seqs;
  if (withEncoder) {
    auto start = std::chrono::steady_clock::now();
    TFM_ASSIGN_OR_RETURN(auto encoded, encode(artifact, srcPadded));
    memory = std::move(encoded);
    if (stats)
      stats->encodeSeconds = secondsSince(start);
    seqs.assign(src.size(), {c.bosId});
  } else {
    seqs = src;
  }

  size_t batch = src.size();
  std::vector<size_t> promptLength(batch);
  std::vector<bool> done(batch, false);
  for (size_t b = 0; b < batch; ++b) {
    promptLength[b] = seqs[b].size();
    done[b] = static_cast<int64_t>(seqs[b].size()) >= c.maxSeqLen ||
              maxNewTokens <= 0;
  }
  int64_t vocab = c.tgtVocabSize;
  GenerationRules rules(c, maxNewTokens);
  while (std::find(done.begin(), done.end(), false) != done.end()) {
    auto start = std::chrono::steady_clock::now();
    TFM_ASSIGN_OR_RETURN(auto tgt, pad(seqs, c.padId));
    NamedInputs inputs{{"tgt_ids", &tgt.ids}, {"tgt_lengths", &tgt.lengths}};
    if (withEncoder) {
      inputs.push_back({"memory", &memory});
      inputs.push_back({"src_lengths", &srcPadded.lengths});
    }
    TFM_ASSIGN_OR_RETURN(auto logits, single(artifact.call("decode", inputs)));
    const float *l = logits.data<float>();
    for (size_t b = 0; b < batch; ++b) {
      if (done[b])
        continue;
      // The next token of sequence b: the first maximum at its last
      // position that the generation rules allow.
      const float *row = l + (b * tgt.width + seqs[b].size() - 1) * vocab;
      absl::Span<const int64_t> sequence(seqs[b]);
      int64_t next =
          rules.choose(row, vocab, sequence.subspan(0, promptLength[b]),
                       sequence.subspan(promptLength[b]));
      if (c.isEos(next)) {
        done[b] = true;
        continue;
      }
      seqs[b].push_back(next);
      int64_t generated = seqs[b].size() - promptLength[b];
      done[b] = generated >= maxNewTokens ||
                static_cast<int64_t>(seqs[b].size()) >= c.maxSeqLen;
    }
    if (stats)
      stats->stepSeconds.push_back(secondsSince(start));
  }
  Sequences generated(batch);
  for (size_t b = 0; b < batch; ++b)
    generated[b].assign(seqs[b].begin() + promptLength[b], seqs[b].end());
  return generated;
}

//===----------------------------------------------------------------------===//
// Decoding with a KV cache
//===----------------------------------------------------------------------===//

/// A tensor's first `batch` rows (dimension 0), as a view that owns nothing.
static Tensor rows(Tensor &t, int64_t batch) {
  std::vector<int64_t> shape = t.shape();
  shape[0] = batch;
  return Tensor::adopt(t.dtype(), std::move(shape), nullptr, t.rawData(), 0);
}

absl::Status DecodeSession::allocate(size_t batch, size_t capacity,
                                     int64_t tokens) {
  running_ = batch;
  capacity = std::max(batch, capacity);
  slotSequence_.resize(capacity);
  length_.assign(capacity, 0);
  for (size_t i = 0; i < batch; ++i)
    slotSequence_[i] = i;
  if (capacity <= capacity_ && tokens == tokens_) {
    // Stale rows past each sequence's length are never attended to.
    return absl::OkStatus();
  }
  selfScratch_.clear();
  crossScratch_.clear();
  batch = capacity;
  const ArtifactConfig &c = artifact_.config();
  auto stepInputs = artifact_.runtimeInputs("step");
  if (stepInputs.empty())
    return absl::FailedPreconditionError(
        "the artifact has no 'step' entry (compiled by an older tfmc?); "
        "recompile it, or decode with --no-cache");
  vocab_ = c.tgtVocabSize;
  int64_t b = batch;
  selfCaches_.clear();
  // Up front: caches that cannot fit in this machine's memory are one error
  // naming their size, not minutes of paging before the allocator fails.
  uint64_t cacheBytes = 0;
  for (const auto &[name, spec] : stepInputs) {
    if (!spec.inout)
      continue;
    if (spec.dims.size() != 4 || spec.dims[1] < 0 || spec.dims[3] < 0)
      return absl::InternalError(
          absl::StrCat("step input '", name,
                       "' is not a [batch, heads, ?, head_dim] cache"));
    auto count =
        checkedNumElements(DType::F32, {b, spec.dims[1], tokens, spec.dims[3]});
    if (!count.ok() ||
        __builtin_add_overflow(cacheBytes, uint64_t(*count) * 4, &cacheBytes))
      cacheBytes = UINT64_MAX;
  }
  uint64_t memory = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  if (cacheBytes > memory)
    return absl::ResourceExhaustedError(absl::StrCat(
        "the KV cache of ", b, " sequences of up to ", tokens,
        " tokens would take ",
        cacheBytes == UINT64_MAX ? std::string("more than 2^64 bytes")
                                 : absl::StrCat(cacheBytes >> 20, " MiB"),
        ", more than this machine's memory (", memory >> 20, " MiB)"));
  for (const auto &[name, spec] : stepInputs) {
    if (!spec.inout)
      continue;
    // Zero-filled: every page is touched once, here, not during a step.
    TFM_ASSIGN_OR_RETURN(
        auto cache,
        Tensor::allocate(DType::F32, {b, spec.dims[1], tokens, spec.dims[3]}));
    selfCaches_.push_back({name, std::move(cache)});
  }
  for (Tensor *t : {&ids_, &positions_, &cacheLengths_, &srcLengths_}) {
    std::vector<int64_t> shape{b};
    if (t == &ids_)
      shape.push_back(1);
    TFM_ASSIGN_OR_RETURN(auto allocated, Tensor::allocate(DType::I32, shape));
    *t = std::move(allocated);
  }
  capacity_ = batch;
  tokens_ = tokens;
  return absl::OkStatus();
}

/// What decoding asks of a model and its sources: a decoder, and source
/// sequences (encoder-decoder) or prompts (decoder-only) in range.
static absl::Status checkDecodable(const ArtifactConfig &c,
                                   const Sequences &src) {
  if (c.architecture == ModelArchitecture::Encoder)
    return absl::InvalidArgumentError(
        "an encoder-only model does not generate; use --logits for its "
        "hidden states");
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  return checkSequences(src, withEncoder ? c.srcVocabSize : c.tgtVocabSize,
                        c.maxSeqLen, "src");
}

absl::Status DecodeSession::start(const Sequences &src, size_t capacity,
                                  int64_t maxNewTokens) {
  const ArtifactConfig &c = artifact_.config();
  TFM_RETURN_IF_ERROR(checkDecodable(c, src));
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  size_t batch = src.size();
  // The cache holds the decoder's tokens: bos_id or the prompt, then one per
  // step; no more than the request can reach, never more than max_seq_len.
  int64_t tokens = c.maxSeqLen;
  if (maxNewTokens >= 0) {
    int64_t prefix = 1;
    if (!withEncoder)
      for (const std::vector<int64_t> &prompt : src)
        prefix = std::max<int64_t>(prefix, prompt.size());
    tokens = std::min<int64_t>(c.maxSeqLen,
                               prefix + std::min(maxNewTokens, c.maxSeqLen));
  }
  TFM_RETURN_IF_ERROR(allocate(batch, capacity, tokens));
  BufferPoolScope scope(&pool_);
  TFM_ASSIGN_OR_RETURN(auto srcPadded, pad(src, c.padId));
  crossKV_.clear();
  crossScratch_.clear();
  if (withEncoder) {
    TFM_ASSIGN_OR_RETURN(auto memory, encode(artifact_, srcPadded));
    TFM_ASSIGN_OR_RETURN(auto kv,
                         artifact_.call("cross_kv", {{"memory", &memory}}));
    for (size_t i = 0; i < kv.size(); ++i)
      crossKV_.push_back({absl::StrCat(i % 2 ? "cross_v." : "cross_k.", i / 2),
                          std::move(kv[i])});
    std::memcpy(srcLengths_.data<int32_t>(), srcPadded.lengths.data<int32_t>(),
                batch * sizeof(int32_t));
    TFM_RETURN_IF_ERROR(prepareStep());
    // The decoder starts from bos_id at position 0.
    std::vector<int64_t> bos(batch, c.bosId);
    return step(bos);
  }
  // The prompts in one pass, their keys and values written from position 0;
  // the logits of each prompt's last position predict its next token.
  std::memset(positions_.data<int32_t>(), 0, batch * sizeof(int32_t));
  std::vector<Tensor> views;
  views.reserve(1 + selfCaches_.size());
  views.push_back(rows(positions_, batch));
  NamedInputs inputs{{"tgt_ids", &srcPadded.ids},
                     {"tgt_lengths", &srcPadded.lengths},
                     {"positions", &views.back()}};
  for (auto &[name, cache] : selfCaches_) {
    views.push_back(rows(cache, batch));
    inputs.push_back({name, &views.back()});
  }
  TFM_ASSIGN_OR_RETURN(auto logits, single(artifact_.call("prefill", inputs)));
  TFM_ASSIGN_OR_RETURN(auto last,
                       Tensor::allocateUninitialized(
                           DType::F32, {static_cast<int64_t>(batch), vocab_}));
  for (size_t b = 0; b < batch; ++b) {
    length_[b] = src[b].size();
    std::memcpy(last.data<float>() + b * vocab_,
                logits.data<float>() +
                    (b * srcPadded.width + length_[b] - 1) * vocab_,
                vocab_ * sizeof(float));
  }
  prefillLogits_ = std::move(last);
  logits_ = prefillLogits_.data<float>();
  return prepareStep();
}

absl::Status DecodeSession::prepareStep() {
  NamedInputs inputs{{"tgt_ids", &ids_},
                     {"positions", &positions_},
                     {"cache_lengths", &cacheLengths_}};
  if (!crossKV_.empty())
    inputs.push_back({"src_lengths", &srcLengths_});
  for (auto &[name, kv] : crossKV_)
    inputs.push_back({name, &kv});
  for (auto &[name, cache] : selfCaches_)
    inputs.push_back({name, &cache});
  std::vector<std::string> batched;
  for (const auto &[name, tensor] : inputs)
    batched.push_back(name);
  TFM_ASSIGN_OR_RETURN(auto call, artifact_.prepare("step", inputs, batched));
  stepCall_ = std::move(call);
  return absl::OkStatus();
}

absl::Status DecodeSession::step(absl::Span<const int64_t> tokens) {
  const ArtifactConfig &c = artifact_.config();
  if (tokens.size() != running_)
    return absl::InvalidArgumentError(
        absl::StrCat("a step takes one token per running sequence: ", running_,
                     ", got ", tokens.size()));
  int32_t *id = ids_.data<int32_t>(), *pos = positions_.data<int32_t>(),
          *len = cacheLengths_.data<int32_t>();
  for (size_t slot = 0; slot < running_; ++slot) {
    if (tokens[slot] < 0 || tokens[slot] >= c.tgtVocabSize)
      return absl::InvalidArgumentError(absl::StrCat(
          "token ", tokens[slot], " of sequence ", slotSequence_[slot],
          " is out of range [0, ", c.tgtVocabSize, ")"));
    if (length_[slot] >= c.maxSeqLen)
      return absl::OutOfRangeError(
          absl::StrCat("sequence ", slotSequence_[slot],
                       " has reached max_seq_len ", c.maxSeqLen));
    if (length_[slot] >= tokens_)
      return absl::OutOfRangeError(absl::StrCat(
          "sequence ", slotSequence_[slot], " has filled its KV cache (",
          tokens_, " tokens: the start's max_new_tokens)"));
    // The token goes in at the next position; the cache then holds it too.
    id[slot] = static_cast<int32_t>(tokens[slot]);
    pos[slot] = static_cast<int32_t>(length_[slot]);
    len[slot] = static_cast<int32_t>(length_[slot] + 1);
  }
  TFM_RETURN_IF_ERROR(runStep());
  for (size_t slot = 0; slot < running_; ++slot)
    ++length_[slot];
  return absl::OkStatus();
}

absl::Status DecodeSession::runStep() {
  BufferPoolScope scope(&pool_);
  stepCall_.setBatch(running_);
  TFM_RETURN_IF_ERROR(stepCall_.run(stepResults_));
  if (stepResults_.size() != 1)
    return absl::InternalError("the step entry returned more than logits");
  logits_ = stepResults_.front().data<float>();
  return absl::OkStatus();
}

void DecodeSession::moveSlot(size_t from, size_t to) {
  int64_t written = length_[from];
  for (auto &[name, cache] : selfCaches_) {
    int64_t heads = cache.dim(1), capacity = cache.dim(2), dim = cache.dim(3);
    float *base = cache.data<float>();
    for (int64_t h = 0; h < heads; ++h)
      std::memcpy(base + ((to * heads + h) * capacity) * dim,
                  base + ((from * heads + h) * capacity) * dim,
                  written * dim * sizeof(float));
  }
  for (auto &[name, kv] : crossKV_) {
    size_t row = kv.numElements() / kv.dim(0);
    float *base = kv.data<float>();
    std::memcpy(base + to * row, base + from * row, row * sizeof(float));
  }
  int32_t *lengths = srcLengths_.data<int32_t>();
  lengths[to] = lengths[from];
  std::memcpy(logits_ + to * vocab_, logits_ + from * vocab_,
              vocab_ * sizeof(float));
  slotSequence_[to] = slotSequence_[from];
  length_[to] = length_[from];
}

void DecodeSession::retire(const std::vector<bool> &finished) {
  // From the back: every slot after `slot` is running when it is visited.
  for (size_t slot = running_; slot-- > 0;) {
    if (slot >= finished.size() || !finished[slot])
      continue;
    if (slot != running_ - 1)
      moveSlot(running_ - 1, slot);
    --running_;
  }
}

absl::Status DecodeSession::reorder(absl::Span<const size_t> parents) {
  if (parents.size() > capacity_)
    return absl::InvalidArgumentError(absl::StrCat(
        "reorder to ", parents.size(), " slots, the session has ", capacity_));
  for (size_t parent : parents)
    if (parent >= running_)
      return absl::InvalidArgumentError(absl::StrCat(
          "reorder from slot ", parent, " of ", running_, " running"));
  // Built in scratch buffers, then swapped in: a parent's rows may be
  // needed after its own slot has been rewritten.
  auto rebuild = [&](Tensor &current, std::vector<Tensor> &scratch,
                     size_t index, bool writtenOnly) -> absl::Status {
    // Cross-attention rows start as the cross_kv results, one per source:
    // the scratch must hold every slot.
    if (scratch.size() <= index || scratch[index].dim(0) < int64_t(capacity_)) {
      std::vector<int64_t> shape = current.shape();
      shape[0] = capacity_;
      TFM_ASSIGN_OR_RETURN(auto t, Tensor::allocate(current.dtype(), shape));
      if (scratch.size() <= index)
        scratch.push_back(std::move(t));
      else
        scratch[index] = std::move(t);
    }
    Tensor &next = scratch[index];
    int64_t heads = current.dim(1), rows = current.dim(2), dim = current.dim(3);
    const float *from = current.data<float>();
    float *to = next.data<float>();
    for (size_t i = 0; i < parents.size(); ++i) {
      int64_t used = writtenOnly ? length_[parents[i]] : rows;
      for (int64_t h = 0; h < heads; ++h)
        std::memcpy(to + ((i * heads + h) * rows) * dim,
                    from + ((parents[i] * heads + h) * rows) * dim,
                    used * dim * sizeof(float));
    }
    std::swap(current, next);
    return absl::OkStatus();
  };
  for (size_t k = 0; k < selfCaches_.size(); ++k)
    TFM_RETURN_IF_ERROR(rebuild(selfCaches_[k].second, selfScratch_, k,
                                /*writtenOnly=*/true));
  for (size_t k = 0; k < crossKV_.size(); ++k)
    TFM_RETURN_IF_ERROR(rebuild(crossKV_[k].second, crossScratch_, k,
                                /*writtenOnly=*/false));
  std::vector<size_t> sequence(parents.size());
  std::vector<int64_t> length(parents.size());
  std::vector<int32_t> srcLength(parents.size());
  for (size_t i = 0; i < parents.size(); ++i) {
    sequence[i] = slotSequence_[parents[i]];
    length[i] = length_[parents[i]];
    srcLength[i] = srcLengths_.data<int32_t>()[parents[i]];
  }
  std::copy(sequence.begin(), sequence.end(), slotSequence_.begin());
  std::copy(length.begin(), length.end(), length_.begin());
  std::copy(srcLength.begin(), srcLength.end(), srcLengths_.data<int32_t>());
  running_ = parents.size();
  return absl::OkStatus();
}

absl::StatusOr<Sequences> tfm::greedy(DecodeSession &session,
                                      const Sequences &src,
                                      int64_t maxNewTokens,
                                      GenerateStats *stats) {
  const ArtifactConfig &c = session.artifact().config();
  auto begin = std::chrono::steady_clock::now();
  TFM_RETURN_IF_ERROR(session.start(src, 0, maxNewTokens));
  if (stats)
    stats->encodeSeconds = secondsSince(begin);
  // Sized up front: the loop below allocates nothing in steady state.
  Sequences generated(src.size());
  for (std::vector<int64_t> &out : generated)
    out.reserve(std::max<int64_t>(0, std::min(maxNewTokens, c.maxSeqLen)));
  std::vector<int64_t> next(src.size());
  std::vector<bool> finished(src.size());
  GenerationRules rules(c, maxNewTokens);
  // What precedes the generated tokens: the prompt, or bos_id.
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  const int64_t bos[] = {c.bosId};
  while (true) {
    size_t running = session.running();
    for (size_t slot = 0; slot < running; ++slot) {
      std::vector<int64_t> &out = generated[session.sequence(slot)];
      absl::Span<const int64_t> prefix =
          withEncoder ? absl::Span<const int64_t>(bos)
                      : absl::Span<const int64_t>(src[session.sequence(slot)]);
      int64_t token =
          rules.choose(session.logits(slot), c.tgtVocabSize, prefix, out);
      // As the recompute path decides: a sequence already at max_seq_len
      // (a prompt that long) or at the token limit takes nothing more.
      finished[slot] = c.isEos(token) ||
                       static_cast<int64_t>(out.size()) >= maxNewTokens ||
                       session.length(slot) >= c.maxSeqLen;
      if (finished[slot])
        continue;
      out.push_back(token);
      // Stop when no further token would fit, or at the limit: the step
      // that would only predict past it is not run.
      finished[slot] = static_cast<int64_t>(out.size()) >= maxNewTokens ||
                       session.length(slot) + 1 >= c.maxSeqLen;
    }
    session.retire(finished);
    if (session.running() == 0)
      break;
    // Every running sequence steps with the token it has just taken.
    for (size_t slot = 0; slot < session.running(); ++slot)
      next[slot] = generated[session.sequence(slot)].back();
    auto stepStart = std::chrono::steady_clock::now();
    TFM_RETURN_IF_ERROR(
        session.step(absl::MakeConstSpan(next.data(), session.running())));
    if (stats)
      stats->stepSeconds.push_back(secondsSince(stepStart));
  }
  return generated;
}

absl::StatusOr<Sequences> tfm::greedy(const Artifact &artifact,
                                      const Sequences &src,
                                      int64_t maxNewTokens,
                                      GenerateStats *stats, bool useCache) {
  TFM_RETURN_IF_ERROR(checkDecodable(artifact.config(), src));
  if (!useCache)
    return greedyRecompute(artifact, src, maxNewTokens, stats);
  DecodeSession session(artifact);
  return greedy(session, src, maxNewTokens, stats);
}

//===----------------------------------------------------------------------===//
// Beam search
//===----------------------------------------------------------------------===//

namespace {
struct Beam {
  double score = 0; // Sum of the log-probabilities of `tokens`.
  std::vector<int64_t> tokens;
  size_t slot = 0; // Its batch slot in the session.
};

struct Hypothesis {
  double score; // Normalized by length.
  std::vector<int64_t> tokens;
};

/// The search state of one source sequence.
struct BeamGroup {
  std::vector<Beam> live;
  std::vector<Hypothesis> finished;
  /// Generated tokens allowed: max-new-tokens and what max_seq_len leaves.
  int64_t limit = 0;
};

/// log(softmax(logits)) in double.
void logSoftmax(const float *logits, int64_t n, std::vector<double> &out) {
  out.resize(n);
  double max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += std::exp(logits[i] - max);
  double log = max + std::log(sum);
  for (int64_t i = 0; i < n; ++i)
    out[i] = logits[i] - log;
}

double normalized(double score, size_t length, double lengthPenalty) {
  return score / std::pow(static_cast<double>(std::max<size_t>(length, 1)),
                          lengthPenalty);
}

/// The beams-th best normalized hypothesis score (the group is full).
double kthBest(std::vector<Hypothesis> hyps, size_t k) {
  std::nth_element(hyps.begin(), hyps.begin() + (k - 1), hyps.end(),
                   [](const Hypothesis &a, const Hypothesis &b) {
                     return a.score > b.score;
                   });
  return hyps[k - 1].score;
}
} // namespace

absl::StatusOr<Sequences> tfm::beamSearch(const Artifact &artifact,
                                          const Sequences &src, int64_t beams,
                                          int64_t maxNewTokens,
                                          double lengthPenalty,
                                          GenerateStats *stats) {
  if (beams < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("the beam width must be at least 1, got ", beams));
  const ArtifactConfig &c = artifact.config();
  if (beams > c.tgtVocabSize)
    return absl::InvalidArgumentError(absl::StrCat("the beam width (", beams,
                                                   ") is larger than the "
                                                   "vocabulary (",
                                                   c.tgtVocabSize, " tokens)"));
  DecodeSession session(artifact);
  auto begin = std::chrono::steady_clock::now();
  size_t n = beams;
  TFM_RETURN_IF_ERROR(session.start(src, src.size() * n, maxNewTokens));
  if (stats)
    stats->encodeSeconds = secondsSince(begin);

  std::vector<BeamGroup> groups(src.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    // One live beam to start from, in slot g; the prefix is bos_id or the
    // prompt.
    groups[g].live.push_back({0.0, {}, g});
    groups[g].limit =
        std::min<int64_t>(maxNewTokens, c.maxSeqLen - session.length(g));
    if (groups[g].limit <= 0)
      groups[g].live.clear();
  }

  int64_t vocab = c.tgtVocabSize;
  size_t candidatesPerBeam = std::min<size_t>(2 * n, vocab);
  GenerationRules rules(c, maxNewTokens);
  bool withEncoder = c.architecture == ModelArchitecture::EncoderDecoder;
  const int64_t bos[] = {c.bosId};
  std::vector<double> logp;
  std::vector<int64_t> order(vocab);
  struct Candidate {
    double score;
    size_t beam;
    int64_t token;
  };
  std::vector<Candidate> candidates;
  std::vector<size_t> parents;
  std::vector<int64_t> tokens;
  while (true) {
    parents.clear();
    tokens.clear();
    for (BeamGroup &group : groups) {
      if (group.live.empty())
        continue;
      candidates.clear();
      for (size_t k = 0; k < group.live.size(); ++k) {
        logSoftmax(session.logits(group.live[k].slot), vocab, logp);
        rules.apply(logp,
                    withEncoder ? absl::Span<const int64_t>(bos)
                                : absl::Span<const int64_t>(
                                      src[&group - groups.data()]),
                    group.live[k].tokens);
        for (int64_t t = 0; t < vocab; ++t)
          order[t] = t;
        std::partial_sort(order.begin(), order.begin() + candidatesPerBeam,
                          order.end(), [&](int64_t a, int64_t b) {
                            return logp[a] > logp[b] ||
                                   (logp[a] == logp[b] && a < b);
                          });
        for (size_t r = 0; r < candidatesPerBeam; ++r)
          candidates.push_back(
              {group.live[k].score + logp[order[r]], k, order[r]});
      }
      // Best first; ties to the earlier beam, then the smaller token id.
      std::sort(candidates.begin(), candidates.end(),
                [](const Candidate &a, const Candidate &b) {
                  if (a.score != b.score)
                    return a.score > b.score;
                  return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
                });
      std::vector<Beam> next;
      for (size_t rank = 0; rank < candidates.size() && next.size() < n;
           ++rank) {
        const Candidate &cand = candidates[rank];
        const Beam &parent = group.live[cand.beam];
        if (c.isEos(cand.token)) {
          if (rank < n)
            group.finished.push_back(
                {normalized(cand.score, parent.tokens.size() + 1,
                            lengthPenalty),
                 parent.tokens});
          continue;
        }
        Beam beam{cand.score, parent.tokens, parent.slot};
        beam.tokens.push_back(cand.token);
        next.push_back(std::move(beam));
      }
      group.live = std::move(next);
      if (!group.live.empty() &&
          static_cast<int64_t>(group.live.front().tokens.size()) >=
              group.limit) {
        // Out of room: the live beams are hypotheses as they stand.
        for (Beam &beam : group.live)
          group.finished.push_back(
              {normalized(beam.score, beam.tokens.size(), lengthPenalty),
               std::move(beam.tokens)});
        group.live.clear();
      }
      if (group.finished.size() >= n && !group.live.empty() &&
          kthBest(group.finished, n) >=
              normalized(group.live.front().score,
                         group.live.front().tokens.size(), lengthPenalty))
        group.live.clear();
      for (Beam &beam : group.live) {
        parents.push_back(beam.slot);
        tokens.push_back(beam.tokens.back());
        beam.slot = parents.size() - 1;
      }
    }
    if (parents.empty())
      break;
    auto stepStart = std::chrono::steady_clock::now();
    TFM_RETURN_IF_ERROR(session.reorder(parents));
    TFM_RETURN_IF_ERROR(session.step(tokens));
    if (stats)
      stats->stepSeconds.push_back(secondsSince(stepStart));
  }

  Sequences best(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const Hypothesis *top = nullptr;
    for (const Hypothesis &h : groups[g].finished)
      if (!top || h.score > top->score)
        top = &h;
    if (top)
      best[g] = top->tokens;
  }
  return best;
}
