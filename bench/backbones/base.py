"""The backbone contract: every task kind reduces to *unit classification*.

A :class:`UnitModel` maps items to units and scores each unit (docs/architecture.md, "Methods: the contract"):

=============== ==================== ======= =========================================
kind            unit                 heads   classes per head
=============== ==================== ======= =========================================
classification  the whole example    1       ``num_labels``
qa              each context token   2       2 (start / not, end / not)
summarization   each document sentence 1     2 (in summary / not)
=============== ==================== ======= =========================================

The forward pass is split in two so meta-learners can run a pure inner loop:

* :meth:`UnitModel.featurize` — items → :class:`Feats` (embedding lookups, tokenisation).
  Differentiable with respect to the embedding parameters, computed once per episode.
* :meth:`UnitModel.logits` — ``(params, feats)`` → one ``[B, U, C]`` tensor per head, a
  pure function of the ``params`` dict (``torch.func.functional_call`` friendly). The names
  in :meth:`UnitModel.adapted_names` are what an inner loop adapts; the rest (the n-gram
  embedding table: PyTorch has no double-backward for EmbeddingBag) learns in the outer loop.

``unit_embeddings`` exposes the trunk output that ProtoNets and logistic regression use
as unit features, and ``decode`` turns per-head logits back into predictions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from bench.types import Example, Prediction, Query, TaskInfo

Item = Example | Query
Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Feats:
    """Featurised items: ``x`` is ``[B, U, D]`` unit inputs, ``mask`` ``[B, U]`` valid units.

    ``extra`` carries kind-specific tensors (e.g. the pooled question for QA); ``spans``
    keeps what decoding needs (token character offsets, sentence lists), never a target.
    """

    x: torch.Tensor
    mask: torch.Tensor
    extra: tuple[torch.Tensor, ...] = ()
    spans: tuple = ()


class UnitModel(nn.Module, ABC):
    """A backbone plus unit heads for one task. Built by a factory with a fixed seed."""

    info: TaskInfo

    @abstractmethod
    def featurize(self, items: Sequence[Item]) -> Feats:
        """Items → unit inputs. Never reads a target."""

    @abstractmethod
    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        """Unit embeddings ``[B, U, H]`` as a pure function of ``params``."""

    @abstractmethod
    def heads(self, params: Params, h: torch.Tensor) -> list[torch.Tensor]:
        """Per-head logits ``[B, U, C]`` from unit embeddings."""

    def logits(self, params: Params, feats: Feats) -> list[torch.Tensor]:
        return self.heads(params, self.trunk(params, feats))

    @abstractmethod
    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        """Per-head unit targets ``[B, U]`` (long; -100 where a unit is padding)."""

    @abstractmethod
    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        """Mean loss over items (QA: softmax over tokens; others: cross-entropy per unit)."""

    @abstractmethod
    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        """Per-head logits → one prediction per item (QA: best valid span)."""

    def predict(self, params: Params, feats: Feats) -> list[Prediction]:
        """Predictions of the model with ``params`` (seq2seq backbones override: generate)."""
        return self.decode(self.logits(params, feats), feats)

    @abstractmethod
    def adapted_names(self) -> tuple[str, ...]:
        """Parameter names an inner loop adapts (everything above the embedding table)."""

    def params(self) -> Params:
        """All parameters by name (the dict functional calls take)."""
        return dict(self.named_parameters())

    def adapted(self) -> Params:
        names = set(self.adapted_names())
        return {k: v for k, v in self.named_parameters() if k in names}
