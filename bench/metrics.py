"""Scores of every task kind, in percent (0-100), multilingual and script-aware.

* classification: :func:`accuracy` and :func:`macro_f1` (the scikit-learn definition);
* extractive QA: :func:`squad_em` / :func:`squad_f1` (Rajpurkar et al., 2016) with the
  multilingual answer normalisation of MLQA's ``mlqa_evaluation_v1.py`` (Lewis et al., 2020);
* summarization: :func:`rouge` -1/-2/-L F-measure (Lin, 2004) with a tokenizer that keeps
  every script (``rouge-score`` keeps only ``[a-z0-9]`` and so scores 0 on Amharic, Arabic
  or Hindi), and :func:`oracle_sentences`, the greedy extractive oracle of SummaRuNNer
  (Nallapati et al., 2017) that labels sentences for extractive training;
* :func:`score`: the per-episode metrics the runner stores (names match
  :data:`bench.types.PRIMARY_METRIC`).

Scripts written without spaces (Thai, Lao, Khmer, Myanmar, Chinese, Japanese kana) are
scored on characters (code points), generalising MLQA's "mixed segmentation" for Chinese.
Pure Python; importing it is cheap.
"""

from __future__ import annotations

import numbers
import re
import string
import unicodedata
from collections import Counter
from typing import Sequence

from bench.text import is_unspaced, tokens
from bench.types import Example, Prediction, TaskKind

__all__ = [
    "accuracy", "macro_f1", "normalize_answer", "squad_em", "squad_f1", "rouge",
    "rouge_tokens", "oracle_sentences", "score", "qa_lang",
]


# ---------------------------------------------------------------- classification


def _check_pair(pred: Sequence[object], gold: Sequence[object]) -> None:
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predictions for {len(gold)} gold items; give one each")
    if not gold:
        raise ValueError("no items to score: the episode has no queries")


def accuracy(pred: Sequence[int], gold: Sequence[int]) -> float:
    """Percentage of items whose predicted label equals the gold label."""
    _check_pair(pred, gold)
    return 100.0 * sum(int(p) == int(g) for p, g in zip(pred, gold)) / len(gold)


def macro_f1(pred: Sequence[int], gold: Sequence[int], num_labels: int) -> float:
    """Unweighted mean of per-label F1, in percent.

    As ``sklearn.metrics.f1_score(gold, pred, average="macro")``: the mean runs over the
    labels present in ``gold`` or ``pred`` (a label that never occurs is not averaged in).
    ``num_labels`` only validates that labels lie in ``[0, num_labels)``.
    """
    _check_pair(pred, gold)
    pairs = [(int(p), int(g)) for p, g in zip(pred, gold)]
    bad = sorted({x for pair in pairs for x in pair if not 0 <= x < num_labels})
    if bad:
        raise ValueError(f"labels {bad} are outside [0, {num_labels}): check the label ids")
    labels = sorted({x for pair in pairs for x in pair})
    total = 0.0
    for lab in labels:
        tp = sum(p == lab and g == lab for p, g in pairs)
        fp = sum(p == lab and g != lab for p, g in pairs)
        fn = sum(p != lab and g == lab for p, g in pairs)
        total += 2 * tp / (2 * tp + fp + fn)
    return 100.0 * total / len(labels)


# ---------------------------------------------------------------- extractive QA

#: ASCII punctuation, which MLQA removes on top of Unicode P* (adds the symbols $+<=>^`|~).
_ASCII_PUNCT = frozenset(string.punctuation)


def _is_punct(ch: str) -> bool:
    """MLQA's PUNCT set: every Unicode P* character plus ASCII punctuation."""
    return ch in _ASCII_PUNCT or unicodedata.category(ch)[0] == "P"


#: MLQA's article patterns. Arabic removes every "ال", inside words too: that is what
#: mlqa_evaluation_v1.py does (its pattern is ``\sال^|ال``), kept for comparable numbers.
_ARTICLES: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile(r"\sال^|ال"),
}
#: Languages MLQA knows; those without articles (hi, zh) only skip that step.
_QA_LANGS = frozenset(_ARTICLES) | {"hi", "zh"}
#: ISO 639-3 (and FLORES-style) codes of the same languages.
_LANG_ALIASES = {
    "eng": "en", "spa": "es", "deu": "de", "ger": "de", "vie": "vi", "ara": "ar",
    "arb": "ar", "hin": "hi", "zho": "zh", "cmn": "zh", "chi": "zh",
}


