"""The steps ``xlbench perf`` times: xlbench's batched meta-steps and per-task reference loops.

Each pair computes the same update from the same episodes, so :mod:`bench.perf.benchmark` can check
that they agree before timing them:

* MAML / FOMAML (Finn et al. 2017): xlbench's :func:`baselines.maml.meta_losses` (one
  featurize of all tasks, ``torch.func`` inner loops, tasks batched with ``vmap``) against
  the way learn2learn's ``MAML.clone()`` / ``adapt()`` works — per task: featurize its
  support and query, clone the parameters, ``torch.autograd.grad(create_graph=True)`` inner
  steps, query loss, ``backward`` (gradients accumulate over tasks).
* Reptile (Nichol et al. 2018): xlbench's :func:`baselines.reptile.reptile_deltas` (vmapped)
  against per task a ``copy.deepcopy`` of the model with its own ``torch.optim.SGD``;
  features are computed with the original embedding table, whose gradient accumulates
  (xlbench's Reptile semantics: the table follows the features' summed gradients).
* ProtoNets (Snell et al. 2017): :meth:`baselines.protonet.ProtoNet.episode_loss` (all
  episodes in one featurize + trunk pass) against an episode-by-episode loop.

Every step function takes ``(model, episodes)`` and leaves its result in the model's
``.grad`` fields (MAML, ProtoNet) or returns the updated parameters (Reptile).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Sequence

import torch

if TYPE_CHECKING:  # pragma: no cover
    from bench.backbones.base import Params, UnitModel
    from bench.sampling import Episode


def dense_grads(model: "UnitModel") -> "Params":
    """The model's ``.grad`` fields as dense tensors (zeros where a parameter has none)."""
    out = {}
    for name, p in model.named_parameters():
        g = p.grad
        out[name] = torch.zeros_like(p) if g is None else (g.to_dense() if g.is_sparse else g.clone())
    return out


def _featurize(model: "UnitModel", items: Sequence, sparse: bool):
    """``model.featurize``, with sparse embedding gradients when the backbone offers them.

    References get sparse gradients too (a one-flag choice any user makes), so the measured
    speed-up is batching, not the gradient format.
    """
    if sparse and getattr(model, "sparse_params", None):
        return model.featurize(items, sparse_grad=True)  # type: ignore[call-arg]  # backbones with sparse_params take it
    return model.featurize(items)


def max_abs_diff(a: "Params", b: "Params") -> float:
    """The largest absolute difference between two params dicts with the same names."""
    return max(float((a[k] - b[k]).abs().max()) if a[k].numel() else 0.0 for k in a)


# ------------------------------------------------------------------------------ MAML
def maml_xlbench(model: "UnitModel", episodes: Sequence["Episode"], *, steps: int, lr: float,
                 first_order: bool, sparse: bool = True) -> torch.Tensor:
    """One MAML meta-gradient the way :class:`baselines.maml.MAML` computes it (its default
    Config decides between vmap and a serial loop from the model's size)."""
    from baselines.maml import MAML, MAMLConfig, meta_losses
    from baselines.taskbatch import stack_tasks

    model.zero_grad(set_to_none=True)
    vectorize = MAML(MAMLConfig(), lambda: model, model.info, None).vectorizes(model)
    batch = stack_tasks(model, episodes, sparse_grad=sparse)
    loss = meta_losses(model, model.params(), batch, lr=lr, steps=steps, first_order=first_order,
                       vectorize=vectorize).mean()
    loss.backward()
    return loss.detach()


def maml_reference(model: "UnitModel", episodes: Sequence["Episode"], *, steps: int, lr: float,
                   first_order: bool, sparse: bool = True) -> torch.Tensor:
    """One MAML meta-gradient, learn2learn-style: a cloned-parameter loop per task."""
    model.zero_grad(set_to_none=True)
    names = list(model.adapted_names())
    total = torch.zeros(())
    for support, query in episodes:
        sf = _featurize(model, support, sparse)
        qf = _featurize(model, query, sparse)
        st, qt = model.targets(support, sf), model.targets(query, qf)
        fast = {k: v.clone() for k, v in model.params().items()}
        for _ in range(steps):
            loss = model.loss(model.logits(fast, sf), st, sf)
            grads = torch.autograd.grad(loss, [fast[n] for n in names], create_graph=not first_order)
            fast = {**fast, **{n: fast[n] - lr * g for n, g in zip(names, grads)}}
        qloss = model.loss(model.logits(fast, qf), qt, qf) / len(episodes)
        qloss.backward()
        total = total + qloss.detach()
    return total


