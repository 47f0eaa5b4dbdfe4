//===- Unicode.cpp - The Unicode facts tokenizers need --------------------===//

#include "runtime/tokenizer/Unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <new>

namespace tfm::unicode {

char32_t next(std::string_view text, size_t &pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char b = byte(pos);
  if (b < 0x80) {
    ++pos;
    return b;
  }
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
  char32_t c = b & (0x3F >> extra);
  for (int i = 1; i <= extra; ++i)
    c = (c << 6) | (byte(pos + i) & 0x3F);
  pos += extra + 1;
  return c;
}

std::u32string decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();)
    out.push_back(next(text, pos));
  return out;
}

void append(std::string &out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text)
    append(out, c);
  return out;
}

bool isValidUtf8(std::string_view text, size_t *errorOffset) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  for (size_t pos = 0; pos < text.size();) {
    unsigned char b = byte(pos);
    int extra;
    char32_t min;
    if (b < 0x80) {
      ++pos;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      extra = 1, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      extra = 2, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3, min = 0x10000;
    } else {
      if (errorOffset)
        *errorOffset = pos;
      return false;
    }
    bool ok = text.size() - pos > static_cast<size_t>(extra);
    char32_t c = b & (0x3F >> extra);
    for (int i = 1; ok && i <= extra; ++i) {
      unsigned char cont = byte(pos + i);
      ok = (cont & 0xC0) == 0x80;
      c = (c << 6) | (cont & 0x3F);
    }
    if (!ok || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      if (errorOffset)
        *errorOffset = pos;
      return false;
    }
    pos += extra + 1;
  }
  return true;
}

const char *category(char32_t c) {
  return utf8proc_category_string(static_cast<utf8proc_int32_t>(c));
}

bool isPythonSpace(char32_t c) {
  const utf8proc_property_t *p =
      utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  return p->category == UTF8PROC_CATEGORY_ZS ||
         p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
         p->bidi_class == UTF8PROC_BIDI_CLASS_B ||
         p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

bool isRegexSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool isLetter(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
    return true;
  default:
    return false;
  }
}

bool isNumber(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
    return true;
  default:
    return false;
  }
}

/// Whether `c` is cased or case-ignorable enough for the final-sigma rule
/// (Unicode's Final_Sigma context, as CPython applies it: a cased letter
/// before, skipping case-ignorable ones, and none after).
static bool isCased(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
         cat == UTF8PROC_CATEGORY_LT ||
         utf8proc_tolower(static_cast<utf8proc_int32_t>(c)) !=
             static_cast<utf8proc_int32_t>(c) ||
         utf8proc_toupper(static_cast<utf8proc_int32_t>(c)) !=
             static_cast<utf8proc_int32_t>(c);
}

static bool isCaseIgnorable(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
         cat == UTF8PROC_CATEGORY_SK || c == U'\'' || c == U'.' || c == U':' ||
         c == 0x00AD || c == 0x2019;
}

std::u32string lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char32_t c = text[i];
    if (c == 0x0130) { // İ: i and a combining dot above.
      out.push_back(U'i');
      out.push_back(0x0307);
      continue;
    }
    if (c == 0x03A3) { // Σ: ς at the end of a word.
      size_t j = i;
      bool before = false;
      while (j > 0) {
        char32_t p = text[--j];
        if (isCaseIgnorable(p))
          continue;
        before = isCased(p);
        break;
      }
      bool after = false;
      for (size_t k = i + 1; k < text.size(); ++k) {
        if (isCaseIgnorable(text[k]))
          continue;
        after = isCased(text[k]);
        break;
      }
      out.push_back(before && !after ? 0x03C2 : 0x03C3);
      continue;
    }
    out.push_back(static_cast<char32_t>(
        utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
  }
  return out;
}

static std::u32string normalize(std::u32string_view text,
                                utf8proc_option_t options) {
  std::string utf8 = encode(text);
  utf8proc_uint8_t *mapped = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(utf8.data()),
                   static_cast<utf8proc_ssize_t>(utf8.size()), &mapped,
                   static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped,
                                                                &std::free);
  if (n < 0) // Only out of memory: the input is valid UTF-8.
    throw std::bad_alloc();
  return decode(std::string_view(reinterpret_cast<const char *>(mapped),
                                 static_cast<size_t>(n)));
}

std::u32string nfd(std::u32string_view text) {
  return normalize(text, UTF8PROC_DECOMPOSE);
}

std::u32string nfc(std::u32string_view text) {
  return normalize(text, UTF8PROC_COMPOSE);
}

std::u32string nfkd(std::u32string_view text) {
  return normalize(text, static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE |
                                                        UTF8PROC_COMPAT));
}

std::u32string nfkc(std::u32string_view text) {
  return normalize(
      text, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
}

} // namespace tfm::unicode
