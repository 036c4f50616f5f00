"""SynthSumm: extractive summarization whose summary is set by the content, not the lead.

A document has ``min_sentences``-``max_sentences`` sentences. ``k`` of them, at random
positions, report the *main event*: one person (the main entity) doing main-event verbs
(``<name> <event> <object> <adverb>``). Every other sentence is about a different person,
each mentioned once: a fact (lives-in, owns, works-as, ...) or, with probability
``distractor_event_rate``, an event of its own. So the summary sentences are the ones whose
person recurs; event verbs are a cue but not a giveaway. The reference summary is the k
main-event sentences in document order, joined by a space; ``Example.sentences`` are the
document's sentences (exactly what :func:`bench.text.split_sentences` returns for
``Example.text``) and ``TaskInfo.summary_sentences`` is ``k``.

Languages, distances and leakage-safe ids: :mod:`tasks.synth.family`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bench.errors import SuiteError
from bench.types import Example, TaskKind
from tasks.synth.family import SynthConfig, SynthTask
from tasks.synth.language import Clause, Language
from tasks.synth.lexicon import (
    N_ADJ,
    N_ADV,
    N_EVENTS,
    N_JOBS,
    N_NAMES,
    N_OBJECTS,
    N_PLACES,
    RELATIONS,
)

_COUNTS = {"place": N_PLACES, "object": N_OBJECTS, "job": N_JOBS}


@dataclass(frozen=True)
class SummItem:
    """Abstract document sentences and the positions of the main-event sentences."""

    sentences: tuple[Clause, ...]
    summary: tuple[int, ...]  # sorted positions of the k main-event sentences


@dataclass(frozen=True)
class SynthSummConfig(SynthConfig):
    """Knobs of :class:`SynthSumm` (plus the shared ones of ``SynthConfig``)."""

    k: int = 2  # main-event sentences per document = summary length in sentences
    min_sentences: int = 5  # shortest document
    max_sentences: int = 8  # longest document
    distractor_event_rate: float = 0.3  # chance that a non-summary sentence uses an event verb

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.k < self.min_sentences <= self.max_sentences <= N_NAMES:
            raise SuiteError(
                f"need 1 <= k < min_sentences <= max_sentences <= {N_NAMES}, got k={self.k}, "
                f"min_sentences={self.min_sentences}, max_sentences={self.max_sentences}"
            )
        if not 0.0 <= self.distractor_event_rate <= 1.0:
            raise SuiteError(
                f"distractor_event_rate must be in [0, 1], got {self.distractor_event_rate}"
            )


class SynthSumm(SynthTask):
    """Extractive summarization ("synth-summ"): pick the k main-event sentences."""

    Config: ClassVar[type] = SynthSummConfig
    kind: ClassVar[TaskKind] = "summarization"
    name: ClassVar[str] = "synth-summ"
    config: SynthSummConfig

    def info_fields(self) -> dict[str, object]:
        return {"summary_sentences": self.config.k}

    @staticmethod
    def _event(rng: np.random.Generator, person: int) -> Clause:
        obj = f"object:{int(rng.integers(N_OBJECTS)):02d}"
        adj = (f"adj:{int(rng.integers(N_ADJ)):02d}",) if rng.random() < 0.3 else ()
        return Clause(
            subject=(f"name:{person:02d}",),
            verb=(f"event:{int(rng.integers(N_EVENTS)):02d}",),
            obj=(*adj, obj),
            tail=(f"adv:{int(rng.integers(N_ADV)):02d}",) if rng.random() < 0.5 else (),
        )

    def draw(self, rng: np.random.Generator) -> SummItem:
        c = self.config
        n = int(rng.integers(c.min_sentences, c.max_sentences + 1))
        k = c.k
        people = [int(p) for p in rng.choice(N_NAMES, size=n - k + 1, replace=False)]
        main, others = people[0], people[1:]
        summary = tuple(sorted(int(i) for i in rng.choice(n, size=k, replace=False)))
        relations = list(RELATIONS)
        sentences: list[Clause] = []
        for pos in range(n):
            if pos in summary:
                sentences.append(self._event(rng, main))
                continue
            person = others.pop()
            if rng.random() < c.distractor_event_rate:
                sentences.append(self._event(rng, person))
                continue
            rel = relations[int(rng.integers(len(relations)))]
            cat = RELATIONS[rel]
            sentences.append(
                Clause(
                    subject=(f"name:{person:02d}",),
                    verb=(f"rel:{rel}",),
                    obj=(f"{cat}:{int(rng.integers(_COUNTS[cat])):02d}",),
                    tail=(f"adv:{int(rng.integers(N_ADV)):02d}",) if rng.random() < 0.5 else (),
                )
            )
        return SummItem(sentences=tuple(sentences), summary=summary)

    def render(self, item: SummItem, lang: Language, item_id: str) -> Example:
        sentences = tuple(lang.sentence([clause])[0] for clause in item.sentences)
        return Example(
            item_id=item_id,
            lang=lang.code,
            text=" ".join(sentences),
            sentences=sentences,
            summary=" ".join(sentences[i] for i in item.summary),
        )
