"""Source episodes for meta-training: each task is one source *language*.

Meta-learners (MAML, Reptile, ProtoNets) train on episodes drawn from one source language
at a time, so the meta-learned initialisation (or metric) is the one that adapts fastest
to a *new language*:

* classification: ``shots`` support and ``queries`` query examples **per class**, over the
  classes the language actually has with at least ``shots + queries`` examples
  (:func:`episode_classes`; rarer classes, and classes the language lacks — MasakhaNEWS
  label sets differ per language — are left out of that language's episodes). Labels stay
  indices into the task's full label space (``TaskInfo.labels``), so every head stays
  label-consistent across episodes and K = 0 prediction from the meta-initialisation is
  meaningful. A language needs at least two such classes (:data:`MIN_WAYS`) to supply an
  episode;
* qa / summarization: ``shots`` support and ``queries`` query items.

Support and query are disjoint (no item appears in both). Episodes of one language and
configuration always have the same size, but classification episodes of *different*
languages may not (a 4-class language gives 4 × (shots + queries) examples, a 6-class one
6 ×). The meta-learners batch a meta-batch's tasks with ``vmap``, so
:func:`baselines.taskbatch.stack_tasks` pads each episode's support and query to the
meta-batch's largest by repeating one of the episode's own rows with target -100 (ignored
by every backbone's loss and by ProtoNet's prototypes): the padded batch gives the same
per-task losses and gradients as the episodes one at a time. This was chosen over drawing
a meta-batch's episodes over a common class set, which would shrink episodes to the
classes all its languages share. The budget charges real examples only
(:func:`episode_sizes`); :func:`meta_batch_plan` draws a meta-batch's languages and keeps
those that fit the remaining passes.

Randomness comes only from the ``rng`` passed in (derived from the cell seed).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from bench.errors import DataError
from bench.types import Example, SourceData

Episode = tuple[tuple[Example, ...], tuple[Example, ...]]

#: Fewest classes a classification episode may cover (one class teaches no decision).
MIN_WAYS = 2


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


def episode_classes(source: SourceData, lang: str, shots: int, queries: int) -> tuple[int, ...]:
    """Label indices (ascending) with at least ``shots + queries`` examples in ``lang``.

    Classification only: the classes a ``(shots, queries)`` episode of ``lang`` covers.
    """
    if source.info.kind != "classification":
        raise ValueError(f"episode_classes is for classification; {source.info.name!r} is {source.info.kind}")
    rows = _by_label(source.train.get(lang, ()), source.info.num_labels)
    return tuple(c for c, r in enumerate(rows) if len(r) >= shots + queries)


def _min_ways(source: SourceData) -> int:
    return min(MIN_WAYS, source.info.num_labels)


def can_sample(source: SourceData, lang: str, shots: int, queries: int) -> bool:
    """True if ``lang`` holds enough examples for a disjoint (shots, queries) episode
    (classification: of at least :data:`MIN_WAYS` classes)."""
    examples = source.train.get(lang, ())
    if source.info.kind == "classification":
        if source.info.num_labels == 0:
            return False
        return len(episode_classes(source, lang, shots, queries)) >= _min_ways(source)
    return len(examples) >= shots + queries


def episode_sizes(source: SourceData, lang: str, shots: int, queries: int) -> tuple[int, int]:
    """``(|support|, |query|)`` of a ``(shots, queries)`` episode of ``lang``."""
    ways = len(episode_classes(source, lang, shots, queries)) if source.info.kind == "classification" else 1
    return shots * ways, queries * ways


def episode_langs(source: SourceData, shots: int, queries: int) -> tuple[str, ...]:
    """Source languages that can supply an episode of this size (sorted).

    Raises ``DataError`` naming the shortfall when no language can.
    """
    langs = tuple(lang for lang in sorted(source.train) if can_sample(source, lang, shots, queries))
    if not langs:
        if source.info.kind == "classification":
            n = source.info.num_labels
            counts = {
                lang: {source.info.labels[c]: len(r) for c, r in enumerate(_by_label(exs, n)) if r}
                for lang, exs in sorted(source.train.items())
            }
            raise DataError(
                f"no source language of {source.info.name!r} has {_min_ways(source)} classes with "
                f"{shots} + {queries} examples each for a disjoint meta-training episode "
                f"(examples per language and class: {counts}). Lower the method's `shots` / "
                f"`queries` in the suite, or raise the task's source cap."
            )
        sizes = {lang: len(exs) for lang, exs in sorted(source.train.items())}
        raise DataError(
            f"no source language of {source.info.name!r} has {shots} + {queries} examples "
            f"for a disjoint meta-training episode (examples per language: {sizes}). "
            f"Lower the method's `shots` / `queries` in the suite."
        )
    return langs


def source_episode(
    source: SourceData, lang: str, shots: int, queries: int, rng: np.random.Generator
) -> Episode:
    """One meta-training episode ``(support, query)`` from source language ``lang``.

    Classification: ``shots`` + ``queries`` per class of :func:`episode_classes`, class-
    ordered (support is the lowest class's shots, then the next's, ...); labels are indices
    into the full label space. Other kinds: ``shots`` + ``queries`` items. Support and
    query are disjoint. Raises ``DataError`` if ``lang`` is too small (see
    :func:`episode_langs`).
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
            + (f" per class for {_min_ways(source)} classes" if source.info.kind == "classification" else "")
            + "; pick languages with episode_langs() or lower shots/queries."
        )
    if source.info.kind == "classification":
        support: list[Example] = []
        query: list[Example] = []
        for rows in _by_label(examples, source.info.num_labels):
            if len(rows) < shots + queries:
                continue  # absent or too rare in this language: not part of its episodes
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


def meta_batch_plan(
    langs: Sequence[str], cost: Mapping[str, int], n: int, remaining: int, rng: np.random.Generator
) -> tuple[str, ...]:
    """Languages of the next meta-batch of at most ``n`` tasks whose summed ``cost`` (example
    passes per task of that language) fits ``remaining``; ``()`` when none does (stop).

    Draws ``min(n, remaining // cheapest)`` languages (:func:`meta_batch_langs`) and keeps
    the prefix that fits, so training ends with fewer than one meta-step's passes left.
    With equal costs this is exactly ``meta_batch_langs(langs, min(n, remaining // cost))``.
    """
    costs = {lang: cost[lang] for lang in langs}
    if min(costs.values(), default=0) < 1:
        raise ValueError(f"every task must cost >= 1 example pass; got {costs}")
    tasks = min(n, remaining // min(costs.values()))
    if tasks < 1:
        return ()
    keep: list[str] = []
    total = 0
    for lang in meta_batch_langs(langs, tasks, rng):
        if total + costs[lang] > remaining:
            break
        keep.append(lang)
        total += costs[lang]
    return tuple(keep)


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
