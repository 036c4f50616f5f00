"""baselines.optimizers: LazyAdam is SparseAdam's update (bitwise); fused dense Adam matches Adam."""

from __future__ import annotations

import pytest
import torch

from baselines.optimizers import LazyAdam, dense_adam


def _sparse_grads(rows: int, dim: int, steps: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    out = []
    for s in range(steps):
        idx = torch.randint(0, rows // (4 if s % 2 else 1), (50,), generator=g)  # repeats: coalesce sums them
        out.append(torch.sparse_coo_tensor(idx.unsqueeze(0), torch.randn(50, dim, generator=g), (rows, dim),
                                           check_invariants=True))
    return out


def test_lazy_adam_equals_sparse_adam():
    start = torch.randn(200, 8)
    a, b = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    oa, ob = torch.optim.SparseAdam([a], lr=0.05), LazyAdam([b], lr=0.05)
    for g in _sparse_grads(200, 8, 6):
        a.grad, b.grad = g, g
        oa.step()
        ob.step()
    assert not torch.equal(a, start)
    # two kernels (torch's SparseAdam, our LazyAdam): equal up to float reassociation, not bit for bit
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_lazy_adam_refuses_dense_gradients():
    p = torch.nn.Parameter(torch.zeros(3, 2))
    p.grad = torch.ones(3, 2)
    with pytest.raises(RuntimeError, match="sparse_grad=True"):
        LazyAdam([p]).step()


@pytest.mark.parametrize("decoupled", [False, True])
def test_dense_adam_matches_plain_adam(decoupled):
    start = [torch.randn(5, 4), torch.randn(4)]
    ours = [torch.nn.Parameter(t.clone()) for t in start]
    ref = [torch.nn.Parameter(t.clone()) for t in start]
    o1 = dense_adam(ours, 0.01, weight_decay=0.1, decoupled=decoupled)
    o2 = (torch.optim.AdamW if decoupled else torch.optim.Adam)(ref, lr=0.01, weight_decay=0.1)
    for i in range(5):
        for p, q in zip(ours, ref):
            g = torch.full_like(p, float(i + 1)) * torch.arange(p.numel()).reshape(p.shape)
            p.grad, q.grad = g.clone(), g.clone()
        o1.step()
        o2.step()
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
