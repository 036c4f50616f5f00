"""XQuAD: extractive QA, 1,190 SQuAD v1.1 questions professionally translated into 11 languages.

Artetxe, Ruder and Yogatama, "On the Cross-lingual Transferability of Monolingual
Representations", ACL 2020. Upstream layout: ``xquad.<lang>.json`` in SQuAD v1.1 format
(48 articles × 5 paragraphs, the same ids, titles and order in every language); test only.

Leakage-safe split (docs/architecture.md, "The protocol": no parallel leakage): articles are split by position in
file order, for all languages at once (:func:`split_articles`): the first
``source_articles`` (32) train the source languages, the next ``pool_articles`` (4) feed
the K-shot support pools (of target and dev languages), the next ``dev_articles`` (3) are
the dev languages' queries (tuning only), the remaining 9 are the targets' test set. No
question or article used in source training or tuning has a translation in any test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, cast

from bench import leakage
from bench.configcheck import bounded
from bench.errors import DataError
from bench.task import TargetData, Task
from bench.types import Answer, Example, SourceData, TaskInfo
from tasks.hub import load_split
from tasks.languages import check_languages, language_info
from tasks.local import Upstream, dataset_dir, hash_sample, read_json
from tasks.parallel import as_tuple

UPSTREAM = Upstream(
    folder="xquad",
    repo="https://github.com/google-deepmind/xquad",
    marker="xquad.*.json",
)
HUB_ID = "google/xquad"
LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
PARAGRAPHS_PER_ARTICLE = 5  # every XQuAD article has 5 paragraphs (hub rows carry no title)

Role = Literal["source", "pool", "dev", "test"]
DEFAULT_DEV = ("es", "vi")  # dev languages (tuning only)


@dataclass(frozen=True)
class XQuADConfig:
    """Which languages, how the 48 articles are split, how many items."""

    source_langs: tuple[str, ...] = ("en",)  # ISO 639-1 codes trained on (source articles)
    target_langs: tuple[str, ...] = tuple(l for l in LANGUAGES if l not in ("en", *DEFAULT_DEV))  # evaluated
    dev_langs: tuple[str, ...] = DEFAULT_DEV  # ISO 639-1 codes for tuning only (dev articles)
    source_articles: int = bounded(32, ge=0)  # the first N articles (file order) are source training
    pool_articles: int = bounded(4, ge=0)  # the next N articles feed support pools (target and dev languages)
    dev_articles: int = bounded(3, ge=0)  # the next N articles are dev queries (tuning); the rest are test
    max_source_per_lang: int | None = bounded(None, ge=1)  # N source questions per language (hash sample)
    max_pool_per_lang: int | None = bounded(None, ge=1)  # N support-pool questions per target (hash sample)
    max_test_per_lang: int | None = bounded(None, ge=1)  # N test questions per target (hash sample)
    max_answer_tokens: int = bounded(30, ge=1, le=10_000)  # longest span a decoder may return
    source: Literal["local", "hub"] = "local"  # upstream JSON, or the HF hub (google/xquad)
    hub_revision: str | None = None  # pinned commit sha of google/xquad; required for hub

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_langs", as_tuple(self.source_langs))
        object.__setattr__(self, "target_langs", as_tuple(self.target_langs))
        object.__setattr__(self, "dev_langs", as_tuple(self.dev_langs))


def split_articles(articles: Sequence[str], source: int, pool: int, dev: int = 0) -> dict[str, Role]:
    """Article -> role, by position: ``source`` first, then ``pool``, then ``dev``, then the
    rest test."""
    if source < 1 or pool < 1 or dev < 0 or source + pool + dev >= len(articles):
        raise DataError(
            f"xquad: cannot split {len(articles)} articles into source={source}, pool={pool}, "
            f"dev={dev} and a non-empty test set; choose source_articles + pool_articles + "
            f"dev_articles < {len(articles)}"
        )
    roles: dict[str, Role] = {}
    for i, article in enumerate(articles):
        roles[article] = ("source" if i < source else "pool" if i < source + pool
                          else "dev" if i < source + pool + dev else "test")
    return roles


class XQuAD(Task):
    """XQuAD extractive QA; ``group`` is the article title, ``item_id`` the question id."""

    Config = XQuADConfig
    kind = "qa"
    name = "xquad"

    def info(self) -> TaskInfo:
        langs = (*self.config.source_langs, *self.config.dev_langs, *self.config.target_langs)
        return TaskInfo(
            name=self.name,
            kind=self.kind,
            source_langs=self.config.source_langs,
            target_langs=self.config.target_langs,
            dev_langs=self.config.dev_langs,
            languages={lang: language_info(lang) for lang in langs},
            max_answer_tokens=self.config.max_answer_tokens,
        )

    def source(self) -> SourceData:
        cap = self.config.max_source_per_lang
        train = {lang: hash_sample(self.role(lang, "source"), cap) for lang in self.config.source_langs}
        return SourceData(info=self.info(), train=train)

    def target(self, lang: str) -> TargetData:
        if lang not in self.config.target_langs:
            raise DataError(
                f"xquad: {lang!r} is not a target language; targets are {list(self.config.target_langs)}"
            )
        return TargetData(
            lang=lang,
            pool=hash_sample(self.role(lang, "pool"), self.config.max_pool_per_lang),
            test=hash_sample(self.role(lang, "test"), self.config.max_test_per_lang),
        )

    def dev(self, lang: str) -> TargetData:
        """A dev language: the support-pool articles and the dev articles as queries."""
        if lang not in self.config.dev_langs:
            raise DataError(
                f"xquad: {lang!r} is not a dev language; dev languages are {list(self.config.dev_langs)}"
            )
        return TargetData(
            lang=lang,
            pool=hash_sample(self.role(lang, "pool"), self.config.max_pool_per_lang),
            test=hash_sample(self.role(lang, "dev"), self.config.max_test_per_lang),
        )

    def validate(self, role: str = "target") -> None:
        """Languages exist, every record parses, offsets match, articles align, nothing leaks.

        ``role="dev"`` (tuning) reads the source and dev languages only."""
        targets = self.config.target_langs if role == "target" else ()
        if self.config.source == "local":
            root = self.root()
            available = tuple(sorted(p.name[6:-5] for p in root.glob("xquad.*.json")))
            check_languages(self.name, self.config.source_langs, targets if role == "target" else None,
                            available, dev=self.config.dev_langs)
        langs = (*self.config.source_langs, *self.config.dev_langs, *targets)
        orders = {lang: [ex.group for ex in self.read(lang)] for lang in langs}
        first_lang = langs[0]
        reference = list(dict.fromkeys(orders[first_lang]))
        for lang in langs[1:]:
            if list(dict.fromkeys(orders[lang])) != reference:
                raise DataError(
                    f"xquad: the articles of {lang} differ from those of {first_lang} (titles or "
                    f"order); the article split must be the same for every language"
                )
        source, devs = self.source(), [self.dev(l) for l in self.config.dev_langs]
        leakage.check(self.name, source, devs)
        if role == "target":
            tests = [self.target(l) for l in targets]
            leakage.check(self.name, source, tests)
            leakage.check_dev(self.name, devs, tests)

    # -- reading ---------------------------------------------------------------------
    def root(self) -> Path:
        return dataset_dir(UPSTREAM, self.data_dir)

    def role(self, lang: str, role: Role) -> tuple[Example, ...]:
        examples = self.read(lang)
        articles = list(dict.fromkeys(cast(str, ex.group) for ex in examples))  # read() sets every group
        roles = split_articles(articles, self.config.source_articles, self.config.pool_articles,
                               self.config.dev_articles)
        return tuple(ex for ex in examples if roles[cast(str, ex.group)] == role)

    def read(self, lang: str) -> tuple[Example, ...]:
        """Every question of one language, in file order."""
        if self.config.source == "hub":
            loaded = load_split(
                HUB_ID, f"xquad.{lang}", "validation", self.config.hub_revision,
                local_hint=f"use `source: local` with --data-dir pointing at a clone of {UPSTREAM.repo}",
            )
            return hub_examples(loaded.rows, lang, f"{HUB_ID}[xquad.{lang}]")
        path = self.root() / f"xquad.{lang}.json"
        return squad_examples(read_json(path), lang, str(path))


def _need(record: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if not isinstance(record, Mapping) or key not in record:
        raise DataError(f"{where}: missing {key!r}")
    value = record[key]
    if not isinstance(value, kind):
        raise DataError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def answer(context: str, text: str, start: Any, where: str) -> Answer:
    """An answer whose offset is checked: ``context[start:start+len(text)] == text``."""
    if not isinstance(start, int) or isinstance(start, bool):
        raise DataError(f"{where}: answer_start {start!r} is not an integer")
    found = context[start : start + len(text)]
    if not text or found != text:
        raise DataError(
            f"{where}: bad answer offset: context[{start}:{start + len(text)}] is {found!r}, "
            f"the answer text is {text!r}"
        )
    return Answer(text=text, start=start)


def squad_examples(doc: Any, lang: str, path: str) -> tuple[Example, ...]:
    """SQuAD v1.1 JSON -> Examples; every problem names the file and the JSON record."""
    data = _need(doc, "data", list, path)
    out: list[Example] = []
    for a, article in enumerate(data):
        where_a = f"{path}: data[{a}]"
        title = _need(article, "title", str, where_a)
        for p, paragraph in enumerate(_need(article, "paragraphs", list, where_a)):
            where_p = f"{where_a}.paragraphs[{p}]"
            context = _need(paragraph, "context", str, where_p)
            for q, qa in enumerate(_need(paragraph, "qas", list, where_p)):
                where_q = f"{where_p}.qas[{q}]"
                qid = _need(qa, "id", str, where_q)
                where_q = f"{where_q} (id {qid})"
                answers = tuple(
                    answer(
                        context,
                        _need(ans, "text", str, f"{where_q}.answers[{i}]"),
                        _need(ans, "answer_start", int, f"{where_q}.answers[{i}]"),
                        f"{where_q}.answers[{i}]",
                    )
                    for i, ans in enumerate(_need(qa, "answers", list, where_q))
                )
                if not answers:
                    raise DataError(f"{where_q}: no answers")
                out.append(
                    Example(
                        item_id=f"xquad-{qid}",
                        lang=lang,
                        text=context,
                        question=_need(qa, "question", str, where_q),
                        answers=answers,
                        group=title,
                    )
                )
    if not out:
        raise DataError(f"{path}: no questions (an empty language)")
    return tuple(out)


def hub_examples(rows: Sequence[Mapping[str, Any]], lang: str, where: str) -> tuple[Example, ...]:
    """``google/xquad`` rows (``id, context, question, answers{text, answer_start}``) -> Examples.

    Hub rows carry no title: the article is the paragraph ordinal // 5, named
    ``article-NN``, which is the upstream article order (every article has 5 paragraphs).
    """
    out: list[Example] = []
    contexts: dict[str, int] = {}
    for i, row in enumerate(rows):
        at = f"{where} row {i}"
        for key in ("id", "context", "question", "answers"):
            if key not in row:
                raise DataError(f"{at}: missing column {key!r}; the row has {sorted(row)}")
        context = row["context"]
        if context not in contexts:
            contexts[context] = len(contexts)
        spans = row["answers"]
        texts, starts = spans.get("text", []), spans.get("answer_start", [])
        if not texts or len(texts) != len(starts):
            raise DataError(f"{at}: answers need equal, non-empty 'text' and 'answer_start' lists")
        out.append(
            Example(
                item_id=f"xquad-{row['id']}",
                lang=lang,
                text=context,
                question=row["question"],
                answers=tuple(answer(context, t, s, f"{at} answer {j}") for j, (t, s) in enumerate(zip(texts, starts))),
                group=f"article-{contexts[context] // PARAGRAPHS_PER_ARTICLE:02d}",
            )
        )
    if not out:
        raise DataError(f"{where}: no rows (an empty language)")
    return tuple(out)
