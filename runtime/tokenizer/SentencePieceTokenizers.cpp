//===- SentencePieceTokenizers.cpp - Marian's and Llama's tokenizers ------===//
//
// transformers' MarianTokenizer (source and target SentencePiece models, a
// joint vocab.json, language codes) and LlamaTokenizer (one SentencePiece
// model with byte fallback; legacy and non-legacy prefix handling) around
// libsentencepiece.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceModel.h"
#include "runtime/tokenizer/TokenizerImpl.h"
#include "runtime/tokenizer/Unicode.h"

#include "support/MappedFile.h"
#include "support/Status.h"

#include "absl/strings/str_cat.h"

#include <unordered_map>

namespace tfm {

static constexpr std::string_view kSpieceUnderline = "\xE2\x96\x81"; // ▁

static absl::StatusOr<std::unique_ptr<SentencePieceModel>>
loadSentencePiece(const std::string &path, bool noDummyPrefix) {
  TFM_ASSIGN_OR_RETURN(std::string bytes, readFile(path));
  std::string error;
  std::unique_ptr<SentencePieceModel> model =
      SentencePieceModel::load(bytes, noDummyPrefix, error);
  if (!model)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SentencePiece model: ", error));
  return model;
}

static bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

//===----------------------------------------------------------------------===//
// Marian
//===----------------------------------------------------------------------===//

namespace {

/// The next match of Python's re `>>.+<<` in `text` at or after `from`:
/// [begin, end), or begin = npos. `.` is any character but \n; greedy, so
/// the match ends at the last "<<" of the line.
std::pair<size_t, size_t> findLanguageCode(std::string_view text, size_t from) {
  for (size_t start = text.find(">>", from); start != std::string_view::npos;
       start = text.find(">>", start + 1)) {
    size_t lineEnd = text.find('\n', start + 2);
    if (lineEnd == std::string_view::npos)
      lineEnd = text.size();
    if (lineEnd < start + 5)
      continue;
    size_t close = text.rfind("<<", lineEnd - 2);
    if (close != std::string_view::npos && close >= start + 3)
      return {start, close + 2};
  }
  return {std::string_view::npos, 0};
}

class Marian final : public Tokenizer {
public:
  Marian() : Tokenizer(Kind::Marian) {}

  std::unique_ptr<SentencePieceModel> source, target;
  std::unordered_map<std::string, int64_t> encoder, targetEncoder;
  bool separateVocabs = false;
  std::unordered_map<int64_t, std::string> decoder;
  std::string unkToken = "<unk>";

  /// remove_language_code: the text without any `>>xx<<` code; a code at
  /// the very start is kept as a token (`code`).
  static std::string withoutLanguageCodes(std::string_view text,
                                          std::string_view &code) {
    auto [begin, end] = findLanguageCode(text, 0);
    code = begin == 0 ? text.substr(0, end) : std::string_view();
    std::string rest;
    size_t copied = 0;
    for (; begin != std::string_view::npos;
         std::tie(begin, end) = findLanguageCode(text, end)) {
      rest.append(text.substr(copied, begin - copied));
      copied = end;
    }
    rest.append(text.substr(copied));
    return rest;
  }

  void tokenizeText(std::string_view text, bool isTarget,
                    std::vector<std::string> &out) const override {
    std::string_view code;
    std::string rest = withoutLanguageCodes(text, code);
    if (!code.empty())
      out.emplace_back(code);
    for (std::string &piece : (isTarget ? target : source)->encode(rest))
      out.push_back(std::move(piece));
  }

  /// The vocabulary id of each piece of the source and target models
  /// (an added token's where the piece is one): encoding maps the model's
  /// ids instead of piece strings.
  std::vector<int64_t> sourceIds, targetIds;

  int64_t pieceId(std::string_view piece, bool isTarget) const {
    const AddedToken *added = findAdded(piece);
    return added ? added->id : tokenId(piece, isTarget);
  }

