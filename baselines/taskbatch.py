"""A meta-batch of equal-size episodes, featurised once and stacked for ``torch.func.vmap``.

All support and query items of the T tasks go through a single ``model.featurize`` call
(one EmbeddingBag pass; variable-length units are padded by the model to one width with
``mask`` False), then every tensor is reshaped to a leading task axis: support ``[T, S, ...]``
and query ``[T, Q, ...]``. ``Feats.spans`` is dropped in the stacked view (training never
decodes). Also: the per-task loss closures the meta-learners vmap, the FLOPs estimate they
report, and chunked prediction on queries.

Episodes of unequal size (classification languages with different class sets, see
:mod:`bench.sampling`) are padded to the meta-batch's largest support and query by
repeating one of the episode's own rows with every target -100: the loss ignores those rows
and ProtoNet's prototypes skip them, so each task's loss and gradient are those of its
episode alone. Only the real items are featurised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import torch

from bench.backbones.base import Feats, Params, UnitModel
from bench.types import Example, Prediction, Query

if TYPE_CHECKING:  # pragma: no cover
    from bench.sampling import Episode

#: Queries predicted per forward pass at test time (bounds memory, not results).
PREDICT_CHUNK = 256


@dataclass(frozen=True)
class TaskBatch:
    """Stacked tensors of T episodes; ``*_t`` are per-head targets ``[T, n, U]``."""

    support: Feats
    query: Feats
    support_t: tuple[torch.Tensor, ...]
    query_t: tuple[torch.Tensor, ...]

    @property
    def tasks(self) -> int:
        return self.query.x.shape[0]


def _split(t: torch.Tensor, tasks: int, shots: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = t.reshape(tasks, -1, *t.shape[1:])
    return t[:, :shots], t[:, shots:]


def pad_rows(episodes: Sequence["Episode"]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Row gather index ``[T * (S + Q)]`` and padding flags (same shape) that lay T episodes
    of unequal size out as T blocks of ``S`` support + ``Q`` query rows (the largest sizes);
    ``None`` when all episodes already have one size. A padding row repeats the episode's
    first row (support, or query when the support is empty)."""
    shots = max(len(s) for s, _ in episodes)
    queries = max(len(q) for _, q in episodes)
    if all(len(s) == shots and len(q) == queries for s, q in episodes):
        return None
    idx: list[int] = []
    pad: list[bool] = []
    start = 0
    for s, q in episodes:
        if not s and not q:
            raise ValueError("stack_tasks cannot pad an empty episode (no support and no query)")
        for real, width, first in ((len(s), shots, start), (len(q), queries, start + len(s))):
            idx += list(range(first, first + real)) + [start] * (width - real)
            pad += [False] * real + [True] * (width - real)
        start += len(s) + len(q)
    return torch.tensor(idx, dtype=torch.long), torch.tensor(pad, dtype=torch.bool)


def stack_tasks(model: UnitModel, episodes: Sequence["Episode"], *, sparse_grad: bool = False) -> TaskBatch:
    """Featurise T episodes together and stack them on a task axis.

    Unequal episodes are padded (rows repeated, targets -100; see :func:`pad_rows`).
    ``sparse_grad`` asks a backbone that supports it (``model.sparse_params``) for sparse
    embedding gradients (see :func:`optimizers`).
    """
    if not episodes:
        raise ValueError("stack_tasks needs at least one episode")
    items = [ex for s, q in episodes for ex in (*s, *q)]
    # backbones that list sparse_params (ngram) take sparse_grad; UnitModel does not declare it yet
    feats = model.featurize(items, sparse_grad=True) if sparse_grad else model.featurize(items)  # type: ignore[call-arg]
    targets = model.targets(items, feats)
    n, tasks = len(items), len(episodes)
    for i, e in enumerate(feats.extra):
        if e.shape[0] != n:
            raise ValueError(
                f"{type(model).__name__}.featurize returned extra[{i}] with leading size "
                f"{e.shape[0]} for {n} items; meta-batching needs item-major extras"
            )
    shots = max(len(s) for s, _ in episodes)
    layout = pad_rows(episodes)
    if layout is not None:
        idx, pad = layout
        feats = Feats(feats.x[idx], feats.mask[idx], tuple(e[idx] for e in feats.extra))
        targets = [
            t[idx].masked_fill(pad.view(-1, *([1] * (t.dim() - 1))), -100) for t in targets
        ]
    sx, qx = _split(feats.x, tasks, shots)
    sm, qm = _split(feats.mask, tasks, shots)
    extras = [_split(e, tasks, shots) for e in feats.extra]
    tgts = [_split(t, tasks, shots) for t in targets]
    return TaskBatch(
        support=Feats(sx, sm, tuple(e[0] for e in extras)),
        query=Feats(qx, qm, tuple(e[1] for e in extras)),
        support_t=tuple(t[0] for t in tgts),
        query_t=tuple(t[1] for t in tgts),
    )


