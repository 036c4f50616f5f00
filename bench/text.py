"""Script-aware text units: word tokens with offsets, sentences, and the script of a text.

Pure Python (``unicodedata`` only), so ``import bench.text`` stays cheap. Every task kind
reduces to unit classification (docs/architecture.md, "Methods: the contract"); these are the units:

* :func:`tokens` — words with character offsets ``[start, end)``. Whitespace separates
  words; each punctuation (``P*``) or symbol (``S*``) character is a token of its own;
  each character of a script written without spaces (Thai, Lao, Khmer, Myanmar, Tai scripts,
  Javanese, Balinese, CJK ideographs, Hiragana, Katakana) is a token of its own, keeping its
  combining marks (so a Thai tone mark never starts a token). Hangul stays word-based, as
  Korean is written with spaces. Extractive QA answer spans map onto these boundaries.
* :func:`split_sentences` — sentences ending in the terminators of many scripts.
* :func:`script_of` — the ISO 15924 code of the majority of letters.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache

__all__ = ["tokens", "split_sentences", "script_of", "is_unspaced", "NO_SPACE_SCRIPTS"]

#: Code point ranges of scripts written without spaces between words (one token per char).
_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0xA9E0, 0xA9FF),  # Myanmar Extended-B
    (0xAA60, 0xAA7F),  # Myanmar Extended-A
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer Symbols
    (0x1950, 0x197F),  # Tai Le
    (0x1980, 0x19DF),  # New Tai Lue
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x1B00, 0x1B7F),  # Balinese
    (0xA980, 0xA9DF),  # Javanese
    (0x2E80, 0x2FDF),  # CJK Radicals Supplement, Kangxi Radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0x20000, 0x3134F),  # CJK Extensions B-G, Compatibility Supplement
)

#: ISO 15924 codes of the scripts above (for documentation and callers' checks).
NO_SPACE_SCRIPTS: frozenset[str] = frozenset(
    {"Thai", "Laoo", "Mymr", "Khmr", "Tale", "Talu", "Lana", "Bali", "Java", "Hani", "Hira", "Kana"}
)

# Characters that separate words besides str.isspace(): ZERO WIDTH SPACE (used in Thai/Khmer
# text to mark word breaks) and the BOM. ZWJ/ZWNJ (Cf) stay inside words (Persian, Indic).
_EXTRA_SPACES = frozenset({"\u200b", "\ufeff"})


def is_unspaced(ch: str) -> bool:
    """True if ``ch`` belongs to a script written without spaces between words."""
    cp = ord(ch)
    if cp < 0x0E00:
        return False
    return any(lo <= cp <= hi for lo, hi in _UNSPACED_RANGES)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Word tokens of ``text`` (see :func:`_tokens`; memoised per text, a fresh list each call)."""
    return list(_memo_tokens(text))


TEXT_MEMO = 1 << 16  # texts whose tokens / sentences are memoised (metrics and featurisers re-read them)


