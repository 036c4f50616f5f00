"""Reptile: equals plain SGD in the degenerate case, vmapped = serial, learns, budget, predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.reptile import Reptile, ReptileConfig, reptile_deltas
from baselines.taskbatch import batch_loss, stack_tasks
from bench.budget import Meter
from bench.sampling import language_batch
from bench.types import SourceData
from tests.tinymodel import TinyModel, tiny_episode, tiny_source

KINDS = ("classification", "qa", "summarization")


pytestmark = pytest.mark.usefixtures("one_thread_module")


def _stacked(kind, tasks=3, per_task=6, seed=0):
    source = tiny_source(kind)
    model = TinyModel(source.info, seed=seed)
    rng = np.random.default_rng(seed)
    eps = [(language_batch(source, ("aa", "bb", "cc")[i % 3], per_task, rng), ()) for i in range(tasks)]
    return model, eps


@pytest.mark.parametrize("kind", KINDS)
def test_inner_loop_equals_plain_sgd_with_frozen_features(kind):
    """Adapted params = torch.optim.SGD on the same mini-batches; the embedding's trajectory
    = −lr × Σ_k ∂L_k/∂E at the initial embedding (features held, as documented)."""
    model, eps = _stacked(kind, tasks=2, per_task=6)
    batch = stack_tasks(model, eps)
    deltas, gx, gextra, _ = reptile_deltas(model, model.params(), batch, steps=3, lr=0.2)
    names = list(model.adapted_names())
    for t, (items, _) in enumerate(eps):
        ref = TinyModel(model.info, seed=0)
        ref.load_state_dict(model.state_dict())
        opt = torch.optim.SGD([p for n, p in ref.named_parameters() if n in names], lr=0.2)
        emb_grad = torch.zeros_like(ref.embed.weight)
        for k in range(3):
            part = items[2 * k : 2 * k + 2]
            opt.zero_grad()
            # the features of every step come from the *initial* embedding
            feats = model.featurize(part)
            loss = batch_loss(ref, ref.params(), feats, model.targets(part, feats))
            loss.backward()
            emb_grad += model.embed.weight.grad
            model.embed.weight.grad = None
            opt.step()
        for n in names:
            torch.testing.assert_close(deltas[n][t], ref.params()[n].detach() - model.params()[n].detach(), atol=1e-6, rtol=1e-5)
        # backpropagating this task's feature gradients gives Σ_k ∂L_k/∂E
        model.embed.weight.grad = None
        outs = [(x[t], g[t]) for x, g in zip((batch.support.x, *batch.support.extra), (gx, *gextra)) if x.requires_grad]
        torch.autograd.backward([x for x, _ in outs], [g for _, g in outs], retain_graph=True)
        torch.testing.assert_close(model.embed.weight.grad, emb_grad, atol=1e-6, rtol=1e-5)
        model.embed.weight.grad = None


# Not adam on qa: the head biases' gradient is exactly 0 up to float noise there (a shift of
# both logits cancels in logit[..., 1] - logit[..., 0]), and Adam normalises the noise to ±lr.
@pytest.mark.parametrize(
    "kind,optimizer",
    [(k, "sgd") for k in KINDS] + [("classification", "adam"), ("summarization", "adam")],
)
def test_vmapped_equals_serial(kind, optimizer):
    model, eps = _stacked(kind, tasks=3, per_task=6)
    batch = stack_tasks(model, eps)
    kw = dict(steps=3, lr=0.1, optimizer=optimizer)
    v = reptile_deltas(model, model.params(), batch, vectorize=True, **kw)
    s = reptile_deltas(model, model.params(), batch, vectorize=False, **kw)
    torch.testing.assert_close(v, s, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_one_task_epsilon_one_equals_sgd_step(kind):
    """ε = 1, one task, one inner step: a meta-step is one plain SGD step on all parameters."""
    full = tiny_source(kind, n=8)
    source = SourceData(full.info, {"aa": full.train["aa"]})
    cfg = ReptileConfig(
        inner_lr=0.3, inner_steps=1, batch=8, epsilon=1.0, anneal=False, meta_batch=1,
        inner_optimizer="sgd", embed_lr=None, meta_optimizer="sgd",
    )
    method = Reptile(cfg, lambda: TinyModel(source.info, seed=0), source.info, np.random.default_rng(0))
    method.train(source, Meter("source", 8))
    ref = TinyModel(source.info, seed=0)
    opt = torch.optim.SGD(ref.parameters(), lr=0.3)
    items = source.train["aa"]
    feats = ref.featurize(items)
    batch_loss(ref, ref.params(), feats, ref.targets(items, feats)).backward()
    opt.step()
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(method.state()[k], v, atol=1e-6, rtol=1e-5, msg=k)


def _method(kind, **cfg):
    source = tiny_source(kind)
    base = {"inner_steps": 3, "batch": 4, "meta_batch": 3, "inner_optimizer": "sgd", "embed_lr": None}
    config = ReptileConfig(**{**base, **cfg})
    return Reptile(config, lambda: TinyModel(source.info, seed=0), source.info, np.random.default_rng(0)), source


def test_learns_separable_problem():
    method, source = _method("classification", inner_lr=0.3)
    ep, gold = tiny_episode("classification", 3, n_query=30)
    method.load_state(method.model_factory().state_dict())
    acc = lambda: np.mean([p.label == g.label for p, g in zip(method.predict(ep, Meter("adapt", 10**4)), gold)])  # noqa: E731
    before = acc()
    method.train(source, Meter("source", 4000))
    after = acc()
    assert after >= 0.8 and after > before + 0.2, (before, after)


@pytest.mark.parametrize("kind", KINDS)
def test_spends_within_one_step_of_cap(kind):
    method, source = _method(kind)
    meter = Meter("source", 500)
    method.train(source, meter)
    assert 500 - 3 * 4 < meter.examples <= 500 and meter.flops > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shots", [0, 2])
def test_predict_deterministic_and_pure(kind, shots):
    method, source = _method(kind, inner_optimizer="adam", inner_lr=0.01)
    method.train(source, Meter("source", 200))
    before = method.state()
    ep_a, _ = tiny_episode(kind, shots, seed=5)
    ep_b, _ = tiny_episode(kind, 3, seed=6, lang="bb")
    meter = Meter("adapt", 10_000)
    a1 = method.predict(ep_a, meter)
    method.predict(ep_b, meter)
    assert method.predict(ep_a, meter) == a1 and len(a1) == len(ep_a.query)
    for k, v in method.state().items():
        assert torch.equal(v, before[k]), k


def test_divergence_is_reported_not_hidden():
    from bench.budget import Diverged

    method, source = _method("classification", inner_lr=1e30, meta_optimizer="sgd")
    with pytest.raises(Diverged):
        method.train(source, Meter("source", 2000))
