//===- Tokenizer.cpp - What transformers does around the model ------------===//
//
// The parts of transformers' PreTrainedTokenizer every family shares:
// reading tokenizer_config.json and special_tokens_map.json, splitting added
// tokens out of the text, ids and back, special tokens, the decoding
// clean-up. The families are in WordPiece.cpp, ByteLevelBpe.cpp and
// SentencePieceTokenizers.cpp.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/tokenizer/TokenizerImpl.h"
#include "runtime/tokenizer/Unicode.h"

#include "support/Json.h"
#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include <algorithm>
#include <array>
#include <sys/stat.h>
#include <unordered_map>

namespace tfm {

Tokenizer::~Tokenizer() = default;

std::string_view Tokenizer::className() const {
  switch (kind_) {
  case Kind::WordPiece:
    return "BertTokenizer";
  case Kind::ByteLevelBpe:
    return "GPT2Tokenizer";
  case Kind::Marian:
    return "MarianTokenizer";
  case Kind::Llama:
    return "LlamaTokenizer";
  case Kind::TokenizerJson:
    return className_;
  }
  return "";
}

bool Tokenizer::isSpecial(int64_t id) const {
  return std::find(specialIds_.begin(), specialIds_.end(), id) !=
         specialIds_.end();
}

const Tokenizer::AddedToken *
Tokenizer::findAdded(std::string_view content) const {
  for (const AddedToken &token : added_)
    if (token.content == content)
      return &token;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::string pythonStrip(std::string_view text, bool left, bool right) {
  std::u32string chars = unicode::decode(text);
  size_t begin = 0, end = chars.size();
  while (left && begin < end && unicode::isPythonSpace(chars[begin]))
    ++begin;
  while (right && end > begin && unicode::isPythonSpace(chars[end - 1]))
    --end;
  return unicode::encode(std::u32string_view(chars).substr(begin, end - begin));
}

/// str.lower() of each character on its own (ASCII directly).
static std::string lowerEachCharacter(const std::string &text) {
  if (std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;
      })) {
    std::string out = text;
    for (char &c : out)
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  std::u32string out;
  for (char32_t c : unicode::decode(text))
    out += unicode::lower(std::u32string_view(&c, 1));
  return unicode::encode(out);
}

std::vector<Tokenizer::TextPiece>
Tokenizer::splitText(std::string_view text) const {
  // Split: at each position the longest added token starting there (the
  // earliest start first), as transformers' Trie.split.
  struct Piece {
    std::string text;
    const AddedToken *added = nullptr;
  };
  std::vector<Piece> pieces;
  size_t gapStart = 0;
  auto closeGap = [&](size_t end) {
    if (end > gapStart)
      pieces.push_back({std::string(text.substr(gapStart, end - gapStart))});
  };
  // Only a position holding an added token's first byte can start one.
  std::array<bool, 256> starts{};
  for (const AddedToken &token : added_)
    if (!token.content.empty())
      starts[static_cast<unsigned char>(token.content[0])] = true;
  for (size_t pos = 0; pos < text.size();) {
    if (!starts[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const AddedToken *best = nullptr;
    for (const AddedToken &token : added_)
      if (!token.content.empty() &&
          text.substr(pos, token.content.size()) == token.content &&
          (!best || token.content.size() > best->content.size()))
        best = &token;
    if (!best) {
      ++pos;
      continue;
    }
    closeGap(pos);
    pieces.push_back({best->content, best});
    pos += best->content.size();
    gapStart = pos;
  }
  closeGap(text.size());
  // transformers lower-cases the text between added tokens when the
  // tokenizer has do_lower_case (character by character: no final sigma).
  if (lowerCasesAddedTokenGaps())
    for (Piece &piece : pieces)
      if (!piece.added)
        piece.text = lowerEachCharacter(piece.text);

  // lstrip / rstrip / single_word, as transformers applies them.
  for (size_t i = 0; i < pieces.size(); ++i) {
    const AddedToken *token = pieces[i].added;
    if (!token)
      continue;
    Piece *left = i > 0 ? &pieces[i - 1] : nullptr;
    Piece *right = i + 1 < pieces.size() ? &pieces[i + 1] : nullptr;
    if (token->rstrip && right && !right->text.empty())
      right->text = pythonStrip(right->text, true, false);
    if (token->lstrip && left && !left->text.empty())
      left->text = pythonStrip(left->text, false, true);
    if (token->singleWord && left && !left->text.empty() &&
        left->text.back() != ' ') {
      left->text += pieces[i].text;
      pieces[i].text.clear();
    } else if (token->singleWord && right && !right->text.empty() &&
               right->text.front() != ' ') {
      pieces[i].text += right->text;
      right->text.clear();
    }
  }
  std::vector<TextPiece> out;
  out.reserve(pieces.size());
  for (Piece &piece : pieces)
    if (!piece.text.empty()) {
      const AddedToken *added = findAdded(piece.text);
      out.push_back({std::move(piece.text), added});
    }
  return out;
}

void Tokenizer::splitAddedTokens(std::string_view text, bool target,
                                 std::vector<std::string> &tokens) const {
  for (TextPiece &piece : splitText(text)) {
    if (piece.added)
      tokens.push_back(std::move(piece.text));
    else
      tokenizeText(piece.text, target, tokens);
  }
}

void Tokenizer::splitAddedTokenIds(std::string_view text, bool target,
                                   std::vector<int64_t> &ids) const {
  for (const TextPiece &piece : splitText(text)) {
    if (piece.added)
      ids.push_back(piece.added->id);
    else
      textIds(piece.text, target, ids);
  }
}

void Tokenizer::textIds(std::string_view text, bool target,
                        std::vector<int64_t> &ids) const {
  std::vector<std::string> tokens;
  tokenizeText(text, target, tokens);
  for (const std::string &token : tokens) {
    const AddedToken *added = findAdded(token);
    ids.push_back(added ? added->id : tokenId(token, target));
  }
}

void Tokenizer::encodeAll(std::string_view text, bool target,
                          std::vector<int64_t> &ids) const {
  std::vector<std::string> tokens;
  tokenizeAll(text, target, tokens);
  for (const std::string &token : tokens) {
    const AddedToken *added = findAdded(token);
    ids.push_back(added ? added->id : tokenId(token, target));
  }
}

void Tokenizer::tokenizeAll(std::string_view text, bool target,
                            std::vector<std::string> &tokens) const {
  splitAddedTokens(text, target, tokens);
}

static absl::Status checkUtf8(std::string_view text) {
  size_t offset = 0;
  if (unicode::isValidUtf8(text, &offset))
    return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the text is not valid UTF-8 (byte ", offset, ")"));
}

absl::StatusOr<std::vector<std::string>>
Tokenizer::tokenize(std::string_view text) const {
  TFM_RETURN_IF_ERROR(checkUtf8(text));
  std::vector<std::string> tokens;
  tokenizeAll(text, /*target=*/false, tokens);
  return tokens;
}

absl::StatusOr<std::vector<int64_t>>
Tokenizer::encodeSide(std::string_view text, bool addSpecialTokens,
                      bool target) const {
  TFM_RETURN_IF_ERROR(checkUtf8(text));
  std::vector<int64_t> ids;
  encodeAll(text, target, ids);
  if (addSpecialTokens)
    ids = addSpecial(std::move(ids), target);
  return ids;
}

absl::StatusOr<std::vector<int64_t>>
Tokenizer::encode(std::string_view text, bool addSpecialTokens) const {
  return encodeSide(text, addSpecialTokens, /*target=*/false);
}

absl::StatusOr<std::vector<int64_t>>
Tokenizer::encodeTarget(std::string_view text, bool addSpecialTokens) const {
  return encodeSide(text, addSpecialTokens, kind_ == Kind::Marian);
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

std::string cleanUpTokenization(std::string text) {
  return absl::StrReplaceAll(text, {{" .", "."},
                                    {" ?", "?"},
                                    {" !", "!"},
                                    {" ,", ","},
                                    {" ' ", "'"},
                                    {" n't", "n't"},
                                    {" 'm", "'m"},
                                    {" 's", "'s"},
                                    {" 've", "'ve"},
                                    {" 're", "'re"}});
}

absl::StatusOr<std::string> Tokenizer::decode(absl::Span<const int64_t> ids,
                                              bool skipSpecialTokens) const {
  bool target = kind_ == Kind::Marian;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || id >= size_)
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id,
                       " is not in the tokenizer's "
                       "vocabulary (0..",
                       size_ - 1, ")"));
    if (skipSpecialTokens && isSpecial(id))
      continue;
    auto added = std::find_if(added_.begin(), added_.end(),
                              [&](const AddedToken &t) { return t.id == id; });
    tokens.push_back(added != added_.end() ? added->content
                                           : idToken(id, target));
  }
  // Added tokens that are not special are decoded on their own, between
  // spaces (transformers' "legacy added tokens").
  std::vector<std::string> texts, current;
  for (const std::string &token : tokens) {
    if (skipSpecialTokens && isSpecialToken(token))
      continue;
    const AddedToken *added = findAdded(token);
    if (added && !added->special) {
      if (!current.empty())
        texts.push_back(tokensToText(current, target));
      current.clear();
      texts.push_back(token);
    } else {
      current.push_back(token);
    }
  }
  if (!current.empty())
    texts.push_back(tokensToText(current, target));
  std::string text;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i && spacesBetweenSpecialTokens_)
      text += ' ';
    text += texts[i];
  }
  if (cleanUpSpaces_)
    text = cleanUpTokenization(std::move(text));
  return text;
}

