//===- tfm-run.cpp - Run a tfm compiled module ----------------------------===//
//
// Loads an artifact produced by tfmc and runs it with the runtime alone.
// Model mode (ARTIFACT is a directory written by `tfmc MODEL_DIR`):
//   --src "5 17 42" | --inputs batch.json [--max-new-tokens N]
//   [--logits out.npy] [--bench]
// Library mode (ARTIFACT is a shared object written by `tfmc IN.mlir`):
//   --list              print the entry points
//   --call NAME ...     call one entry on .npy inputs, write .npy results
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/Conversation.h"
#include "runtime/Forward.h"
#include "runtime/Generate.h"
#include "runtime/Module.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "support/Json.h"
#include "support/MappedFile.h"
#include "support/Status.h"
#include "support/StringViews.h"
#include "tools/tfm-run/Npy.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace tfm;

static constexpr char kUsage[] =
    R"(usage: tfm-run MODEL_ARTIFACT [--src "5 17 42" | --inputs BATCH.json |
                                 --text TEXT | --text-file FILE]
               [--max-new-tokens N] [--no-cache] [--beam N [--length-penalty A]]
               [--logits OUT.npy [--pooled OUT.npy]] [--bench]
       tfm-run MODEL_ARTIFACT --tokenize TEXT | --detokenize "IDS"
       tfm-run ARTIFACT.so --list
       tfm-run ARTIFACT.so --call NAME [--input IN.npy]... [--output OUT.npy]...

Runs what tfmc compiled.

Model mode (MODEL_ARTIFACT is the directory `tfmc MODEL_DIR -o OUT` wrote):
  --src IDS         one source sequence, token ids separated by spaces
  --inputs FILE     {"src": [[...], ...], "tgt": [[...], ...],
                    "token_type_ids": [[...], ...]}: a batch of sequences of
                    different lengths ("tgt": encoder-decoder, for --logits;
                    "token_type_ids": models with token types such as BERT,
                    one per src token, zeros when absent)
  --text TEXT       one input as text, through the model's tokenizer (the
                    checkpoint's, which tfmc copies into the artifact): a
                    model that generates prints the generated text, as the
                    tokens come (the continuation only, for a decoder);
                    an encoder-only model needs --logits
  --text-file FILE  one input per line, as one batch; one line of output
                    per input, printed at the end
  --interactive     read prompts from standard input, one per line: a
                    decoder-only model continues one conversation (each
                    prompt after the previous reply, on the same KV cache);
                    an encoder-decoder answers each line on its own
  --no-stream       print the text of --text at the end, not as it comes
  --temperature T   sample, with the logits divided by T (0: greedy)
  --top-k K         sample from the K most likely tokens (0: all)
  --top-p P         sample from the most likely tokens whose probabilities
                    add up to P
  --repetition-penalty R  divide the logit of a token already in the
                    sequence by R (multiply, when negative), as transformers
  --seed S          sample, from random streams seeded with S: the same S
                    gives the same tokens on any thread count
                    (defaults of these five: the model's
                    generation_config.json; sampling when it says
                    do_sample or any of --temperature, --top-k, --top-p,
                    --seed is given; without --seed, a seed from the system)
  --stop STR        with --text/--text-file: end the text before STR (the
                    first of the --stop options that appears); repeatable
  --tokenize TEXT   print the ids the tokenizer gives TEXT (special tokens
                    added as transformers adds them; Marian: source side)
  --detokenize IDS  print the text of token ids (special tokens skipped;
                    Marian: target side)
  --logits FILE     write the forward pass as float32 .npy, zero past each
                    length: teacher-forced logits [batch, tgt_len, vocab]
                    (encoder-decoder, needs "tgt"), hidden states
                    [batch, len, d] (encoder; a masked-LM model's logits
                    [batch, len, vocab]), logits over the prompts
                    [batch, len, vocab] (decoder)
  --pooled FILE     with --logits, a model with a pooler (BertModel): write
                    its pooled output [batch, d] too
  (no --logits)     greedy decoding; generated ids, one sequence per line
  --max-new-tokens N  stop each sequence after N tokens (default: until
                    eos_id or max_seq_len)
  --no-cache        decode without the KV cache: re-run the decoder over the
                    whole prefix at each step (for comparisons)
  --beam N          beam search with N beams instead of greedy decoding
  --length-penalty A  beam search: hypotheses are ranked by summed
                    log-probability / length^A (default 1.0)
  --bench           print timings (encode, per-token decode) instead

