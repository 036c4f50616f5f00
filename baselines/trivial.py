"""Trivial calibration baselines: the floor every learned method must clear.

They train nothing and spend nothing from the budget (no meter step is ever taken), so a
table that shows them beside the learned methods says how much of a score is task
structure rather than learning:

* :class:`Majority` (classification): the most frequent class of what it may see
  (the source prior at K = 0, the support set at K > 0, ties broken by the prior);
* :class:`LeadK` (summarization): the first k sentences, the LEAD baseline of news
  summarization (e.g. Nallapati et al., 2017; Narayan et al., 2018);
* :class:`QuestionOverlap` (extractive QA): the context sentence sharing most question
  tokens, the word-overlap baseline family of Rajpurkar et al. (2016, SQuAD, sliding window)
  and Richardson et al. (2013, MCTest).

Registry names: ``majority``, ``lead``, ``overlap``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from bench.method import Method, MethodRole
from bench.metrics import rouge_tokens
from bench.text import split_sentences
from bench.types import EvalEpisode, Prediction, SourceData, TaskKind

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.budget import Meter


class _Untrained(Method):
    """Shared plumbing: no training, no state, nothing spent."""

    def train(self, source: SourceData, meter: "Meter") -> None:
        """Nothing to learn from source languages; spends nothing."""

    def state(self) -> dict[str, "torch.Tensor"]:
        return {}

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        if state:
            raise ValueError(
                f"{type(self).__name__} has no state, but got keys {sorted(state)}; "
                "the checkpoint belongs to another method"
            )


class Majority(_Untrained):
    """Predict the most frequent class of the data the method may see.

    At K = 0 that is the source-language label distribution (the prior counted in
    :meth:`train`); at K > 0 the support set, with ties broken by the source prior, and
    ties there by a draw from the method's seeded generator — never by label id, so the
    floor does not depend on the order of the label list (a balanced support set ties
    every class, and "lowest id wins" made the floor a label-order artefact). Spends
    nothing from the budget: counting labels is not a forward pass.
    """

    @dataclass(frozen=True)
    class Config:
        """No options."""

    role: ClassVar[MethodRole] = "trivial"  # a calibration floor
    kinds: ClassVar[frozenset[TaskKind]] = frozenset({"classification"})
    zero_shot: ClassVar[bool] = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.prior: tuple[float, ...] = ()  # source label counts, set by train/load_state
        self._ties: tuple[int, ...] = ()  # a seeded label order for exact ties, drawn once

    def train(self, source: SourceData, meter: "Meter") -> None:
        """Count the source labels (the prior); spends nothing."""
        counts = Counter(ex.label for ex in source.all() if ex.label is not None)
        self.prior = tuple(float(counts.get(i, 0)) for i in range(self.info.num_labels))

    def state(self) -> dict[str, "torch.Tensor"]:
        import torch

        return {"prior": torch.tensor(self.prior, dtype=torch.float64)} if self.prior else {}

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        if set(state) - {"prior"}:
            raise ValueError(
                f"Majority has no state but the source prior, got keys {sorted(state)}; "
                "the checkpoint belongs to another method"
            )
        self.prior = tuple(float(x) for x in state["prior"].tolist()) if "prior" in state else ()

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        labels = [ex.label for ex in episode.support]
        if any(lab is None for lab in labels):
            raise ValueError("Majority got a support example without a label")
        if not labels and not self.prior:
            raise ValueError(
                f"Majority has neither a support set nor a source prior for episode "
                f"{episode.index} of {episode.lang} (shots={episode.shots}); call train() "
                "on the source data first, or use shots >= 1"
            )
        counts = Counter(cast("list[int]", labels))  # no None: checked above
        n = max(self.info.num_labels, len(self.prior), max(counts, default=-1) + 1)
        prior = list(self.prior) + [0.0] * (n - len(self.prior))
        if len(self._ties) != n:  # drawn once, so episodes stay independent of their order
            self._ties = tuple(int(x) for x in self.rng.permutation(n))
        # lexicographic: support count first, then the source prior, then the seeded order
        label = max(range(n), key=lambda c: (counts.get(c, 0), prior[c], -self._ties[c]))
        return [Prediction(label=label) for _ in episode.query]


class LeadK(_Untrained):
    """Extract the first ``info.summary_sentences`` sentences of each document.

    Uses ``query.sentences`` (falling back to :func:`bench.text.split_sentences` of the
    text when a task gives none), joined with a space. Spends nothing from the budget.
    """

    @dataclass(frozen=True)
    class Config:
        """No options."""

    role: ClassVar[MethodRole] = "trivial"  # a calibration floor
    kinds: ClassVar[frozenset[TaskKind]] = frozenset({"summarization"})
    zero_shot: ClassVar[bool] = True

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        k = episode.info.summary_sentences
        out = []
        for q in episode.query:
            sentences = q.sentences or tuple(split_sentences(q.text))
            out.append(Prediction(text=" ".join(sentences[:k])))
        return out


class QuestionOverlap(_Untrained):
    """Answer with the context sentence that shares the most question tokens.

    Tokens are :func:`bench.metrics.rouge_tokens` (lower-cased words of every script,
    characters of unspaced scripts); overlap counts distinct shared tokens; ties go to the
    earlier sentence. The answer is the sentence text as it stands in the context. Spends
    nothing from the budget.
    """

    @dataclass(frozen=True)
    class Config:
        """No options."""

    role: ClassVar[MethodRole] = "trivial"  # a calibration floor
    kinds: ClassVar[frozenset[TaskKind]] = frozenset({"qa"})
    zero_shot: ClassVar[bool] = True

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        out = []
        for q in episode.query:
            if q.question is None:
                raise ValueError(f"QA query {q.item_id!r} has no question")
            asked = set(rouge_tokens(q.question))
            best, best_overlap = "", -1
            for sentence in split_sentences(q.text):
                overlap = len(asked & set(rouge_tokens(sentence)))
                if overlap > best_overlap:
                    best, best_overlap = sentence, overlap
            out.append(Prediction(text=best))
        return out