# ------------------------------------------------------------------------------ Reptile
def reptile_xlbench(model: "UnitModel", episodes: Sequence["Episode"], *, steps: int, lr: float,
                    epsilon: float = 1.0, sparse: bool = True) -> "Params":
    """One Reptile meta-step as :meth:`baselines.reptile.Reptile.train` takes it.

    ``episodes`` are ``(batch, ())`` pairs, ``steps × batch size`` examples each. Returns the
    parameters after the step (the model itself is left unchanged).
    """
    from baselines.reptile import reptile_deltas
    from baselines.taskbatch import stack_tasks

    tasks = len(episodes)
    names = set(model.adapted_names())
    model.zero_grad(set_to_none=True)
    batch = stack_tasks(model, episodes, sparse_grad=sparse)
    deltas, gx, gextra, _ = reptile_deltas(model, model.params(), batch, steps=steps, lr=lr)
    outs = [(t, g) for t, g in zip((batch.support.x, *batch.support.extra), (gx, *gextra)) if t.requires_grad]
    if outs:
        torch.autograd.backward([t for t, _ in outs], [g / tasks for _, g in outs])
    new = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in names:
                new[name] = p + epsilon * deltas[name].mean(0)
            elif p.grad is not None:
                new[name] = p - epsilon * lr * (p.grad.to_dense() if p.grad.is_sparse else p.grad)
            else:
                new[name] = p.detach().clone()
    model.zero_grad(set_to_none=True)
    return new


def reptile_reference(model: "UnitModel", episodes: Sequence["Episode"], *, steps: int, lr: float,
                      epsilon: float = 1.0, sparse: bool = True) -> "Params":
    """One Reptile meta-step with a ``deepcopy`` of the model and an SGD optimizer per task.

    The copy shares the n-gram table with the model (``deepcopy`` memo): copying a 2^18-row
    table per task would only make the reference look slower.
    """
    tasks = len(episodes)
    names = set(model.adapted_names())
    model.zero_grad(set_to_none=True)
    deltas = {n: torch.zeros_like(p) for n, p in model.named_parameters() if n in names}
    shared = {id(p): p for n, p in model.named_parameters() if n not in names}
    for examples, _ in episodes:
        clone = copy.deepcopy(model, memo=dict(shared))
        opt = torch.optim.SGD([p for n, p in clone.named_parameters() if n in names], lr=lr)
        size = len(examples) // steps
        for i in range(steps):
            part = examples[i * size : (i + 1) * size]
            feats = _featurize(model, part, sparse)  # the original table: its gradient accumulates
            opt.zero_grad(set_to_none=True)
            params = {**clone.params(), **{k: v for k, v in model.params().items() if k not in names}}
            loss = clone.loss(clone.logits(params, feats), clone.targets(part, feats), feats)
            loss.backward()
            opt.step()
        with torch.no_grad():
            cp = dict(clone.named_parameters())
            for n in deltas:
                deltas[n] += cp[n] - dict(model.named_parameters())[n]
    new = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in names:
                new[name] = p + epsilon * deltas[name] / tasks
            elif p.grad is not None:
                new[name] = p - epsilon * lr * (p.grad.to_dense() if p.grad.is_sparse else p.grad) / tasks
            else:
                new[name] = p.detach().clone()
    model.zero_grad(set_to_none=True)
    return new


# ------------------------------------------------------------------------------ ProtoNet
def protonet_xlbench(model: "UnitModel", episodes: Sequence["Episode"]) -> torch.Tensor:
    """One ProtoNet training step's gradient as :class:`baselines.protonet.ProtoNet` takes it."""
    from baselines.protonet import ProtoNet, ProtoNetConfig

    model.zero_grad(set_to_none=True)
    method = ProtoNet(ProtoNetConfig(), lambda: model, model.info, None)
    loss = method.episode_loss(model, episodes)
    loss.backward()
    return loss.detach()


def protonet_reference(model: "UnitModel", episodes: Sequence["Episode"], *, sparse: bool = True) -> torch.Tensor:
    """One ProtoNet gradient, episode by episode (featurize, encode, prototypes, loss)."""
    from baselines.protonet import classes_per_head, proto_logits, prototypes

    model.zero_grad(set_to_none=True)
    classes = classes_per_head(model)
    total = torch.zeros(())
    for support, query in episodes:
        params = model.params()
        sf, qf = _featurize(model, support, sparse), _featurize(model, query, sparse)
        protos = prototypes(model.trunk(params, sf), model.targets(support, sf), classes)
        loss = model.loss(proto_logits(model.trunk(params, qf), protos), model.targets(query, qf), qf)
        loss = loss / len(episodes)
        loss.backward()
        total = total + loss.detach()
    return total