Library mode (a shared object from `tfmc IN.mlir`):

  --list            print the artifact's entry points, one manifest line each
  --call NAME       call entry NAME: one --input per entry input, in order,
                    and one --output per entry result, in order
  --input FILE      an input tensor (.npy: <f4, <i4 or <i8, C order)
  --output FILE     where to write a result (.npy)
  -h, --help        show this help

Options taking a value also accept the --option=VALUE form. Each option is
given once, but --input and --output, once per tensor.
)";

namespace {

enum class Mode { None, List, Call, Model };

/// The parsed command line.
struct Options {
  std::string artifact;
  Mode mode = Mode::None;
  std::string entry;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::optional<std::string> src;
  std::optional<std::string> inputsJson;
  std::optional<std::string> text;
  std::optional<std::string> textFile;
  std::optional<std::string> tokenize;
  std::optional<std::string> detokenize;
  bool noStream = false;
  bool interactive = false;
  std::optional<double> temperature;
  std::optional<int64_t> topK;
  std::optional<double> topP;
  std::optional<double> repetitionPenalty;
  std::optional<uint64_t> seed;
  std::vector<std::string> stops;
  std::optional<std::string> logits;
  std::optional<std::string> pooled;
  int64_t maxNewTokens = -1;
  int64_t beam = 0;
  std::optional<double> lengthPenalty;
  bool noCache = false;
  bool bench = false;
  bool help = false;
};

} // namespace

static absl::Status usageError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " (see tfm-run --help)"));
}

static absl::Status setMode(Options &options, Mode mode) {
  if (options.mode != Mode::None && options.mode != mode)
    return usageError("--list and --call cannot be combined");
  options.mode = mode;
  return absl::OkStatus();
}

/// A non-negative (or, with `positive`, >= 1) integer option value.
static absl::Status parseCount(absl::string_view name, absl::string_view v,
                               bool positive, int64_t &out) {
  if (!absl::SimpleAtoi(v, &out) || out < (positive ? 1 : 0))
    return usageError(
        absl::StrCat(name,
                     positive ? " expects a positive integer, got '"
                              : " expects a non-negative integer, got '",
                     v, "'"));
  return absl::OkStatus();
}

/// A finite number option value.
static absl::Status parseNumber(absl::string_view name, absl::string_view v,
                                std::optional<double> &out) {
  double value;
  if (!absl::SimpleAtod(v, &value) || !std::isfinite(value))
    return usageError(absl::StrCat(name, " expects a number, got '", v, "'"));
  out = value;
  return absl::OkStatus();
}

