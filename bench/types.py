"""Records shared by tasks, methods, the runner and the store.

Everything here is a frozen dataclass or a ``Literal``: plain data, no behaviour beyond
cheap derived views. Importing this module must stay cheap (no torch).

Vocabulary (see docs/architecture.md, "The protocol"):

* an :class:`Example` is one labelled item in one language; ``item_id`` is shared by all
  translations of the same item (parallel corpora), ``group`` by all items of one article;
* a :class:`Query` is an example with its targets removed, which is all a method ever
  sees of a target-language test item (cheating is impossible by construction);
* an :class:`EvalEpisode` is a K-shot support set plus queries for one target language;
* :class:`SourceData` is what source training may read: source-language examples only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from bench.configcheck import Checked, bounded

TaskKind = Literal["classification", "qa", "summarization"]
KINDS: tuple[TaskKind, ...] = ("classification", "qa", "summarization")
Phase = Literal["source", "adapt"]

#: The largest budget cap (labelled-example passes): beyond any real run, within 64 bits.
MAX_PASSES = 10**12

#: The role of an evaluated language: ``dev`` (tuning only) or ``target`` (reported).
EvalRole = Literal["dev", "target"]

#: ``shots`` value meaning "the whole support pool, one episode" (suite: ``shots: [all]``).
ALL_SHOTS = -1

#: The metric each kind's main table ranks by (all metrics are stored in percent, 0-100).
PRIMARY_METRIC: dict[TaskKind, str] = {
    "classification": "accuracy",
    "qa": "f1",
    "summarization": "rougeL",
}


@dataclass(frozen=True)
class Answer:
    """An extractive answer: its text and its character offset in the context."""

    text: str
    start: int


@dataclass(frozen=True)
class Example:
    """One labelled item in one language.

    ``text`` is the sentence (classification), the context (QA) or the document
    (summarization). ``sentences`` splits a summarization document into the units an
    extractive model scores; empty for the other kinds.
    """

    item_id: str
    lang: str
    text: str
    label: int | None = None  # classification: index into TaskInfo.labels
    question: str | None = None  # qa
    answers: tuple[Answer, ...] = ()  # qa: gold spans (first one trains)
    summary: str | None = None  # summarization: reference summary
    sentences: tuple[str, ...] = ()  # summarization: document sentences
    group: str | None = None  # article / document id for leakage-safe splits

    def as_query(self) -> Query:
        """Strip every target: what a method may see of a test item."""
        return Query(
            item_id=self.item_id,
            lang=self.lang,
            text=self.text,
            question=self.question,
            sentences=self.sentences,
        )


@dataclass(frozen=True)
class Query:
    """A test item without its targets (no label, no answer, no summary)."""

    item_id: str
    lang: str
    text: str
    question: str | None = None
    sentences: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageInfo:
    """Metadata printed beside per-language scores."""

    code: str
    script: str = "Latn"
    family: str = "unknown"
    distance: float | None = None  # synthetic tasks: distance from the source languages


@dataclass(frozen=True)
class TaskInfo:
    """What a method may know about a task before seeing any data."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...] = ()  # classification label names (index = label id)
    source_langs: tuple[str, ...] = ()
    target_langs: tuple[str, ...] = ()
    dev_langs: tuple[str, ...] = ()  # tuning / model selection only (never reported)
    languages: Mapping[str, LanguageInfo] = field(default_factory=dict)
    summary_sentences: int = 1  # summarization: k sentences to extract
    max_answer_tokens: int = 30  # qa: longest span the decoder may return

    @property
    def num_labels(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class SourceData:
    """Source-language training data, keyed by language. Never holds a target language."""

    info: TaskInfo
    train: Mapping[str, tuple[Example, ...]]

    def all(self) -> tuple[Example, ...]:
        return tuple(ex for lang in sorted(self.train) for ex in self.train[lang])


@dataclass(frozen=True)
class EvalEpisode:
    """One fixed, shared evaluation episode for a target language.

    The support set is labelled (K per class for classification, K items otherwise);
    queries carry no targets. The runner keeps the targets and scores predictions.
    """

    info: TaskInfo
    lang: str
    shots: int
    index: int
    support: tuple[Example, ...]
    query: tuple[Query, ...]


@dataclass(frozen=True)
class Prediction:
    """One prediction per query: a label (classification) or a text (qa, summarization)."""

    label: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Budget(Checked):
    """The matched budget: identical for every method of a suite.

    The primary cap is labelled-example passes: a forward+backward of one example costs 1,
    inner-loop passes included; a forward-only pass that informs adaptation (e.g. encoding
    a ProtoNet support set) costs 1 too. ``source_examples`` caps source training once per
    (task, method, seed); ``adapt_examples`` caps the adaptation of each evaluation episode.
    """

    source_examples: int = bounded(20_000, ge=0, le=MAX_PASSES)
    adapt_examples: int = bounded(400, ge=0, le=MAX_PASSES)


@dataclass(frozen=True)
class Usage:
    """What a Meter recorded: the audit of one phase."""

    phase: Phase
    examples: int
    steps: int
    flops: float
    seconds: float
    cap: int


@dataclass(frozen=True)
class CellKey:
    """One evaluation cell: a (task, method, seed, budget) evaluated on (lang, shots)."""

    task: str
    method: str
    seed: int
    budget: int  # the source_examples cap, which identifies a budget in a sweep
    lang: str
    shots: int

    @property
    def source_key(self) -> SourceKey:
        return SourceKey(self.task, self.method, self.seed, self.budget)

    def id(self) -> str:
        shots = "all" if self.shots == ALL_SHOTS else str(self.shots)
        return f"{self.source_key.id()}__{self.lang}__k{shots}"


@dataclass(frozen=True)
class SourceKey:
    """One source-training unit: trained once, reused for every target language and K."""

    task: str
    method: str
    seed: int
    budget: int

    def id(self) -> str:
        return f"{self.task}__{self.method}__s{self.seed}__b{self.budget}"
