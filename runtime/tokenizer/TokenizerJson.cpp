//===- TokenizerJson.cpp - tokenizer.json, the fast tokenizers' file ------===//
//
// The pipeline of Hugging Face's `tokenizers` library as tokenizer.json
// describes it, for checkpoints that ship no slow files (most current ones):
// added tokens split out of the raw text (then of the normalized text),
// normalizer, pre-tokenizer, model (WordPiece or BPE, byte fallback
// included), post-processor, and the decoder. The components of the BERT,
// GPT-2 and Llama pipelines are read; any other is one error naming it.
// What transformers' fast classes change in the file at load time
// (BertTokenizerFast's normalizer options, GPT2TokenizerFast's prefix space,
// LlamaTokenizerFast's bos/eos template) is applied as they do.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/TokenizerImpl.h"
#include "runtime/tokenizer/Unicode.h"

#include "support/Status.h"
#include "support/StringViews.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include <climits>
#include <cstring>
#include <mutex>
#include <queue>
#include <unordered_map>

namespace tfm {
namespace {

constexpr char32_t kSpiece = U'\u2581';

struct Normalizer {
  enum class Type {
    Bert,
    Prepend,
    Replace,
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
    Lowercase,
    Strip,
    StripAccents
  };
  Type type;
  // BertNormalizer.
  bool cleanText = false, chinese = false, lowercase = false;
  std::optional<bool> stripAccents;
  // Prepend (to), Replace (from -> to), Strip (left, right).
  std::u32string from, to;
  bool left = false, right = false;
};

struct PreTokenizer {
  enum class Type { Bert, ByteLevel, Metaspace, WhitespaceSplit };
  Type type;
  bool addPrefixSpace = false, useRegex = true;
  // Metaspace.
  char32_t replacement = kSpiece;
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;
};

struct Decoder {
  enum class Type {
    WordPiece,
    ByteLevel,
    Metaspace,
    Replace,
    ByteFallback,
    Fuse,
    Strip,
    Bpe
  };
  Type type;
  std::string from, to; // WordPiece: prefix; Replace; Bpe: suffix (from).
  bool cleanup = false;
  // Metaspace.
  char32_t replacement = kSpiece;
  bool prependFirst = true;
  // Strip.
  char32_t content = U' ';
  int64_t start = 0, stop = 0;
};

/// Text on its way through the pipeline; `atStart`: it begins at the first
/// character of the input (Metaspace's prepend_scheme "first").
struct Piece {
  std::u32string text;
  bool atStart = false;
};

bool isWordChar(char32_t c) {
  // The regex crate's \w: alphabetic, marks, decimal digits, connector
  // punctuation.
  const char *cat = unicode::category(c);
  return unicode::isLetter(c) || cat[0] == 'M' || std::strcmp(cat, "Nd") == 0 ||
         std::strcmp(cat, "Pc") == 0;
}

/// `text` with every `from` (left to right, not overlapping) made `to`.
template <typename String>
String replaceAll(std::basic_string_view<typename String::value_type> text,
                  std::basic_string_view<typename String::value_type> from,
                  std::basic_string_view<typename String::value_type> to) {
  if (from.empty())
    return String(text);
  String out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

class JsonTokenizer final : public Tokenizer {
public:
  JsonTokenizer() : Tokenizer(Kind::TokenizerJson) {}

  std::vector<Normalizer> normalizers;
  std::vector<PreTokenizer> preTokenizers;
  std::vector<Decoder> decoders;
  bool hasDecoder = false;
  /// Whether a ByteFallback decoder is among them.
  bool decodesByteRuns = false;

  // The model.
  bool bpe = false;
  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::string> tokens; // By id; empty where no token.
  std::optional<std::string> unk;
  int64_t unkModelId = -1;
  std::string prefix, suffix; // continuing_subword_prefix, end_of_word_suffix
  size_t maxChars = 100;
  WordPieceTrie trie;
  bool fuseUnk = false, byteFallback = false, ignoreMerges = false;
  /// (left id, right id) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  std::array<int64_t, 256> byteIds{};
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache;

  /// The post-processor for one sequence: ids before and after it.
  std::vector<int64_t> before, after;

  /// Added tokens in the raw and in the normalized text, with the text
  /// each is matched as (a normalized one's content through the
  /// normalizer, as the library does).
  struct Pattern {
    std::u32string text;
    const AddedToken *token;
  };
  std::vector<Pattern> rawPatterns, normalizedPatterns;
  std::unordered_map<int64_t, const AddedToken *> addedById;

  std::u32string normalize(std::u32string text) const {
    for (const Normalizer &n : normalizers)
      text = apply(n, std::move(text));
    return text;
  }

  static std::u32string apply(const Normalizer &n, std::u32string text) {
    using T = Normalizer::Type;
    switch (n.type) {
    case T::Bert: {
      std::u32string out;
      for (char32_t c : text) {
        if (n.cleanText && (c == 0 || c == 0xFFFD || isBertControl(c)))
          continue;
        if (n.cleanText && unicode::isRegexSpace(c)) {
          out.push_back(U' ');
        } else if (n.chinese && isBertChinese(c, /*fast=*/true)) {
          out.push_back(U' ');
          out.push_back(c);
          out.push_back(U' ');
        } else {
          out.push_back(c);
        }
      }
      if (n.stripAccents.value_or(n.lowercase)) {
        std::u32string stripped;
        for (char32_t c : unicode::nfd(out))
          if (std::strcmp(unicode::category(c), "Mn") != 0)
            stripped.push_back(c);
        out = std::move(stripped);
      }
      if (n.lowercase)
        out = lowerEach(out);
      return out;
    }
    case T::Prepend:
      return text.empty() ? text : n.to + text;
    case T::Replace:
      return replaceAll<std::u32string>(text, n.from, n.to);
    case T::Nfc:
      return unicode::nfc(text);
    case T::Nfd:
      return unicode::nfd(text);
    case T::Nfkc:
      return unicode::nfkc(text);
    case T::Nfkd:
      return unicode::nfkd(text);
    case T::Lowercase:
      return lowerEach(text);
    case T::Strip: {
      size_t begin = 0, end = text.size();
      while (n.left && begin < end && unicode::isRegexSpace(text[begin]))
        ++begin;
      while (n.right && end > begin && unicode::isRegexSpace(text[end - 1]))
        --end;
      return text.substr(begin, end - begin);
    }
    case T::StripAccents: {
      std::u32string out;
      for (char32_t c : text)
        if (unicode::category(c)[0] != 'M')
          out.push_back(c);
      return out;
    }
    }
    return text;
  }

  /// Rust's char::to_lowercase, character by character.
  static std::u32string lowerEach(std::u32string_view text) {
    std::u32string out;
    for (char32_t c : text)
      out += c < 0x80 ? std::u32string(1, c >= U'A' && c <= U'Z' ? c + 32 : c)
                      : unicode::lower(std::u32string_view(&c, 1));
    return out;
  }

  /// The added tokens of `patterns` in `text`: leftmost-longest matches,
  /// a single_word one dropped where a word character touches it, lstrip
  /// and rstrip taking the whitespace beside it. Pieces in order; `added`
  /// set on the tokens'.
  struct Split {
    std::u32string text;
    const AddedToken *added = nullptr;
    bool atStart = false;
  };
  static std::vector<Split> splitAdded(const std::u32string &text, bool atStart,
                                       const std::vector<Pattern> &patterns) {
    std::vector<Split> out;
    size_t gap = 0; // Start of the text not yet given out.
    for (size_t pos = 0; pos < text.size();) {
      const Pattern *best = nullptr;
      if (!patterns.empty())
        for (const Pattern &p : patterns)
          if (text.compare(pos, p.text.size(), p.text) == 0 &&
              (!best || p.text.size() > best->text.size()))
            best = &p;
      if (!best) {
        ++pos;
        continue;
      }
      size_t start = pos, end = pos + best->text.size();
      pos = end;
      const AddedToken &token = *best->token;
      if (token.singleWord && ((start > 0 && isWordChar(text[start - 1])) ||
                               (end < text.size() && isWordChar(text[end]))))
        continue;
      if (token.lstrip)
        while (start > gap && unicode::isRegexSpace(text[start - 1]))
          --start;
      if (token.rstrip)
        while (end < text.size() && unicode::isRegexSpace(text[end]))
          ++end;
      if (start > gap)
        out.push_back(
            {text.substr(gap, start - gap), nullptr, atStart && gap == 0});
      out.push_back({text.substr(start, end - start), &token, false});
      gap = pos = end;
    }
    if (gap < text.size())
      out.push_back({text.substr(gap), nullptr, atStart && gap == 0});
    return out;
  }

  std::vector<Piece> preTokenize(Piece piece) const {
    std::vector<Piece> pieces = {std::move(piece)};
    for (const PreTokenizer &p : preTokenizers) {
      std::vector<Piece> next;
      for (Piece &one : pieces)
        apply(p, std::move(one), next);
      pieces = std::move(next);
    }
    return pieces;
  }

  static void apply(const PreTokenizer &p, Piece piece,
                    std::vector<Piece> &out) {
    using T = PreTokenizer::Type;
    const std::u32string &text = piece.text;
    auto push = [&](size_t begin, size_t end) {
      if (end > begin)
        out.push_back(
            {text.substr(begin, end - begin), piece.atStart && begin == 0});
    };
    switch (p.type) {
    case T::Bert:
    case T::WhitespaceSplit: {
      size_t start = 0;
      for (size_t i = 0; i < text.size(); ++i) {
        if (unicode::isRegexSpace(text[i])) {
          push(start, i);
          start = i + 1;
        } else if (p.type == T::Bert && isBertPunctuation(text[i])) {
          push(start, i);
          push(i, i + 1);
          start = i + 1;
        }
      }
      push(start, text.size());
      return;
    }
    case T::ByteLevel: {
      std::u32string spaced = text;
      if (p.addPrefixSpace && (spaced.empty() || spaced[0] != U' '))
        spaced.insert(spaced.begin(), U' ');
      const ByteLevelTable &table = byteLevelTable();
      auto mapBytes = [&](std::u32string_view part, bool atStart) {
        if (part.empty())
          return;
        std::string mapped;
        for (unsigned char b : unicode::encode(part))
          mapped += table.byteChar[b];
        out.push_back({unicode::decode(mapped), atStart});
      };
      if (!p.useRegex) {
        mapBytes(spaced, piece.atStart);
        return;
      }
      bool first = true;
      for (std::u32string_view part : gpt2Pieces(spaced)) {
        mapBytes(part, piece.atStart && first);
        first = false;
      }
      return;
    }
    case T::Metaspace: {
      std::u32string replaced;
      for (char32_t c : text)
        replaced.push_back(c == U' ' ? p.replacement : c);
      bool prepend =
          p.prepend == PreTokenizer::Prepend::Always ||
          (p.prepend == PreTokenizer::Prepend::First && piece.atStart);
      if (prepend && (replaced.empty() || replaced[0] != p.replacement))
        replaced.insert(replaced.begin(), p.replacement);
      if (!p.split) {
        if (!replaced.empty())
          out.push_back({std::move(replaced), piece.atStart});
        return;
      }
      // Split before each replacement character (merged with the next).
      size_t start = 0;
      for (size_t i = 1; i < replaced.size(); ++i)
        if (replaced[i] == p.replacement) {
          out.push_back(
              {replaced.substr(start, i - start), piece.atStart && start == 0});
          start = i;
        }
      if (start < replaced.size())
        out.push_back({replaced.substr(start), piece.atStart && start == 0});
      return;
    }
    }
  }

  /// The model on one pre-tokenized word.
  void model(const std::u32string &word, std::vector<int64_t> &ids) const {
    if (word.empty())
      return;
    if (bpe)
      bpeWord(word, ids);
    else
      wordPiece(word, ids);
  }

  void wordPiece(const std::u32string &word, std::vector<int64_t> &ids) const {
    if (word.size() > maxChars || !trie.match(unicode::encode(word), ids))
      ids.push_back(unkModelId);
  }

  void bpeWord(const std::u32string &word, std::vector<int64_t> &ids) const {
    std::string utf8 = unicode::encode(word);
    if (ignoreMerges)
      if (auto it = vocab.find(utf8); it != vocab.end()) {
        ids.push_back(it->second);
        return;
      }
    {
      std::lock_guard<std::mutex> lock(cacheMutex);
      if (auto it = cache.find(utf8); it != cache.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    // The initial symbols: each character (with the prefix after the
    // first, the suffix on the last) if it is a token, else its bytes'
    // <0xXX> tokens (byte fallback), else unk (runs fused with fuse_unk).
    std::vector<int64_t> symbols;
    bool pendingUnk = false;
    for (size_t i = 0; i < word.size(); ++i) {
      std::string s = i > 0 ? prefix : std::string();
      unicode::append(s, word[i]);
      if (i + 1 == word.size())
        s += suffix;
      if (auto it = vocab.find(s); it != vocab.end()) {
        if (pendingUnk)
          symbols.push_back(unkModelId);
        pendingUnk = false;
        symbols.push_back(it->second);
        continue;
      }
      if (byteFallback && std::all_of(s.begin(), s.end(), [&](char b) {
            return byteIds[static_cast<unsigned char>(b)] >= 0;
          })) {
        // As the library does, a pending unk is not given out first.
        for (char b : s)
          symbols.push_back(byteIds[static_cast<unsigned char>(b)]);
        continue;
      }
      if (!unk)
        continue; // The library drops the character.
      if (pendingUnk && !fuseUnk)
        symbols.push_back(unkModelId);
      pendingUnk = true;
    }
    if (pendingUnk)
      symbols.push_back(unkModelId);
    std::vector<int64_t> merged = mergeAll(std::move(symbols));
    ids.insert(ids.end(), merged.begin(), merged.end());
    if (utf8.size() < 256) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      if (cache.size() < 100000)
        cache.emplace(std::move(utf8), std::move(merged));
    }
  }

  const std::pair<int32_t, int32_t> *merge(int64_t a, int64_t b) const {
    auto it =
        merges.find(static_cast<uint64_t>(a) << 32 | static_cast<uint32_t>(b));
    return it == merges.end() ? nullptr : &it->second;
  }

  /// The library's Word::merge_all: the lowest-ranked pair first, the
  /// leftmost among equal ranks, until no adjacent pair has a merge.
  std::vector<int64_t> mergeAll(std::vector<int64_t> ids) const {
    size_t n = ids.size();
    std::vector<int64_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
      prev[i] = static_cast<int64_t>(i) - 1;
      next[i] = i + 1 < n ? static_cast<int64_t>(i) + 1 : -1;
    }
    struct Entry {
      int32_t rank;
      int64_t pos;
      int32_t id;
      bool operator>(const Entry &o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
    for (size_t i = 0; i + 1 < n; ++i)
      if (const auto *m = merge(ids[i], ids[i + 1]))
        queue.push({m->first, static_cast<int64_t>(i), m->second});
    while (!queue.empty()) {
      Entry top = queue.top();
      queue.pop();
      if (!alive[top.pos] || next[top.pos] < 0)
        continue;
      int64_t right = next[top.pos];
      const auto *m = merge(ids[top.pos], ids[right]);
      if (!m || m->second != top.id)
        continue;
      ids[top.pos] = top.id;
      alive[right] = false;
      next[top.pos] = next[right];
      if (next[right] >= 0)
        prev[next[right]] = top.pos;
      if (prev[top.pos] >= 0)
        if (const auto *left = merge(ids[prev[top.pos]], ids[top.pos]))
          queue.push({left->first, prev[top.pos], left->second});
      if (next[top.pos] >= 0)
        if (const auto *after = merge(ids[top.pos], ids[next[top.pos]]))
          queue.push({after->first, top.pos, after->second});
    }
    std::vector<int64_t> out;
    for (size_t i = 0; i < n; ++i)
      if (alive[i])
        out.push_back(ids[i]);
    return out;
  }

  /// The ids of `text`, without the post-processor.
  void run(std::string_view text, std::vector<int64_t> &ids) const {
    for (Split &raw : splitAdded(unicode::decode(text), true, rawPatterns)) {
      if (raw.added) {
        ids.push_back(raw.added->id);
        continue;
      }
      std::u32string normalized = normalize(std::move(raw.text));
      for (Split &piece :
           splitAdded(normalized, raw.atStart, normalizedPatterns)) {
        if (piece.added) {
          ids.push_back(piece.added->id);
          continue;
        }
        for (Piece &word : preTokenize({std::move(piece.text), piece.atStart}))
          model(word.text, ids);
      }
    }
  }

  std::string tokenOf(int64_t id) const {
    if (auto it = addedById.find(id); it != addedById.end())
      return it->second->content;
    return id >= 0 && static_cast<size_t>(id) < tokens.size() ? tokens[id]
                                                              : std::string();
  }

  void encodeAll(std::string_view text, bool,
                 std::vector<int64_t> &ids) const override {
    run(text, ids);
  }

  void tokenizeAll(std::string_view text, bool,
                   std::vector<std::string> &out) const override {
    std::vector<int64_t> ids;
    run(text, ids);
    for (int64_t id : ids)
      out.push_back(tokenOf(id));
  }

  void tokenizeText(std::string_view text, bool target,
                    std::vector<std::string> &out) const override {
    tokenizeAll(text, target, out);
  }

  int64_t tokenId(std::string_view token, bool) const override {
    auto it = vocab.find(std::string(token));
    return it != vocab.end() ? it->second : unkModelId;
  }

  std::string idToken(int64_t id, bool) const override { return tokenOf(id); }

  std::vector<int64_t> addSpecial(std::vector<int64_t> ids,
                                  bool) const override {
    ids.insert(ids.begin(), before.begin(), before.end());
    ids.insert(ids.end(), after.begin(), after.end());
    return ids;
  }

  std::string tokensToText(const std::vector<std::string> &pieces,
                           bool) const override {
    if (!hasDecoder) {
      std::string text;
      for (size_t i = 0; i < pieces.size(); ++i)
        absl::StrAppend(&text, i ? " " : "", pieces[i]);
      return text;
    }
    std::vector<std::string> current = pieces;
    for (const Decoder &d : decoders)
      current = apply(d, std::move(current));
    std::string text;
    for (const std::string &piece : current)
      text += piece;
    return text;
  }

  static std::vector<std::string> apply(const Decoder &d,
                                        std::vector<std::string> tokens) {
    using T = Decoder::Type;
    switch (d.type) {
    case T::WordPiece:
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::string &token = tokens[i];
        if (i > 0) {
          if (token.compare(0, d.from.size(), d.from) == 0)
            token.erase(0, d.from.size());
          else
            token.insert(0, " ");
        }
        // Every pattern of the clean-up starts with a space.
        if (d.cleanup && token.find(' ') != std::string::npos)
          token = absl::StrReplaceAll(token, {{" .", "."},
                                              {" ?", "?"},
                                              {" !", "!"},
                                              {" ,", ","},
                                              {" ' ", "'"},
                                              {" n't", "n't"},
                                              {" 'm", "'m"},
                                              {" do not", " don't"},
                                              {" 's", "'s"},
                                              {" 've", "'ve"},
                                              {" 're", "'re"}});
      }
      return tokens;
    case T::ByteLevel: {
      const ByteLevelTable &table = byteLevelTable();
      std::string bytes;
      for (const std::string &token : tokens) {
        std::string mapped;
        bool all = true;
        for (size_t pos = 0; pos < token.size() && all;) {
          auto it = table.charByte.find(unicode::next(token, pos));
          if (it == table.charByte.end())
            all = false;
          else
            mapped.push_back(static_cast<char>(it->second));
        }
        bytes += all ? mapped : token;
      }
      return {replaceInvalidUtf8(bytes)};
    }
    case T::Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::string out;
        std::string &token = tokens[i];
        for (size_t pos = 0; pos < token.size();) {
          char32_t c = unicode::next(token, pos);
          if (c != d.replacement)
            unicode::append(out, c);
          else if (i > 0 || !d.prependFirst)
            out.push_back(' ');
        }
        token = std::move(out);
      }
      return tokens;
    case T::Replace:
      for (std::string &token : tokens)
        token = replaceAll<std::string>(token, d.from, d.to);
      return tokens;
    case T::ByteFallback: {
      std::vector<std::string> out;
      std::string run;
      size_t runTokens = 0;
      auto flush = [&] {
        if (!runTokens)
          return;
        if (unicode::isValidUtf8(run))
          out.push_back(run);
        else
          for (size_t i = 0; i < runTokens; ++i)
            out.push_back("\xEF\xBF\xBD");
        run.clear();
        runTokens = 0;
      };
      for (std::string &token : tokens) {
        int byte = byteOfToken(token);
        if (byte < 0) {
          flush();
          out.push_back(std::move(token));
        } else {
          run.push_back(static_cast<char>(byte));
          ++runTokens;
        }
      }
      flush();
      return out;
    }
    case T::Fuse: {
      std::string all;
      for (const std::string &token : tokens)
        all += token;
      return {all};
    }
    case T::Strip:
      for (std::string &token : tokens) {
        std::u32string chars = unicode::decode(token);
        size_t begin = 0, end = chars.size();
        for (int64_t i = 0;
             i < d.start && begin < end && chars[begin] == d.content; ++i)
          ++begin;
        for (int64_t i = 0;
             i < d.stop && end > begin && chars[end - 1] == d.content; ++i)
          --end;
        token = unicode::encode(
            std::u32string_view(chars).substr(begin, end - begin));
      }
      return tokens;
    case T::Bpe:
      for (size_t i = 0; i < tokens.size(); ++i)
        tokens[i] = replaceAll<std::string>(tokens[i], d.from,
                                            i + 1 == tokens.size() ? "" : " ");
      return tokens;
    }
    return tokens;
  }

  /// A byte token can join the run before it, and so can the next one when
  /// an added token between them is skipped.
  bool textMayChangeAfter(int64_t id) const override {
    return decodesByteRuns &&
           (addedById.count(id) || byteOfToken(tokenOf(id)) >= 0);
  }

  /// The byte of a byte-fallback token "<0xXX>", else -1.
  static int byteOfToken(std::string_view token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>')
      return -1;
    int value = 0;
    for (char c : token.substr(3, 2)) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  absl::StatusOr<std::string> decode(absl::Span<const int64_t> ids,
                                     bool skipSpecialTokens) const override {
    std::vector<std::string> pieces;
    pieces.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id >= size_)
        return absl::InvalidArgumentError(absl::StrCat(
            "token id ", id, " is not in the tokenizer's vocabulary (0..",
            size_ - 1, ")"));
      auto added = addedById.find(id);
      if (added != addedById.end()) {
        if (!(skipSpecialTokens && added->second->special))
          pieces.push_back(added->second->content);
      } else if (static_cast<size_t>(id) < tokens.size() &&
                 !tokens[id].empty()) {
        pieces.push_back(tokens[id]);
      }
    }
    std::string text =
        pieces.empty() ? std::string() : tokensToText(pieces, false);
    if (cleanUpSpaces_)
      text = cleanUpTokenization(std::move(text));
    return text;
  }
};

//===----------------------------------------------------------------------===//
// Reading tokenizer.json
//===----------------------------------------------------------------------===//

class Reader {
public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  absl::Status error(std::string_view where, std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": ", toAbsl(where), ": ", toAbsl(what)));
  }