//===----------------------------------------------------------------------===//
// Streaming
//===----------------------------------------------------------------------===//

absl::StatusOr<std::string> TextStream::window(size_t from, size_t to) const {
  return tokenizer_.decode(absl::MakeConstSpan(ids_.data() + from, to - from),
                           skipSpecial_);
}

/// Where the first of `stops` appears in `text` at or after `from`.
static size_t firstStop(const std::string &text,
                        const std::vector<std::string> &stops, size_t from) {
  size_t stop = std::string::npos;
  for (const std::string &s : stops)
    stop = std::min(stop, text.find(s, from));
  return stop;
}

std::string TextStream::release(bool final) {
  // A stop string ends the text. It cannot start in what was given out
  // (held back while it could), but may end past it.
  size_t maxStop = 0;
  for (const std::string &s : stops_)
    maxStop = std::max(maxStop, s.size());
  size_t stop =
      firstStop(text_, stops_, given_ > maxStop ? given_ - maxStop : 0);
  if (stop != std::string::npos) {
    stopped_ = true;
    text_.resize(std::max(stop, given_));
  }
  size_t end = text_.size();
  if (!stopped_ && !final) {
    // Hold back what may be the start of a stop string.
    for (size_t p = given_; p < end; ++p) {
      std::string_view rest = std::string_view(text_).substr(p);
      bool starts = false;
      for (const std::string &s : stops_)
        starts |=
            s.size() > rest.size() && s.compare(0, rest.size(), rest) == 0;
      if (starts) {
        end = p;
        break;
      }
    }
  }
  std::string out = text_.substr(given_, end - given_);
  given_ = end;
  return out;
}

