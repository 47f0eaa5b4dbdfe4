"""The numbers task: an integer 0..9999 written in English words → the same
number in Sino-Korean, one syllable per token.

  4207  "four thousand two hundred seven"  →  사 천 이 백 칠  (사천이백칠)
  1010  "one thousand ten"                 →  천 십          (천십)
  0     "zero"                             →  영

Vocabularies (id = position; 0, 1, 2 = <pad>, <bos>, <eos> on both sides;
the source's last is <unk>, for words outside it). A source sequence ends
with <eos>, as the example's tokenizer (MarianTokenizer's format, written by
train.py) encodes a text.
"""
PAD, BOS, EOS = 0, 1, 2
SPECIALS = ["<pad>", "<bos>", "<eos>"]

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven",
        "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
        "eighty", "ninety"]
SRC_VOCAB = SPECIALS + ONES + TENS[2:] + ["hundred", "thousand", "<unk>"]

KO_DIGITS = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
KO_UNITS = {1000: "천", 100: "백", 10: "십"}
TGT_VOCAB = SPECIALS + KO_DIGITS + ["십", "백", "천"]

SRC_ID = {w: i for i, w in enumerate(SRC_VOCAB)}
TGT_ID = {w: i for i, w in enumerate(TGT_VOCAB)}
LIMIT = 10000


def english(n):
    """English words, American style, no "and"; a list of tokens."""
    if not 0 <= n < LIMIT:
        raise ValueError(f"{n} is outside 0..{LIMIT - 1}")
    if n == 0:
        return ["zero"]
    words = []
    if n >= 1000:
        words += [ONES[n // 1000], "thousand"]
        n %= 1000
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
    if n:
        words.append(ONES[n])
    return words


def korean(n):
    """Sino-Korean syllables; a 1 before 십/백/천 is not said."""
    if not 0 <= n < LIMIT:
        raise ValueError(f"{n} is outside 0..{LIMIT - 1}")
    if n == 0:
        return ["영"]
    out = []
    for unit, name in KO_UNITS.items():
        d, n = divmod(n, unit)
        if d:
            if d > 1:
                out.append(KO_DIGITS[d])
            out.append(name)
    if n:
        out.append(KO_DIGITS[n])
    return out


def korean_value(tokens):
    """The number a token list says, or None if it is not well formed."""
    if tokens == ["영"]:
        return 0
    total, digit, last_unit = 0, None, 10 ** 4
    for t in tokens:
        if t in KO_DIGITS[1:]:
            if digit is not None:
                return None
            digit = KO_DIGITS.index(t)
        elif t in ("십", "백", "천"):
            unit = {"십": 10, "백": 100, "천": 1000}[t]
            if unit >= last_unit:
                return None
            total += (digit or 1) * unit
            digit, last_unit = None, unit
        else:
            return None
    if digit is not None:
        total += digit
    return total if tokens else None


def english_value(tokens):
    """The number English words say (inverse of english()), or None."""
    return _ENGLISH_INDEX.get(" ".join(tokens))


_ENGLISH_INDEX = {" ".join(english(n)): n for n in range(LIMIT)}


def src_ids(n):
    return [SRC_ID[w] for w in english(n)] + [EOS]


def tgt_ids(n):
    return [TGT_ID[w] for w in korean(n)]