  /// The "type" of component `value` (an object).
  absl::StatusOr<std::string> type(const json::Value &value,
                                   std::string_view where) const {
    const json::Value *type = value.isObject() ? value.find("type") : nullptr;
    if (!type || !type->isString())
      return error(where, "expected an object with a \"type\" string");
    return type->asString();
  }

  absl::StatusOr<bool> flag(const json::Value &value, std::string_view key,
                            std::string_view where,
                            std::optional<bool> otherwise = {}) const {
    const json::Value *v = value.find(key);
    if ((!v || v->isNull()) && otherwise)
      return *otherwise;
    if (!v || !v->isBool())
      return error(where,
                   absl::StrCat("\"", toAbsl(key), "\" must be true or false"));
    return v->asBool();
  }

  absl::StatusOr<std::string>
  string(const json::Value &value, std::string_view key, std::string_view where,
         std::optional<std::string> otherwise = {}) const {
    const json::Value *v = value.find(key);
    if ((!v || v->isNull()) && otherwise)
      return *otherwise;
    if (!v || !v->isString())
      return error(where,
                   absl::StrCat("\"", toAbsl(key), "\" must be a string"));
    return v->asString();
  }

  /// A Replace's {"String": "..."} pattern (a regular expression is refused).
  absl::StatusOr<std::string> pattern(const json::Value &value,
                                      std::string_view where) const {
    const json::Value *p = value.find("pattern");
    if (p && p->isObject()) {
      if (const json::Value *s = p->find("String"); s && s->isString())
        return s->asString();
      if (p->find("Regex"))
        return error(where, "a \"Regex\" pattern is not supported (only "
                            "\"String\" patterns)");
    }
    return error(where, "expected \"pattern\": {\"String\": ...}");
  }

