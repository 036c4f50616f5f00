"""NusaX-senti: 3-way sentiment in 10 Indonesian local languages, Indonesian and English.

Winata et al., "NusaX: Multilingual Parallel Sentiment Dataset for 10 Indonesian Local
Languages", EACL 2023. Upstream layout: ``datasets/sentiment/<language>/{train,valid,test}.csv``
(columns ``id, text, label``; 500 / 100 / 400 rows). Parallel, with aligned official splits:
source training on *train* never meets a target's *test* item (see :mod:`tasks.parallel`).
In-language TF-IDF logistic regression reaches macro-F1 75.4 on average (the paper's
Table 3); ``bench/suites/nusax-inlang.yaml`` reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from bench.configcheck import bounded
from bench.errors import DataError
from bench.types import Example, LanguageInfo
from tasks.hub import label_name
from tasks.languages import NUSAX_ISO, language_info
from tasks.local import Upstream, label_index
from tasks.parallel import ParallelClassification, as_tuple

UPSTREAM = Upstream(
    folder="nusax",
    repo="https://github.com/IndoNLP/nusax",
    marker="datasets/sentiment/*/train.csv",
)

#: The label set, in the order of the hub's ClassLabel (negative, neutral, positive).
LABELS = ("negative", "neutral", "positive")

LANGUAGES = tuple(sorted(NUSAX_ISO))
DEFAULT_SOURCE = ("english", "indonesian")
#: Dev languages (tuning only), not among the default targets.
DEFAULT_DEV = ("balinese", "ngaju")
DEFAULT_TARGET = tuple(lang for lang in LANGUAGES if lang not in DEFAULT_SOURCE + DEFAULT_DEV)


@dataclass(frozen=True)
class NusaXConfig:
    """Which languages, which splits, how many items."""

    source_langs: tuple[str, ...] = DEFAULT_SOURCE  # folder names trained on (train split)
    target_langs: tuple[str, ...] = DEFAULT_TARGET  # the 8 other local languages (test split)
    dev_langs: tuple[str, ...] = DEFAULT_DEV  # folder names for tuning only (valid.csv)
    target_pool: Literal["train", "dev"] = "train"  # support-pool split ("dev" = valid.csv)
    max_source_per_lang: int | None = bounded(None, ge=1)  # N train items per source language (a hash sample: tasks.local.hash_sample) (None: 500)
    max_pool_per_lang: int | None = bounded(None, ge=1)  # N support-pool items per target (hash sample) (None: all)
    max_test_per_lang: int | None = bounded(None, ge=1)  # N test items per target (hash sample) (None: 400)
    source: Literal["local", "hub"] = "local"  # upstream files, or the HF hub (indonlp/NusaX-senti)
    hub_revision: str | None = None  # pinned commit sha of indonlp/NusaX-senti; required for hub

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_langs", as_tuple(self.source_langs))
        object.__setattr__(self, "target_langs", as_tuple(self.target_langs))
        object.__setattr__(self, "dev_langs", as_tuple(self.dev_langs))


class NusaX(ParallelClassification):
    """NusaX sentiment; languages are upstream folder names (``acehnese``, ``toba_batak``)."""

    Config = NusaXConfig
    name = "nusax"
    upstream = UPSTREAM
    hub_id = "indonlp/NusaX-senti"
    columns = ("id", "label", "text")
    delimiter = ","
    splits = {"train": "train", "dev": "valid", "test": "test"}

    def labels(self) -> tuple[str, ...]:
        return LABELS

    def split_file(self, root: Path, lang: str, split: str) -> Path:
        return root / "datasets" / "sentiment" / lang / f"{split}.csv"

    def available(self) -> tuple[str, ...]:
        folder = self.root() / "datasets" / "sentiment"
        return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))

    def language(self, lang: str) -> LanguageInfo:
        return language_info(lang, iso3=NUSAX_ISO.get(lang), script="Latn")

    def hub_config(self, lang: str) -> str:
        return NUSAX_ISO.get(lang, lang)

    def hub_example(
        self,
        row: Mapping[str, Any],
        lang: str,
        labels: tuple[str, ...],
        label_names: tuple[str, ...] | None,
        where: str,
    ) -> Example:
        return hub_example(row, lang, label_names, where)


def hub_example(
    row: Mapping[str, Any], lang: str, label_names: tuple[str, ...] | None, where: str
) -> Example:
    """An ``indonlp/NusaX-senti`` row (``id, text, label``) -> Example."""
    missing = [c for c in ("id", "text", "label") if c not in row]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; the row has {sorted(row)}")
    text = str(row["text"] or "").strip()
    if not text:
        raise DataError(f"{where}: empty text")
    return Example(
        item_id=f"nusax-{row['id']}",
        lang=lang,
        text=text,
        label=label_index(LABELS, label_name(row["label"], label_names, where), where),
    )