  void textIds(std::string_view text, bool isTarget,
               std::vector<int64_t> &ids) const override {
    std::string_view code;
    std::string rest = withoutLanguageCodes(text, code);
    if (!code.empty())
      ids.push_back(pieceId(code, isTarget));
    const SentencePieceModel &model = *(isTarget ? target : source);
    std::vector<int> pieces = model.encodeIds(rest);
    const std::vector<int64_t> &table = isTarget ? targetIds : sourceIds;
    int unk = model.unkId();
    if (std::find(pieces.begin(), pieces.end(), unk) != pieces.end()) {
      // A piece the model does not know is looked up by its text (the
      // characters it stands for): the vocabulary may hold it (Marian's is
      // joint). The pieces are the ids' one for one.
      std::vector<std::string> texts = model.encode(rest);
      for (size_t i = 0; i < pieces.size(); ++i)
        ids.push_back(pieces[i] == unk ? pieceId(texts[i], isTarget)
                                       : table[pieces[i]]);
      return;
    }
    for (int id : pieces)
      ids.push_back(table[id]);
  }

  const std::unordered_map<std::string, int64_t> &
  encoderOf(bool isTarget) const {
    return isTarget && separateVocabs ? targetEncoder : encoder;
  }

  int64_t tokenId(std::string_view token, bool isTarget) const override {
    return idOrUnk(encoderOf(isTarget), token, unkToken);
  }

  std::string idToken(int64_t id, bool) const override {
    auto it = decoder.find(id);
    return it != decoder.end() ? it->second : unkToken;
  }

  std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                  bool) const override {
    ids.push_back(eosId_);
    return ids;
  }

  std::string tokensToText(const std::vector<std::string> &tokens,
                           bool) const override {
    // Decoding uses the target model (transformers' default,
    // use_source_tokenizer=False); special tokens are not decoded by it.
    std::string out;
    std::vector<std::string> current;
    for (const std::string &token : tokens) {
      if (isSpecialToken(token)) {
        out += target->decode(current) + token + " ";
        current.clear();
      } else {
        current.push_back(token);
      }
    }
    out += target->decode(current);
    std::string spaced;
    for (size_t pos = 0; pos < out.size();) {
      if (startsWith(std::string_view(out).substr(pos), kSpieceUnderline)) {
        spaced += ' ';
        pos += kSpieceUnderline.size();
      } else {
        spaced += out[pos++];
      }
    }
    return pythonStrip(spaced);
  }
};

} // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>>
TokenizerLoader::marian(const TokenizerConfig &config) {
  auto tokenizer = std::make_unique<Marian>();
  TFM_ASSIGN_OR_RETURN(tokenizer->source,
                       loadSentencePiece(config.dir + "/source.spm", false));
  TFM_ASSIGN_OR_RETURN(tokenizer->target,
                       loadSentencePiece(config.dir + "/target.spm", false));
  std::string vocabPath = config.dir + "/vocab.json";
  TFM_ASSIGN_OR_RETURN(tokenizer->encoder, readVocabJson(vocabPath));
  tokenizer->separateVocabs = config.flag("separate_vocabs", false);
  const auto *decoderSource = &tokenizer->encoder;
  std::string decoderPath = vocabPath;
  if (tokenizer->separateVocabs) {
    decoderPath = config.dir + "/target_vocab.json";
    TFM_ASSIGN_OR_RETURN(tokenizer->targetEncoder, readVocabJson(decoderPath));
    decoderSource = &tokenizer->targetEncoder;
  }
  int64_t size = 0;
  for (const auto *map : {&tokenizer->encoder, &tokenizer->targetEncoder})
    for (const auto &[token, id] : *map)
      size = std::max(size, id + 1);
  for (const auto &[token, id] : *decoderSource)
    if (!tokenizer->decoder.emplace(id, token).second)
      return absl::InvalidArgumentError(
          absl::StrCat(decoderPath, ": id ", id, " is given to two tokens"));
  setSize(*tokenizer, size);
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                       config.token("unk_token", "<unk>"));
  if (!unk || !tokenizer->encoder.count(*unk))
    return absl::InvalidArgumentError(
        absl::StrCat(vocabPath, ": the unk token must be in the vocabulary"));
  tokenizer->unkToken = *unk;
  TFM_RETURN_IF_ERROR(
      readSpecials(*tokenizer, config, defaultsOf(Tokenizer::Kind::Marian)));
  if (tokenizer->eosId() < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        config.configPath, ": MarianTokenizer needs an eos token"));
  for (bool isTarget : {false, true}) {
    const SentencePieceModel &model =
        *(isTarget ? tokenizer->target : tokenizer->source);
    std::vector<int64_t> &table =
        isTarget ? tokenizer->targetIds : tokenizer->sourceIds;
    for (int id = 0; id < model.size(); ++id)
      table.push_back(tokenizer->pieceId(model.idToPiece(id), isTarget));
  }
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

