"""SIB-200: 7-way topic classification of FLORES-200 sentences in 205 language varieties.

Adelani et al., "SIB-200: A Simple, Inclusive, and Big Evaluation Dataset for Topic
Classification in 200+ Languages and Dialects", EACL 2024. Upstream layout:
``data/annotated/<lang>_<Script>/{train,dev,test}.tsv`` (columns ``index_id, category,
text``; 701 / 99 / 204 rows) and ``data/eng/labels.txt``. The corpus is parallel: one
``index_id`` is one sentence in every language, and the official splits are aligned, so
source training on *train* never meets a target's *test* item (see :mod:`tasks.parallel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from bench.configcheck import bounded
from bench.errors import DataError
from bench.types import Example
from tasks.hub import label_name
from tasks.local import Upstream, label_index, read_labels
from tasks.parallel import ParallelClassification, as_tuple

UPSTREAM = Upstream(
    folder="sib-200",
    repo="https://github.com/dadelani/sib-200",
    marker="data/annotated/*/train.tsv",
)

#: ``data/eng/labels.txt`` at upstream commit 593cea8 (the hub path has no local file).
HUB_LABELS = (
    "science/technology", "travel", "politics", "sports", "health", "entertainment", "geography",
)

#: High-resource source languages in six scripts.
DEFAULT_SOURCE = (
    "eng_Latn", "fra_Latn", "spa_Latn", "deu_Latn", "rus_Cyrl", "arb_Arab", "hin_Deva", "zho_Hans",
)
#: Lower-resource targets spanning eight scripts.
DEFAULT_TARGET = (
    "hau_Latn", "yor_Latn", "swh_Latn", "kin_Latn", "amh_Ethi", "tir_Ethi", "tha_Thai",
    "khm_Khmr", "mya_Mymr", "kat_Geor", "hye_Armn", "tam_Taml",
)

#: Dev languages (tuning only): low-resource, in four scripts, disjoint from both lists.
DEFAULT_DEV = ("ibo_Latn", "zul_Latn", "lao_Laoo", "tel_Telu")


@dataclass(frozen=True)
class Sib200Config:
    """Which languages, which splits, how many items."""

    source_langs: tuple[str, ...] = DEFAULT_SOURCE  # folder names trained on (train split)
    target_langs: tuple[str, ...] = DEFAULT_TARGET  # folder names evaluated (test split)
    dev_langs: tuple[str, ...] = DEFAULT_DEV  # folder names for tuning only (their dev split)
    target_pool: Literal["train", "dev"] = "train"  # split that feeds K-shot support sets
    max_source_per_lang: int | None = bounded(None, ge=1)  # N train items per source language (a hash sample: tasks.local.hash_sample) (None: 701)
    max_pool_per_lang: int | None = bounded(None, ge=1)  # N support-pool items per target (hash sample) (None: all)
    max_test_per_lang: int | None = bounded(None, ge=1)  # N test items per target (hash sample) (None: 204)
    source: Literal["local", "hub"] = "local"  # upstream files, or the HF hub (Davlan/sib200)
    hub_revision: str | None = None  # pinned commit sha of Davlan/sib200; required for hub

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_langs", as_tuple(self.source_langs))
        object.__setattr__(self, "target_langs", as_tuple(self.target_langs))
        object.__setattr__(self, "dev_langs", as_tuple(self.dev_langs))


class Sib200(ParallelClassification):
    """SIB-200 topic classification; languages are upstream folder names (``hau_Latn``)."""

    Config = Sib200Config
    name = "sib200"
    upstream = UPSTREAM
    hub_id = "Davlan/sib200"
    columns = ("index_id", "category", "text")
    delimiter = "\t"
    splits = {"train": "train", "dev": "dev", "test": "test"}

    def labels(self) -> tuple[str, ...]:
        if self.config.source == "hub":
            return HUB_LABELS
        return read_labels(self.root() / "data" / "eng" / "labels.txt")

    def split_file(self, root: Path, lang: str, split: str) -> Path:
        return root / "data" / "annotated" / lang / f"{split}.tsv"

    def available(self) -> tuple[str, ...]:
        folder = self.root() / "data" / "annotated"
        return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))

    def hub_example(
        self,
        row: Mapping[str, Any],
        lang: str,
        labels: tuple[str, ...],
        label_names: tuple[str, ...] | None,
        where: str,
    ) -> Example:
        return hub_example(row, lang, labels, label_names, where)


def hub_example(
    row: Mapping[str, Any],
    lang: str,
    labels: tuple[str, ...],
    label_names: tuple[str, ...] | None,
    where: str,
) -> Example:
    """A ``Davlan/sib200`` row (``index_id, category, text``) -> Example."""
    missing = [c for c in ("index_id", "category", "text") if c not in row]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; the row has {sorted(row)}")
    text = str(row["text"] or "").strip()
    if not text:
        raise DataError(f"{where}: empty text")
    return Example(
        item_id=f"sib200-{row['index_id']}",
        lang=lang,
        text=text,
        label=label_index(labels, label_name(row["category"], label_names, where), where),
    )