def task_slice(batch: TaskBatch, i: int) -> TaskBatch:
    """Task ``i`` of a batch, without the task axis (what vmap hands the per-task function)."""
    f = lambda F_: Feats(F_.x[i], F_.mask[i], tuple(e[i] for e in F_.extra))  # noqa: E731
    return TaskBatch(
        f(batch.support), f(batch.query),
        tuple(t[i] for t in batch.support_t), tuple(t[i] for t in batch.query_t),
    )


def batch_loss(model: UnitModel, params: Params, feats: Feats, targets: Sequence[torch.Tensor]) -> torch.Tensor:
    """``model.loss`` of ``params`` on one task's (unstacked) feats: a pure function."""
    return model.loss(model.logits(params, feats), list(targets), feats)


def optimizers(model: UnitModel, lr: float, weight_decay: float | None = None
               ) -> tuple[list["torch.optim.Optimizer"], bool]:
    """Adam over the model's parameters, and whether to featurise with sparse gradients.
    With ``weight_decay`` (source training), the dense parameters get AdamW instead
    (decoupled decay, Loshchilov & Hutter 2019); the sparse table never decays.

    Parameters the model lists in ``sparse_params`` (the n-gram table) get sparse gradients
    and :class:`baselines.optimizers.LazyAdam` (SparseAdam's lazy update: only the rows an
    episode touched move); the rest fused Adam (:func:`baselines.optimizers.dense_adam`).
    """
    from baselines.optimizers import LazyAdam, dense_adam

    sparse_names = set(getattr(model, "sparse_params", ()))
    named = dict(model.named_parameters())
    dense = [p for n, p in named.items() if n not in sparse_names]
    opts: list[torch.optim.Optimizer] = [
        dense_adam(dense, lr) if weight_decay is None
        else dense_adam(dense, lr, weight_decay=weight_decay, decoupled=True)
    ]
    sparse = [p for n, p in named.items() if n in sparse_names]
    if sparse:
        opts.append(LazyAdam(sparse, lr=lr))
    return opts, bool(sparse)


def descend(opts: Sequence["torch.optim.Optimizer"], loss: torch.Tensor) -> None:
    """One optimizer step on ``loss``: clear the gradients, backpropagate, step every optimizer
    (the dense and the sparse one of :func:`optimizers`)."""
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    loss.backward()
    for opt in opts:
        opt.step()


def example_flops(model: UnitModel, examples: Sequence[Example]) -> float:
    """Forward+backward FLOPs of one example pass, measured on a sample (bench.backbones.flops)."""
    from bench.backbones.flops import flops_per_example

    return flops_per_example(model, examples[:8])


def predict_queries(model: UnitModel, params: Params, queries: Sequence[Query]) -> list[Prediction]:
    """``model.predict`` on queries in chunks of :data:`PREDICT_CHUNK`, without gradients."""
    out: list[Prediction] = []
    with torch.no_grad():
        for i in range(0, len(queries), PREDICT_CHUNK):
            chunk = queries[i : i + PREDICT_CHUNK]
            out.extend(model.predict(params, model.featurize(chunk)))
    return out


def detached(params: Params) -> Params:
    """A detached copy of a params dict (test-time adaptation starts from it)."""
    return {k: v.detach() for k, v in params.items()}


def state_of(model: UnitModel) -> dict[str, torch.Tensor]:
    """The model's tensors as a plain dict (cloned, so the caller owns them)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