//===----------------------------------------------------------------------===//
// Llama
//===----------------------------------------------------------------------===//

namespace {

class Llama final : public Tokenizer {
public:
  Llama() : Tokenizer(Kind::Llama) {}

  std::unique_ptr<SentencePieceModel> model;
  bool legacy = true;
  bool addPrefixSpace = true;
  bool addBos = true, addEos = false;
  std::string unkToken = "<unk>";
  size_t unkTokenLength = 0;
  /// Whether the model's own ids are the tokens' (no added token shares a
  /// piece of the model with another id), and the id of "▁" (-1: not a
  /// piece): then encoding skips the piece strings.
  bool idsDirect = false;
  int64_t underlineId = -1;

  void textIds(std::string_view text, bool isTarget,
               std::vector<int64_t> &ids) const override {
    if (!idsDirect) {
      Tokenizer::textIds(text, isTarget, ids);
      return;
    }
    std::string input;
    size_t skip = modelInput(text, input);
    std::vector<int> all = model->encodeIds(input);
    for (size_t i = all.size() >= skip ? skip : 0; i < all.size(); ++i)
      ids.push_back(all[i]);
  }

  /// What goes to the model for `text`, and how many leading pieces of the
  /// result to drop: with the dummy prefix off (non-legacy), a text that
  /// starts with a space would lose it, so transformers encodes unk + text
  /// and drops the unk's pieces.
  size_t modelInput(std::string_view text, std::string &input) const {
    if (legacy ||
        !(startsWith(text, kSpieceUnderline) || startsWith(text, " "))) {
      input.assign(text);
      return 0;
    }
    input = unkToken;
    input += text;
    return unkTokenLength;
  }

  void encodeAll(std::string_view text, bool isTarget,
                 std::vector<int64_t> &ids) const override {
    if (!idsDirect) {
      Tokenizer::encodeAll(text, isTarget, ids);
      return;
    }
    if (legacy || text.empty()) {
      splitAddedTokenIds(text, isTarget, ids);
      return;
    }
    std::string spaced = nonLegacyText(text);
    size_t first = ids.size();
    splitAddedTokenIds(spaced, isTarget, ids);
    if (ids.size() - first > 1 && ids[first] == underlineId &&
        isSpecial(ids[first + 1]))
      ids.erase(ids.begin() + first);
  }

  /// Non-legacy: "▁" in the text is a space, and a "▁" goes first.
  std::string nonLegacyText(std::string_view text) const {
    std::string spaced = addPrefixSpace ? std::string(kSpieceUnderline) : "";
    for (size_t pos = 0; pos < text.size();) {
      if (startsWith(text.substr(pos), kSpieceUnderline)) {
        spaced += ' ';
        pos += kSpieceUnderline.size();
      } else {
        spaced += text[pos++];
      }
    }
    return spaced;
  }