  /// One character (Metaspace's replacement, Strip's content).
  absl::StatusOr<char32_t> character(const json::Value &value,
                                     std::string_view key,
                                     std::string_view where,
                                     char32_t otherwise) const {
    const json::Value *v = value.find(key);
    if (!v || v->isNull())
      return otherwise;
    std::u32string chars = v->isString() && unicode::isValidUtf8(v->asString())
                               ? unicode::decode(v->asString())
                               : std::u32string();
    if (chars.size() != 1)
      return error(where,
                   absl::StrCat("\"", toAbsl(key), "\" must be one character"));
    return chars[0];
  }

  absl::Status normalizer(const json::Value &value, std::string where,
                          std::vector<Normalizer> &out) const {
    if (value.isNull())
      return absl::OkStatus();
    TFM_ASSIGN_OR_RETURN(std::string type, this->type(value, where));
    using T = Normalizer::Type;
    Normalizer n;
    if (type == "Sequence")
      return sequence(value, "normalizers", where,
                      [&](const json::Value &item, std::string at) {
                        return normalizer(item, std::move(at), out);
                      });
    if (type == "BertNormalizer") {
      n.type = T::Bert;
      TFM_ASSIGN_OR_RETURN(n.cleanText, flag(value, "clean_text", where, true));
      TFM_ASSIGN_OR_RETURN(n.chinese,
                           flag(value, "handle_chinese_chars", where, true));
      TFM_ASSIGN_OR_RETURN(n.lowercase, flag(value, "lowercase", where, true));
      const json::Value *strip = value.find("strip_accents");
      if (strip && !strip->isNull()) {
        if (!strip->isBool())
          return error(where, "\"strip_accents\" must be null, true or false");
        n.stripAccents = strip->asBool();
      }
    } else if (type == "Prepend") {
      n.type = T::Prepend;
      TFM_ASSIGN_OR_RETURN(std::string prepend,
                           string(value, "prepend", where));
      n.to = unicode::decode(prepend);
    } else if (type == "Replace") {
      n.type = T::Replace;
      TFM_ASSIGN_OR_RETURN(std::string from, pattern(value, where));
      TFM_ASSIGN_OR_RETURN(std::string to, string(value, "content", where));
      n.from = unicode::decode(from);
      n.to = unicode::decode(to);
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" ||
               type == "NFKD") {
      n.type = type == "NFC"    ? T::Nfc
               : type == "NFD"  ? T::Nfd
               : type == "NFKC" ? T::Nfkc
                                : T::Nfkd;
    } else if (type == "Lowercase") {
      n.type = T::Lowercase;
    } else if (type == "Strip") {
      n.type = T::Strip;
      TFM_ASSIGN_OR_RETURN(n.left, flag(value, "strip_left", where, true));
      TFM_ASSIGN_OR_RETURN(n.right, flag(value, "strip_right", where, true));
    } else if (type == "StripAccents") {
      n.type = T::StripAccents;
    } else {
      return unsupported(where, "normalizer", type);
    }
    out.push_back(std::move(n));
    return absl::OkStatus();
  }