namespace {
/// One option of the command line. The convention is GNU's long options,
/// as llvm::cl accepts them in tfmc and tfm-opt: `--name` for a flag,
/// `--name VALUE` or `--name=VALUE` for an option with a value; an option
/// given twice is an error unless it is `repeatable`.
struct OptionSpec {
  absl::string_view name;
  enum Kind { Flag, Value, Repeatable } kind;
  /// Records the option (its value, or "" for a flag) in the options.
  absl::Status (*set)(Options &, absl::string_view name,
                      absl::string_view value);
};

template <std::optional<std::string> Options::*field>
absl::Status setString(Options &o, absl::string_view, absl::string_view v) {
  o.*field = std::string(v);
  return absl::OkStatus();
}

template <bool Options::*field>
absl::Status setFlag(Options &o, absl::string_view, absl::string_view) {
  o.*field = true;
  return absl::OkStatus();
}

template <std::vector<std::string> Options::*field>
absl::Status addString(Options &o, absl::string_view, absl::string_view v) {
  (o.*field).push_back(std::string(v));
  return absl::OkStatus();
}

constexpr OptionSpec kOptions[] = {
    {"-h", OptionSpec::Flag, setFlag<&Options::help>},
    {"--help", OptionSpec::Flag, setFlag<&Options::help>},
    {"--list", OptionSpec::Flag,
     [](Options &o, absl::string_view, absl::string_view) {
       return setMode(o, Mode::List);
     }},
    {"--call", OptionSpec::Value,
     [](Options &o, absl::string_view, absl::string_view v) {
       o.entry = std::string(v);
       return setMode(o, Mode::Call);
     }},
    {"--input", OptionSpec::Repeatable, addString<&Options::inputs>},
    {"--output", OptionSpec::Repeatable, addString<&Options::outputs>},
    {"--src", OptionSpec::Value, setString<&Options::src>},
    {"--text", OptionSpec::Value, setString<&Options::text>},
    {"--text-file", OptionSpec::Value, setString<&Options::textFile>},
    {"--tokenize", OptionSpec::Value, setString<&Options::tokenize>},
    {"--detokenize", OptionSpec::Value, setString<&Options::detokenize>},
    {"--no-stream", OptionSpec::Flag, setFlag<&Options::noStream>},
    {"--interactive", OptionSpec::Flag, setFlag<&Options::interactive>},
    {"--temperature", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       return parseNumber(name, v, o.temperature);
     }},
    {"--top-p", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       return parseNumber(name, v, o.topP);
     }},
    {"--repetition-penalty", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       return parseNumber(name, v, o.repetitionPenalty);
     }},
    {"--top-k", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       int64_t k;
       TFM_RETURN_IF_ERROR(parseCount(name, v, /*positive=*/false, k));
       o.topK = k;
       return absl::OkStatus();
     }},
    {"--seed", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       uint64_t seed;
       if (!absl::SimpleAtoi(v, &seed))
         return usageError(absl::StrCat(
             name, " expects a non-negative integer, got '", v, "'"));
       o.seed = seed;
       return absl::OkStatus();
     }},
    {"--stop", OptionSpec::Repeatable, addString<&Options::stops>},
    {"--inputs", OptionSpec::Value, setString<&Options::inputsJson>},
    {"--logits", OptionSpec::Value, setString<&Options::logits>},
    {"--pooled", OptionSpec::Value, setString<&Options::pooled>},
    {"--max-new-tokens", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       return parseCount(name, v, /*positive=*/false, o.maxNewTokens);
     }},
    {"--beam", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       return parseCount(name, v, /*positive=*/true, o.beam);
     }},
    {"--length-penalty", OptionSpec::Value,
     [](Options &o, absl::string_view name, absl::string_view v) {
       double penalty;
       if (!absl::SimpleAtod(v, &penalty) || !std::isfinite(penalty))
         return usageError(
             absl::StrCat(name, " expects a number, got '", v, "'"));
       o.lengthPenalty = penalty;
       return absl::OkStatus();
     }},
    {"--bench", OptionSpec::Flag, setFlag<&Options::bench>},
    {"--no-cache", OptionSpec::Flag, setFlag<&Options::noCache>},
};
} // namespace

