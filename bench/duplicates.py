"""The duplicate-text check for non-parallel data (issue 18, item 3).

A parallel corpus leaks through translations, which share an item id (:mod:`bench.leakage`
catches those). A non-parallel corpus leaks differently: the same text (a news article
syndicated in two languages, a sentence copied between splits) appears in source training
and in a target's test set under different ids. :func:`duplicates` compares normalised
texts (Unicode NFKC, case-folded, whitespace collapsed; for QA the question with its
context, for summarization the document) and :func:`check` refuses a task that has any.
Costs one pass over the texts (a hash per example); reads no files.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Iterable

from bench.errors import DataError
from bench.task import TargetData
from bench.types import Example, SourceData


def normal_text(example: Example) -> str:
    """The text that identifies an example's content, normalised."""
    text = example.text if example.question is None else f"{example.question}\n{example.text}"
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _digest(example: Example) -> str:
    return hashlib.sha1(normal_text(example).encode("utf-8")).hexdigest()


def duplicates(source: SourceData, targets: Iterable[TargetData], limit: int = 3) -> list[str]:
    """Every target test set holding a text of source training (or of its own support pool)."""
    seen: dict[str, Example] = {_digest(ex): ex for ex in source.all()}
    found: list[str] = []
    for target in targets:
        pool = {_digest(ex): ex for ex in target.pool}
        for what, table in (("source-training", seen), ("support-pool", pool)):
            hits = [(ex, table[d]) for ex in target.test if (d := _digest(ex)) in table]
            if hits:
                shown = [f"{t.item_id} = {s.item_id} ({s.lang})" for t, s in hits[:limit]]
                found.append(f"{len(hits)} {target.lang} test item(s) repeat a {what} text, e.g. {shown}")
    return found


def check(task_name: str, source: SourceData, targets: Iterable[TargetData]) -> None:
    """Raise DataError if :func:`duplicates` finds anything."""
    found = duplicates(source, targets)
    if found:
        raise DataError(
            f"{task_name}: the same text is in training and in a test set: {'; '.join(found)}. "
            f"Drop the repeated items from one side (or declare the data parallel by a content "
            f"hash, `parallel: content`, so the leakage check splits them by id)."
        )
