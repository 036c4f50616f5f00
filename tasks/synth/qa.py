"""SynthQA: extractive question answering over short fact contexts in the synthetic family.

A context is ``min_facts``-``max_facts`` fact sentences, each about a different person:
``<name> <relation> <argument> <adverb>`` with relations such as lives-in (a place),
owns (an object) or works-as (a job) (:data:`~tasks.synth.lexicon.RELATIONS`); an
argument is sometimes preceded by an adjective, so answers span one or two words.
Relations repeat across facts, so the question's person (or argument) must be matched,
not just its relation. The question asks, in the language's own word order and with its
own question words, either for the argument of one fact (``<name> <relation> what/where?``)
or, with probability ``ask_subject_rate``, for its person (``who <relation> <argument>?``).
Arguments are distinct within a context, so the answer is unique. ``Example.answers``
holds that span: its text and character offset in the context, on token boundaries of
:func:`bench.text.tokens`.

Languages, distances and leakage-safe ids: :mod:`tasks.synth.family`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bench.errors import SuiteError
from bench.types import Answer, Example, TaskKind
from tasks.synth.family import SynthConfig, SynthTask
from tasks.synth.language import Clause, Language
from tasks.synth.lexicon import (
    N_ADJ,
    N_ADV,
    N_JOBS,
    N_NAMES,
    N_OBJECTS,
    N_PLACES,
    QUESTION_WORDS,
    RELATIONS,
    WHO,
)

_COUNTS = {"place": N_PLACES, "object": N_OBJECTS, "job": N_JOBS}
_MAX_FACTS = min(N_NAMES, N_JOBS)


@dataclass(frozen=True)
class QAItem:
    """Abstract facts (one clause each) and which fact/slot the question asks about."""

    facts: tuple[Clause, ...]
    ask: int  # index of the asked fact
    ask_subject: bool  # True: "who ...?"; False: the argument


@dataclass(frozen=True)
class SynthQAConfig(SynthConfig):
    """Knobs of :class:`SynthQA` (plus the shared ones of ``SynthConfig``)."""

    min_facts: int = 3  # fewest fact sentences per context
    max_facts: int = 6  # most fact sentences per context
    adj_rate: float = 0.3  # probability that an argument has an adjective (2-word answer)
    ask_subject_rate: float = 0.3  # probability that the question asks "who"
    repeat_relation_rate: float = 0.5  # probability that a fact reuses an earlier relation

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.min_facts <= self.max_facts <= _MAX_FACTS:
            raise SuiteError(
                f"need 1 <= min_facts <= max_facts <= {_MAX_FACTS}, "
                f"got min_facts={self.min_facts}, max_facts={self.max_facts}"
            )
        for name in ("adj_rate", "ask_subject_rate", "repeat_relation_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SuiteError(f"{name} must be in [0, 1], got {getattr(self, name)}")


class SynthQA(SynthTask):
    """Extractive QA ("synth-qa"): the answer is a span of the context."""

    Config: ClassVar[type] = SynthQAConfig
    kind: ClassVar[TaskKind] = "qa"
    name: ClassVar[str] = "synth-qa"
    config: SynthQAConfig

    def info_fields(self) -> dict[str, object]:
        return {"max_answer_tokens": 4}

    def draw(self, rng: np.random.Generator) -> QAItem:
        c = self.config
        n = int(rng.integers(c.min_facts, c.max_facts + 1))
        people = rng.choice(N_NAMES, size=n, replace=False)
        relations = list(RELATIONS)
        used: dict[str, set[int]] = {cat: set() for cat in _COUNTS}
        chosen: list[str] = []
        facts = []
        for i in range(n):
            if chosen and rng.random() < c.repeat_relation_rate:
                rel = chosen[int(rng.integers(len(chosen)))]
            else:
                rel = relations[int(rng.integers(len(relations)))]
            cat = RELATIONS[rel]
            free = [j for j in range(_COUNTS[cat]) if j not in used[cat]]
            arg = free[int(rng.integers(len(free)))]
            used[cat].add(arg)
            chosen.append(rel)
            adj = (f"adj:{int(rng.integers(N_ADJ)):02d}",) if rng.random() < c.adj_rate else ()
            facts.append(
                Clause(
                    subject=(f"name:{int(people[i]):02d}",),
                    verb=(f"rel:{rel}",),
                    obj=(*adj, f"{cat}:{arg:02d}"),
                    tail=(f"adv:{int(rng.integers(N_ADV)):02d}",),
                )
            )
        return QAItem(
            facts=tuple(facts),
            ask=int(rng.integers(n)),
            ask_subject=bool(rng.random() < c.ask_subject_rate),
        )

    def render(self, item: QAItem, lang: Language, item_id: str) -> Example:
        context = ""
        answer: Answer | None = None
        for i, fact in enumerate(item.facts):
            sentence, spans = lang.sentence([fact])
            offset = len(context) + (1 if context else 0)
            context = f"{context} {sentence}" if context else sentence
            if i == item.ask:
                start, end = spans[(0, "S" if item.ask_subject else "O")]
                answer = Answer(text=context[offset + start : offset + end], start=offset + start)
        assert answer is not None  # item.ask < len(item.facts) by construction
        fact = item.facts[item.ask]
        if item.ask_subject:
            q = Clause(subject=(WHO,), verb=fact.verb, obj=fact.obj)
        else:
            cat = fact.obj[-1].split(":")[0]
            q = Clause(subject=fact.subject, verb=fact.verb, obj=(QUESTION_WORDS[cat],))
        question, _ = lang.sentence([q], end="?")
        return Example(
            item_id=item_id, lang=lang.code, text=context, question=question, answers=(answer,)
        )
