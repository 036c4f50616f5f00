"""FLOPs of one forward+backward pass per example, for the Meter's audit.

Counted once per model on a sample batch with ``torch.utils.flop_counter.FlopCounterMode``
(matmuls and convolutions; embedding lookups count as 0) and kept by the caller, so methods
can call ``meter.step(n, flops=n * per_example)``. Gradients are taken with
``torch.autograd.grad``: no ``.grad`` field of the model is touched.
"""

from __future__ import annotations

from typing import Sequence

import torch

from bench.backbones.base import Params, UnitModel
from bench.types import Example


def flops_per_example(model: UnitModel, examples: Sequence[Example], params: Params | None = None) -> float:
    """Mean FLOPs of featurize + logits + loss + backward over ``examples`` (0 if empty)."""
    from torch.utils.flop_counter import FlopCounterMode

    if not examples:
        return 0.0
    params = model.params() if params is None else params
    with FlopCounterMode(display=False) as counter:
        feats = model.featurize(examples)
        targets = model.targets(examples, feats)
        loss = model.loss(model.logits(params, feats), targets, feats)
        wrt = [p for p in params.values() if p.requires_grad]
        if wrt and loss.requires_grad:
            torch.autograd.grad(loss, wrt, allow_unused=True)
    return float(counter.get_total_flops()) / len(examples)
