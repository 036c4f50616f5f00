"""Fine-tuning: the standard cross-lingual transfer baseline.

Train the whole model on the pooled source languages, then, for each evaluation episode,
either predict zero-shot (K = 0; the XLM-R recipe of Conneau et al. 2020, ACL, "Unsupervised
Cross-lingual Representation Learning at Scale") or fine-tune the layers above the n-gram
table on the K-shot target support set first (few-shot transfer; Lauscher et al. 2020,
"From Zero to Hero"; discriminative fine-tuning in the spirit of Howard & Ruder 2018, ULMFiT).

Budget:

* source: mini-batches of ``batch_size`` source examples, each example one pass, until
  the cap; the last batch shrinks to what is left, so spent == cap (or the data-free end).
* adapt: ``adapt_steps`` full-batch steps on the support set, ``len(support)`` passes each
  (:func:`baselines.adapt.adapt`); K = 0 spends nothing.

FLOPs per example are measured once on a sample batch (:mod:`bench.backbones.flops`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Mapping, Sequence

from baselines.trained import ModelMethod
from bench.budget import BudgetExhausted
from bench.configcheck import Checked, bounded
from bench.method import MethodRole
from bench.searchspace import Choice, IntRange, LogUniform, Space
from bench.types import KINDS, EvalEpisode, Example, Prediction, SourceData, TaskKind

#: The state key that carries the FLOPs per example through a checkpoint (not a model tensor).
FLOPS_KEY = "xlbench.flops_per_example"

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from bench.backbones.base import UnitModel
    from bench.budget import Meter


@dataclass(frozen=True)
class SourceTraining(Checked):
    """Source-training hyper-parameters, shared by every method built on :func:`source_train`.

    These defaults are what a run uses when no tuned file applies (``xlbench run
    --no-tuned``, or a (task, method) the file does not name) and trial 0 of every
    ``xlbench tune``; the tuned values come from dev languages only (``search_space`` on
    each method, the same number of trials for every method). They were set for the
    default suite's 6000-pass budget and make no claim about any target language."""

    lr: float = bounded(1e-2, gt=0)  # Adam learning rate for source training (all parameters)
    batch_size: int = bounded(32, ge=1, le=1_000_000)  # source examples per optimizer step
    weight_decay: float = bounded(0.0, ge=0)  # AdamW decoupled weight decay on dense parameters (not the sparse n-gram table)


@dataclass(frozen=True)
class FineTuneConfig(SourceTraining):
    """Fine-tuning: source training plus test-time adaptation on the support set."""

    adapt_lr: float = bounded(1e-3, gt=0)  # learning rate of test-time adaptation on the support set
    adapt_steps: int = bounded(20, ge=0, le=1_000_000)  # full-batch steps on the support set (each spends len(support) passes)
    optimizer: Literal["sgd", "adam"] = "adam"  # test-time optimizer


def source_train(
    model: "UnitModel",
    examples: Sequence[Example],
    meter: "Meter",
    rng: "np.random.Generator",
    config: SourceTraining,
) -> float:
    """Adam on all parameters over shuffled source mini-batches until the budget is spent.

    Mutates ``model`` in place and returns its FLOPs per example (0.0 if nothing ran).
    Parameters the model lists in ``sparse_params`` (the n-gram table) get sparse gradients
    and :class:`baselines.optimizers.LazyAdam` (SparseAdam's update on the touched rows:
    ~10x faster steps on a 2^18-row table than dense Adam); the rest fused AdamW.
    """
    import numpy as np

    from baselines.taskbatch import descend, optimizers
    from bench.backbones.flops import flops_per_example

    if not examples or meter.remaining <= 0:
        return 0.0
    per_example = flops_per_example(model, examples[: min(8, len(examples))])
    opts, sparse = optimizers(model, config.lr, weight_decay=config.weight_decay)
    kwargs = {"sparse_grad": True} if sparse else {}
    n = len(examples)
    while True:
        order = rng.permutation(n)
        for lo in range(0, n, config.batch_size):
            take = min(config.batch_size, meter.remaining)
            if take <= 0:
                return per_example
            idx = order[lo : lo + take]
            batch = [examples[int(i)] for i in np.asarray(idx)]
            try:
                meter.step(len(batch), flops=len(batch) * per_example)
            except BudgetExhausted:
                return per_example
            feats = model.featurize(batch, **kwargs)
            loss = model.loss(model.logits(model.params(), feats), model.targets(batch, feats), feats)
            meter.check_loss(loss.detach())  # NaN/inf: raises Diverged (recorded as 'diverged', like the meta-learners)
            descend(opts, loss)


class FineTune(ModelMethod):
    """Source fine-tuning, then zero-shot or few-shot fine-tuning on the support set."""

    Config: ClassVar[type] = FineTuneConfig
    role: ClassVar[MethodRole] = "transfer"  # a standard transfer baseline
    search_space: ClassVar[Mapping[str, Space]] = {
        "lr": LogUniform(1e-3, 3e-2),
        "batch_size": Choice((16, 32, 64)),
        "adapt_lr": LogUniform(1e-4, 1e-2),
        "adapt_steps": IntRange(5, 40, log=True),
    }
    kinds: ClassVar[frozenset[TaskKind]] = frozenset(KINDS)
    zero_shot: ClassVar[bool] = True
    supports_generative: ClassVar[bool] = True  # the loss and predict go through the model

    def __init__(self, config: FineTuneConfig, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)
        self._flops: float | None = 0.0  # FLOPs per example pass, measured in source training

    def train(self, source: SourceData, meter: "Meter") -> None:
        self.model = self.model_factory()
        self._flops = source_train(self.model, source.all(), meter, self.rng, self.config)

    def state(self) -> dict[str, "torch.Tensor"]:
        """The model's tensors plus the FLOPs per example (so a resumed run audits the same FLOPs)."""
        import torch

        return {**super().state(), FLOPS_KEY: torch.tensor(self._flops, dtype=torch.float64)}

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        state = dict(state)
        flops = state.pop(FLOPS_KEY, None)
        super().load_state(state)
        # a checkpoint from before FLOPS_KEY existed: measured on the first support set instead
        self._flops = float(flops) if flops is not None else None

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        from baselines.adapt import adapt
        from baselines.taskbatch import detached, predict_queries

        model = self._trained()
        params = detached(model.params())
        if episode.support:
            params = adapt(
                model, params, episode.support, meter,
                lr=self.config.adapt_lr, max_steps=self.config.adapt_steps,
                optimizer=self.config.optimizer, flops_per_example=self._per_example(model, episode),
            )
        return predict_queries(model, params, episode.query)

    def _per_example(self, model: "UnitModel", episode: EvalEpisode) -> float:
        if self._flops is None:  # only for checkpoints written without FLOPS_KEY
            from baselines.taskbatch import example_flops

            self._flops = example_flops(model, episode.support)
        return self._flops