absl::StatusOr<std::string> TextStream::push(int64_t id) {
  if (stopped_)
    return std::string();
  ids_.push_back(id);
  if (tokenizer_.cleansUpSpaces()) {
    // The clean-up can reach back: whole decodes, all given at finish().
    if (stops_.empty())
      return std::string();
    TFM_ASSIGN_OR_RETURN(std::string text, window(0, ids_.size()));
    if (size_t stop = firstStop(text, stops_, 0); stop != std::string::npos) {
      stopped_ = true;
      text_ = text.substr(0, stop);
    }
    return std::string();
  }
  if (tokenizer_.textMayChangeAfter(id))
    return std::string(); // Not final yet: the window grows.
  TFM_ASSIGN_OR_RETURN(std::string before, window(prefix_, read_));
  TFM_ASSIGN_OR_RETURN(std::string after, window(prefix_, ids_.size()));
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  if (after.size() <= before.size() ||
      after.compare(0, before.size(), before) != 0 ||
      std::string_view(after).substr(
          after.size() - std::min(after.size(), kReplacement.size())) ==
          kReplacement)
    return std::string(); // Not final yet: the window grows.
  text_ += after.substr(before.size());
  // The next window starts at the first token just taken, unless that
  // token alone decodes to nothing (a lone "▁", a skipped special token):
  // SentencePiece drops a window's leading spaces while its output is
  // empty, which the whole text does not.
  TFM_ASSIGN_OR_RETURN(std::string first, window(read_, read_ + 1));
  if (!first.empty())
    prefix_ = read_;
  read_ = ids_.size();
  return release(false);
}