static absl::StatusOr<Options> parseArgs(int argc, char **argv) {
  Options options;
  bool positionalOnly = false;
  std::vector<absl::string_view> seen;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (positionalOnly || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!options.artifact.empty())
        return usageError(absl::StrCat("unexpected argument '", arg,
                                       "' (only one artifact is accepted)"));
      options.artifact = std::string(arg);
      continue;
    }
    if (arg == "--") {
      positionalOnly = true;
      continue;
    }
    absl::string_view name = arg;
    std::optional<absl::string_view> inlineValue;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      inlineValue = arg.substr(eq + 1);
    }
    const OptionSpec *spec = nullptr;
    for (const OptionSpec &candidate : kOptions)
      if (candidate.name == name)
        spec = &candidate;
    if (!spec)
      return usageError(absl::StrCat("unknown option '", name, "'"));
    if (spec->kind != OptionSpec::Repeatable) {
      if (std::find(seen.begin(), seen.end(), spec->name) != seen.end())
        return usageError(absl::StrCat(name, " given twice"));
      seen.push_back(spec->name);
    }
    absl::string_view value;
    if (spec->kind == OptionSpec::Flag) {
      if (inlineValue)
        return usageError(absl::StrCat(name, " takes no value"));
    } else if (inlineValue) {
      if (inlineValue->empty())
        return usageError(absl::StrCat(name, " needs a non-empty value"));
      value = *inlineValue;
    } else {
      if (i + 1 >= argc)
        return usageError(absl::StrCat(name, " needs a value"));
      value = argv[++i];
    }
    TFM_RETURN_IF_ERROR(spec->set(options, name, value));
  }
  if (options.help)
    return options;

  if (options.artifact.empty())
    return usageError("no artifact given");
  bool modelOptions =
      options.src || options.inputsJson || options.text || options.textFile ||
      options.tokenize || options.detokenize || options.noStream ||
      options.logits || options.pooled || options.bench || options.noCache ||
      options.beam || options.lengthPenalty || options.maxNewTokens >= 0;
  if (modelOptions && options.mode != Mode::None)
    return usageError("--src, --inputs, --text, --text-file, --tokenize, "
                      "--detokenize, --logits, --max-new-tokens, --no-cache, "
                      "--beam, --length-penalty, --no-stream and --bench are "
                      "for a model artifact, not with --list or --call");
  if (options.pooled && !options.logits)
    return usageError("--pooled comes with --logits");
  if (options.lengthPenalty && !options.beam)
    return usageError("--length-penalty needs --beam");
  if (options.beam && options.noCache)
    return usageError("--beam decodes with the KV cache; drop --no-cache");
  if (options.beam && options.logits)
    return usageError("--beam and --logits cannot be combined");
  if (options.mode == Mode::None) {
    int sources = !!options.src + !!options.inputsJson + !!options.text +
                  !!options.textFile + !!options.tokenize +
                  !!options.detokenize + options.interactive;
    if (sources == 0)
      return usageError("nothing to do: give --src, --inputs, --text, "
                        "--text-file, --interactive, --tokenize or "
                        "--detokenize (a model), or --list or --call NAME "
                        "(a library)");
    if (sources > 1)
      return usageError("give one of --src, --inputs, --text, --text-file, "
                        "--interactive, --tokenize and --detokenize");
    if ((options.tokenize || options.detokenize) &&
        (options.logits || options.bench || options.beam || options.noCache ||
         options.maxNewTokens >= 0 || options.noStream))
      return usageError("--tokenize and --detokenize take no other option");
    bool text = options.text || options.textFile || options.interactive;
    if (options.noStream && !text)
      return usageError("--no-stream is for --text, --text-file and "
                        "--interactive");
    if (!options.stops.empty() && !text)
      return usageError("--stop is for --text, --text-file and "
                        "--interactive");
    if (options.interactive &&
        (options.logits || options.bench || options.beam || options.noCache))
      return usageError("--interactive generates with the KV cache: not "
                        "with --logits, --bench, --beam or --no-cache");
    for (const std::string &stop : options.stops)
      if (stop.empty())
        return usageError("--stop needs a non-empty string");
    bool sampling = options.temperature || options.topK || options.topP ||
                    options.repetitionPenalty || options.seed;
    if (sampling && (options.beam || options.noCache || options.logits ||
                     options.tokenize || options.detokenize))
      return usageError("--temperature, --top-k, --top-p, "
                        "--repetition-penalty and --seed are for generating "
                        "with the KV cache, not with --beam, --no-cache, "
                        "--logits, --tokenize or --detokenize");
    if (options.bench && options.logits)
      return usageError("--bench and --logits cannot be combined");
    options.mode = Mode::Model;
  }
  if (options.mode != Mode::Call &&
      (!options.inputs.empty() || !options.outputs.empty()))
    return usageError("--input and --output need --call");
  return options;
}

static absl::Status runList(const CompiledModule &module) {
  for (const EntrySpec &entry : module.entries())
    std::printf("%s\n", formatEntrySpec(entry).c_str());
  if (std::fflush(stdout) != 0)
    return absl::UnknownError("cannot write to standard output");
  return absl::OkStatus();
}

static absl::Status runCall(const CompiledModule &module,
                            const Options &options) {
  const EntrySpec *entry = module.findEntry(options.entry);
  if (!entry) {
    std::vector<absl::string_view> names;
    for (const EntrySpec &each : module.entries())
      names.push_back(each.name);
    return absl::NotFoundError(absl::StrCat(
        module.path(), ": no entry '", options.entry, "' (entries: ",
        names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  // Count mismatches are reported before any file is read.
  if (options.inputs.size() != entry->inputs.size())
    return absl::InvalidArgumentError(
        absl::StrCat("entry '", entry->name, "' takes ", entry->inputs.size(),
                     " input", entry->inputs.size() == 1 ? "" : "s", ", got ",
                     options.inputs.size(), " --input"));
  if (options.outputs.size() != entry->results.size())
    return absl::InvalidArgumentError(absl::StrCat(
        "entry '", entry->name, "' returns ", entry->results.size(), " result",
        entry->results.size() == 1 ? "" : "s", ", got ", options.outputs.size(),
        " --output"));

  std::vector<Tensor> inputs;
  inputs.reserve(options.inputs.size());
  for (const std::string &path : options.inputs) {
    TFM_ASSIGN_OR_RETURN(Tensor tensor, readNpy(path));
    inputs.push_back(std::move(tensor));
  }
  std::vector<const Tensor *> inputPointers;
  for (const Tensor &input : inputs)
    inputPointers.push_back(&input);

  TFM_ASSIGN_OR_RETURN(std::vector<Tensor> results,
                       module.call(entry->name, inputPointers));
  for (size_t i = 0; i < results.size(); ++i)
    TFM_RETURN_IF_ERROR(writeNpy(options.outputs[i], results[i]));
  return absl::OkStatus();
}

/// Parses "5 17 42" into ids.
static absl::StatusOr<std::vector<int64_t>> parseIds(const std::string &text) {
  std::vector<int64_t> ids;
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" \t\n,"), absl::SkipEmpty())) {
    int64_t id;
    if (!absl::SimpleAtoi(word, &id))
      return absl::InvalidArgumentError(
          absl::StrCat("--src: '", word, "' is not a token id"));
    ids.push_back(id);
  }
  return ids;
}