  absl::Status preTokenizer(const json::Value &value, std::string where,
                            std::vector<PreTokenizer> &out) const {
    if (value.isNull())
      return absl::OkStatus();
    TFM_ASSIGN_OR_RETURN(std::string type, this->type(value, where));
    using T = PreTokenizer::Type;
    PreTokenizer p;
    if (type == "Sequence")
      return sequence(value, "pretokenizers", where,
                      [&](const json::Value &item, std::string at) {
                        return preTokenizer(item, std::move(at), out);
                      });
    if (type == "BertPreTokenizer") {
      p.type = T::Bert;
    } else if (type == "WhitespaceSplit") {
      p.type = T::WhitespaceSplit;
    } else if (type == "ByteLevel") {
      p.type = T::ByteLevel;
      TFM_ASSIGN_OR_RETURN(p.addPrefixSpace,
                           flag(value, "add_prefix_space", where, true));
      TFM_ASSIGN_OR_RETURN(p.useRegex, flag(value, "use_regex", where, true));
    } else if (type == "Metaspace") {
      p.type = T::Metaspace;
      TFM_ASSIGN_OR_RETURN(p.replacement,
                           character(value, "replacement", where, kSpiece));
      TFM_ASSIGN_OR_RETURN(p.split, flag(value, "split", where, true));
      std::string scheme = "always";
      if (const json::Value *legacy = value.find("add_prefix_space");
          legacy && legacy->isBool() && !legacy->asBool())
        scheme = "never";
      TFM_ASSIGN_OR_RETURN(scheme,
                           string(value, "prepend_scheme", where, scheme));
      if (scheme == "always")
        p.prepend = PreTokenizer::Prepend::Always;
      else if (scheme == "first")
        p.prepend = PreTokenizer::Prepend::First;
      else if (scheme == "never")
        p.prepend = PreTokenizer::Prepend::Never;
      else
        return error(where, absl::StrCat("prepend_scheme \"", scheme,
                                         "\" is not always, first or never"));
    } else {
      return unsupported(where, "pre-tokenizer", type);
    }
    out.push_back(p);
    return absl::OkStatus();
  }