absl::StatusOr<std::string> TextStream::finish() {
  if (!stopped_) {
    if (tokenizer_.cleansUpSpaces()) {
      TFM_ASSIGN_OR_RETURN(text_, window(0, ids_.size()));
    } else if (read_ < ids_.size()) {
      TFM_ASSIGN_OR_RETURN(std::string before, window(prefix_, read_));
      TFM_ASSIGN_OR_RETURN(std::string after, window(prefix_, ids_.size()));
      if (after.compare(0, before.size(), before) != 0)
        return absl::InternalError(
            "the decoded text changed where it was already printed");
      text_ += after.substr(before.size());
    }
    prefix_ = read_ = ids_.size();
  }
  return release(true);
}

std::string replaceInvalidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  for (size_t pos = 0; pos < bytes.size();) {
    unsigned char b = at(pos);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++pos;
      continue;
    }
    int length = b >= 0xC2 && b <= 0xDF   ? 2
                 : b >= 0xE0 && b <= 0xEF ? 3
                 : b >= 0xF0 && b <= 0xF4 ? 4
                                          : 0;
    if (!length) {
      out += kReplacement;
      ++pos;
      continue;
    }
    // The longest valid prefix of a sequence becomes one U+FFFD (Unicode's
    // "maximal subpart", as CPython's decoder).
    size_t i = 1;
    for (; i < static_cast<size_t>(length) && pos + i < bytes.size(); ++i) {
      unsigned char c = at(pos + i);
      unsigned char lo = 0x80, hi = 0xBF;
      if (i == 1) {
        if (b == 0xE0)
          lo = 0xA0;
        else if (b == 0xED)
          hi = 0x9F;
        else if (b == 0xF0)
          lo = 0x90;
        else if (b == 0xF4)
          hi = 0x8F;
      }
      if (c < lo || c > hi)
        break;
    }
    if (i == static_cast<size_t>(length)) {
      out.append(bytes.substr(pos, length));
    } else {
      out += kReplacement;
    }
    pos += i;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

static bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {
struct ClassInfo {
  std::string_view name;
  Tokenizer::Kind kind;
  std::vector<std::string_view> files;
  /// Whether transformers has a fast twin (read from tokenizer.json).
  bool hasFast;
};
} // namespace

static const std::vector<ClassInfo> &classes() {
  static const std::vector<ClassInfo> table = {
      {"BertTokenizer", Tokenizer::Kind::WordPiece, {"vocab.txt"}, true},
      {"GPT2Tokenizer",
       Tokenizer::Kind::ByteLevelBpe,
       {"vocab.json", "merges.txt"},
       true},
      {"MarianTokenizer",
       Tokenizer::Kind::Marian,
       {"source.spm", "target.spm", "vocab.json"},
       false},
      {"LlamaTokenizer", Tokenizer::Kind::Llama, {"tokenizer.model"}, true},
      {"PreTrainedTokenizerFast",
       Tokenizer::Kind::TokenizerJson,
       {"tokenizer.json"},
       true},
  };
  return table;
}

/// The class tokenizer_config.json names ("...Fast" as the slow one).
static absl::StatusOr<const ClassInfo *> classOf(const json::Value &config,
                                                 const std::string &path) {
  const json::Value *name = config.find("tokenizer_class");
  if (!name || !name->isString())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected \"tokenizer_class\" (a string)"));
  std::string_view slow = name->asString();
  if (slow != "PreTrainedTokenizerFast" && slow.size() > 4 &&
      slow.substr(slow.size() - 4) == "Fast")
    slow.remove_suffix(4);
  for (const ClassInfo &info : classes())
    if (info.name == slow)
      return &info;
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": tokenizer_class \"", name->asString(),
                   "\" is not one tfm reads (BertTokenizer, GPT2Tokenizer, "
                   "MarianTokenizer, LlamaTokenizer, their Fast twins, "
                   "PreTrainedTokenizerFast)"));
}

