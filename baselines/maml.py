"""MAML and first-order MAML (Finn, Abbeel & Levine, ICML 2017, "Model-Agnostic Meta-Learning
for Fast Adaptation of Deep Networks"; FOMAML is the first-order approximation of §5.2).

Meta-training tasks are source *languages* (:mod:`bench.sampling`): each task is an
episode of ``shots`` support + ``queries`` query examples (per class for classification)
from one language. The inner loop takes ``inner_steps`` full-batch SGD steps with
``inner_lr`` on the support set; the outer loss is the query loss of the adapted weights,
averaged over ``meta_batch`` tasks and minimised with Adam (``meta_lr``).

Implementation (torch.func, no learn2learn/higher):

* the T episodes of a meta-batch are featurised **once**, in a single ``model.featurize``
  call (:func:`baselines.taskbatch.stack_tasks`), and stacked on a task axis;
* the inner loop is a pure function over the adapted-params dict: ``torch.func.grad`` of
  ``model.loss(model.logits(params, feats))``; second-order MAML keeps the inner gradients
  in the graph, FOMAML detaches them;
* the tasks run batched with ``torch.func.vmap`` (``vectorize=True``, the default;
  ``vectorize=False`` runs the same function task by task and gives the same numbers;
  timings: README, "Performance");
* the outer loss backpropagates (ordinary autograd, one backward) into *all* parameters,
  including the n-gram embedding table through the features (sparse gradients and
  ``SparseAdam`` when the backbone lists it in ``sparse_params``; Adam for the rest).

Second-order gradients through ``nn.EmbeddingBag`` are impossible in PyTorch (it has no
double backward), so the inner loop adapts the layers above the pooled n-gram features
(``model.adapted_names()``) while the embedding table learns in the outer loop only — the
features are a function of the embedding computed once per task, so the outer gradient
still reaches it (through the query features and, second-order, through the support
features' effect on the inner updates).

Budget: each meta-step spends Σ_tasks (inner_steps × |support| + |query|) example passes
(real examples: classification episodes of languages with fewer classes are smaller, and
the rows that pad them to the meta-batch's width are not charged), charged with one
``meter.step`` before the step runs. When a full meta-batch no longer fits, the meta-batch
shrinks to the tasks that do (:func:`bench.sampling.meta_batch_plan`); training stops
when not one task fits, so the spent passes end within one meta-step of the cap. FLOPs: the per-example
forward+backward FLOPs (measured once, :mod:`bench.backbones.flops`) × the passes, inner
passes counted twice for second order (backward through the backward).

Prediction: K = 0 → the meta-initialisation's predictions; K > 0 → ``adapt_steps``
full-batch SGD steps with ``inner_lr`` on the support set (:func:`baselines.adapt.adapt`,
``|support|`` passes each, capped by the adaptation budget), then ``model.predict``.
Nothing carries over between episodes: adaptation works on a copy of the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Mapping

from baselines.trained import ModelMethod
from bench.configcheck import Checked, bounded
from bench.method import MethodRole
from bench.sampling import episode_langs, episode_sizes, meta_batch_plan, source_episode
from bench.searchspace import Choice, IntRange, LogUniform, Space
from bench.types import EvalEpisode, Prediction, SourceData, TaskKind

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from baselines.taskbatch import TaskBatch
    from bench.backbones.base import Params, UnitModel
    from bench.budget import Meter


def adapted_size(model: "UnitModel") -> int:
    """Number of parameters an inner loop adapts."""
    return sum(p.numel() for p in model.adapted().values())


@dataclass(frozen=True)
class MAMLConfig(Checked):
    """MAML / FOMAML settings. The defaults are the fallback of a tuned file and trial 0 of
    ``xlbench tune`` (``MAML.search_space`` varies the inner and outer step sizes, inner
    steps, episode sizes and test-time steps on dev languages only; ``first_order`` is the
    method's identity and is never tuned). They were set for the default suite's 6000-pass
    budget and make no claim about any target language. Small episodes; 4 tasks per
    meta-step, so that budget buys ~35 meta-steps on synth-topic and ~215 on QA and
    summarization (fewer classes per episode). The K = 0 score can fall below a
    transfer baseline's: MAML's outer loss is the *post-adaptation* query loss, so the
    initialisation itself is not trained to predict."""

    inner_lr: float = bounded(0.5, gt=0)  # SGD step size of the inner loop (and of test-time adaptation)
    inner_steps: int = bounded(2, ge=0, le=1000)  # inner-loop SGD steps per task during meta-training
    meta_lr: float = bounded(1e-2, gt=0)  # Adam learning rate of the outer (meta) update
    meta_batch: int = bounded(4, ge=1, le=4096)  # tasks (source-language episodes) per meta-step
    shots: int = bounded(2, ge=0, le=100_000)  # support examples per task (per class for classification)
    queries: int = bounded(3, ge=1, le=100_000)  # query examples per task (per class for classification)
    adapt_steps: int = bounded(3, ge=0, le=1_000_000)  # test-time SGD steps on the support set (K > 0)
    first_order: bool = False  # True = FOMAML: drop the second-order terms
    second_order_max_params: int = bounded(30_000_000, ge=0)  # above this many adapted parameters train first order (2nd-order memory grows with inner steps; e.g. XLM-R base); 0 = no limit
    vectorize: bool = True  # vmap the tasks of a meta-batch (False: serial loop, same numbers)
    vmap_max_params: int = bounded(500_000, ge=0)  # ...but serially above this many adapted parameters (vmap is slower there; README, "Performance")


def inner_loop(
    model: "UnitModel",
    params: "Params",
    feats,
    targets,
    *,
    lr: float,
    steps: int,
    first_order: bool,
) -> "Params":
    """``steps`` SGD steps on ``model.adapted_names()``: a pure function of ``params``.

    Second order keeps each inner gradient differentiable (``torch.func.grad`` nests under
    the outer autograd); first order detaches it. Other params pass through unchanged.
    """
    import torch

    from baselines.taskbatch import batch_loss

    names = [n for n in model.adapted_names() if n in params]
    fixed = {k: v for k, v in params.items() if k not in names}
    fast = {k: params[k] for k in names}

    def loss_fn(fast_: "Params") -> "torch.Tensor":
        return batch_loss(model, {**fixed, **fast_}, feats, targets)

    grad_fn = torch.func.grad(loss_fn)
    for _ in range(steps):
        g = grad_fn(fast)
        fast = {k: fast[k] - lr * (g[k].detach() if first_order else g[k]) for k in names}
    return {**fixed, **fast}


def meta_losses(
    model: "UnitModel",
    params: "Params",
    batch: "TaskBatch",
    *,
    lr: float,
    steps: int,
    first_order: bool,
    vectorize: bool = True,
) -> "torch.Tensor":
    """Per-task query losses ``[T]`` after the inner loop on each task's support set."""
    import torch

    from baselines.taskbatch import batch_loss
    from bench.backbones.base import Feats

    def task_loss(p: "Params", data: tuple) -> "torch.Tensor":
        sx, sm, se, st, qx, qm, qe, qt = data
        fast = inner_loop(
            model, p, Feats(sx, sm, se), st, lr=lr, steps=steps, first_order=first_order
        )
        return batch_loss(model, fast, Feats(qx, qm, qe), qt)

    s, q = batch.support, batch.query
    data = (s.x, s.mask, s.extra, batch.support_t, q.x, q.mask, q.extra, batch.query_t)
    if vectorize:
        return torch.func.vmap(task_loss, in_dims=(None, 0))(params, data)
    pick = lambda i: torch.utils._pytree.tree_map(lambda t: t[i], data)  # noqa: E731
    return torch.stack([task_loss(params, pick(i)) for i in range(batch.tasks)])


class MAML(ModelMethod):
    """MAML / FOMAML over source languages; see the module docstring."""

    Config: ClassVar[type] = MAMLConfig
    role: ClassVar[MethodRole] = "meta"  # a method under test (meta-learner)
    search_space: ClassVar[Mapping[str, Space]] = {  # first_order is the method's identity, not tuned
        "inner_lr": LogUniform(0.05, 1.0),
        "inner_steps": IntRange(1, 3),
        "meta_lr": LogUniform(1e-3, 3e-2),
        "meta_batch": Choice((2, 4, 8)),
        "shots": IntRange(1, 4),
        "queries": IntRange(2, 5),
        "adapt_steps": IntRange(1, 10),
    }
    kinds: ClassVar[frozenset[TaskKind]] = frozenset({"classification", "qa", "summarization"})
    zero_shot: ClassVar[bool] = True
    supports_generative: ClassVar[bool] = True  # inner loops go through model.loss / model.predict

    def __init__(self, config, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)
        self._fpe: float | None = None  # FLOPs per example pass (an audit number, not state)

    def train(self, source: SourceData, meter: "Meter") -> None:

        from baselines.taskbatch import descend, example_flops, optimizers, stack_tasks

        c = self.config  # its ranges hold: MAMLConfig checks them when built (bench.configcheck)
        model = self.model_factory()
        langs = episode_langs(source, c.shots, c.queries)
        sizes = {lang: episode_sizes(source, lang, c.shots, c.queries) for lang in langs}
        cost = {lang: c.inner_steps * s + q for lang, (s, q) in sizes.items()}  # passes per task
        opts, sparse = optimizers(model, c.meta_lr)
        fpe = 0.0  # FLOPs per example pass, measured on the first episode
        first_order = self.trains_first_order(model)
        vectorize = self.vectorizes(model)
        order = 1 if first_order else 2  # 2nd order: inner passes count ~2x
        while True:
            chosen = meta_batch_plan(langs, cost, c.meta_batch, meter.remaining, self.rng)
            if not chosen:
                break
            episodes = [source_episode(source, lang, c.shots, c.queries, self.rng) for lang in chosen]
            fpe = fpe or example_flops(model, episodes[0][1])
            passes = sum(c.inner_steps * len(s) * order + len(q) for s, q in episodes)
            meter.step(sum(cost[lang] for lang in chosen), flops=fpe * passes)
            batch = stack_tasks(model, episodes, sparse_grad=sparse)
            loss = meta_losses(
                model, model.params(), batch, lr=c.inner_lr, steps=c.inner_steps,
                first_order=first_order, vectorize=vectorize,
            ).mean()
            meter.check_loss(loss.detach())  # NaN/inf: raises Diverged (recorded as 'diverged')
            descend(opts, loss)
        self.model = model

    def trains_first_order(self, model: "UnitModel") -> bool:
        """First order if asked, or if the adapted parameters exceed ``second_order_max_params``."""
        c = self.config
        limit = c.second_order_max_params
        return c.first_order or (limit > 0 and adapted_size(model) > limit)

    def vectorizes(self, model: "UnitModel") -> bool:
        """vmap the meta-batch if asked and the adapted parameters are at most ``vmap_max_params``."""
        return self.config.vectorize and adapted_size(model) <= self.config.vmap_max_params

    def _flops(self, examples) -> float:
        """FLOPs per example pass (measured once per method instance: a pure audit number)."""
        from baselines.taskbatch import example_flops

        if self._fpe is None:
            self._fpe = example_flops(self._trained(), examples)
        return self._fpe

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        from baselines.adapt import adapt
        from baselines.taskbatch import detached, predict_queries

        model = self._trained()
        params = detached(model.params())
        if episode.support and self.config.adapt_steps > 0:
            params = adapt(
                model, params, episode.support, meter,
                lr=self.config.inner_lr, max_steps=self.config.adapt_steps, optimizer="sgd",
                flops_per_example=self._flops(episode.support),
            )
        return predict_queries(model, params, episode.query)
