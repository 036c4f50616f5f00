"""Test-time adaptation shared by every gradient-based method (fine-tuning, MAML, Reptile).

The support set is featurised once (the n-gram embedding table stays frozen at test time)
and the adapted parameters (``model.adapted_names()``) take full-batch gradient steps on it
until ``max_steps`` or the adaptation budget runs out. Each step spends ``len(support)``
example passes. Returns new tensors; the model's own parameters are never modified, so no
state carries over to the next episode.
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch

from bench.backbones.base import Params, UnitModel
from bench.budget import BudgetExhausted, Meter
from bench.types import Example


def adapt(
    model: UnitModel,
    params: Params,
    support: Sequence[Example],
    meter: Meter,
    *,
    lr: float,
    max_steps: int,
    optimizer: Literal["sgd", "adam"] = "sgd",
    flops_per_example: float = 0.0,
) -> Params:
    """Full-batch steps on ``support`` from ``params``; returns the adapted params dict.

    Only the adapted tensors are copied (the frozen n-gram table is shared, read-only).
    ``flops_per_example`` feeds the Meter's FLOP audit (see :mod:`bench.backbones.flops`).
    """
    adapted = set(model.adapted_names())
    out = {k: v.detach().clone() if k in adapted else v.detach() for k, v in params.items()}
    if not support or max_steps <= 0:
        return out
    names = [n for n in out if n in adapted]
    for n in names:
        out[n].requires_grad_(True)
    with torch.no_grad():
        feats = model.featurize(support)
        targets = model.targets(support, feats)
    from baselines.optimizers import dense_adam

    leaves = [out[n] for n in names]
    opt = dense_adam(leaves, lr) if optimizer == "adam" else torch.optim.SGD(leaves, lr=lr)
    for _ in range(max_steps):
        try:
            meter.step(len(support), flops=len(support) * flops_per_example)
        except BudgetExhausted:
            break
        opt.zero_grad(set_to_none=True)
        loss = model.loss(model.logits(out, feats), targets, feats)
        loss.backward()
        opt.step()
    return {k: v.detach() for k, v in out.items()}