/// Whether `dir` is read through its tokenizer.json: a checkpoint of a
/// class with a fast twin that ships tokenizer.json but not all the slow
/// files (the slow files, where all are there, are what tfm reads: they
/// are checked against transformers' own slow tokenizers).
static bool readsTokenizerJson(const std::string &dir, const ClassInfo &info) {
  if (info.kind == Tokenizer::Kind::TokenizerJson)
    return true;
  if (!info.hasFast || !fileExists(dir + "/tokenizer.json"))
    return false;
  for (std::string_view name : info.files)
    if (!fileExists(dir + "/" + std::string(name)))
      return true;
  return false;
}

absl::StatusOr<std::vector<std::string>>
Tokenizer::filesIn(const std::string &dir) {
  std::string configPath = dir + "/tokenizer_config.json";
  if (!fileExists(configPath))
    return std::vector<std::string>{};
  TFM_ASSIGN_OR_RETURN(json::Value config, json::parseFile(configPath));
  if (!config.isObject())
    return absl::InvalidArgumentError(
        absl::StrCat(configPath, ": expected a JSON object at top level"));
  TFM_ASSIGN_OR_RETURN(const ClassInfo *info, classOf(config, configPath));
  std::vector<std::string> files = {"tokenizer_config.json"};
  for (std::string_view optional :
       {"special_tokens_map.json", "added_tokens.json"})
    if (fileExists(dir + "/" + std::string(optional)))
      files.emplace_back(optional);
  if (readsTokenizerJson(dir, *info)) {
    if (!fileExists(dir + "/tokenizer.json"))
      return absl::NotFoundError(absl::StrCat(
          dir, ": PreTrainedTokenizerFast needs tokenizer.json, which is "
               "missing"));
    files.emplace_back("tokenizer.json");
    return files;
  }
  for (std::string_view name : info->files) {
    if (!fileExists(dir + "/" + std::string(name)))
      return absl::NotFoundError(absl::StrCat(
          dir, ": ", toAbsl(info->name), " needs ", toAbsl(name),
          info->hasFast ? " (or tokenizer.json)" : "", ", which is missing"));
    files.emplace_back(name);
  }
  if (info->kind == Kind::Marian) {
    const json::Value *separate = config.find("separate_vocabs");
    if (separate && separate->isBool() && separate->asBool()) {
      if (!fileExists(dir + "/target_vocab.json"))
        return absl::NotFoundError(
            absl::StrCat(dir, ": separate_vocabs needs target_vocab.json, "
                              "which is missing"));
      files.emplace_back("target_vocab.json");
    }
  }
  return files;
}

absl::StatusOr<std::unordered_map<std::string, int64_t>>
readVocabJson(const std::string &path) {
  TFM_ASSIGN_OR_RETURN(json::Value vocab, json::parseFile(path));
  if (!vocab.isObject() || vocab.asObject().empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object of tokens and their ids"));
  std::unordered_map<std::string, int64_t> map;
  for (const auto &[token, id] : vocab.asObject()) {
    if (!id.isInt() || id.asInt() < 0 || id.asInt() >= (int64_t(1) << 31))
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": token \"", token, "\" needs an id from 0 to 2^31 - 1"));
    map[token] = id.asInt();
  }
  return map;
}

TokenizerConfig::TokenizerConfig(std::string dir, json::Value config,
                                 json::Value specialMap)
    : dir(std::move(dir)), config(std::move(config)),
      specialMap(std::move(specialMap)),
      configPath(this->dir + "/tokenizer_config.json") {}

const json::Value *TokenizerConfig::find(std::string_view key) const {
  if (const json::Value *value = config.find(key); value && !value->isNull())
    return value;
  if (specialMap.isObject())
    if (const json::Value *value = specialMap.find(key);
        value && !value->isNull())
      return value;
  return nullptr;
}

bool TokenizerConfig::flag(std::string_view key, bool otherwise) const {
  const json::Value *value = config.find(key);
  return value && value->isBool() ? value->asBool() : otherwise;
}

absl::StatusOr<std::optional<std::string>>
TokenizerConfig::token(std::string_view key,
                       std::optional<std::string> otherwise) const {
  const json::Value *value = config.find(key);
  if (value && value->isNull())
    return std::optional<std::string>();
  if (!value && specialMap.isObject())
    value = specialMap.find(key);
  if (!value || value->isNull())
    return otherwise;
  if (value->isString())
    return std::optional<std::string>(value->asString());
  if (value->isObject())
    if (const json::Value *content = value->find("content");
        content && content->isString())
      return std::optional<std::string>(content->asString());
  return absl::InvalidArgumentError(absl::StrCat(
      configPath, ": \"", toAbsl(key), "\" must be a string or an AddedToken"));
}

