"""MasakhaNEWS: news topic classification and headline generation in 16 languages.

Adelani et al., "MasakhaNEWS: News Topic Classification for African languages", IJCNLP-AACL
2023. Upstream layout: ``data/<lang>/{train,dev,test}.tsv`` (columns ``category, headline,
text, url``) with ``labels.txt`` per language, and ``few_shot_data/{5,10,20,50}_samples/
<lang>/train.tsv``. Only ibo lin lug orm pcm run sna som xho yor ship a full ``train.tsv``;
the others (amh eng fra hau swa tir) are target-only here. The dev languages (tuning only;
default lug and som, which ship a train split and so leave the default sources) read their
``train.tsv`` as the support pool and their ``dev.tsv`` as queries.

The corpus is not parallel, but a few articles recur across languages and splits, and the
upstream few-shot sets overlap the test sets of some languages. So the item id is a hash
of the article text, and a target's test set drops any item seen in source training, its
pool drops any item in its test set (deterministic, in file order). Dev queries drop source
items, and a target's test set drops dev queries too, so no item is used for both tuning
and reporting. Upstream ``test.tsv`` and
the few-shot files are sorted by category, so a file-order prefix would hold one or two
topics (the first 100 English test items are all ``business``): the ``max_*_per_lang``
caps keep the items whose content id hashes lowest (:func:`capped`), a deterministic
uniform sample, in file order. Label sets differ per
language: :class:`MasakhaNews` uses the sorted union over the configured languages, and a
label outside its own language's ``labels.txt`` is a data error.

:class:`MasakhaNewsHeadline` is the same data as extractive summarization: the document's
sentences (``bench.text.split_sentences``) are the units and the headline is the reference
(one sentence), in the spirit of the paper's headline-generation use of the corpus.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Mapping, Sequence

from bench import leakage
from bench.configcheck import bounded
from bench.errors import DataError
from bench.task import TargetData, Task
from bench.types import Example, SourceData, TaskInfo, TaskKind
from tasks.hub import HubSplit, label_name, load_split
from tasks.languages import check_languages, language_info
from tasks.local import Upstream, dataset_dir, label_index, read_labels, read_table
from tasks.parallel import as_tuple

UPSTREAM = Upstream(
    folder="masakhane-news",
    repo="https://github.com/masakhane-io/masakhane-news",
    marker="data/*/labels.txt",
)
HUB_ID = "masakhane/masakhanews"

WITH_TRAIN = ("ibo", "lin", "lug", "orm", "pcm", "run", "sna", "som", "xho", "yor")
DEFAULT_DEV = ("lug", "som")  # tuning only: train.tsv pools, dev.tsv queries
TARGET_ONLY = ("amh", "eng", "fra", "hau", "swa", "tir")
COLUMNS = ("category", "headline", "text")
_CHARS_PER_SENTENCE = 600  # split only a prefix: long articles dominate the cost
_HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


@dataclass(frozen=True)
class MasakhaNewsConfig:
    """Which languages, which splits, how many items."""

    source_langs: tuple[str, ...] = tuple(l for l in WITH_TRAIN if l not in DEFAULT_DEV)  # languages with a full train.tsv
    target_langs: tuple[str, ...] = TARGET_ONLY  # evaluated on test.tsv
    dev_langs: tuple[str, ...] = DEFAULT_DEV  # tuning only: need train.tsv (pool) and dev.tsv (queries)
    target_pool: Literal["dev", "few_shot", "train"] = "dev"  # support pool: dev.tsv, the few-shot set, or train.tsv (few-shot set where the language has none)
    few_shot_size: Literal[5, 10, 20, 50] = 50  # which few_shot_data/<n>_samples set
    max_source_per_lang: int | None = bounded(None, ge=1)  # N train items per source language (a content-hash sample: capped())
    max_pool_per_lang: int | None = bounded(None, ge=1)  # N support-pool items per target (capped())
    max_test_per_lang: int | None = bounded(None, ge=1)  # N test items per target (capped())
    max_sentences: int = bounded(20, ge=1)  # headline task: keep the document's first N sentences
    max_chars: int | None = bounded(None, ge=1)  # classification: keep the article's first N characters (None: all)
    source: Literal["local", "hub"] = "local"  # upstream files, or the HF hub (masakhane/masakhanews)
    hub_revision: str | None = None  # pinned commit sha of masakhane/masakhanews; required for hub

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_langs", as_tuple(self.source_langs))
        object.__setattr__(self, "target_langs", as_tuple(self.target_langs))
        object.__setattr__(self, "dev_langs", as_tuple(self.dev_langs))


def item_id(text: str) -> str:
    """A content id: identical article texts share it across languages and splits."""
    normal = " ".join(text.split())
    return "mn-" + hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


def capped(records: Sequence["Record"], cap: int | None) -> tuple["Record", ...]:
    """At most ``cap`` records (all when None), in file order: those whose content id
    (:func:`item_id`) hashes lowest, ties by position. A deterministic sample that does not
    depend on the file's order (upstream test and few-shot files are sorted by category)."""
    if cap is not None and cap < 0:
        raise ValueError(f"a per-language cap must be >= 0 or None, got {cap}")
    if cap is None or len(records) <= cap:
        return tuple(records)
    keep = set(sorted(range(len(records)), key=lambda i: (item_id(records[i].text), i))[:cap])
    return tuple(r for i, r in enumerate(records) if i in keep)


