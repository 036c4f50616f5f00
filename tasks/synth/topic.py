"""SynthTopic: topic classification of sentences in the synthetic language family.

Each item is a sentence of 1-``max_clauses`` clauses. Every clause has a topic noun as
subject, a topic verb and (usually) a topic noun as object, optionally preceded by shared
adjectives and "the", and optionally followed by a shared adverb; clauses are joined by
"and". Each concept slot is drawn, with probability ``noise``, from another topic, so the
classes overlap and the task is not trivially separable. The sentence renders through each
language's word order, affixes, sound changes and script; the label is the topic.

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
from tasks.synth.lexicon import N_ADJ, N_ADV, TOPIC_NOUNS, TOPIC_VERBS, TOPICS


@dataclass(frozen=True)
class TopicItem:
    """An abstract sentence and its topic (index into the task's labels)."""

    label: int
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class SynthTopicConfig(SynthConfig):
    """Knobs of :class:`SynthTopic` (plus the shared ones of ``SynthConfig``)."""

    n_topics: int = 6  # number of topics (labels), 2..len(TOPICS)
    noise: float = 0.2  # probability that a concept word comes from another topic
    max_clauses: int = 2  # clauses per sentence are drawn uniformly from 1..max_clauses

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 2 <= self.n_topics <= len(TOPICS):
            raise SuiteError(f"n_topics must be in [2, {len(TOPICS)}], got {self.n_topics}")
        if not 0.0 <= self.noise < 1.0:
            raise SuiteError(f"noise must be in [0, 1), got {self.noise}")
        if self.max_clauses < 1:
            raise SuiteError(f"max_clauses must be >= 1, got {self.max_clauses}")


class SynthTopic(SynthTask):
    """Topic classification ("synth-topic"): labels are topic names."""

    Config: ClassVar[type] = SynthTopicConfig
    kind: ClassVar[TaskKind] = "classification"
    name: ClassVar[str] = "synth-topic"
    config: SynthTopicConfig

    def labels(self) -> tuple[str, ...]:
        return TOPICS[: self.config.n_topics]

    def info_fields(self) -> dict[str, object]:
        return {"labels": self.labels()}

    def _concept(self, rng: np.random.Generator, label: int, kind: str) -> str:
        topic = label
        if rng.random() < self.config.noise:
            others = [t for t in range(self.config.n_topics) if t != label]
            topic = others[int(rng.integers(len(others)))]
        count = TOPIC_NOUNS if kind == "n" else TOPIC_VERBS
        return f"topic:{TOPICS[topic]}:{kind}{int(rng.integers(count)):02d}"

    def _noun_phrase(self, rng: np.random.Generator, label: int) -> tuple[str, ...]:
        words: list[str] = []
        if rng.random() < 0.3:
            words.append("func:the")
        if rng.random() < 0.4:
            if rng.random() < 0.2:
                words.append("func:very")
            words.append(f"adj:{int(rng.integers(N_ADJ)):02d}")
        return (*words, self._concept(rng, label, "n"))

    def draw(self, rng: np.random.Generator) -> TopicItem:
        label = int(rng.integers(self.config.n_topics))
        clauses = []
        for _ in range(int(rng.integers(1, self.config.max_clauses + 1))):
            obj = self._noun_phrase(rng, label) if rng.random() < 0.8 else ()
            tail = (f"adv:{int(rng.integers(N_ADV)):02d}",) if rng.random() < 0.5 else ()
            clauses.append(
                Clause(
                    subject=self._noun_phrase(rng, label),
                    verb=(self._concept(rng, label, "v"),),
                    obj=obj,
                    tail=tail,
                )
            )
        return TopicItem(label=label, clauses=tuple(clauses))

    def render(self, item: TopicItem, lang: Language, item_id: str) -> Example:
        text, _ = lang.sentence(item.clauses)
        return Example(item_id=item_id, lang=lang.code, text=text, label=item.label)