/// Reads `added_tokens_decoder` and the special tokens into `tokenizer`.
absl::Status TokenizerLoader::readSpecials(Tokenizer &tokenizer,
                                           const TokenizerConfig &config,
                                           const Defaults &defaults) {
  const std::string &path = config.configPath;
  // Tokens added before (tokenizer.json's) stay as they are.
  size_t before = tokenizer.added_.size();
  if (const json::Value *decoder = config.config.find("added_tokens_decoder");
      decoder && !decoder->isNull()) {
    if (!decoder->isObject())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": \"added_tokens_decoder\" must be an object"));
    for (const auto &[key, value] : decoder->asObject()) {
      Tokenizer::AddedToken token;
      if (!absl::SimpleAtoi(toAbsl(key), &token.id) || token.id < 0)
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": added_tokens_decoder key \"", key, "\" is not an id"));
      const json::Value *content =
          value.isObject() ? value.find("content") : nullptr;
      if (!content || !content->isString() || content->asString().empty())
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": added token ", key,
                         " needs a non-empty \"content\" string"));
      token.content = content->asString();
      const json::Value &fields = value;
      auto flag = [&](std::string_view name) {
        const json::Value *f = fields.find(name);
        return f && f->isBool() && f->asBool();
      };
      token.lstrip = flag("lstrip");
      token.rstrip = flag("rstrip");
      token.singleWord = flag("single_word");
      token.special = flag("special");
      if (const Tokenizer::AddedToken *same =
              tokenizer.findAdded(token.content)) {
        if (same >= tokenizer.added_.data() + before)
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": added token \"", token.content,
                           "\" appears twice in added_tokens_decoder"));
        continue;
      }
      tokenizer.added_.push_back(std::move(token));
    }
  }
  std::string addedPath = config.dir + "/added_tokens.json";
  if (fileExists(addedPath)) {
    TFM_ASSIGN_OR_RETURN(json::Value added, json::parseFile(addedPath));
    if (!added.isObject())
      return absl::InvalidArgumentError(
          absl::StrCat(addedPath, ": expected a JSON object"));
    for (const auto &[content, id] : added.asObject()) {
      if (!id.isInt() || id.asInt() < 0)
        return absl::InvalidArgumentError(
            absl::StrCat(addedPath, ": \"", content, "\" needs an id"));
      if (!tokenizer.findAdded(content) && !content.empty())
        tokenizer.added_.push_back({content, id.asInt()});
    }
  }

  // The special tokens, in transformers' order of all_special_tokens.
  struct Slot {
    std::string_view key;
    int64_t *id;
  };
  int64_t sep = -1, cls = -1, mask = -1;
  const Slot slots[] = {{"bos_token", &tokenizer.bosId_},
                        {"eos_token", &tokenizer.eosId_},
                        {"unk_token", &tokenizer.unkId_},
                        {"sep_token", &sep},
                        {"pad_token", &tokenizer.padId_},
                        {"cls_token", &cls},
                        {"mask_token", &mask}};
  for (const Slot &slot : slots) {
    std::optional<std::string> otherwise;
    for (const auto &[key, value] : defaults.tokens)
      if (key == slot.key)
        otherwise = value;
    TFM_ASSIGN_OR_RETURN(std::optional<std::string> content,
                         config.token(slot.key, otherwise));
    if (!content)
      continue;
    int64_t id = tokenizer.idOfSpecial(*content);
    if (id < 0)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", toAbsl(slot.key), " \"", *content,
                       "\" is not in the vocabulary"));
    *slot.id = id;
    tokenizer.addSpecial(*content, id);
  }
  if (const json::Value *extra = config.find("additional_special_tokens")) {
    if (!extra->isArray())
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": \"additional_special_tokens\" must be an array"));
    for (const json::Value &value : extra->asArray()) {
      const json::Value *content =
          value.isObject() ? value.find("content") : &value;
      if (!content || !content->isString())
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": additional_special_tokens holds a non-token"));
      int64_t id = tokenizer.idOfSpecial(content->asString());
      if (id < 0)
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": additional special token \"",
                         content->asString(), "\" is not in the vocabulary"));
      tokenizer.addSpecial(content->asString(), id);
    }
  }
  for (const Tokenizer::AddedToken &token : tokenizer.added_)
    tokenizer.size_ = std::max(tokenizer.size_, token.id + 1);
  tokenizer.cleanUpSpaces_ =
      config.flag("clean_up_tokenization_spaces", defaults.cleanUpSpaces);
  tokenizer.spacesBetweenSpecialTokens_ =
      config.flag("spaces_between_special_tokens", true);
  return absl::OkStatus();
}