def qa_lang(code: str | None) -> str | None:
    """The MLQA language of a code such as ``"en"``, ``"eng_Latn"`` or ``"zh-CN"``, or None."""
    if not code:
        return None
    prefix = re.split(r"[_\-]", code.strip().lower(), maxsplit=1)[0]
    prefix = _LANG_ALIASES.get(prefix, prefix)
    return prefix if prefix in _QA_LANGS else None


def _segment(text: str) -> list[str]:
    """Whitespace tokens, with every character of an unspaced script a token of its own."""
    out: list[str] = []
    for word in text.split():
        run = ""
        for ch in word:
            if is_unspaced(ch):
                if run:
                    out.append(run)
                    run = ""
                out.append(ch)
            else:
                run += ch
        if run:
            out.append(run)
    return out


def normalize_answer(text: str, lang: str | None = None) -> list[str]:
    """MLQA normalisation: lowercase, drop punctuation, drop articles, then tokenise.

    ``lang`` is an MLQA code (en es de ar vi hi zh); any other value, or None, removes no
    articles. Tokens are whitespace-separated, except that characters of scripts written
    without spaces are one token each (MLQA's mixed segmentation, for every language).
    """
    text = "".join(ch for ch in text.lower() if not _is_punct(ch))
    pattern = _ARTICLES.get(lang or "")
    if pattern is not None:
        text = pattern.sub(" ", text)
    return _segment(text)


def _golds(golds: Sequence[str]) -> Sequence[str]:
    if isinstance(golds, str):
        raise TypeError("golds must be a sequence of answer strings, not one string")
    if not golds:
        raise ValueError("no gold answers to score against: every QA item needs at least one")
    return golds


def squad_em(pred: str, golds: Sequence[str], lang: str | None = None) -> float:
    """Exact match (100 or 0) of normalised ``pred`` with any normalised gold answer."""
    p = normalize_answer(pred, lang)
    return 100.0 if any(p == normalize_answer(g, lang) for g in _golds(golds)) else 0.0


def _token_f1(pred: list[str], gold: list[str]) -> float:
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def squad_f1(pred: str, golds: Sequence[str], lang: str | None = None) -> float:
    """Token-overlap F1 of ``pred`` with the best-matching gold answer, in percent."""
    p = normalize_answer(pred, lang)
    return 100.0 * max(_token_f1(p, normalize_answer(g, lang)) for g in _golds(golds))


# ---------------------------------------------------------------- ROUGE


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def rouge_tokens(text: str) -> list[str]:
    """ROUGE tokens: lower-cased words of every script, characters of unspaced scripts.

    Punctuation and symbols are dropped; letters, marks and digits of every script kept.
    """
    out: list[str] = []
    for tok, _, _ in tokens(text.lower()):
        if is_unspaced(tok[0]):
            out.extend(ch for ch in tok if _is_word_char(ch))
        elif any(_is_word_char(ch) for ch in tok):
            out.append(tok)
    return out


