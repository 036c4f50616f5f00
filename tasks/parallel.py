"""Parallel classification corpora with official splits aligned across languages.

SIB-200 and NusaX ship train/dev/test splits whose item ids are the same in every language,
so the official splits are leakage-safe by construction (docs/architecture.md, "The protocol": no parallel leakage):
source training reads the *train* split of the source languages, a target language's
support pool reads its train (or dev) split, and its test set reads its test split. A dev
language (tuning only) reads the official dev split alone, cut by item-id hash into a
support pool and queries (:func:`dev_half`, the same cut in every language): no dev episode
holds a source-train or target-test item or a translation of one. The item id is the
upstream id, shared by all translations; :mod:`bench.leakage` checks it.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Mapping

from bench import leakage
from bench.errors import DataError
from bench.task import TargetData, Task
from bench.types import Example, LanguageInfo, SourceData, TaskInfo
from tasks.hub import load_split
from tasks.languages import check_languages, language_info
from tasks.local import Row, Upstream, dataset_dir, hash_sample, label_index, read_table


def as_tuple(value: Any) -> tuple[str, ...]:
    """YAML lists become tuples, so configs stay hashable and frozen."""
    return tuple(value) if not isinstance(value, str) else (value,)


def dev_half(item_id: str) -> str:
    """``"pool"`` or ``"query"``: a dev item's half, from its id's SHA-1 (aligned ids give
    the same cut in every language, so no dev query has a translation in a dev pool)."""
    return "pool" if hashlib.sha1(item_id.encode("utf-8")).digest()[0] < 128 else "query"


class ParallelClassification(Task):
    """Shared loader of SIB-200 and NusaX; subclasses name files, columns and hub ids."""

    kind = "classification"
    name: ClassVar[str]
    upstream: ClassVar[Upstream]
    hub_id: ClassVar[str]
    columns: ClassVar[tuple[str, str, str]]  # (id, label, text) column names
    delimiter: ClassVar[str]
    splits: ClassVar[Mapping[str, str]]  # role ("train", "dev", "test") -> upstream split name
    hub_splits: ClassVar[Mapping[str, str]] = {"train": "train", "dev": "validation", "test": "test"}

    # -- subclass hooks --------------------------------------------------------------
    @abstractmethod
    def labels(self) -> tuple[str, ...]:
        """The label names, in label-id order."""

    @abstractmethod
    def split_file(self, root: Path, lang: str, split: str) -> Path:
        """The upstream file of one (language, split)."""

    @abstractmethod
    def available(self) -> tuple[str, ...]:
        """Languages the data holds (for validation and did-you-mean)."""

    def hub_config(self, lang: str) -> str:
        """The hub config name of a language (the folder name by default)."""
        return lang

    # -- the contract ----------------------------------------------------------------
    def root(self) -> Path:
        return dataset_dir(self.upstream, self.data_dir)

    def info(self) -> TaskInfo:
        langs = (*self.config.source_langs, *self.config.dev_langs, *self.config.target_langs)
        return TaskInfo(
            name=self.name,
            kind=self.kind,
            labels=self.labels(),
            source_langs=tuple(self.config.source_langs),
            target_langs=tuple(self.config.target_langs),
            dev_langs=tuple(self.config.dev_langs),
            languages={lang: self.language(lang) for lang in langs},
        )

    def language(self, lang: str) -> LanguageInfo:
        return language_info(lang)

    def source(self) -> SourceData:
        cap = self.config.max_source_per_lang
        train = {lang: hash_sample(self.read(lang, "train"), cap) for lang in self.config.source_langs}
        return SourceData(info=self.info(), train=train)

    def target(self, lang: str) -> TargetData:
        if lang not in self.config.target_langs:
            raise DataError(
                f"{self.name}: {lang!r} is not a target language; targets are "
                f"{list(self.config.target_langs)}"
            )
        pool = hash_sample(self.read(lang, self.config.target_pool), self.config.max_pool_per_lang)
        test = hash_sample(self.read(lang, "test"), self.config.max_test_per_lang)
        return TargetData(lang=lang, pool=pool, test=test)

    def dev(self, lang: str) -> TargetData:
        """The official dev split of a dev language, cut by :func:`dev_half` into pool and queries."""
        if lang not in self.config.dev_langs:
            raise DataError(
                f"{self.name}: {lang!r} is not a dev language; dev languages are "
                f"{list(self.config.dev_langs)}"
            )
        items = self.read(lang, "dev")
        pool = hash_sample(tuple(ex for ex in items if dev_half(ex.item_id) == "pool"), self.config.max_pool_per_lang)
        test = hash_sample(tuple(ex for ex in items if dev_half(ex.item_id) == "query"), self.config.max_test_per_lang)
        return TargetData(lang=lang, pool=pool, test=test)

    def validate(self, role: str = "target") -> None:
        """Languages exist, every file parses, labels are known, and nothing leaks.

        ``role="dev"`` (tuning) reads the source and dev languages only, never a target file.
        """
        if self.config.source == "local":
            check_languages(
                self.name,
                tuple(self.config.source_langs),
                tuple(self.config.target_langs) if role == "target" else None,
                self.available(),
                dev=tuple(self.config.dev_langs),
            )
        source = self.source()
        devs = [self.dev(lang) for lang in self.config.dev_langs]
        leakage.check(self.name, source, devs)
        if role == "target":
            targets = [self.target(lang) for lang in self.config.target_langs]
            leakage.check(self.name, source, targets)
            leakage.check_dev(self.name, devs, targets)

    # -- reading ---------------------------------------------------------------------
    def read(self, lang: str, role: str) -> tuple[Example, ...]:
        """All examples of one language and split role, in file order."""
        if self.config.source == "hub":
            return self.read_hub(lang, role)
        if self.config.source != "local":
            raise DataError(f"{self.name}: source must be 'local' or 'hub', got {self.config.source!r}")
        path = self.split_file(self.root(), lang, self.splits[role])
        rows = read_table(path, self.columns, self.delimiter)
        labels = self.labels()
        return tuple(self.example(row, lang, labels) for row in rows)

    def example(self, row: Row, lang: str, labels: tuple[str, ...]) -> Example:
        """One local record -> Example (item id shared across languages)."""
        id_col, label_col, text_col = self.columns
        return Example(
            item_id=f"{self.name}-{row.get(id_col)}",
            lang=lang,
            text=row.get(text_col),
            label=label_index(labels, row.get(label_col), row.where),
        )

    def read_hub(self, lang: str, role: str) -> tuple[Example, ...]:
        split = self.hub_splits[role]
        loaded = load_split(
            self.hub_id,
            self.hub_config(lang),
            split,
            self.config.hub_revision,
            local_hint=f"use `source: local` with --data-dir pointing at a clone of {self.upstream.repo}",
        )
        labels = self.labels()
        where = f"{self.hub_id}[{self.hub_config(lang)}/{split}]"
        examples = tuple(
            self.hub_example(row, lang, labels, loaded.label_names, f"{where} row {i}")
            for i, row in enumerate(loaded.rows)
        )
        if not examples:
            raise DataError(f"{where}: no rows (an empty language split)")
        return examples

    @abstractmethod
    def hub_example(
        self,
        row: Mapping[str, Any],
        lang: str,
        labels: tuple[str, ...],
        label_names: tuple[str, ...] | None,
        where: str,
    ) -> Example:
        """One hub row -> Example; a pure function of the row."""