  absl::Status decoder(const json::Value &value, std::string where,
                       std::vector<Decoder> &out) const {
    TFM_ASSIGN_OR_RETURN(std::string type, this->type(value, where));
    using T = Decoder::Type;
    Decoder d;
    if (type == "Sequence")
      return sequence(value, "decoders", where,
                      [&](const json::Value &item, std::string at) {
                        return decoder(item, std::move(at), out);
                      });
    if (type == "WordPiece") {
      d.type = T::WordPiece;
      TFM_ASSIGN_OR_RETURN(d.from, string(value, "prefix", where, "##"));
      TFM_ASSIGN_OR_RETURN(d.cleanup, flag(value, "cleanup", where, true));
    } else if (type == "ByteLevel") {
      d.type = T::ByteLevel;
    } else if (type == "Metaspace") {
      d.type = T::Metaspace;
      TFM_ASSIGN_OR_RETURN(d.replacement,
                           character(value, "replacement", where, kSpiece));
      TFM_ASSIGN_OR_RETURN(std::string scheme,
                           string(value, "prepend_scheme", where, "always"));
      d.prependFirst = scheme != "never";
      if (const json::Value *legacy = value.find("add_prefix_space");
          legacy && legacy->isBool() && !value.find("prepend_scheme"))
        d.prependFirst = legacy->asBool();
    } else if (type == "Replace") {
      d.type = T::Replace;
      TFM_ASSIGN_OR_RETURN(d.from, pattern(value, where));
      TFM_ASSIGN_OR_RETURN(d.to, string(value, "content", where));
    } else if (type == "ByteFallback") {
      d.type = T::ByteFallback;
    } else if (type == "Fuse") {
      d.type = T::Fuse;
    } else if (type == "Strip") {
      d.type = T::Strip;
      TFM_ASSIGN_OR_RETURN(d.content, character(value, "content", where, U' '));
      for (auto [key, field] :
           {std::pair{"start", &d.start}, std::pair{"stop", &d.stop}}) {
        const json::Value *v = value.find(key);
        if (!v || !v->isInt() || v->asInt() < 0)
          return error(where,
                       absl::StrCat("\"", key, "\" must be a count (>= 0)"));
        *field = v->asInt();
      }
    } else if (type == "BPEDecoder") {
      d.type = T::Bpe;
      TFM_ASSIGN_OR_RETURN(d.from, string(value, "suffix", where, "</w>"));
    } else {
      return unsupported(where, "decoder", type);
    }
    out.push_back(std::move(d));
    return absl::OkStatus();
  }