class MasakhaNews(Task):
    """MasakhaNEWS topic classification (union label set over the configured languages)."""

    Config = MasakhaNewsConfig
    kind: ClassVar[TaskKind] = "classification"
    name = "masakhanews"

    # -- the contract ----------------------------------------------------------------
    def info(self) -> TaskInfo:
        langs = (*self.config.source_langs, *self.config.dev_langs, *self.config.target_langs)
        return TaskInfo(
            name=self.name,
            kind=self.kind,
            labels=self.union_labels(),
            source_langs=self.config.source_langs,
            target_langs=self.config.target_langs,
            dev_langs=self.config.dev_langs,
            languages={lang: language_info(lang) for lang in langs},
            summary_sentences=1,
        )

    def source(self) -> SourceData:
        cap = self.config.max_source_per_lang
        train = {lang: self.read(lang, "train", cap) for lang in self.config.source_langs}
        return SourceData(info=self.info(), train=train)

    def target(self, lang: str) -> TargetData:
        if lang not in self.config.target_langs:
            raise DataError(
                f"{self.name}: {lang!r} is not a target language; targets are "
                f"{list(self.config.target_langs)}"
            )
        test = self.read(lang, "test", self.config.max_test_per_lang, drop=self.source_ids() | self.dev_ids())
        role = {"few_shot": "few_shot", "train": "train"}.get(self.config.target_pool, "dev")
        if role == "train" and self.config.source == "local" and not self.split_file(lang, "train").is_file():
            role = "few_shot"  # six languages ship only the official few-shot training sets
        pool = self.read(lang, role, self.config.max_pool_per_lang, frozenset(ex.item_id for ex in test))
        return TargetData(lang=lang, pool=pool, test=test)

    def dev(self, lang: str) -> TargetData:
        """A dev language: its dev.tsv (minus source items) as queries, its train.tsv as pool."""
        if lang not in self.config.dev_langs:
            raise DataError(
                f"{self.name}: {lang!r} is not a dev language; dev languages are "
                f"{list(self.config.dev_langs)}"
            )
        test = self.read(lang, "dev", self.config.max_test_per_lang, drop=self.source_ids())
        pool = self.read(lang, "train", self.config.max_pool_per_lang, frozenset(ex.item_id for ex in test))
        return TargetData(lang=lang, pool=pool, test=test)

    def validate(self, role: str = "target") -> None:
        """Languages exist and have the files they need, labels are known, nothing leaks.

        ``role="dev"`` (tuning) reads the source and dev languages only."""
        targets = self.config.target_langs if role == "target" else ()
        if self.config.source == "local":
            root = self.root()
            available = tuple(sorted(p.name for p in (root / "data").iterdir() if p.is_dir()))
            check_languages(self.name, self.config.source_langs, targets if role == "target" else None,
                            available, dev=self.config.dev_langs)
            for what, langs in (("source", self.config.source_langs), ("dev", self.config.dev_langs)):
                no_train = [l for l in langs if not (root / "data" / l / "train.tsv").is_file()]
                if no_train:
                    raise DataError(
                        f"{self.name}: {what} language(s) {no_train} have no {root}/data/<lang>/train.tsv "
                        f"(upstream ships only few-shot sets for them); use them as targets. "
                        f"Languages with a full train split: {list(WITH_TRAIN)}"
                    )
        source = self.source()
        devs = [self.dev(lang) for lang in self.config.dev_langs]
        leakage.check(self.name, source, devs)
        if role == "target":
            tests = [self.target(lang) for lang in targets]
            leakage.check(self.name, source, tests)
            leakage.check_dev(self.name, devs, tests)

    # -- labels ----------------------------------------------------------------------
    def root(self) -> Path:
        return dataset_dir(UPSTREAM, self.data_dir)

    def language_labels(self, lang: str) -> tuple[str, ...]:
        """The labels one language may use (its ``labels.txt``, or the hub's ClassLabel)."""
        if self.config.source == "hub":
            names = self.hub(lang, "test").label_names
            if names is None:
                raise DataError(f"{HUB_ID}[{lang}]: the label column is not a ClassLabel")
            return names
        return read_labels(self.root() / "data" / lang / "labels.txt")

    def union_labels(self) -> tuple[str, ...]:
        langs = (*self.config.source_langs, *self.config.dev_langs, *self.config.target_langs)
        return tuple(sorted({label for lang in langs for label in self.language_labels(lang)}))

    # -- reading ---------------------------------------------------------------------
    def split_file(self, lang: str, role: str) -> Path:
        root = self.root()
        if role == "few_shot":
            return root / "few_shot_data" / f"{self.config.few_shot_size}_samples" / lang / "train.tsv"
        return root / "data" / lang / f"{role}.tsv"

    def records(self, lang: str, role: str) -> list[Record]:
        """Raw records of one language and split role ("train", "dev", "test", "few_shot")."""
        if self.config.source == "hub":
            if role == "few_shot":
                raise DataError(
                    f"{self.name}: the few-shot sets are not on the hub; use target_pool: dev "
                    f"or `source: local` with a clone of {UPSTREAM.repo}"
                )
            loaded = self.hub(lang, _HUB_SPLITS[role])
            where = f"{HUB_ID}[{lang}/{_HUB_SPLITS[role]}]"
            out = [hub_record(row, loaded.label_names, f"{where} row {i}") for i, row in enumerate(loaded.rows)]
            if not out:
                raise DataError(f"{where}: no rows (an empty language split)")
            return out
        rows = read_table(self.split_file(lang, role), COLUMNS, "\t")
        return [
            Record(f"{row.where} ({lang}/labels.txt)", row.get("text"), row.get("headline"), row.get("category"))
            for row in rows
        ]

    def read(self, lang: str, role: str, cap: int | None = None, drop: frozenset[str] = frozenset()) -> tuple[Example, ...]:
        """Examples of one language and role, in file order: ids in ``drop`` removed, then capped."""
        labels = self.union_labels()
        own = self.language_labels(lang)
        kept = [r for r in self.records(lang, role) if item_id(r.text) not in drop]
        return tuple(
            self.make(lang, r.text, r.headline, label_index(labels, r.category, r.where, allowed=own))
            for r in capped(kept, cap)
        )

    def source_ids(self) -> frozenset[str]:
        """Item ids of source training, without building its examples (memoised: a pure
        function of the config and the files, read once per task object)."""
        if getattr(self, "_source_ids", None) is None:
            cap = self.config.max_source_per_lang
            self._source_ids = frozenset(
                item_id(r.text)
                for lang in self.config.source_langs
                for r in capped(self.records(lang, "train"), cap)
            )
        return self._source_ids

    def dev_ids(self) -> frozenset[str]:
        """Item ids of every dev language's queries (memoised like :meth:`source_ids`)."""
        if getattr(self, "_dev_ids", None) is None:
            self._dev_ids = frozenset(
                ex.item_id for lang in self.config.dev_langs for ex in self.dev(lang).test
            )
        return self._dev_ids

    def hub(self, lang: str, split: str) -> HubSplit:
        return load_split(
            HUB_ID, lang, split, self.config.hub_revision,
            local_hint=f"use `source: local` with --data-dir pointing at a clone of {UPSTREAM.repo}",
        )

    def make(self, lang: str, text: str, headline: str, label: int) -> Example:
        """The Example of one article (classification: the text and its topic)."""
        cut = text if self.config.max_chars is None else text[: self.config.max_chars]
        return Example(item_id=item_id(text), lang=lang, text=cut, label=label)


