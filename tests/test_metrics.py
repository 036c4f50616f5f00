"""bench.metrics: hand-computed scores across scripts (expected values derived in comments)."""

from __future__ import annotations

import random

import pytest

from bench.metrics import (
    accuracy,
    lcs_length,
    macro_f1,
    normalize_answer,
    oracle_sentences,
    qa_lang,
    rouge,
    rouge_tokens,
    score,
    squad_em,
    squad_f1,
)
from bench.types import PRIMARY_METRIC, Answer, Example, Prediction

approx = pytest.approx

# ---------------------------------------------------------------- classification


def test_accuracy() -> None:
    assert accuracy([0, 1, 2, 1], [0, 1, 1, 1]) == 75.0  # 3 of 4
    with pytest.raises(ValueError, match="3 predictions for 2"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="no items"):
        accuracy([], [])


def test_macro_f1_by_hand() -> None:
    # label 0: tp 1 fp 1 fn 0 -> 2/3; label 1: tp 1 fp 0 fn 2 -> 2/4; label 2: tp 0 fp 1 -> 0
    assert macro_f1([0, 0, 1, 2], [0, 1, 1, 1], 3) == approx(100 * (2 / 3 + 1 / 2 + 0) / 3)
    # label 3 never occurs: it is not averaged in (sklearn semantics)
    assert macro_f1([0, 1], [0, 1], 4) == 100.0
    with pytest.raises(ValueError, match="outside"):
        macro_f1([0, 5], [0, 1], 3)


def test_macro_f1_matches_sklearn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(0)
    for _ in range(50):
        n, k = rng.randrange(1, 30), rng.randrange(2, 6)
        gold = [rng.randrange(k) for _ in range(n)]
        pred = [rng.randrange(k) for _ in range(n)]
        expected = 100 * sklearn_metrics.f1_score(gold, pred, average="macro", zero_division=0)
        assert macro_f1(pred, gold, k) == approx(expected)


# ---------------------------------------------------------------- QA


def test_qa_latin_punctuation_and_articles() -> None:
    assert squad_em("The Eiffel Tower.", ["Eiffel Tower"], "en") == 100.0
    assert squad_em("U.S.A.", ["USA"]) == 100.0  # punctuation-only difference
    assert squad_em("«Paris»", ["Paris"]) == 100.0  # Unicode quotes are P* too
    # without a language no article is removed: [the, house] vs [house]: P 1/2 R 1 -> 2/3
    assert squad_em("the house", ["house"]) == 0.0
    assert squad_f1("the house", ["house"]) == approx(200 / 3)
    assert squad_em("la casa", ["casa"], "es") == 100.0
    assert squad_em("der Hund", ["Hund"], "de") == 100.0
    assert squad_em("những cái bàn", ["bàn"], "vi") == 100.0
    # max over golds: vs [paris, france]: P 1 R 1/2 -> 2/3
    assert squad_f1("Paris", ["London", "Paris, France"]) == approx(200 / 3)
    assert squad_em("Paris", ["London", "Paris, France"]) == 0.0
    assert squad_f1("", ["Paris"]) == 0.0
    # SQuAD behaviour: both normalise to nothing -> EM 100, F1 0
    assert squad_em("the", ["a"], "en") == 100.0 and squad_f1("the", ["a"], "en") == 0.0
    with pytest.raises(ValueError, match="no gold answers"):
        squad_f1("x", [])


def test_qa_cyrillic() -> None:
    # [московский, университет] vs [университет, имени, ломоносова]: 1 common,
    # P 1/2 R 1/3 -> F = 2 * (1/6) / (5/6) = 0.4
    assert squad_f1("Московский университет", ["университет имени Ломоносова"]) == approx(40.0)
    assert squad_em("Москва!", ["москва"]) == 100.0


def test_qa_arabic() -> None:
    # MLQA removes every "ال": [كتاب, أحمر] vs [كتاب]: P 1/2 R 1 -> 2/3
    assert normalize_answer("الكتاب الأحمر", "ar") == ["كتاب", "أحمر"]
    assert squad_f1("الكتاب الأحمر", ["كتاب"], "ar") == approx(200 / 3)
    assert squad_em("الكتاب", ["كتاب"], "ar") == 100.0
    assert squad_em("الكتاب", ["كتاب"]) == 0.0  # no article removal without a language
    assert squad_em("كتاب،", ["كتاب"]) == 100.0  # Arabic comma is punctuation


def test_qa_devanagari_and_ethiopic() -> None:
    # [भारत, की, राजधानी] vs [राजधानी]: P 1/3 R 1 -> 2 * (1/3) / (4/3) = 0.5
    assert squad_f1("भारत की राजधानी", ["राजधानी"], "hi") == approx(50.0)
    assert squad_em("दिल्ली।", ["दिल्ली"], "hi") == 100.0  # danda is punctuation
    assert squad_em("አዲስ አበባ።", ["አዲስ አበባ"]) == 100.0  # Ethiopic full stop
    # [አዲስ] vs [አዲስ, አበባ]: P 1 R 1/2 -> 2/3
    assert squad_f1("አዲስ", ["አዲስ አበባ"]) == approx(200 / 3)


