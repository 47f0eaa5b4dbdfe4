//===- Artifact.cpp - A compiled model, loaded ----------------------------===//

#include "runtime/Artifact.h"

#include "support/Json.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

using namespace tfm;

namespace {
/// Reads model.json fields with one error message format.
class Reader {
public:
  explicit Reader(std::string path) : path(std::move(path)) {}

  absl::Status error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", toAbsl(what)));
  }

  absl::StatusOr<const json::Value *> field(const json::Value &object,
                                            std::string_view key,
                                            json::Value::Kind kind) const {
    const json::Value *v = object.isObject() ? object.find(key) : nullptr;
    if (!v)
      return error(absl::StrCat("missing field '", toAbsl(key), "'"));
    if (v->kind() != kind)
      return error(
          absl::StrCat("field '", toAbsl(key), "' has the wrong type"));
    return v;
  }

  absl::StatusOr<int64_t> integer(const json::Value &object,
                                  std::string_view key) const {
    TFM_ASSIGN_OR_RETURN(auto v, field(object, key, json::Value::Kind::Number));
    if (!v->isInt())
      return error(absl::StrCat("field '", toAbsl(key), "' is not an integer"));
    return v->asInt();
  }

  std::string path;
};
} // namespace

std::string tfm::weightIndexChecksum(const std::vector<WeightRecord> &index) {
  std::string text;
  for (const WeightRecord &w : index)
    absl::StrAppend(&text, w.name, " ", toAbsl(dtypeName(w.dtype)), "[",
                    absl::StrJoin(w.shape, ","), "] ", w.offset, "\n");
  return checksum(text);
}

/// Checks that the file at `path` hashes to `expected` (model.json's record).
static absl::Status checkHash(const std::string &path,
                              const std::string &expected, const Reader &r) {
  TFM_ASSIGN_OR_RETURN(std::string actual, fileChecksum(path));
  if (actual != expected)
    return r.error(absl::StrCat(
        path, " has XXH3 hash ", actual, ", model.json records ", expected,
        ": the file was changed or belongs to another artifact; recompile"));
  return absl::OkStatus();
}