class MasakhaNewsHeadline(MasakhaNews):
    """MasakhaNEWS as extractive summarization: pick the sentence closest to the headline."""

    kind = "summarization"
    name = "masakhanews_headline"

    def info(self) -> TaskInfo:
        base = super().info()
        return TaskInfo(
            name=self.name,
            kind=self.kind,
            source_langs=base.source_langs,
            target_langs=base.target_langs,
            dev_langs=base.dev_langs,
            languages=base.languages,
            summary_sentences=1,
        )

    def make(self, lang: str, text: str, headline: str, label: int) -> Example:
        from bench.text import split_sentences

        keep = self.config.max_sentences
        prefix = text[: keep * _CHARS_PER_SENTENCE]
        found = split_sentences(prefix)
        if len(prefix) < len(text) and len(found) > 1:
            found = found[:-1]  # the last one may be cut by the prefix
        sentences = tuple(found[:keep])
        if not sentences:
            raise DataError(f"{self.name}: an article in {lang} has no sentence: {text[:80]!r}")
        return Example(
            item_id=item_id(text), lang=lang, text=text, summary=headline, sentences=sentences
        )


@dataclass(frozen=True)
class Record:
    """One article before it becomes an Example: where it came from and its fields."""

    where: str
    text: str
    headline: str
    category: str


def hub_record(row: Mapping[str, Any], label_names: tuple[str, ...] | None, where: str) -> Record:
    """A ``masakhane/masakhanews`` row (``label, headline, text, ...``) -> Record."""
    missing = [c for c in ("label", "headline", "text") if c not in row]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; the row has {sorted(row)}")
    text, headline = str(row["text"] or "").strip(), str(row["headline"] or "").strip()
    if not text or not headline:
        raise DataError(f"{where}: empty {'text' if not text else 'headline'}")
    return Record(where, text, headline, label_name(row["label"], label_names, where))