def test_qa_thai_and_chinese_are_character_level() -> None:
    # กรุงเทพ = ก ร ุ ง เ ท พ (7 code points), all in กรุงเทพมหานคร (13):
    # P 1 R 7/13 -> F = 2 * 7/13 / (20/13) = 0.7
    assert squad_f1("กรุงเทพ", ["กรุงเทพมหานคร"]) == approx(70.0)
    assert squad_em("กรุงเทพ", ["กรุงเทพมหานคร"]) == 0.0
    # [北, 京, 大, 学] vs [北, 京]: P 1/2 R 1 -> 2/3
    assert squad_f1("北京大学", ["北京"], "zh") == approx(200 / 3)
    assert squad_em("北京。", ["北京"], "zh") == 100.0
    assert normalize_answer("北京大学 Peking", "zh") == ["北", "京", "大", "学", "peking"]
    assert normalize_answer("iPhone手机") == ["iphone", "手", "机"]


def test_qa_lang_codes() -> None:
    assert qa_lang("en") == "en" and qa_lang("eng_Latn") == "en" and qa_lang("zh-CN") == "zh"
    assert qa_lang("arb_Arab") == "ar" and qa_lang("th") is None and qa_lang(None) is None


# ---------------------------------------------------------------- ROUGE


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog.",
        "Быстрая коричневая лиса прыгает через ленивую собаку.",
        "ذهب الولد إلى المدرسة في الصباح.",
        "भारत की राजधानी नई दिल्ली है।",
        "አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት።",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
        "北京是中国的首都。",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "თბილისი საქართველოს დედაქალაქია.",
        "ירושלים היא עיר הבירה.",
        "ঢাকা বাংলাদেশের রাজধানী।",
    ],
)
def test_rouge_identical_text_is_100_in_every_script(text: str) -> None:
    assert rouge_tokens(text), "the tokenizer must keep non-Latin letters"
    assert rouge(text, text) == {"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0}


def test_rouge_latin_by_hand() -> None:
    # p = the cat sat on the mat, r = the cat lay on a mat (6 tokens each)
    # unigrams: the(1) cat on mat = 4 -> 4/6; bigrams: only "the cat" -> 1/5;
    # LCS: the cat on mat = 4 -> 4/6
    got = rouge("The cat sat on the mat.", "the cat lay on a mat")
    assert got["rouge1"] == approx(400 / 6)
    assert got["rouge2"] == approx(20.0)
    assert got["rougeL"] == approx(400 / 6)
    assert rouge("Hello, world!", "hello world")["rouge2"] == 100.0  # punctuation ignored
    assert rouge("", "hello") == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}


def test_rouge_arabic_and_thai_by_hand() -> None:
    # 4 vs 4 words, 3 shared -> 75; bigrams ذهب-الولد, الولد-إلى: 2 of 3 -> 66.7; LCS 3 -> 75
    got = rouge("ذهب الولد إلى المدرسة", "ذهب الولد إلى البيت")
    assert (got["rouge1"], got["rouge2"], got["rougeL"]) == approx((75.0, 200 / 3, 75.0))
    # Thai characters: แ ม ว (3) vs แ ม ว ด ำ (5): R1 P 1 R 3/5 -> 0.75;
    # bigrams 2 of 4 -> P 1 R 1/2 -> 2/3; LCS 3 -> 0.75
    got = rouge("แมว", "แมวดำ")
    assert (got["rouge1"], got["rouge2"], got["rougeL"]) == approx((75.0, 200 / 3, 75.0))


def test_rouge_cyrillic_devanagari_and_ethiopic_by_hand() -> None:
    # Cyrillic, case-folded: 3 vs 3 words, 2 shared -> 66.7; bigram "быстрая лиса" 1 of 2 -> 50
    got = rouge("Быстрая лиса прыгает", "быстрая лиса спит")
    assert (got["rouge1"], got["rouge2"], got["rougeL"]) == approx((200 / 3, 50.0, 200 / 3))
    # Devanagari (danda dropped, vowel signs kept): 5 vs 6 words, 4 shared -> P 4/5, R 4/6,
    # F 8/11; bigrams भारत-की, की-राजधानी: P 2/4, R 2/5 -> 4/9; LCS भारत की राजधानी है = 4 -> 8/11
    got = rouge("भारत की राजधानी दिल्ली है।", "भारत की राजधानी मुंबई नहीं है")
    assert (got["rouge1"], got["rouge2"], got["rougeL"]) == approx((800 / 11, 400 / 9, 800 / 11))
    # Ethiopic (። dropped): 5 vs 5 words, 4 shared -> 80; bigrams አዲስ-አበባ, ከተማ-ናት 2 of 4 -> 50
    got = rouge("አዲስ አበባ ዋና ከተማ ናት።", "አዲስ አበባ ትልቅ ከተማ ናት")
    assert (got["rouge1"], got["rouge2"], got["rougeL"]) == approx((80.0, 50.0, 80.0))