@lru_cache(maxsize=TEXT_MEMO)
def _memo_tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(_tokens(text))


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Word tokens of ``text`` as ``(token, start, end)`` with ``text[start:end] == token``.

    Whitespace separates words; each punctuation or symbol character is a token; each
    character of an unspaced script (with its following combining marks) is a token.
    Combining marks (``M*``) never start a token when one ends right before them.

    >>> tokens("Hi, 世界!")
    [('Hi', 0, 2), (',', 2, 3), ('世', 4, 5), ('界', 5, 6), ('!', 6, 7)]
    """
    spans: list[list[int]] = []
    word_start = -1  # start of the open whitespace-delimited word, or -1

    def close(i: int) -> None:
        nonlocal word_start
        if word_start >= 0:
            spans.append([word_start, i])
            word_start = -1

    for i, ch in enumerate(text):
        if ch.isspace() or ch in _EXTRA_SPACES:
            close(i)
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "M":
            if word_start >= 0:
                continue  # a mark inside a word
            if spans and spans[-1][1] == i:
                spans[-1][1] = i + 1  # a mark after a character token attaches to it
                continue
            word_start = i  # a stray mark starts a word
            continue
        if cat[0] in "PS" or is_unspaced(ch):
            close(i)
            spans.append([i, i + 1])
            continue
        if word_start < 0:
            word_start = i
    close(len(text))
    return [(text[s:e], s, e) for s, e in spans]


# Terminators that end a sentence only before whitespace or the end of the text.
_SPACED_TERMINATORS = frozenset(".!?‼⁇⁈⁉…")
# Terminators that end a sentence wherever they stand (unambiguous sentence marks).
_HARD_TERMINATORS = frozenset(
    "।॥"  # Devanagari danda, double danda (also Bengali, Odia, ...)
    "؟۔؞"  # Arabic question mark, Urdu full stop, Arabic triple dot
    "።፧፨"  # Ethiopic full stop, question mark, paragraph separator
    "。！？｡．"  # CJK / fullwidth
    "։"  # Armenian full stop
    "။"  # Myanmar section mark
    "។៕"  # Khmer khan, bariyoosan
    "།༎"  # Tibetan shad, nyis shad
    "܀܁܂"  # Syriac
    "᙮"  # Canadian syllabics full stop
    "꓿"  # Lisu
    "߹"  # NKo exclamation
    "᠃"  # Mongolian full stop
    "෴"  # Sinhala kunddaliya
)
# Closing quotes and brackets that belong to the sentence they follow.
_CLOSERS = frozenset("\"'»’”)]}›」』）】〉》")


def _ends_sentence(text: str, i: int) -> int:
    """If a sentence ends with the terminator at ``text[i]``, return its end; else -1."""
    ch = text[i]
    hard = ch in _HARD_TERMINATORS
    if not hard and ch not in _SPACED_TERMINATORS:
        return -1
    j = i + 1
    while j < len(text) and (text[j] in _SPACED_TERMINATORS or text[j] in _HARD_TERMINATORS):
        j += 1  # "?!", "..." and "।।" stay together
    while j < len(text) and text[j] in _CLOSERS:
        j += 1
    if hard:
        return j
    if j < len(text) and not text[j].isspace():
        return -1  # "3.14", "e.g.,", "?”," — not a sentence end
    if ch == ".":
        k = j
        while k < len(text) and text[k].isspace():
            k += 1
        if k < len(text) and text[k].islower():
            return -1  # "approx. five": the next sentence would start in lower case
        w = i
        while w > 0 and not text[w - 1].isspace():
            w -= 1
        if i - w == 1 and text[w].isupper():
            return -1  # an initial: "J. Smith"
    return j


def _is_thai_lao(ch: str) -> bool:
    return "\u0e00" <= ch <= "\u0eff" and unicodedata.category(ch)[0] in "LM"


def _thai_lao_gap(text: str, i: int) -> bool:
    """Is the space at ``text[i]`` between two Thai/Lao letters (a sentence break there)?"""
    j = i
    while j > 0 and text[j - 1].isspace():
        j -= 1
    k = i
    while k < len(text) and text[k].isspace():
        k += 1
    return 0 < j and k < len(text) and _is_thai_lao(text[j - 1]) and _is_thai_lao(text[k])


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (see :func:`_split_sentences`; memoised, a fresh list each call)."""
    return list(_memo_sentences(text))


@lru_cache(maxsize=TEXT_MEMO)
def _memo_sentences(text: str) -> tuple[str, ...]:
    return tuple(_split_sentences(text))


