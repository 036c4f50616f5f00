"""Reptile (Nichol, Achiam & Schulman 2018, "On First-Order Meta-Learning Algorithms").

Meta-training tasks are source *languages*: per task, ``inner_steps`` SGD (or Adam) steps on
mini-batches of ``batch`` examples of one language, then the initialisation moves toward
the adapted weights: ``θ ← θ + ε · mean_tasks(θ̃_task − θ)`` (the batched version of §5,
``meta_batch`` tasks per meta-step), with ε linearly annealed to 0 over the budget when
``anneal`` is set, as in the paper's experiments. The default outer step
(``meta_optimizer="adam"``) follows the paper's §3 remark instead: ``−mean_tasks(θ̃ − θ)``
is a pseudo-gradient fed to Adam (``meta_lr``, annealed the same way; SparseAdam for the
n-gram table), so the step size does not depend on how small the features' gradients are.

Implementation (torch.func): the ``meta_batch × inner_steps × batch`` examples of a meta-step
are featurised in one ``model.featurize`` call; the inner loop is a pure function over the
adapted-params dict (``torch.func.grad``), and the tasks run batched with
``torch.func.vmap`` (``vectorize=True``; the serial loop gives the same numbers; timings:
README, "Performance").

The n-gram embedding table: the features are computed once per task at the initial
embedding, so inside the inner loop only ``model.adapted_names()`` move, exactly like
test-time adaptation. The embedding's own Reptile difference is its SGD trajectory with
the features held at their initial value: ``−embed_lr · Σ_steps ∂L_step/∂E`` (each
step's gradient reaches the table through that step's features with one backward), and
it moves by ε times the task mean of that, like every other parameter (or that mean is its
Adam pseudo-gradient). With ``meta_optimizer="sgd"``, one task, ε = 1 and one inner step,
a meta-step is exactly one plain SGD step on all parameters. Only floating-point feature
tensors are differentiated: hf backbones carry integer token ids in ``Feats.x``/``extra``
and adapt their embeddings in the inner loop (``adapted_names``) instead.

Budget: each task spends ``inner_steps × batch`` example passes; a meta-step charges
``meta_batch`` tasks with one ``meter.step`` before running, shrinking the meta-batch to
the tasks that still fit and stopping when none does (so the spent passes end within one
meta-step of the cap). Prediction is MAML's: K = 0 → the meta-initialisation; K > 0 →
``adapt_steps`` full-batch steps of ``inner_optimizer`` with ``inner_lr`` on the support
set (``|support|`` passes each), on a copy of the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Mapping

from baselines.maml import MAML
from bench.configcheck import Checked, bounded
from bench.method import MethodRole
from bench.sampling import language_batch, meta_batch_langs
from bench.searchspace import Choice, IntRange, LogUniform, Space
from bench.types import EvalEpisode, Prediction, SourceData

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from baselines.taskbatch import TaskBatch
    from bench.backbones.base import Params, UnitModel
    from bench.budget import Meter


@dataclass(frozen=True)
class ReptileConfig(Checked):
    """Reptile settings. The defaults are the fallback of a tuned file and trial 0 of
    ``xlbench tune`` (``Reptile.search_space``, scored on dev languages only); they were
    set for the default suite's 6000-pass budget and make no claim about any target
    language. The outer step is Adam on the Reptile direction (paper §3, "treat (θ − W)
    as a gradient and plug it into ... Adam"), which makes the step size independent of the
    tiny mean-pooled n-gram features. The budget buys ``source_examples / (inner_steps ·
    batch · meta_batch)`` outer steps (5 × 5 × 1 = the paper's serial Algorithm 1: 240
    outer steps at 6000 passes)."""

    inner_lr: float = bounded(0.5, gt=0)  # inner-loop step size (and test-time adaptation step size)
    inner_steps: int = bounded(5, ge=1, le=1000)  # inner-loop steps per task (k in the paper)
    batch: int = bounded(5, ge=1, le=100_000)  # examples per inner step, all from the task's language
    inner_optimizer: Literal["sgd", "adam"] = "sgd"  # inner loop (and test-time) optimizer
    embed_lr: float | None = bounded(1.0, gt=0)  # SGD step size of the embedding's inner trajectory (None: inner_lr)
    epsilon: float = bounded(1.0, ge=0)  # meta step size ε (outer interpolation toward the adapted weights)
    anneal: bool = True  # anneal ε (or meta_lr) linearly to 0 over the source budget (as in the paper)
    meta_optimizer: Literal["sgd", "adam"] = "adam"  # outer update: "sgd" = θ += ε·mean Δ; "adam" = Adam on −mean Δ (paper §3)
    meta_lr: float = bounded(3e-2, gt=0)  # Adam learning rate of the outer update (meta_optimizer "adam" only)
    meta_batch: int = bounded(1, ge=1, le=4096)  # tasks (languages) per meta-step (1: the paper's serial Algorithm 1)
    adapt_steps: int = bounded(10, ge=0, le=1_000_000)  # test-time steps on the support set (K > 0)
    vectorize: bool = True  # vmap the tasks of a meta-batch (False: serial loop, same numbers)


_BETAS, _EPS = (0.9, 0.999), 1e-8  # Adam constants (torch defaults, as test-time adapt uses)


def reptile_deltas(
    model: "UnitModel",
    params: "Params",
    batch: "TaskBatch",
    *,
    steps: int,
    lr: float,
    optimizer: Literal["sgd", "adam"] = "sgd",
    vectorize: bool = True,
) -> tuple["Params", "torch.Tensor", tuple["torch.Tensor", ...], "torch.Tensor"]:
    """Per-task inner loops on ``batch.support`` split into ``steps`` equal mini-batches.

    Returns ``(deltas, gx, gextra, losses)``: ``deltas[name]`` is ``[T, ...]`` adapted −
    initial for each adapted parameter; ``gx`` / ``gextra`` are the summed per-step loss
    gradients with respect to the (initial) support features ``x`` / ``extra`` — what the
    embedding's trajectory is made of; ``losses`` ``[T]`` the mean inner-step loss per
    task. A pure function: nothing is modified.
    """
    import torch

    from baselines.taskbatch import batch_loss
    from bench.backbones.base import Feats

    names = [n for n in model.adapted_names() if n in params]
    init = {n: params[n].detach() for n in names}
    fixed = {k: v.detach() for k, v in params.items() if k not in names}
    n_items = batch.support.x.shape[1]
    if steps < 1 or n_items % steps:
        raise ValueError(f"{n_items} support items do not split into {steps} inner steps")
    size = n_items // steps

    # differentiate only floating feature tensors: hf backbones hold integer token ids in
    # x / extra (their embeddings are adapted parameters, so no feature gradient is needed)
    n_parts = 1 + len(batch.support.extra)
    parts = (batch.support.x, *batch.support.extra)
    diff = tuple(i for i in range(n_parts) if parts[i].is_floating_point())

    def step_loss(fast: "Params", dparts: tuple, iparts: tuple, mask, targets) -> "torch.Tensor":
        it_d, it_i = iter(dparts), iter(iparts)
        x, *extra = [next(it_d) if i in diff else next(it_i) for i in range(n_parts)]
        return batch_loss(model, {**fixed, **fast}, Feats(x, mask, tuple(extra)), targets)

    grad_and_loss = torch.func.grad_and_value(step_loss, argnums=(0, 1))

    def grad_fn(fast: "Params", x, extra: tuple, mask, targets) -> tuple:
        ps = (x, *extra)
        dparts = tuple(ps[i] for i in diff)
        iparts = tuple(p for i, p in enumerate(ps) if i not in diff)
        (g, gd), loss = grad_and_loss(fast, dparts, iparts, mask, targets)
        it = iter(gd)  # a non-floating part gets a zero "gradient" (it never requires grad)
        gp = [next(it) if i in diff else torch.zeros(p.shape) for i, p in enumerate(ps)]
        return (g, gp[0], tuple(gp[1:])), loss

    def task_fn(data: tuple) -> tuple:
        x, mask, extra, targets = data
        fast = dict(init)
        m = {n: torch.zeros_like(v) for n, v in init.items()}
        v2 = {n: torch.zeros_like(v) for n, v in init.items()}
        gxs, ges, losses = [], [], []
        for i in range(steps):
            sl = slice(i * size, (i + 1) * size)
            (g, gx, ge), loss = grad_fn(fast, x[sl], tuple(e[sl] for e in extra), mask[sl], [t[sl] for t in targets])
            losses.append(loss)
            gxs.append(gx)
            ges.append(ge)
            if optimizer == "sgd":
                fast = {n: fast[n] - lr * g[n] for n in names}
                continue
            b1, b2 = _BETAS
            m = {n: b1 * m[n] + (1 - b1) * g[n] for n in names}
            v2 = {n: b2 * v2[n] + (1 - b2) * g[n] * g[n] for n in names}
            c1, c2 = 1 - b1 ** (i + 1), 1 - b2 ** (i + 1)
            fast = {n: fast[n] - lr * (m[n] / c1) / ((v2[n] / c2).sqrt() + _EPS) for n in names}
        delta = {n: fast[n] - init[n] for n in names}
        gextra = tuple(torch.cat([ge[j] for ge in ges]) for j in range(len(extra)))
        return delta, torch.cat(gxs), gextra, torch.stack(losses).mean()

    s = batch.support
    data = (s.x.detach(), s.mask, tuple(e.detach() for e in s.extra), list(batch.support_t))
    if vectorize:
        return torch.func.vmap(task_fn)(data)
    outs = [task_fn(torch.utils._pytree.tree_map(lambda t: t[i], data)) for i in range(batch.tasks)]  # noqa: B023 (used at once)
    return torch.utils._pytree.tree_map(lambda *xs: torch.stack(xs), *outs)


class Reptile(MAML):
    """Reptile over source languages; see the module docstring. Predicts like MAML."""

    Config: ClassVar[type] = ReptileConfig
    role: ClassVar[MethodRole] = "meta"  # a method under test (meta-learner)
    search_space: ClassVar[Mapping[str, Space]] = {
        "inner_lr": LogUniform(0.1, 1.0),
        "inner_steps": IntRange(2, 8),
        "batch": IntRange(2, 10),
        "meta_lr": LogUniform(3e-3, 1e-1),
        "meta_batch": Choice((1, 2)),
        "adapt_steps": IntRange(3, 20),
    }

    def _check(self) -> None:
        c = self.config
        if c.inner_steps < 1 or c.batch < 1 or c.meta_batch < 1 or c.epsilon < 0:
            raise ValueError(
                f"Reptile needs inner_steps >= 1, batch >= 1, meta_batch >= 1 and epsilon >= 0; got {c}"
            )
        if c.meta_optimizer not in ("sgd", "adam") or c.meta_lr <= 0:
            raise ValueError(
                f"Reptile meta_optimizer must be 'sgd' or 'adam' and meta_lr > 0; got {c.meta_optimizer!r}, {c.meta_lr}"
            )
        if c.inner_optimizer not in ("sgd", "adam"):
            raise ValueError(f"Reptile inner_optimizer must be 'sgd' or 'adam', got {c.inner_optimizer!r}")

    def train(self, source: SourceData, meter: "Meter") -> None:
        import torch

        from baselines.taskbatch import example_flops, optimizers, stack_tasks

        c = self.config  # its ranges and choices hold: ReptileConfig checks them when built
        model = self.model_factory()
        langs = tuple(lang for lang in sorted(source.train) if source.train[lang])
        if not langs:
            raise ValueError(f"Reptile: task {source.info.name!r} has no source examples")
        per_task = c.inner_steps * c.batch
        total_steps = max(1, meter.remaining // (per_task * c.meta_batch))
        sparse = bool(getattr(model, "sparse_params", ()))
        embed_lr = c.inner_lr if c.embed_lr is None else c.embed_lr
        names = set(model.adapted_names())
        opts = optimizers(model, c.meta_lr)[0] if c.meta_optimizer == "adam" else []
        fpe, step = 0.0, 0
        while True:
            tasks = min(c.meta_batch, meter.remaining // per_task)
            if tasks < 1:
                break
            episodes = [
                (language_batch(source, lang, per_task, self.rng), ())
                for lang in meta_batch_langs(langs, tasks, self.rng)
            ]
            fpe = fpe or example_flops(model, episodes[0][0])
            meter.step(tasks * per_task, flops=fpe * tasks * per_task)
            batch = stack_tasks(model, episodes, sparse_grad=sparse)
            deltas, gx, gextra, losses = reptile_deltas(
                model, model.params(), batch, steps=c.inner_steps, lr=c.inner_lr,
                optimizer=c.inner_optimizer, vectorize=c.vectorize,
            )
            meter.check_loss(losses.detach().mean())  # NaN/inf: raises Diverged
            frac = max(0.0, 1.0 - step / total_steps) if c.anneal else 1.0
            # the embedding: backpropagate the mean (over tasks) summed feature gradients
            outs = [(t, g) for t, g in zip((batch.support.x, *batch.support.extra), (gx, *gextra)) if t.requires_grad]
            model.zero_grad(set_to_none=True)
            if outs:
                torch.autograd.backward([t for t, _ in outs], [g / tasks for _, g in outs])
            if opts:  # Adam on the pseudo-gradient −mean Δ (embedding: its SGD trajectory)
                with torch.no_grad():
                    for name, p in model.named_parameters():
                        if name in names:
                            p.grad = -deltas[name].mean(0)
                        elif p.grad is not None:
                            p.grad = p.grad * embed_lr
                for opt in opts:
                    for group in opt.param_groups:
                        group["lr"] = c.meta_lr * frac
                    opt.step()
            else:
                eps = c.epsilon * frac
                with torch.no_grad():
                    for name, p in model.named_parameters():
                        if name in names:
                            p.add_(deltas[name].mean(0), alpha=eps)
                        elif p.grad is not None:
                            p.add_(p.grad, alpha=-eps * embed_lr)
            model.zero_grad(set_to_none=True)
            step += 1
        self.model = model

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        from baselines.adapt import adapt
        from baselines.taskbatch import detached, predict_queries

        model = self._trained()
        params = detached(model.params())
        if episode.support and self.config.adapt_steps > 0:
            params = adapt(
                model, params, episode.support, meter,
                lr=self.config.inner_lr, max_steps=self.config.adapt_steps,
                optimizer=self.config.inner_optimizer, flops_per_example=self._flops(episode.support),
            )
        return predict_queries(model, params, episode.query)