def test_rouge_l_is_order_sensitive() -> None:
    # same bag of words, reversed: R1 = 100, no shared bigram, LCS = 1 of 3
    got = rouge("a b c", "c b a")
    assert got["rouge1"] == 100.0 and got["rouge2"] == 0.0
    assert got["rougeL"] == approx(100 / 3)


def test_lcs_matches_dynamic_programming() -> None:
    def naive(a: list[str], b: list[str]) -> int:
        dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                dp[i + 1][j + 1] = dp[i][j] + 1 if x == y else max(dp[i][j + 1], dp[i + 1][j])
        return dp[-1][-1]

    rng = random.Random(1)
    for _ in range(300):
        a = [rng.choice("abcd") for _ in range(rng.randrange(0, 25))]
        b = [rng.choice("abcd") for _ in range(rng.randrange(0, 25))]
        assert lcs_length(a, b) == naive(a, b)


# ---------------------------------------------------------------- oracle

DOC = (
    "The weather was sunny today.",
    "The president signed the new climate law.",
    "Cats are popular pets.",
    "The law cuts emissions by half.",
)
REF = "The president signed a climate law that cuts emissions by half."


def test_oracle_picks_the_covering_sentences_and_stops_early() -> None:
    # ref: 11 tokens, 10 bigrams. Sentence 3 alone: 6/6 words shared -> R1 F 12/17,
    # bigrams cuts-emissions, emissions-by, by-half: 3 of 5 -> F 6/15; sum 1.106.
    # Sentence 1 alone: 5 of 7 words (one "the" clipped) -> 10/18, 2 of 6 bigrams -> 4/16;
    # sum 0.806. So sentence 3 comes first.
    assert oracle_sentences(DOC, REF, 1) == (3,)
    # + sentence 1: 9 of 13 words -> 18/24, 5 of 11 bigrams -> 10/21; sum 1.226 > 1.106
    # (+ sentence 0 would give 12/22 + 6/19 = 0.86)
    assert oracle_sentences(DOC, REF, 2) == (1, 3)
    # a third sentence only adds unmatched words (lower precision): the oracle stops at 2
    assert oracle_sentences(DOC, REF, 3) == (1, 3)
    assert oracle_sentences(DOC, REF, 0) == ()
    assert oracle_sentences(DOC, "nothing in common", 2) == ()
    # returned indices are sorted even when picked out of order
    assert oracle_sentences(("x y", "a b c d", "e f"), "e f a b c d", 3) == (1, 2)


# ---------------------------------------------------------------- score


def test_score_classification() -> None:
    exs = [Example(item_id=str(i), lang="en", text="t", label=g) for i, g in enumerate([0, 1, 1])]
    preds = [Prediction(label=p) for p in [0, 1, 0]]
    got = score("classification", preds, exs, 2)
    # label 0: tp1 fp1 fn0 -> 2/3; label 1: tp1 fp0 fn1 -> 2/3
    assert got == {"accuracy": approx(200 / 3), "macro_f1": approx(200 / 3)}
    assert PRIMARY_METRIC["classification"] in got
    with pytest.raises(ValueError, match="no label"):
        score("classification", [Prediction(text="x")] * 3, exs, 2)


def test_score_qa_uses_language_prefix() -> None:
    def ex(lang: str) -> Example:
        return Example(item_id="q", lang=lang, text="ctx", question="?",
                       answers=(Answer("house", 0), Answer("home", 10)))

    preds = [Prediction(text="the house"), Prediction(text="garden")]
    got = score("qa", preds, [ex("eng_Latn"), ex("eng_Latn")], 0)
    assert got == {"em": 50.0, "f1": 50.0}  # (100 + 0) / 2
    got = score("qa", preds, [ex("xx"), ex("xx")], 0)  # unknown code: "the" stays
    assert got == {"em": 0.0, "f1": approx(100 / 3)}  # (2/3 + 0) / 2
    assert PRIMARY_METRIC["qa"] in got


def test_score_summarization() -> None:
    exs = [
        Example(item_id="a", lang="am", text="d", summary="ሰላም ለዓለም"),
        Example(item_id="b", lang="am", text="d", summary="x y"),
    ]
    got = score("summarization", [Prediction(text="ሰላም ለዓለም"), Prediction(text="z")], exs, 0)
    assert got == {"rouge1": 50.0, "rouge2": 50.0, "rougeL": 50.0}
    assert PRIMARY_METRIC["summarization"] in got
    with pytest.raises(ValueError, match="2 predictions for 1"):
        score("summarization", [Prediction(text="a")] * 2, exs[:1], 0)
    with pytest.raises(ValueError, match="unknown task kind"):
        score("regression", [Prediction(text="a")], exs[:1], 0)  # type: ignore[arg-type]
