//===- Generate.cpp - Greedy decoding and beam search ---------------------===//

#include "runtime/Generate.h"
#include "runtime/Forward.h"
#include "runtime/Sampling.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unistd.h>

using namespace tfm;

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
  TFM_ASSIGN_OR_RETURN(PaddedBatch srcPadded, padBatch(src, c.padId));
  Tensor memory;
  Sequences seqs;
  if (withEncoder) {
    auto start = std::chrono::steady_clock::now();
    TFM_ASSIGN_OR_RETURN(auto encoded, runEncoder(artifact, srcPadded));
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
    TFM_ASSIGN_OR_RETURN(auto tgt, padBatch(seqs, c.padId));
    NamedInputs inputs{{"tgt_ids", &tgt.ids}, {"tgt_lengths", &tgt.lengths}};
    if (withEncoder) {
      inputs.push_back({"memory", &memory});
      inputs.push_back({"src_lengths", &srcPadded.lengths});
    }
    TFM_ASSIGN_OR_RETURN(auto logits,
                         singleResult(artifact.call("decode", inputs)));
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

absl::StatusOr<Sequences>
tfm::greedy(DecodeSession &session, const Sequences &src, int64_t maxNewTokens,
            GenerateStats *stats, const TokenCallback &onToken) {
  GenerateOptions options;
  options.maxNewTokens = maxNewTokens;
  options.stats = stats;
  options.onToken = onToken;
  return generate(session, src, options);
}

absl::StatusOr<Sequences> tfm::generate(DecodeSession &session,
                                        const Sequences &src,
                                        const GenerateOptions &options) {
  TFM_RETURN_IF_ERROR(options.sampling.check());
  const ArtifactConfig &c = session.artifact().config();
  auto begin = std::chrono::steady_clock::now();
  TFM_RETURN_IF_ERROR(session.start(src, 0, options.maxNewTokens));
  if (options.stats)
    options.stats->encodeSeconds = secondsSince(begin);
  // What precedes the generated tokens: the prompt, or bos_id.
  if (c.architecture != ModelArchitecture::EncoderDecoder)
    return generateFrom(session, src, options);
  return generateFrom(session, Sequences(src.size(), {c.bosId}), options);
}

absl::StatusOr<Sequences> tfm::generateFrom(DecodeSession &session,
                                            const Sequences &prefixes,
                                            const GenerateOptions &options) {
  TFM_RETURN_IF_ERROR(options.sampling.check());
  const ArtifactConfig &c = session.artifact().config();
  int64_t maxNewTokens = options.maxNewTokens;
  GenerateStats *stats = options.stats;
  const TokenCallback &onToken = options.onToken;
  const Sequences &src = prefixes;
  // Sized up front: the loop below allocates nothing in steady state.
  Sequences generated(src.size());
  for (std::vector<int64_t> &out : generated)
    out.reserve(std::max<int64_t>(0, std::min(maxNewTokens, c.maxSeqLen)));
  std::vector<int64_t> next(src.size());
  std::vector<bool> finished(src.size());
  GenerationRules rules(c, maxNewTokens);
  // With a repetition penalty or sampling: one sampler per sequence, and
  // the context the penalty looks at (prefix, then generated).
  bool scored = options.sampling.needsScores();
  std::vector<TokenSampler> samplers;
  std::vector<int64_t> context;
  if (scored)
    for (size_t b = 0; b < src.size(); ++b)
      samplers.emplace_back(options.sampling, b);
  while (true) {
    size_t running = session.running();
    for (size_t slot = 0; slot < running; ++slot) {
      size_t sequence = session.sequence(slot);
      std::vector<int64_t> &out = generated[sequence];
      absl::Span<const int64_t> prefix = prefixes[sequence];
      int64_t token;
      if (!scored) {
        token = rules.choose(session.logits(slot), c.tgtVocabSize, prefix, out);
      } else if (int64_t forced = rules.forced(out.size()); forced >= 0) {
        token = forced;
      } else {
        context.assign(prefix.begin(), prefix.end());
        context.insert(context.end(), out.begin(), out.end());
        token = samplers[sequence].choose(
            absl::MakeConstSpan(session.logits(slot), c.tgtVocabSize), context,
            rules.bannedAfter(prefix, out));
      }
      // As the recompute path decides: a sequence already at max_seq_len
      // (a prompt that long) or at the token limit takes nothing more.
      finished[slot] = token < 0 || c.isEos(token) ||
                       static_cast<int64_t>(out.size()) >= maxNewTokens ||
                       session.length(slot) >= c.maxSeqLen;
      if (finished[slot])
        continue;
      out.push_back(token);
      // Stop when no further token would fit, or at the limit: the step
      // that would only predict past it is not run.
      finished[slot] = static_cast<int64_t>(out.size()) >= maxNewTokens ||
                       session.length(slot) + 1 >= c.maxSeqLen;
      if (onToken && !onToken(sequence, token))
        finished[slot] = true;
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