def _split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping each terminator with its sentence.

    Terminators: ``. ! ? …`` (before whitespace or the end), and the sentence marks of
    Devanagari (``। ॥``), Arabic/Urdu (``؟ ۔``), Ethiopic (``። ፧``), CJK (``。！？``),
    Armenian (``։``), Myanmar (``။``), Khmer (``។``), Tibetan (``།``) and others anywhere.
    A newline also ends a sentence (news documents put one sentence or paragraph per line),
    and so does a space between two Thai or Lao letters: those scripts have no full stop
    and write a space only between sentences or clauses.
    A ``.`` after a single capital letter or before a lower-case word does not split.
    Sentences are stripped of whitespace; empty ones are dropped.
    """
    out: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        if text[i] == "\n" or (text[i].isspace() and _thai_lao_gap(text, i)):
            end = i
        else:
            end = _ends_sentence(text, i)
            if end < 0:
                i += 1
                continue
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
        i = max(end, i + 1)
    piece = text[start:].strip()
    if piece:
        out.append(piece)
    return out


# Unicode character-name prefixes -> ISO 15924 codes (longest prefix wins).
_NAME_TO_SCRIPT: dict[str, str] = {
    "LATIN": "Latn", "FULLWIDTH LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek",
    "COPTIC": "Copt", "ARMENIAN": "Armn", "GEORGIAN": "Geor", "HEBREW": "Hebr",
    "ARABIC": "Arab", "SYRIAC": "Syrc", "THAANA": "Thaa", "NKO": "Nkoo", "ADLAM": "Adlm",
    "TIFINAGH": "Tfng", "ETHIOPIC": "Ethi", "VAI": "Vaii", "BAMUM": "Bamu",
    "DEVANAGARI": "Deva", "BENGALI": "Beng", "GURMUKHI": "Guru", "GUJARATI": "Gujr",
    "ORIYA": "Orya", "TAMIL": "Taml", "TELUGU": "Telu", "KANNADA": "Knda",
    "MALAYALAM": "Mlym", "SINHALA": "Sinh", "TIBETAN": "Tibt", "OL CHIKI": "Olck",
    "MEETEI MAYEK": "Mtei", "LIMBU": "Limb", "LEPCHA": "Lepc", "THAI": "Thai", "LAO": "Laoo",
    "MYANMAR": "Mymr", "KHMER": "Khmr", "TAI LE": "Tale", "NEW TAI LUE": "Talu",
    "TAI THAM": "Lana", "BALINESE": "Bali", "JAVANESE": "Java", "SUNDANESE": "Sund",
    "BUGINESE": "Bugi", "MONGOLIAN": "Mong", "CJK UNIFIED IDEOGRAPH": "Hani",
    "CJK COMPATIBILITY IDEOGRAPH": "Hani", "KANGXI RADICAL": "Hani", "CJK RADICAL": "Hani",
    "IDEOGRAPHIC": "Hani", "HIRAGANA": "Hira", "KATAKANA": "Kana",
    "HALFWIDTH KATAKANA": "Kana", "KATAKANA-HIRAGANA": "Kana", "HANGUL": "Hang",
    "HALFWIDTH HANGUL": "Hang", "BOPOMOFO": "Bopo", "YI": "Yiii", "CHEROKEE": "Cher",
    "CANADIAN SYLLABICS": "Cans", "OGHAM": "Ogam", "RUNIC": "Runr", "GLAGOLITIC": "Glag",
}
_PREFIXES = sorted(_NAME_TO_SCRIPT, key=len, reverse=True)


@lru_cache(maxsize=8192)
def _char_script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix in _PREFIXES:
        if name.startswith(prefix) and (len(name) == len(prefix) or name[len(prefix)] in " -"):
            return _NAME_TO_SCRIPT[prefix]
    return None


def script_of(text: str) -> str:
    """ISO 15924 code of the script of most letters in ``text``.

    Only letters (``L*``) vote; ties go to the script seen first. Letters of a script not
    in the table count as ``"Zzzz"`` (unknown); a text without letters is ``"Zyyy"``
    (common). Japanese returns whichever of Hani/Hira/Kana has most letters.
    """
    votes: Counter[str] = Counter()
    for ch in text:
        if unicodedata.category(ch)[0] == "L":
            votes[_char_script(ch) or "Zzzz"] += 1
    if not votes:
        return "Zyyy"
    return votes.most_common(1)[0][0]