  void tokenizeAll(std::string_view text, bool isTarget,
                   std::vector<std::string> &out) const override {
    if (legacy || text.empty()) {
      splitAddedTokens(text, isTarget, out);
      return;
    }
    std::string spaced = nonLegacyText(text);
    size_t first = out.size();
    splitAddedTokens(spaced, isTarget, out);
    if (out.size() - first > 1 && out[first] == kSpieceUnderline &&
        isSpecialToken(out[first + 1]))
      out.erase(out.begin() + first);
  }

  void tokenizeText(std::string_view text, bool,
                    std::vector<std::string> &out) const override {
    std::string input;
    size_t skip = modelInput(text, input);
    std::vector<std::string> pieces = model->encode(input);
    for (size_t i = pieces.size() >= skip ? skip : 0; i < pieces.size(); ++i)
      out.push_back(std::move(pieces[i]));
  }

  int64_t tokenId(std::string_view token, bool) const override {
    return model->pieceToId(token);
  }

  std::string idToken(int64_t id, bool) const override {
    return id < model->size() ? model->idToPiece(static_cast<int>(id))
                              : unkToken;
  }

  std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                  bool) const override {
    if (addBos && bosId_ >= 0)
      ids.insert(ids.begin(), bosId_);
    if (addEos && eosId_ >= 0)
      ids.push_back(eosId_);
    return ids;
  }

  std::string tokensToText(const std::vector<std::string> &input,
                           bool) const override {
    std::vector<std::string> tokens = input;
    if (addPrefixSpace && startsWith(tokens[0], kSpieceUnderline))
      tokens[0].erase(0, kSpieceUnderline.size());
    std::string out;
    std::vector<std::string> current;
    bool previousSpecial = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string &token = tokens[i];
      if (isSpecialToken(token)) {
        if (!previousSpecial && i != 0 && legacy)
          out += ' ';
        out += model->decode(current) + token;
        previousSpecial = true;
        current.clear();
      } else {
        if (previousSpecial && i == 1 && addPrefixSpace &&
            !startsWith(token, kSpieceUnderline))
          out += ' ';
        current.push_back(token);
        previousSpecial = false;
      }
    }
    out += model->decode(current);
    return out;
  }
};

} // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>>
TokenizerLoader::llama(const TokenizerConfig &config) {
  auto tokenizer = std::make_unique<Llama>();
  // transformers' default is legacy (with a warning) when the config does
  // not say.
  tokenizer->legacy = config.flag("legacy", true);
  TFM_ASSIGN_OR_RETURN(tokenizer->model,
                       loadSentencePiece(config.dir + "/tokenizer.model",
                                         /*noDummyPrefix=*/!tokenizer->legacy));
  setSize(*tokenizer, tokenizer->model->size());
  tokenizer->addPrefixSpace = config.flag("add_prefix_space", true);
  tokenizer->addBos = config.flag("add_bos_token", true);
  tokenizer->addEos = config.flag("add_eos_token", false);
  TFM_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                       config.token("unk_token", "<unk>"));
  if (unk)
    tokenizer->unkToken = *unk;
  tokenizer->unkTokenLength =
      tokenizer->model->encode(tokenizer->unkToken).size();
  TFM_RETURN_IF_ERROR(
      readSpecials(*tokenizer, config, defaultsOf(Tokenizer::Kind::Llama)));
  // The model's ids are the tokens' unless an added token is a piece of the
  // model under another id.
  const SentencePieceModel &model = *tokenizer->model;
  tokenizer->idsDirect = true;
  for (const AddedTokenView &added : addedTokens(*tokenizer)) {
    int64_t piece = model.pieceToId(added.content);
    if (model.idToPiece(static_cast<int>(piece)) == added.content &&
        piece != added.id)
      tokenizer->idsDirect = false;
  }
  int64_t underline = model.pieceToId(kSpieceUnderline);
  if (model.idToPiece(static_cast<int>(underline)) == kSpieceUnderline)
    tokenizer->underlineId = underline;
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace tfm