absl::StatusOr<ArtifactDescription>
tfm::parseArtifactDescription(std::string_view text, const std::string &path) {
  using Kind = json::Value::Kind;
  json::Value doc;
  {
    auto parsed = json::parse(text);
    if (!parsed.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", parsed.status().message()));
    doc = std::move(*parsed);
  }
  Reader r(path);
  const json::Value *format;
  TFM_ASSIGN_OR_RETURN(format, r.field(doc, "format", Kind::String));
  if (format->asString() != "tfm-artifact")
    return r.error("not a tfm artifact");
  int64_t version;
  TFM_ASSIGN_OR_RETURN(version, r.integer(doc, "version"));
  if (version != kArtifactVersion)
    return r.error(absl::StrCat("artifact version ", version,
                                ", this runtime reads version ",
                                kArtifactVersion, "; recompile with tfmc"));

  ArtifactDescription d;
  ArtifactConfig &c = d.config;
  const json::Value *config;
  TFM_ASSIGN_OR_RETURN(config, r.field(doc, "config", Kind::Object));
  d.configJson = *config;
  const json::Value *arch;
  TFM_ASSIGN_OR_RETURN(arch, r.field(*config, "architecture", Kind::String));
  if (arch->asString() == "encoder-decoder")
    c.architecture = ModelArchitecture::EncoderDecoder;
  else if (arch->asString() == "encoder")
    c.architecture = ModelArchitecture::Encoder;
  else if (arch->asString() == "decoder")
    c.architecture = ModelArchitecture::Decoder;
  else
    return r.error(
        absl::StrCat("unknown architecture '", arch->asString(), "'"));
  TFM_ASSIGN_OR_RETURN(c.dModel, r.integer(*config, "d_model"));
  TFM_ASSIGN_OR_RETURN(c.srcVocabSize, r.integer(*config, "src_vocab_size"));
  TFM_ASSIGN_OR_RETURN(c.tgtVocabSize, r.integer(*config, "tgt_vocab_size"));
  TFM_ASSIGN_OR_RETURN(c.maxSeqLen, r.integer(*config, "max_seq_len"));
  TFM_ASSIGN_OR_RETURN(c.padId, r.integer(*config, "pad_id"));
  TFM_ASSIGN_OR_RETURN(c.bosId, r.integer(*config, "bos_id"));
  TFM_ASSIGN_OR_RETURN(c.eosId, r.integer(*config, "eos_id"));
  // Optional: what only some models have.
  int64_t vocab = c.architecture == ModelArchitecture::Encoder ? c.srcVocabSize
                                                               : c.tgtVocabSize;
  auto tokenId = [&](const json::Value &v,
                     std::string_view key) -> absl::StatusOr<int64_t> {
    if (!v.isInt() || v.asInt() < 0 || v.asInt() >= vocab)
      return r.error(absl::StrCat("field '", toAbsl(key),
                                  "' holds something other than a token id "
                                  "below ",
                                  vocab));
    return v.asInt();
  };
  if (config->find("type_vocab_size")) {
    TFM_ASSIGN_OR_RETURN(c.typeVocabSize,
                         r.integer(*config, "type_vocab_size"));
  }
  if (c.typeVocabSize < 0)
    return r.error("field 'type_vocab_size' is negative");
  if (config->find("forced_eos_id")) {
    TFM_ASSIGN_OR_RETURN(c.forcedEosId, tokenId(*config->find("forced_eos_id"),
                                                "forced_eos_id"));
  }
  if (const json::Value *more = config->find("more_eos_ids")) {
    if (!more->isArray())
      return r.error("field 'more_eos_ids' has the wrong type");
    for (const json::Value &v : more->asArray()) {
      int64_t id;
      TFM_ASSIGN_OR_RETURN(id, tokenId(v, "more_eos_ids"));
      c.moreEosIds.push_back(id);
    }
  }
  if (const json::Value *bad = config->find("bad_words_ids")) {
    if (!bad->isArray())
      return r.error("field 'bad_words_ids' has the wrong type");
    for (const json::Value &word : bad->asArray()) {
      if (!word.isArray() || word.asArray().empty())
        return r.error("field 'bad_words_ids' holds an empty or non-list word");
      std::vector<int64_t> ids;
      for (const json::Value &v : word.asArray()) {
        int64_t id;
        TFM_ASSIGN_OR_RETURN(id, tokenId(v, "bad_words_ids"));
        ids.push_back(id);
      }
      c.badWordsIds.push_back(std::move(ids));
    }
  }

  const json::Value *weights, *file, *weightsHash, *tensors;
  TFM_ASSIGN_OR_RETURN(weights, r.field(doc, "weights", Kind::Object));
  TFM_ASSIGN_OR_RETURN(file, r.field(*weights, "file", Kind::String));
  d.weightFile = file->asString();
  TFM_ASSIGN_OR_RETURN(d.weightBytes, r.integer(*weights, "bytes"));
  if (d.weightBytes < 0)
    return r.error("field 'bytes' is negative");
  TFM_ASSIGN_OR_RETURN(weightsHash, r.field(*weights, "xxh3", Kind::String));
  d.weightsChecksum = weightsHash->asString();
  TFM_ASSIGN_OR_RETURN(tensors, r.field(*weights, "tensors", Kind::Array));
  for (const json::Value &t : tensors->asArray()) {
    const json::Value *name, *shapeValue;
    TFM_ASSIGN_OR_RETURN(name, r.field(t, "name", Kind::String));
    TFM_ASSIGN_OR_RETURN(shapeValue, r.field(t, "shape", Kind::Array));
    WeightRecord record{name->asString(), {}, 0};
    TFM_ASSIGN_OR_RETURN(record.offset, r.integer(t, "offset"));
    const json::Value *dtypeValue;
    TFM_ASSIGN_OR_RETURN(dtypeValue, r.field(t, "dtype", Kind::String));
    std::optional<DType> dtype = parseDType(dtypeValue->asString());
    if (!dtype ||
        (*dtype != DType::F32 && *dtype != DType::BF16 && *dtype != DType::I8))
      return r.error(absl::StrCat("weight '", record.name,
                                  "' has an unknown element type '",
                                  dtypeValue->asString(), "'"));
    record.dtype = *dtype;
    for (const json::Value &dim : shapeValue->asArray()) {
      if (!dim.isInt() || dim.asInt() < 0)
        return r.error(
            absl::StrCat("weight '", record.name, "' has a bad shape"));
      record.shape.push_back(dim.asInt());
    }
    auto count = checkedNumElements(record.dtype, record.shape);
    if (!count.ok())
      return r.error(absl::StrCat("weight '", record.name,
                                  "': ", count.status().message()));
    uint64_t size = static_cast<uint64_t>(*count) * dtypeSize(record.dtype);
    if (record.offset < 0 || record.offset % alignof(float) != 0 ||
        static_cast<uint64_t>(record.offset) >
            static_cast<uint64_t>(d.weightBytes) ||
        size > static_cast<uint64_t>(d.weightBytes - record.offset))
      return r.error(absl::StrCat("weight '", record.name, "' lies outside ",
                                  d.weightFile));
    d.weights.push_back(std::move(record));
  }

  const json::Value *library, *libraryHash;
  TFM_ASSIGN_OR_RETURN(library, r.field(doc, "library", Kind::String));
  TFM_ASSIGN_OR_RETURN(libraryHash, r.field(doc, "library_xxh3", Kind::String));
  d.library = library->asString();
  d.libraryChecksum = libraryHash->asString();

  const json::Value *entries;
  TFM_ASSIGN_OR_RETURN(entries, r.field(doc, "entries", Kind::Array));
  for (const json::Value &e : entries->asArray()) {
    const json::Value *name, *args;
    TFM_ASSIGN_OR_RETURN(name, r.field(e, "name", Kind::String));
    TFM_ASSIGN_OR_RETURN(args, r.field(e, "arguments", Kind::Array));
    ArtifactDescription::Entry entry{name->asString(), {}};
    for (const json::Value &a : args->asArray()) {
      const json::Value *argName, *isWeight;
      TFM_ASSIGN_OR_RETURN(argName, r.field(a, "name", Kind::String));
      TFM_ASSIGN_OR_RETURN(isWeight, r.field(a, "weight", Kind::Bool));
      entry.arguments.push_back({argName->asString(), isWeight->asBool()});
    }
    d.entries.push_back(std::move(entry));
  }

  if (const json::Value *sampling = doc.find("sampling")) {
    SamplingParams &p = d.sampling;
    const json::Value *doSample, *temperature, *topP, *penalty;
    TFM_ASSIGN_OR_RETURN(doSample, r.field(*sampling, "do_sample", Kind::Bool));
    p.doSample = doSample->asBool();
    TFM_ASSIGN_OR_RETURN(temperature,
                         r.field(*sampling, "temperature", Kind::Number));
    p.temperature = temperature->asDouble();
    TFM_ASSIGN_OR_RETURN(p.topK, r.integer(*sampling, "top_k"));
    TFM_ASSIGN_OR_RETURN(topP, r.field(*sampling, "top_p", Kind::Number));
    p.topP = topP->asDouble();
    TFM_ASSIGN_OR_RETURN(
        penalty, r.field(*sampling, "repetition_penalty", Kind::Number));
    p.repetitionPenalty = penalty->asDouble();
    SamplingParams checked = p;
    checked.doSample = true;
    if (absl::Status s = checked.check(); !s.ok())
      return r.error(absl::StrCat("field 'sampling': ", s.message()));
  }

  if (const json::Value *tokenizer = doc.find("tokenizer")) {
    const json::Value *files;
    TFM_ASSIGN_OR_RETURN(files, r.field(*tokenizer, "files", Kind::Array));
    for (const json::Value &f : files->asArray()) {
      const json::Value *name, *hash;
      TFM_ASSIGN_OR_RETURN(name, r.field(f, "name", Kind::String));
      TFM_ASSIGN_OR_RETURN(hash, r.field(f, "xxh3", Kind::String));
      // A file name within tokenizer/, nothing that leaves it.
      const std::string &n = name->asString();
      if (n.empty() || n[0] == '.' || n.find('/') != std::string::npos)
        return r.error(
            absl::StrCat("tokenizer file '", n, "' is not a plain file name"));
      d.tokenizerFiles.emplace_back(n, hash->asString());
    }
    if (d.tokenizerFiles.empty())
      return r.error("field 'tokenizer' lists no files");
  }
  return d;
}

absl::StatusOr<const Tokenizer *> Artifact::tokenizer() const {
  if (tokenizerFiles_.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        dir_, " has no tokenizer: the model directory it was compiled from "
              "had no tokenizer_config.json; give token ids (--src, "
              "--inputs)"));
  std::call_once(tokenizerOnce_, [&] {
    std::string tokenizerDir = dir_ + "/tokenizer";
    Reader r(dir_ + "/model.json");
    for (const auto &[name, hash] : tokenizerFiles_)
      if (absl::Status s = checkHash(tokenizerDir + "/" + name, hash, r);
          !s.ok()) {
        tokenizer_ = s;
        return;
      }
    tokenizer_ = Tokenizer::load(tokenizerDir);
  });
  if (!tokenizer_.ok())
    return tokenizer_.status();
  return tokenizer_->get();
}

