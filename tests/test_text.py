"""bench.text: tokens with offsets, sentence splitting and script detection across scripts."""

from __future__ import annotations

import random

import pytest

from bench.text import is_unspaced, script_of, split_sentences, tokens


def words(text: str) -> list[str]:
    return [t for t, _, _ in tokens(text)]


@pytest.mark.parametrize(
    "text",
    [
        "The cat sat, didn't it?",
        "Привет, мир! Как дела?",
        "مرحبا بالعالم، كيف حالك؟",
        "नमस्ते दुनिया। आप कैसे हैं?",
        "ሰላም ለዓለም። እንዴት ነህ፧",
        "ภาษาไทยที่ดี 2020",
        "我爱北京天安门。iPhone手机",
        "Γειά σου κόσμε; გამარჯობა",
        "  leading and trailing  \n",
        "",
    ],
)
def test_offsets_round_trip(text: str) -> None:
    toks = tokens(text)
    prev_end = 0
    for tok, start, end in toks:
        assert text[start:end] == tok
        assert start >= prev_end and end > start
        assert not any(ch.isspace() for ch in tok)
        prev_end = end
    # every non-space character is covered by exactly one token
    covered = sum(end - start for _, start, end in toks)
    assert covered == sum(1 for ch in text if not ch.isspace())


def test_latin_words_and_punctuation() -> None:
    assert words("The cat sat, didn't it?") == [
        "The", "cat", "sat", ",", "didn", "'", "t", "it", "?",
    ]
    assert words("costs $100...") == ["costs", "$", "100", ".", ".", "."]


def test_cyrillic_greek_arabic_devanagari_ethiopic_are_word_based() -> None:
    assert words("Привет, мир!") == ["Привет", ",", "мир", "!"]
    assert words("Γειά σου.") == ["Γειά", "σου", "."]
    assert words("كيف حالك؟") == ["كيف", "حالك", "؟"]
    # Devanagari vowel signs and virama (marks) stay inside the word
    assert words("नमस्ते दुनिया।") == ["नमस्ते", "दुनिया", "।"]
    assert words("ሰላም ለዓለም።") == ["ሰላም", "ለዓለም", "።"]
    # ZWNJ inside a Persian word does not split it
    assert words("می\u200cخواهم") == ["می\u200cخواهم"]


def test_unspaced_scripts_are_one_token_per_character() -> None:
    assert words("我爱北京。") == ["我", "爱", "北", "京", "。"]
    assert words("iPhone手机") == ["iPhone", "手", "机"]
    assert words("ひらがなカタカナ") == list("ひらがなカタカナ")
    # Thai: ที่ is ท + SARA II + MAI EK (two combining marks): one token
    assert words("ที่ดี") == ["ที่", "ดี"]
    assert words("ปี2020") == ["ปี", "2020"]
    # Hangul is written with spaces: word-based
    assert words("안녕 하세요") == ["안녕", "하세요"]
    # ZERO WIDTH SPACE separates words
    assert words("abc\u200bdef") == ["abc", "def"]


def test_is_unspaced() -> None:
    assert is_unspaced("ก") and is_unspaced("中") and is_unspaced("カ") and is_unspaced("ក")
    assert not is_unspaced("a") and not is_unspaced("한") and not is_unspaced("ሀ")


def test_tokens_fuzz_covers_every_character() -> None:
    rng = random.Random(0)
    alphabet = "ab ,.中ที่ नि\u200c\u0301!ሀ\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        toks = tokens(text)
        assert "".join(t for t, _, _ in toks) == "".join(
            ch for ch in text if not ch.isspace() and ch not in "\u200b"
        )
        assert all(text[s:e] == t for t, s, e in toks)


def test_split_sentences_latin() -> None:
    text = "Hello there. J. Smith went home, e.g. by bus! What?! Pi is 3.14 exactly.  "
    assert split_sentences(text) == [
        "Hello there.",
        "J. Smith went home, e.g. by bus!",
        "What?!",
        "Pi is 3.14 exactly.",
    ]
    assert split_sentences('He said "Stop." Then left.') == ['He said "Stop."', "Then left."]
    assert split_sentences("no terminator") == ["no terminator"]
    assert split_sentences("  \n ") == []
    assert split_sentences("Line one\nLine two.\n\nLine three") == [
        "Line one", "Line two.", "Line three",
    ]


def test_split_sentences_other_scripts() -> None:
    assert split_sentences("यह घर है। वह कौन है? ठीक ॥") == ["यह घर है।", "वह कौन है?", "ठीक ॥"]
    assert split_sentences("مرحبا؟ كيف حالك. شكرا۔") == ["مرحبا؟", "كيف حالك.", "شكرا۔"]
    assert split_sentences("ሰላም ነው። እንዴት ነህ፧") == ["ሰላም ነው።", "እንዴት ነህ፧"]
    assert split_sentences("你好。我很好！真的吗？好") == ["你好。", "我很好！", "真的吗？", "好"]
    assert split_sentences("Բարեւ։ Ինչպես ես։") == ["Բարեւ։", "Ինչպես ես։"]
    assert split_sentences("မင်္ဂလာပါ။ နေကောင်းလား။") == ["မင်္ဂလာပါ။", "နေကောင်းလား။"]
    assert split_sentences("「好。」他说。") == ["「好。」", "他说。"]
    # Thai and Lao have no full stop: a space between two of their letters breaks,
    # a space next to a digit or a Latin word does not
    assert split_sentences("แมวกินปลา หมานอนในปี 2020 แล้ว") == ["แมวกินปลา", "หมานอนในปี 2020 แล้ว"]
    assert split_sentences("ທີ່ນີ້ ເຈົ້າ") == ["ທີ່ນີ້", "ເຈົ້າ"]  # ends in a tone mark


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hello world", "Latn"),
        ("Привет мир", "Cyrl"),
        ("Γειά σου", "Grek"),
        ("مرحبا بالعالم", "Arab"),
        ("नमस्ते दुनिया", "Deva"),
        ("ሰላም ለዓለም", "Ethi"),
        ("สวัสดีครับ", "Thai"),
        ("我爱北京", "Hani"),
        ("გამარჯობა", "Geor"),
        ("שלום עולם", "Hebr"),
        ("হ্যালো বিশ্ব", "Beng"),
        ("안녕하세요", "Hang"),
        ("ສະບາຍດີ", "Laoo"),
        ("ⵜⴰⵎⴰⵣⵉⵖⵜ", "Tfng"),
        ("1234 !?", "Zyyy"),
        ("", "Zyyy"),
    ],
)
def test_script_of(text: str, code: str) -> None:
    assert script_of(text) == code


def test_script_of_majority() -> None:
    assert script_of("Moscow Москва Россия") == "Cyrl"  # 6 Latin vs 12 Cyrillic letters
    assert script_of("iPhone 手机") == "Latn"  # 6 Latin vs 2 Han letters