static double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The lines of --text-file (without their line ends; a last line without
/// one too), or --text.
static absl::StatusOr<std::vector<std::string>>
readTexts(const Options &options) {
  if (options.text)
    return std::vector<std::string>{*options.text};
  TFM_ASSIGN_OR_RETURN(std::string text, readFile(*options.textFile));
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::EndsWith(line, "\r"))
      line.remove_suffix(1);
    lines.emplace_back(line);
  }
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  if (lines.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(*options.textFile, ": no lines of text"));
  return lines;
}

static absl::Status writeOut(absl::string_view text) {
  if (!text.empty() &&
      std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    return absl::UnknownError("cannot write to standard output");
  if (std::fflush(stdout) != 0)
    return absl::UnknownError("cannot write to standard output");
  return absl::OkStatus();
}

/// --tokenize, --detokenize, and --text/--text-file through generation.
static absl::Status runText(const Options &options,
                            const Tokenizer &tokenizer) {
  if (options.tokenize) {
    TFM_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                         tokenizer.encode(*options.tokenize));
    return writeOut(absl::StrCat(absl::StrJoin(ids, " "), "\n"));
  }
  if (options.detokenize) {
    std::vector<int64_t> ids;
    for (absl::string_view word :
         absl::StrSplit(*options.detokenize, absl::ByAnyChar(" \t\n,"),
                        absl::SkipEmpty())) {
      int64_t id;
      if (!absl::SimpleAtoi(word, &id))
        return absl::InvalidArgumentError(
            absl::StrCat("--detokenize: '", word, "' is not a token id"));
      ids.push_back(id);
    }
    TFM_ASSIGN_OR_RETURN(std::string text, tokenizer.decode(ids));
    return writeOut(absl::StrCat(text, "\n"));
  }
  return absl::OkStatus();
}

/// The sampling settings: the model's generation config, then the
/// options. --temperature (0: greedy), --top-k, --top-p or --seed ask for
/// sampling; without a seed, one from the system.
static SamplingParams samplingParams(const Artifact &artifact,
                                     const Options &options) {
  SamplingParams p = artifact.samplingDefaults();
  if (options.topK || options.topP || options.seed ||
      (options.temperature && *options.temperature != 0))
    p.doSample = true;
  if (options.temperature) {
    if (*options.temperature == 0)
      p.doSample = false;
    else
      p.temperature = *options.temperature;
  }
  if (options.topK)
    p.topK = *options.topK;
  if (options.topP)
    p.topP = *options.topP;
  if (options.repetitionPenalty)
    p.repetitionPenalty = *options.repetitionPenalty;
  if (options.seed)
    p.seed = *options.seed;
  else
    p.seed = (static_cast<uint64_t>(std::random_device()()) << 32) ^
             std::random_device()();
  return p;
}

/// --text / --text-file on a model that generates: the generated text, one
/// line per input; streamed as the tokens come for a single input (unless
/// --no-stream).
/// Where --bench --text measures: the generation's stats and the time
/// spent turning tokens into text.
struct TextBench {
  GenerateStats stats;
  double textSeconds = 0;
  int64_t tokens = 0;
};