absl::Status tfm::checkCompiledConfig(const json::Value &config,
                                      std::string_view stated,
                                      const std::string &library) {
  if (stated.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        library, " states no model configuration; recompile the model with "
                 "tfmc"));
  auto compiled = json::parse(stated);
  if (!compiled.ok() || !compiled->isObject())
    return absl::InvalidArgumentError(
        absl::StrCat(library, ": its manifest's config is not a JSON object"));
  std::vector<std::string> keys;
  if (config.isObject())
    for (const auto &[key, value] : config.asObject())
      keys.push_back(key);
  for (const auto &[key, value] : compiled->asObject())
    keys.push_back(key);
  for (const std::string &key : keys) {
    const json::Value *mine = config.isObject() ? config.find(key) : nullptr;
    const json::Value *theirs = compiled->find(key);
    if (mine && theirs && *mine == *theirs)
      continue;
    auto shown = [](const json::Value *v) {
      return v ? json::serialize(*v) : std::string("absent");
    };
    return absl::InvalidArgumentError(absl::StrCat(
        "config field '", key, "' is ", shown(mine), ", but ", library,
        " was compiled for ", shown(theirs),
        " (model.json was edited, or belongs to another artifact)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Artifact>>
Artifact::load(const std::string &dir) {
  std::string jsonPath = dir + "/model.json";
  std::string text;
  TFM_ASSIGN_OR_RETURN(text, readFile(jsonPath));
  ArtifactDescription d;
  TFM_ASSIGN_OR_RETURN(d, parseArtifactDescription(text, jsonPath));
  Reader r(jsonPath);
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->config_ = d.config;
  artifact->dir_ = dir;
  artifact->tokenizerFiles_ = d.tokenizerFiles;
  artifact->sampling_ = d.sampling;

  // Weights: views into the mapped weights.bin.
  TFM_ASSIGN_OR_RETURN(artifact->weightFile_,
                       MappedFile::open(dir + "/" + d.weightFile));
  const MappedFile &bin = *artifact->weightFile_;
  if (static_cast<uint64_t>(d.weightBytes) != bin.size())
    return r.error(absl::StrCat(bin.path(), " has ", bin.size(),
                                " bytes, model.json says ", d.weightBytes));
  TFM_RETURN_IF_ERROR(checkHash(bin.path(), d.weightsChecksum, r));
  for (const WeightRecord &w : d.weights) {
    // Within weights.bin: parseArtifactDescription checked the records
    // against its stated size, which is its size. The runtime only reads
    // weights; the view owns nothing.
    void *data = const_cast<char *>(bin.data()) + w.offset;
    artifact->weights_.emplace(
        w.name, Tensor::adopt(w.dtype, w.shape, nullptr, data, 0));
  }

  std::string libraryPath = dir + "/" + d.library;
  TFM_RETURN_IF_ERROR(checkHash(libraryPath, d.libraryChecksum, r));
  TFM_ASSIGN_OR_RETURN(artifact->module_, CompiledModule::load(libraryPath));
  // The module names the weights it was compiled with: weights.bin's hash
  // and the hash of the index model.json gives for it.
  {
    const std::vector<std::string> &stated =
        artifact->module_->weightChecksums();
    if (stated.size() != 2)
      return r.error(absl::StrCat(libraryPath,
                                  " states no weights; recompile the model "
                                  "with tfmc"));
    if (stated[0] != d.weightsChecksum)
      return r.error(absl::StrCat(bin.path(), " is not the weights ",
                                  libraryPath, " was compiled with (XXH3 ",
                                  d.weightsChecksum, ", expected ", stated[0],
                                  ")"));
    if (stated[1] != weightIndexChecksum(d.weights))
      return r.error(absl::StrCat(
          "the weight index (names, shapes, offsets, types) is not the one ",
          libraryPath, " was compiled with: model.json was edited"));
  }
  // Every config field the runtime relies on must be the one the module was
  // compiled for (its manifest states them).
  if (absl::Status s = checkCompiledConfig(
          d.configJson, artifact->module_->modelConfig(), libraryPath);
      !s.ok())
    return r.error(std::string(s.message()));

  for (const ArtifactDescription::Entry &e : d.entries) {
    const EntrySpec *spec = artifact->module_->findEntry(e.name);
    if (!spec)
      return r.error(
          absl::StrCat("entry '", e.name, "' is not in the library"));
    if (spec->inputs.size() != e.arguments.size())
      return r.error(absl::StrCat(
          "entry '", e.name, "' takes ", spec->inputs.size(),
          " arguments in the library, ", e.arguments.size(), " in model.json"));
    std::vector<Argument> arguments;
    for (const auto &[argName, isWeight] : e.arguments) {
      Argument arg{argName, nullptr};
      if (isWeight) {
        auto it = artifact->weights_.find(arg.name);
        if (it == artifact->weights_.end())
          return r.error(absl::StrCat("entry '", e.name, "' takes weight '",
                                      arg.name,
                                      "', which is not in weights.bin"));
        arg.weight = &it->second;
      }
      arguments.push_back(std::move(arg));
    }
    artifact->entries_.emplace(e.name, std::move(arguments));
  }
  return artifact;
}

bool Artifact::hasEntry(std::string_view name) const {
  return entries_.find(name) != entries_.end();
}

std::vector<std::pair<std::string, ArgSpec>>
Artifact::runtimeInputs(std::string_view name) const {
  std::vector<std::pair<std::string, ArgSpec>> inputs;
  auto it = entries_.find(name);
  const EntrySpec *spec = entrySpec(name);
  if (it == entries_.end() || !spec)
    return inputs;
  for (size_t i = 0; i < it->second.size(); ++i)
    if (!it->second[i].weight)
      inputs.push_back({it->second[i].name, spec->inputs[i]});
  return inputs;
}

const EntrySpec *Artifact::entrySpec(std::string_view name) const {
  return module_->findEntry(name);
}

absl::Status Artifact::bind(std::string_view name, const NamedInputs &inputs,
                            const std::vector<std::string> &batched,
                            std::vector<const Tensor *> &args,
                            std::vector<bool> &isBatched) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return absl::NotFoundError(
        absl::StrCat("the model has no '", toAbsl(name), "' entry"));
  for (const Argument &arg : it->second) {
    if (arg.weight) {
      args.push_back(arg.weight);
      isBatched.push_back(false);
      continue;
    }
    const Tensor *given = nullptr;
    for (const auto &[inputName, tensor] : inputs)
      if (inputName == arg.name)
        given = tensor;
    if (!given)
      return absl::InvalidArgumentError(absl::StrCat(
          "entry '", toAbsl(name), "' needs input '", arg.name, "'"));
    args.push_back(given);
    isBatched.push_back(std::find(batched.begin(), batched.end(), arg.name) !=
                        batched.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>>
Artifact::call(std::string_view name, const NamedInputs &inputs) const {
  std::vector<const Tensor *> args;
  std::vector<bool> batched;
  TFM_RETURN_IF_ERROR(bind(name, inputs, {}, args, batched));
  return module_->call(name, args);
}

absl::StatusOr<PreparedCall>
Artifact::prepare(std::string_view name, const NamedInputs &inputs,
                  const std::vector<std::string> &batched) const {
  std::vector<const Tensor *> args;
  std::vector<bool> isBatched;
  TFM_RETURN_IF_ERROR(bind(name, inputs, batched, args, isBatched));
  return module_->prepare(name, std::move(args), std::move(isBatched));
}