def _ngrams(toks: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def _f_measure(overlap: int, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    precision, recall = overlap / n_pred, overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def _counter_f(pred: Counter[tuple[str, ...]], ref: Counter[tuple[str, ...]]) -> float:
    return _f_measure(sum((pred & ref).values()), sum(pred.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (bit-parallel; Allison & Dix 1986, Hyyrö 2004)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[str, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        u = v & masks.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge(pred: str, ref: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measures of ``pred`` against ``ref``, in percent.

    Lin (2004): clipped n-gram overlap for ROUGE-N; longest common subsequence for ROUGE-L
    (sentence-level, no stemming, no stopword removal). An empty side scores 0.
    """
    p, r = rouge_tokens(pred), rouge_tokens(ref)
    return {
        "rouge1": 100.0 * _counter_f(_ngrams(p, 1), _ngrams(r, 1)),
        "rouge2": 100.0 * _counter_f(_ngrams(p, 2), _ngrams(r, 2)),
        "rougeL": 100.0 * _f_measure(lcs_length(p, r), len(p), len(r)),
    }


def oracle_sentences(sentences: Sequence[str], reference: str, k: int) -> tuple[int, ...]:
    """Greedy extractive oracle (Nallapati et al., 2017, SummaRuNNer): sorted sentence indices.

    Starting from nothing, repeatedly add the sentence that most increases ROUGE-1 F +
    ROUGE-2 F of the selection against ``reference`` (ties: lowest index), up to ``k``
    sentences; stop early when no sentence improves the score. N-grams are counted within
    sentences (no bigram spans two sentences), so the result does not depend on order.
    """
    if k <= 0 or not sentences:
        return ()
    ref = rouge_tokens(reference)
    ref1, ref2 = _ngrams(ref, 1), _ngrams(ref, 2)
    toks = [rouge_tokens(s) for s in sentences]
    uni = [_ngrams(t, 1) for t in toks]
    bi = [_ngrams(t, 2) for t in toks]
    chosen: list[int] = []
    cur1: Counter[tuple[str, ...]] = Counter()
    cur2: Counter[tuple[str, ...]] = Counter()
    best = 0.0
    for _ in range(min(k, len(sentences))):
        pick, pick_score = -1, best
        for i in range(len(sentences)):
            if i in chosen:
                continue
            s = _counter_f(cur1 + uni[i], ref1) + _counter_f(cur2 + bi[i], ref2)
            if s > pick_score + 1e-12:
                pick, pick_score = i, s
        if pick < 0:
            break
        chosen.append(pick)
        cur1, cur2, best = cur1 + uni[pick], cur2 + bi[pick], pick_score
    return tuple(sorted(chosen))


# ---------------------------------------------------------------- per-episode scores


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _need_text(pred: Prediction, i: int, kind: str) -> str:
    if pred.text is None:
        raise ValueError(f"prediction {i} of a {kind} episode has no text; set Prediction.text")
    return pred.text


def score(
    kind: TaskKind,
    predictions: Sequence[Prediction],
    examples: Sequence[Example],
    num_labels: int,
) -> dict[str, float]:
    """The metrics of one episode, in percent, from predictions and the held-back examples.

    classification → ``accuracy``, ``macro_f1``; qa → ``em``, ``f1`` (mean over items, best
    gold answer, MLQA language from the prefix of ``example.lang`` when known); summarization
    → ``rouge1``, ``rouge2``, ``rougeL`` (mean over items against ``example.summary``).
    """
    _check_pair(predictions, examples)
    if kind == "classification":
        pred: list[int] = []
        gold: list[int] = []
        for i, (p, ex) in enumerate(zip(predictions, examples)):
            if p.label is None:
                raise ValueError(f"prediction {i} has no label; set Prediction.label")
            if isinstance(p.label, bool) or not isinstance(p.label, numbers.Integral) \
                    or not 0 <= p.label < num_labels:
                raise ValueError(f"prediction {i}: label must be an int in [0, {num_labels}), got {p.label!r} "
                                 f"({type(p.label).__name__}); a method predicts a label index, never a score")
            if ex.label is None:
                raise ValueError(f"example {ex.item_id!r} has no gold label")
            pred.append(p.label)
            gold.append(ex.label)
        return {"accuracy": accuracy(pred, gold), "macro_f1": macro_f1(pred, gold, num_labels)}
    if kind == "qa":
        ems, f1s = [], []
        for i, (p, ex) in enumerate(zip(predictions, examples)):
            text = _need_text(p, i, kind)
            if not ex.answers:
                raise ValueError(f"QA example {ex.item_id!r} has no gold answers")
            golds = [a.text for a in ex.answers]
            lang = qa_lang(ex.lang)
            ems.append(squad_em(text, golds, lang))
            f1s.append(squad_f1(text, golds, lang))
        return {"em": _mean(ems), "f1": _mean(f1s)}
    if kind == "summarization":
        rows = []
        for i, (p, ex) in enumerate(zip(predictions, examples)):
            text = _need_text(p, i, kind)
            if ex.summary is None:
                raise ValueError(f"summarization example {ex.item_id!r} has no summary")
            rows.append(rouge(text, ex.summary))
        return {key: _mean([r[key] for r in rows]) for key in ("rouge1", "rouge2", "rougeL")}
    raise ValueError(
        f"unknown task kind {kind!r}; valid kinds: classification, qa, summarization"
    )