static absl::Status generateText(const Artifact &artifact,
                                 const Tokenizer &tokenizer,
                                 const Sequences &src, int64_t maxNew,
                                 const Options &options,
                                 TextBench *bench = nullptr) {
  if (options.beam) {
    TFM_ASSIGN_OR_RETURN(Sequences generated,
                         beamSearch(artifact, src, options.beam, maxNew,
                                    options.lengthPenalty.value_or(1.0)));
    for (const std::vector<int64_t> &seq : generated) {
      TFM_ASSIGN_OR_RETURN(std::string text, tokenizer.decode(seq));
      TFM_RETURN_IF_ERROR(writeOut(absl::StrCat(text, "\n")));
    }
    return absl::OkStatus();
  }
  bool stream =
      src.size() == 1 && !options.noStream && !options.noCache && !bench;
  // One text stream per sequence: it prints (a single input), and finds
  // the stop strings.
  std::vector<TextStream> texts;
  for (size_t i = 0; i < src.size(); ++i)
    texts.emplace_back(tokenizer, options.stops);
  std::vector<std::string> pieces(src.size());
  absl::Status streamStatus;
  GenerateOptions generate;
  generate.maxNewTokens = maxNew;
  generate.sampling = samplingParams(artifact, options);
  generate.stats = bench ? &bench->stats : nullptr;
  generate.onToken = [&](size_t sequence, int64_t token) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> piece = texts[sequence].push(token);
    if (bench) {
      bench->textSeconds += std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count();
      ++bench->tokens;
    }
    if (!piece.ok())
      streamStatus = piece.status();
    else if (stream)
      streamStatus = writeOut(*piece);
    else
      pieces[sequence] += *piece;
    return streamStatus.ok() && !texts[sequence].stopped();
  };
  Sequences generated;
  if (options.noCache) {
    TFM_ASSIGN_OR_RETURN(generated, greedy(artifact, src, maxNew, nullptr,
                                           /*useCache=*/false));
    for (size_t i = 0; i < generated.size(); ++i)
      for (int64_t token : generated[i])
        if (!generate.onToken(i, token))
          break;
  } else {
    TFM_RETURN_IF_ERROR(checkDecodable(artifact.config(), src));
    DecodeSession session(artifact);
    TFM_ASSIGN_OR_RETURN(generated, tfm::generate(session, src, generate));
  }
  TFM_RETURN_IF_ERROR(streamStatus);
  for (size_t i = 0; i < src.size(); ++i) {
    auto start = std::chrono::steady_clock::now();
    TFM_ASSIGN_OR_RETURN(std::string rest, texts[i].finish());
    if (bench) {
      bench->textSeconds += std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count();
      continue;
    }
    TFM_RETURN_IF_ERROR(
        writeOut(absl::StrCat(stream ? "" : pieces[i], rest, "\n")));
  }
  return absl::OkStatus();
}

/// --interactive: prompts from standard input, one per line. A
/// decoder-only model continues one conversation (runtime/Conversation.h):
/// each reply follows the previous prompts and replies, on the same KV
/// cache; an encoder-decoder model answers each line on its own. Each reply
/// ends with a newline.
static absl::Status runInteractive(const Artifact &artifact,
                                   const Tokenizer &tokenizer,
                                   const Options &options) {
  const ArtifactConfig &c = artifact.config();
  if (c.architecture == ModelArchitecture::Encoder)
    return absl::InvalidArgumentError(
        "an encoder-only model does not generate; --interactive is for "
        "models that do");
  int64_t maxNew =
      options.maxNewTokens >= 0 ? options.maxNewTokens : c.maxSeqLen;
  std::optional<Conversation> conversation;
  if (c.architecture == ModelArchitecture::Decoder)
    conversation.emplace(artifact);
  std::string line;
  for (int64_t turn = 0; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    if (!conversation) {
      TFM_ASSIGN_OR_RETURN(std::vector<int64_t> ids, tokenizer.encode(line));
      TFM_RETURN_IF_ERROR(
          generateText(artifact, tokenizer, {std::move(ids)}, maxNew, options));
      continue;
    }
    // The first prompt as the tokenizer encodes a text (bos and all), the
    // next ones as continuations of it.
    TFM_ASSIGN_OR_RETURN(
        std::vector<int64_t> ids,
        tokenizer.encode(line, /*addSpecialTokens=*/turn == 0));
    ++turn;
    TextStream text(tokenizer, options.stops);
    absl::Status streamStatus;
    std::string pending;
    GenerateOptions generate;
    generate.maxNewTokens = maxNew;
    generate.sampling = samplingParams(artifact, options);
    generate.onToken = [&](size_t, int64_t token) {
      absl::StatusOr<std::string> piece = text.push(token);
      if (!piece.ok())
        streamStatus = piece.status();
      else if (options.noStream)
        pending += *piece;
      else
        streamStatus = writeOut(*piece);
      return streamStatus.ok() && !text.stopped();
    };
    TFM_RETURN_IF_ERROR(conversation->say(ids, generate).status());
    TFM_RETURN_IF_ERROR(streamStatus);
    TFM_ASSIGN_OR_RETURN(std::string rest, text.finish());
    TFM_RETURN_IF_ERROR(writeOut(absl::StrCat(pending, rest, "\n")));
  }
  if (std::cin.bad())
    return absl::UnknownError("cannot read standard input");
  return absl::OkStatus();
}