const TokenizerLoader::Defaults &
TokenizerLoader::defaultsOf(Tokenizer::Kind kind) {
  static const Defaults bert = {{{"unk_token", "[UNK]"},
                                 {"sep_token", "[SEP]"},
                                 {"pad_token", "[PAD]"},
                                 {"cls_token", "[CLS]"},
                                 {"mask_token", "[MASK]"}},
                                /*cleanUpSpaces=*/true};
  static const Defaults gpt2 = {{{"unk_token", "<|endoftext|>"},
                                 {"bos_token", "<|endoftext|>"},
                                 {"eos_token", "<|endoftext|>"}},
                                /*cleanUpSpaces=*/false};
  static const Defaults marian = {
      {{"unk_token", "<unk>"}, {"eos_token", "</s>"}, {"pad_token", "<pad>"}},
      /*cleanUpSpaces=*/false};
  static const Defaults llama = {
      {{"unk_token", "<unk>"}, {"bos_token", "<s>"}, {"eos_token", "</s>"}},
      /*cleanUpSpaces=*/false};
  static const Defaults none = {{}, /*cleanUpSpaces=*/false};
  switch (kind) {
  case Tokenizer::Kind::WordPiece:
    return bert;
  case Tokenizer::Kind::ByteLevelBpe:
    return gpt2;
  case Tokenizer::Kind::Marian:
    return marian;
  case Tokenizer::Kind::Llama:
    return llama;
  case Tokenizer::Kind::TokenizerJson:
    break;
  }
  return none;
}

int64_t Tokenizer::idOfSpecial(const std::string &content) const {
  if (const AddedToken *added = findAdded(content))
    return added->id;
  int64_t id = tokenId(content, /*target=*/false);
  if (id >= 0 && idToken(id, false) == content)
    return id;
  return -1;
}

void Tokenizer::addSpecial(const std::string &content, int64_t id) {
  if (isSpecialToken(content))
    return;
  specialTokens_.push_back(content);
  specialIds_.push_back(id);
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::load(const std::string &dir) {
  TFM_ASSIGN_OR_RETURN(std::vector<std::string> files, filesIn(dir));
  if (files.empty())
    return absl::NotFoundError(
        absl::StrCat(dir, ": no tokenizer (tokenizer_config.json)"));
  std::string configPath = dir + "/tokenizer_config.json";
  TFM_ASSIGN_OR_RETURN(json::Value config, json::parseFile(configPath));
  json::Value specialMap;
  std::string mapPath = dir + "/special_tokens_map.json";
  if (fileExists(mapPath)) {
    TFM_ASSIGN_OR_RETURN(specialMap, json::parseFile(mapPath));
    if (!specialMap.isObject())
      return absl::InvalidArgumentError(
          absl::StrCat(mapPath, ": expected a JSON object at top level"));
  }
  TFM_ASSIGN_OR_RETURN(const ClassInfo *info, classOf(config, configPath));
  std::string className = config.find("tokenizer_class")->asString();
  TokenizerConfig tc(dir, std::move(config), std::move(specialMap));
  if (readsTokenizerJson(dir, *info))
    return TokenizerLoader::tokenizerJson(tc,
                                          info->kind == Kind::TokenizerJson
                                              ? std::nullopt
                                              : std::optional<Kind>(info->kind),
                                          std::move(className));
  switch (info->kind) {
  case Kind::WordPiece:
    return TokenizerLoader::wordPiece(tc);
  case Kind::ByteLevelBpe:
    return TokenizerLoader::byteLevelBpe(tc);
  case Kind::Marian:
    return TokenizerLoader::marian(tc);
  case Kind::Llama:
    return TokenizerLoader::llama(tc);
  case Kind::TokenizerJson:
    break;
  }
  return absl::InternalError("unknown tokenizer kind");
}

} // namespace tfm