  /// A Sequence component: `each` on every item of its `key` array.
  template <typename F>
  absl::Status sequence(const json::Value &value, std::string_view key,
                        const std::string &where, F &&each) const {
    const json::Value *list = value.find(key);
    if (!list || !list->isArray())
      return error(where, absl::StrCat("a Sequence needs a \"", toAbsl(key),
                                       "\" array"));
    for (size_t i = 0; i < list->asArray().size(); ++i)
      TFM_RETURN_IF_ERROR(
          each(list->asArray()[i], absl::StrCat(where, "[", i, "]")));
    return absl::OkStatus();
  }

  absl::Status unsupported(std::string_view where, std::string_view what,
                           std::string_view type) const {
    return error(where, absl::StrCat("the ", toAbsl(what), " \"", toAbsl(type),
                                     "\" is not one tfm reads"));
  }

  /// The post-processor's ids around one sequence.
  absl::Status postProcessor(const json::Value &value, std::string where,
                             std::vector<int64_t> &before,
                             std::vector<int64_t> &after) const {
    if (value.isNull())
      return absl::OkStatus();
    TFM_ASSIGN_OR_RETURN(std::string type, this->type(value, where));
    if (type == "Sequence")
      return sequence(value, "processors", where,
                      [&](const json::Value &item, std::string at) {
                        return postProcessor(item, std::move(at), before,
                                             after);
                      });
    if (type == "ByteLevel")
      return absl::OkStatus(); // Offsets only.
    if (type == "BertProcessing" || type == "RobertaProcessing") {
      std::vector<int64_t> ids;
      for (std::string_view key : {"cls", "sep"}) {
        const json::Value *pair = value.find(key);
        if (!pair || !pair->isArray() || pair->asArray().size() != 2 ||
            !pair->asArray()[1].isInt())
          return error(
              where, absl::StrCat("\"", toAbsl(key), "\" must be [token, id]"));
        ids.push_back(pair->asArray()[1].asInt());
      }
      before.insert(before.begin(), ids[0]);
      after.push_back(ids[1]);
      return absl::OkStatus();
    }
    if (type != "TemplateProcessing")
      return unsupported(where, "post-processor", type);
    const json::Value *single = value.find("single");
    const json::Value *specials = value.find("special_tokens");
    if (!single || !single->isArray() || !specials || !specials->isObject())
      return error(where, "TemplateProcessing needs \"single\" and "
                          "\"special_tokens\"");
    std::vector<int64_t> head, tail;
    bool seen = false;
    for (const json::Value &item : single->asArray()) {
      if (item.isObject() && item.find("Sequence")) {
        if (seen)
          return error(where, "\"single\" holds the sequence twice");
        seen = true;
        continue;
      }
      const json::Value *special =
          item.isObject() ? item.find("SpecialToken") : nullptr;
      const json::Value *id =
          special && special->isObject() ? special->find("id") : nullptr;
      if (!id || !id->isString())
        return error(where, "\"single\" holds an item that is neither a "
                            "Sequence nor a SpecialToken");
      const json::Value *entry = specials->find(id->asString());
      const json::Value *ids =
          entry && entry->isObject() ? entry->find("ids") : nullptr;
      if (!ids || !ids->isArray())
        return error(where, absl::StrCat("special token \"", id->asString(),
                                         "\" is not in \"special_tokens\""));
      for (const json::Value &one : ids->asArray()) {
        if (!one.isInt() || one.asInt() < 0)
          return error(where, absl::StrCat("special token \"", id->asString(),
                                           "\" has an id that is not one"));
        (seen ? tail : head).push_back(one.asInt());
      }
    }
    if (!seen)
      return error(where, "\"single\" does not hold the sequence ($A)");
    before.insert(before.begin(), head.begin(), head.end());
    after.insert(after.end(), tail.begin(), tail.end());
    return absl::OkStatus();
  }

