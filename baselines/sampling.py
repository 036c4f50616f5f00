"""Source episodes for meta-training: each task is one source *language*.

Meta-learners (MAML, Reptile, ProtoNets) train on episodes drawn from one source language
at a time, so the meta-learned initialisation (or metric) is the one that adapts fastest
to a *new language*:

* classification: ``shots`` support and ``queries`` query examples **per class** over the
  task's full label space (``TaskInfo.labels``), so every head stays label-consistent
  across episodes and K = 0 prediction from the meta-initialisation is meaningful;
* qa / summarization: ``shots`` support and ``queries`` query items.

Support and query are disjoint (no item appears in both). All episodes of a kind and a
configuration have the same size, which lets the meta-learners batch tasks with ``vmap``.
Randomness comes only from the ``rng`` passed in (derived from the cell seed).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from bench.errors import DataError
from bench.types import Example, SourceData

Episode = tuple[tuple[Example, ...], tuple[Example, ...]]


def _by_label(examples: Sequence[Example], num_labels: int) -> list[list[int]]:
    rows: list[list[int]] = [[] for _ in range(num_labels)]
    for i, ex in enumerate(examples):
        if ex.label is None or not 0 <= ex.label < num_labels:
            raise DataError(
                f"source example {ex.item_id!r} ({ex.lang}) has label {ex.label!r}; "
                f"expected an int in [0, {num_labels}). Fix the task's loader."
            )
        rows[ex.label].append(i)
    return rows


def can_sample(source: SourceData, lang: str, shots: int, queries: int) -> bool:
    """True if ``lang`` holds enough examples for a disjoint (shots, queries) episode."""
    examples = source.train.get(lang, ())
    if source.info.kind == "classification":
        if source.info.num_labels == 0:
            return False
        counts = [len(r) for r in _by_label(examples, source.info.num_labels)]
        return min(counts) >= shots + queries
    return len(examples) >= shots + queries


def episode_langs(source: SourceData, shots: int, queries: int) -> tuple[str, ...]:
    """Source languages that can supply an episode of this size (sorted).

    Raises ``DataError`` naming the shortfall when no language can.
    """
    langs = tuple(lang for lang in sorted(source.train) if can_sample(source, lang, shots, queries))
    if not langs:
        unit = "per class " if source.info.kind == "classification" else ""
        sizes = {lang: len(exs) for lang, exs in sorted(source.train.items())}
        raise DataError(
            f"no source language of {source.info.name!r} has {shots} + {queries} examples "
            f"{unit}for a disjoint meta-training episode (examples per language: {sizes}). "
            f"Lower the method's `shots` / `queries` in the suite."
        )
    return langs


def source_episode(
    source: SourceData, lang: str, shots: int, queries: int, rng: np.random.Generator
) -> Episode:
    """One meta-training episode ``(support, query)`` from source language ``lang``.

    Classification: ``shots`` + ``queries`` per class over the full label space, class-
    ordered (support is class 0's shots, then class 1's, ...). Other kinds: ``shots`` +
    ``queries`` items. Support and query are disjoint. Raises ``DataError`` if ``lang`` is
    too small (see :func:`episode_langs`).
    """
    if shots < 0 or queries < 0:
        raise ValueError(f"shots and queries must be >= 0, got {shots}, {queries}")
    examples = source.train.get(lang)
    if examples is None:
        raise DataError(
            f"{lang!r} is not a source language of {source.info.name!r}; "
            f"valid: {sorted(source.train)}"
        )
    if not can_sample(source, lang, shots, queries):
        raise DataError(
            f"source language {lang!r} of {source.info.name!r} is too small for an episode of "
            f"{shots} support + {queries} query"
            + (" per class" if source.info.kind == "classification" else "")
            + "; pick languages with episode_langs() or lower shots/queries."
        )
    if source.info.kind == "classification":
        support: list[Example] = []
        query: list[Example] = []
        for rows in _by_label(examples, source.info.num_labels):
            pick = rng.choice(len(rows), size=shots + queries, replace=False)
            support.extend(examples[rows[i]] for i in pick[:shots])
            query.extend(examples[rows[i]] for i in pick[shots:])
        return tuple(support), tuple(query)
    pick = rng.choice(len(examples), size=shots + queries, replace=False)
    return (
        tuple(examples[i] for i in pick[:shots]),
        tuple(examples[i] for i in pick[shots:]),
    )


def meta_batch_langs(langs: Sequence[str], n: int, rng: np.random.Generator) -> tuple[str, ...]:
    """The languages of a meta-batch of ``n`` tasks: uniform over ``langs``.

    Without replacement while ``n <= len(langs)`` (every task a different language), with
    replacement otherwise.
    """
    if not langs:
        raise ValueError("meta_batch_langs needs at least one language")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    idx = rng.choice(len(langs), size=n, replace=n > len(langs))
    return tuple(langs[i] for i in idx)


def language_batch(
    source: SourceData, lang: str, size: int, rng: np.random.Generator
) -> tuple[Example, ...]:
    """``size`` examples of one language drawn uniformly (without replacement while possible)."""
    examples = source.train.get(lang)
    if not examples:
        raise DataError(
            f"source language {lang!r} of {source.info.name!r} has no examples; "
            f"valid: {sorted(k for k, v in source.train.items() if v)}"
        )
    idx = rng.choice(len(examples), size=size, replace=size > len(examples))
    return tuple(examples[i] for i in idx)