static absl::Status runModel(const Options &options) {
  TFM_ASSIGN_OR_RETURN(std::unique_ptr<Artifact> artifact,
                       Artifact::load(options.artifact));
  const Tokenizer *tokenizer = nullptr;
  if (options.text || options.textFile || options.tokenize ||
      options.detokenize || options.interactive) {
    TFM_ASSIGN_OR_RETURN(tokenizer, artifact->tokenizer());
    if (options.tokenize || options.detokenize)
      return runText(options, *tokenizer);
    if (options.interactive)
      return runInteractive(*artifact, *tokenizer, options);
  }

  Sequences src;
  std::optional<Sequences> tgt, types;
  double tokenizeSeconds = 0;
  if (tokenizer) {
    TFM_ASSIGN_OR_RETURN(std::vector<std::string> texts, readTexts(options));
    auto tokenizeStart = std::chrono::steady_clock::now();
    for (size_t i = 0; i < texts.size(); ++i) {
      auto ids = tokenizer->encode(texts[i]);
      if (!ids.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(options.textFile ? "--text-file line " : "--text",
                         options.textFile ? absl::StrCat(i + 1) : "", ": ",
                         ids.status().message()));
      src.push_back(std::move(*ids));
    }
    tokenizeSeconds = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - tokenizeStart)
                          .count();
  } else if (options.src) {
    TFM_ASSIGN_OR_RETURN(std::vector<int64_t> ids, parseIds(*options.src));
    src.push_back(std::move(ids));
  } else {
    TFM_ASSIGN_OR_RETURN(std::string text, readFile(*options.inputsJson));
    TFM_ASSIGN_OR_RETURN(BatchInputs batch,
                         parseBatchInputs(text, *options.inputsJson));
    src = std::move(batch.src);
    tgt = std::move(batch.tgt);
    types = std::move(batch.types);
  }

  ForwardInputs in;
  in.tgt = tgt ? &*tgt : nullptr;
  in.types = types ? &*types : nullptr;
  if (options.logits) {
    Tensor pooled;
    in.pooled = options.pooled ? &pooled : nullptr;
    TFM_ASSIGN_OR_RETURN(Tensor out, forward(*artifact, src, in));
    TFM_RETURN_IF_ERROR(writeNpy(*options.logits, out));
    return options.pooled ? writeNpy(*options.pooled, pooled)
                          : absl::OkStatus();
  }
  if (tgt)
    return absl::InvalidArgumentError(
        "\"tgt\" is for a teacher-forced pass: give --logits FILE");
  if (types && artifact->config().architecture != ModelArchitecture::Encoder)
    return absl::InvalidArgumentError(
        "\"token_type_ids\" is for an encoder model with token types");

  if (options.bench &&
      artifact->config().architecture == ModelArchitecture::Encoder) {
    // Nothing to generate: time the forward pass; the first call apart.
    // The calls share a buffer pool, as a serving loop would: from the
    // second on, the compiled code's buffers are reused, not faulted in.
    BufferPool pool;
    in.pool = &pool;
    std::vector<double> seconds;
    for (int i = 0; i < 6; ++i) {
      auto start = std::chrono::steady_clock::now();
      TFM_ASSIGN_OR_RETURN(Tensor out, forward(*artifact, src, in));
      seconds.push_back(std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count());
    }
    std::printf("encode: first %.3f ms, median of 5 more %.3f ms\n",
                seconds[0] * 1e3,
                median({seconds.begin() + 1, seconds.end()}) * 1e3);
    return absl::OkStatus();
  }

  int64_t maxNew = options.maxNewTokens >= 0 ? options.maxNewTokens
                                             : artifact->config().maxSeqLen;
  if (tokenizer && !options.bench)
    return generateText(*artifact, *tokenizer, src, maxNew, options);
  if (tokenizer) {
    // --bench --text: where the time goes, the text's share apart.
    auto start = std::chrono::steady_clock::now();
    TextBench bench;
    TFM_RETURN_IF_ERROR(
        generateText(*artifact, *tokenizer, src, maxNew, options, &bench));
    double total =
        tokenizeSeconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    int64_t promptTokens = 0;
    for (const std::vector<int64_t> &ids : src)
      promptTokens += static_cast<int64_t>(ids.size());
    double text = tokenizeSeconds + bench.textSeconds;
    std::printf("tokenize: %.3f ms (%zu text%s, %lld tokens)\n",
                tokenizeSeconds * 1e3, src.size(), src.size() == 1 ? "" : "s",
                static_cast<long long>(promptTokens));
    std::printf("first token: %.3f ms (tokenize, then %s)\n",
                (tokenizeSeconds + bench.stats.encodeSeconds) * 1e3,
                artifact->config().architecture == ModelArchitecture::Decoder
                    ? "the prompt's prefill"
                    : "the encoder and the first step");
    std::printf("decode: %zu steps, median %.3f ms/step\n",
                bench.stats.stepSeconds.size(),
                median(bench.stats.stepSeconds) * 1e3);
    std::printf("text: %.3f ms for %lld generated tokens (decoding as they "
                "come)\n",
                bench.textSeconds * 1e3, static_cast<long long>(bench.tokens));
    std::printf("tokenizer share: %.3f%% of %.3f ms\n", 100.0 * text / total,
                total * 1e3);
    if (std::fflush(stdout) != 0)
      return absl::UnknownError("cannot write to standard output");
    return absl::OkStatus();
  }
  GenerateStats stats;
  Sequences generated;
  if (options.beam) {
    TFM_ASSIGN_OR_RETURN(generated,
                         beamSearch(*artifact, src, options.beam, maxNew,
                                    options.lengthPenalty.value_or(1.0),
                                    options.bench ? &stats : nullptr));
  } else if (options.noCache) {
    TFM_ASSIGN_OR_RETURN(generated, greedy(*artifact, src, maxNew,
                                           options.bench ? &stats : nullptr,
                                           /*useCache=*/false));
  } else {
    TFM_RETURN_IF_ERROR(checkDecodable(artifact->config(), src));
    DecodeSession session(*artifact);
    GenerateOptions generate;
    generate.maxNewTokens = maxNew;
    generate.sampling = samplingParams(*artifact, options);
    generate.stats = options.bench ? &stats : nullptr;
    TFM_ASSIGN_OR_RETURN(generated, tfm::generate(session, src, generate));
  }
  if (options.bench) {
    double total = 0;
    for (double t : stats.stepSeconds)
      total += t;
    std::printf("encode: %.3f ms\n", stats.encodeSeconds * 1e3);
    std::printf(
        "decode: %zu steps, median %.3f ms/step, total %.3f ms (%s)\n",
        stats.stepSeconds.size(), median(stats.stepSeconds) * 1e3, total * 1e3,
        options.noCache ? "the decoder re-runs over the prefix each step"
                        : "KV cache");
    // Steps at given positions, to show that a step's cost stays flat: the
    // median of the steps within 2 of the position (one step is a single
    // sample of a machine that is shared).
    std::string at;
    const std::vector<double> &steps = stats.stepSeconds;
    for (size_t position : {1, 32, 128, 256}) {
      if (position > steps.size())
        continue;
      size_t lo = position > 3 ? position - 3 : 0;
      size_t hi = std::min(steps.size(), position + 2);
      absl::StrAppend(
          &at, at.empty() ? "" : ", ", position, ": ",
          absl::StrFormat(
              "%.3f", median({steps.begin() + lo, steps.begin() + hi}) * 1e3));
    }
    if (!at.empty())
      std::printf("step ms at position (median of the steps within 2) %s\n",
                  at.c_str());
  } else {
    for (const std::vector<int64_t> &seq : generated)
      std::printf("%s\n", absl::StrJoin(seq, " ").c_str());
  }
  if (std::fflush(stdout) != 0)
    return absl::UnknownError("cannot write to standard output");
  return absl::OkStatus();
}

static absl::Status run(int argc, char **argv) {
  TFM_ASSIGN_OR_RETURN(Options options, parseArgs(argc, argv));
  if (options.help) {
    std::fputs(kUsage, stdout);
    return absl::OkStatus();
  }

  if (options.mode == Mode::Model)
    return runModel(options);
  TFM_ASSIGN_OR_RETURN(std::unique_ptr<CompiledModule> module,
                       CompiledModule::load(options.artifact));
  switch (options.mode) {
  case Mode::List:
    return runList(*module);
  case Mode::Call:
    return runCall(*module, options);
  case Mode::None:
  case Mode::Model:
    break;
  }
  return absl::InternalError("no mode selected");
}

int main(int argc, char **argv) {
  absl::Status status;
  // Nothing in the runtime throws on bad input; this catches allocation
  // failures so that even those end in one line and exit code 1.
  try {
    status = run(argc, argv);
  } catch (const std::bad_alloc &) {
    status = absl::ResourceExhaustedError("out of memory");
  } catch (const std::exception &e) {
    status = absl::InternalError(e.what());
  }
  if (status.ok())
    return 0;
  std::fprintf(stderr, "tfm-run: error: %.*s\n",
               static_cast<int>(status.message().size()),
               status.message().data());
  return 1;
}