  absl::Status model(const json::Value &value, JsonTokenizer &t) const {
    const std::string where = "model";
    if (!value.isObject())
      return error(where, "expected an object");
    std::string type;
    if (const json::Value *v = value.find("type"); v && v->isString())
      type = v->asString();
    else
      type = value.find("merges") ? "BPE" : "WordPiece";
    if (type != "BPE" && type != "WordPiece")
      return unsupported(where, "model", type);
    t.bpe = type == "BPE";
    const json::Value *vocab = value.find("vocab");
    if (!vocab || !vocab->isObject() || vocab->asObject().empty())
      return error(where, "expected \"vocab\", an object of tokens and ids");
    // The ids number the tokens, 0 to N - 1 each once (what the library
    // writes; no allocation sized by an id a file makes up).
    int64_t size = static_cast<int64_t>(vocab->asObject().size());
    t.tokens.resize(size);
    for (const auto &[token, id] : vocab->asObject()) {
      if (!id.isInt() || id.asInt() < 0 || id.asInt() >= size)
        return error(where,
                     absl::StrCat("token \"", token,
                                  "\" needs an id below the number of tokens (",
                                  size, ")"));
      if (token.empty() || !unicode::isValidUtf8(token))
        return error(where, "a token is empty or not UTF-8");
      t.vocab[token] = id.asInt();
      if (!t.tokens[id.asInt()].empty())
        return error(
            where, absl::StrCat("id ", id.asInt(), " is given to two tokens"));
      t.tokens[id.asInt()] = token;
    }
    const json::Value *unk = value.find("unk_token");
    if (unk && unk->isString()) {
      t.unk = unk->asString();
      auto it = t.vocab.find(*t.unk);
      if (it == t.vocab.end())
        return error(where, absl::StrCat("unk_token \"", *t.unk,
                                         "\" is not in the vocabulary"));
      t.unkModelId = it->second;
    } else if (!t.bpe) {
      auto it = t.vocab.find("[UNK]");
      if (it == t.vocab.end())
        return error(where, "the WordPiece model needs an unk_token in its "
                            "vocabulary");
      t.unk = "[UNK]";
      t.unkModelId = it->second;
    }
    TFM_ASSIGN_OR_RETURN(t.prefix, string(value, "continuing_subword_prefix",
                                          where, t.bpe ? "" : "##"));
    if (!t.bpe) {
      const json::Value *max = value.find("max_input_chars_per_word");
      if (max && !max->isNull()) {
        if (!max->isInt() || max->asInt() < 0)
          return error(where, "\"max_input_chars_per_word\" must be a count");
        t.maxChars = static_cast<size_t>(max->asInt());
      }
      t.trie.build(t.vocab, t.prefix);
      return absl::OkStatus();
    }
    TFM_ASSIGN_OR_RETURN(t.suffix,
                         string(value, "end_of_word_suffix", where, ""));
    TFM_ASSIGN_OR_RETURN(t.fuseUnk, flag(value, "fuse_unk", where, false));
    TFM_ASSIGN_OR_RETURN(t.byteFallback,
                         flag(value, "byte_fallback", where, false));
    TFM_ASSIGN_OR_RETURN(t.ignoreMerges,
                         flag(value, "ignore_merges", where, false));
    if (const json::Value *dropout = value.find("dropout");
        dropout && !dropout->isNull() &&
        !(dropout->isNumber() && dropout->asDouble() == 0))
      return error(where, "BPE dropout is not supported (tfm encodes "
                          "deterministically)");
    t.byteIds.fill(-1);
    for (int b = 0; b < 256; ++b) {
      static const char kHex[] = "0123456789ABCDEF";
      std::string name = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      auto it = t.vocab.find(name);
      if (it != t.vocab.end())
        t.byteIds[b] = it->second;
    }
    const json::Value *merges = value.find("merges");
    if (!merges || !merges->isArray())
      return error(where, "a BPE model needs a \"merges\" array");
    int32_t rank = 0;
    for (const json::Value &m : merges->asArray()) {
      std::string a, b;
      if (m.isString()) {
        const std::string &line = m.asString();
        if (line.rfind("#version", 0) == 0)
          continue;
        size_t space = line.find(' ');
        if (space == std::string::npos ||
            line.find(' ', space + 1) != std::string::npos)
          return error(where, absl::StrCat("merge ", rank + 1, " (\"", line,
                                           "\") is not two tokens"));
        a = line.substr(0, space);
        b = line.substr(space + 1);
      } else if (m.isArray() && m.asArray().size() == 2 &&
                 m.asArray()[0].isString() && m.asArray()[1].isString()) {
        a = m.asArray()[0].asString();
        b = m.asArray()[1].asString();
      } else {
        return error(where,
                     absl::StrCat("merge ", rank + 1,
                                  " is neither \"a b\" nor [\"a\", \"b\"]"));
      }
      std::string joined = a + b.substr(std::min(b.size(), t.prefix.size()));
      auto ia = t.vocab.find(a), ib = t.vocab.find(b),
           ij = t.vocab.find(joined);
      if (ia == t.vocab.end() || ib == t.vocab.end() || ij == t.vocab.end())
        return error(where,
                     absl::StrCat("merge ", rank + 1, " (\"", a, "\" \"", b,
                                  "\") has a token not in the "
                                  "vocabulary"));
      t.merges[static_cast<uint64_t>(ia->second) << 32 |
               static_cast<uint32_t>(ib->second)] = {
          rank, static_cast<int32_t>(ij->second)};
      ++rank;
    }
    return absl::OkStatus();
  }

private:
  std::string path_;
};

} // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>>
TokenizerLoader::tokenizerJson(const TokenizerConfig &config,
                               std::optional<Tokenizer::Kind> kind,
                               std::string className) {
  std::string path = config.dir + "/tokenizer.json";
  TFM_ASSIGN_OR_RETURN(json::Value root, json::parseFile(path));
  Reader reader(path);
  if (!root.isObject())
    return reader.error("top level", "expected an object");
  auto tokenizer = std::make_unique<JsonTokenizer>();
  tokenizer->className_ = std::move(className);
  static const json::Value kNull;
  auto member = [&](std::string_view key) -> const json::Value & {
    const json::Value *v = root.find(key);
    return v ? *v : kNull;
  };
  if (const json::Value &model = member("model"); model.isNull())
    return reader.error("model", "missing");
  TFM_RETURN_IF_ERROR(reader.model(member("model"), *tokenizer));
  TFM_RETURN_IF_ERROR(reader.normalizer(member("normalizer"), "normalizer",
                                        tokenizer->normalizers));
  TFM_RETURN_IF_ERROR(reader.preTokenizer(
      member("pre_tokenizer"), "pre_tokenizer", tokenizer->preTokenizers));
  if (const json::Value &decoder = member("decoder"); !decoder.isNull()) {
    tokenizer->hasDecoder = true;
    TFM_RETURN_IF_ERROR(
        reader.decoder(decoder, "decoder", tokenizer->decoders));
    for (const Decoder &d : tokenizer->decoders)
      tokenizer->decodesByteRuns |= d.type == Decoder::Type::ByteFallback;
  }
  TFM_RETURN_IF_ERROR(reader.postProcessor(member("post_processor"),
                                           "post_processor", tokenizer->before,
                                           tokenizer->after));
  setSize(*tokenizer, static_cast<int64_t>(tokenizer->tokens.size()));

  // What transformers' fast classes change at load time (in a top-level
  // component of the type, as their __init__ looks for).
  using Kind = Tokenizer::Kind;
  auto topLevel = [&](std::string_view key, std::string_view type) {
    const json::Value &value = member(key);
    const json::Value *t = value.isObject() ? value.find("type") : nullptr;
    return t && t->isString() && t->asString() == type;
  };
  if (kind == Kind::WordPiece && topLevel("normalizer", "BertNormalizer")) {
    Normalizer &n = tokenizer->normalizers[0];
    n.lowercase = config.flag("do_lower_case", true);
    n.chinese = config.flag("tokenize_chinese_chars", true);
    const json::Value *strip = config.config.find("strip_accents");
    n.stripAccents = strip && strip->isBool()
                         ? std::optional<bool>(strip->asBool())
                         : std::nullopt;
  }
  if (kind == Kind::ByteLevelBpe && topLevel("pre_tokenizer", "ByteLevel"))
    tokenizer->preTokenizers[0].addPrefixSpace =
        config.flag("add_prefix_space", false);

  // Added tokens: tokenizer.json's, then tokenizer_config.json's that it
  // does not have (with the special tokens). An added token's id is its
  // vocabulary id where the model has it (as the library assigns them).
  const json::Value &added = member("added_tokens");
  if (!added.isNull() && !added.isArray())
    return reader.error("added_tokens", "expected an array");
  if (added.isArray())
    for (const json::Value &entry : added.asArray()) {
      const json::Value *content =
          entry.isObject() ? entry.find("content") : nullptr;
      const json::Value *id = entry.isObject() ? entry.find("id") : nullptr;
      if (!content || !content->isString() || content->asString().empty() ||
          !unicode::isValidUtf8(content->asString()) || !id || !id->isInt() ||
          id->asInt() < 0 || id->asInt() >= (int64_t(1) << 31))
        return reader.error("added_tokens",
                            "each needs a non-empty \"content\" and an id");
      Tokenizer::AddedToken token;
      token.content = content->asString();
      auto inVocab = tokenizer->vocab.find(token.content);
      token.id =
          inVocab != tokenizer->vocab.end() ? inVocab->second : id->asInt();
      for (auto [key, field] : {std::pair{"lstrip", &token.lstrip},
                                std::pair{"rstrip", &token.rstrip},
                                std::pair{"single_word", &token.singleWord},
                                std::pair{"special", &token.special},
                                std::pair{"normalized", &token.normalized}}) {
        TFM_ASSIGN_OR_RETURN(*field,
                             reader.flag(entry, key, "added_tokens", false));
      }
      if (tokenizer->findAdded(token.content))
        return reader.error("added_tokens", absl::StrCat("\"", token.content,
                                                         "\" is there twice"));
      tokenizer->added_.push_back(token);
    }
  TFM_RETURN_IF_ERROR(readSpecials(
      *tokenizer, config, defaultsOf(kind.value_or(Kind::TokenizerJson))));
  for (const Tokenizer::AddedToken &token : tokenizer->added_) {
    setSize(*tokenizer, token.id + 1);
    if (token.special)
      tokenizer->Tokenizer::addSpecial(token.content, token.id);
  }
  for (const Tokenizer::AddedToken &token : tokenizer->added_) {
    tokenizer->addedById.emplace(token.id, &token);
    std::u32string text = unicode::decode(token.content);
    if (token.normalized)
      tokenizer->normalizedPatterns.push_back(
          {tokenizer->normalize(std::move(text)), &token});
    else
      tokenizer->rawPatterns.push_back({std::move(text), &token});
  }

  if (kind == Kind::Llama) {
    // LlamaTokenizerFast.update_post_processor: bos and eos by the config.
    tokenizer->before.clear();
    tokenizer->after.clear();
    if (config.flag("add_bos_token", true)) {
      if (tokenizer->bosId() < 0)
        return absl::InvalidArgumentError(absl::StrCat(
            config.configPath, ": add_bos_token needs a bos_token"));
      tokenizer->before.push_back(tokenizer->bosId());
    }
    if (config.flag("add_eos_token", false)) {
      if (tokenizer->eosId() < 0)
        return absl::InvalidArgumentError(absl::StrCat(
            config.configPath, ": add_eos_token needs an eos_token"));
      tokenizer->after.push_back(tokenizer->eosId());
    }
  }
  for (int64_t id : tokenizer->before)
    if (id >= tokenizer->size())
      return reader.error("post_processor",
                          absl::StrCat("id ", id, " is not a token"));
  for (int64_t id : tokenizer->after)
    if (id >= tokenizer->size())
      return reader.error("post_processor",
                          absl::StrCat("id ", id, " is not a token"));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace tfm
