//===- Unicode.h - The Unicode facts tokenizers need ------------*- C++ -*-===//
//
// Character classes and normalizations with the meanings Python gives them,
// since transformers' tokenizers are Python: str.isspace, str.lower,
// unicodedata.category and normalize, and the `regex` module's \s. The
// character data comes from utf8proc.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TOKENIZER_UNICODE_H
#define TFM_RUNTIME_TOKENIZER_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfm::unicode {

/// Decodes the code point at `text[pos]` and advances `pos` past it.
/// `text` must be valid UTF-8 (see isValidUtf8).
char32_t next(std::string_view text, size_t &pos);

/// The code points of valid UTF-8 `text`.
std::u32string decode(std::string_view text);

/// Appends the UTF-8 encoding of `c` to `out`.
void append(std::string &out, char32_t c);

/// UTF-8 of `text`.
std::string encode(std::u32string_view text);

/// Whether `text` is valid UTF-8 (no overlong forms, no surrogates, nothing
/// above U+10FFFF); otherwise sets `errorOffset` to the first bad byte.
bool isValidUtf8(std::string_view text, size_t *errorOffset = nullptr);

/// unicodedata.category(c), as its two letters ("Lu", "Mn", "Cn", ...).
const char *category(char32_t c);

/// Python's str.isspace(): category Zs, or bidirectional class WS, B or S.
bool isPythonSpace(char32_t c);

/// The `regex` module's \s: the White_Space property.
bool isRegexSpace(char32_t c);

/// \p{L} and \p{N}.
bool isLetter(char32_t c);
bool isNumber(char32_t c);

/// Python's str.lower() of `text` (full case mapping: U+0130 becomes two
/// code points; a final capital sigma becomes ς).
std::u32string lower(std::u32string_view text);

/// unicodedata.normalize("NFD" | "NFC", text).
std::u32string nfd(std::u32string_view text);
std::u32string nfc(std::u32string_view text);
/// ... "NFKD" | "NFKC".
std::u32string nfkd(std::u32string_view text);
std::u32string nfkc(std::u32string_view text);

} // namespace tfm::unicode

#endif // TFM_RUNTIME_TOKENIZER_UNICODE_H
