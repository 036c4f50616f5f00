"""MAML / FOMAML: numeric parity with a naive autograd loop, learning, budget, predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.maml import MAML, MAMLConfig, meta_losses
from baselines.taskbatch import batch_loss, stack_tasks, task_slice
from bench.budget import Meter
from bench.sampling import source_episode
from tests.tinymodel import TinyModel, tiny_episode, tiny_source

KINDS = ("classification", "qa", "summarization")


pytestmark = pytest.mark.usefixtures("one_thread_module")


def _batch(kind: str, tasks: int = 3, seed: int = 0):
    source = tiny_source(kind)
    model = TinyModel(source.info, seed=seed)
    rng = np.random.default_rng(seed)
    langs = ["aa", "bb", "cc"]
    episodes = [source_episode(source, langs[i % 3], 2, 3, rng) for i in range(tasks)]
    return model, stack_tasks(model, episodes)


def naive_meta_grads(model, batch, *, lr, steps, first_order):
    """learn2learn-style reference: per task clone the params, autograd.grad inner loop."""
    names = list(model.adapted_names())
    params = model.params()
    total = 0.0
    for i in range(batch.tasks):
        t = task_slice(batch, i)
        fast = {k: v.clone() for k, v in params.items()}
        for _ in range(steps):
            loss = batch_loss(model, fast, t.support, t.support_t)
            g = torch.autograd.grad(
                loss, [fast[n] for n in names], create_graph=not first_order, allow_unused=True
            )
            fast = {
                **fast,
                **{n: fast[n] - lr * (gi if gi is not None else 0.0) for n, gi in zip(names, g)},
            }
        total = total + batch_loss(model, fast, t.query, t.query_t)
    loss = total / batch.tasks
    return loss, torch.autograd.grad(loss, list(params.values()), allow_unused=True, retain_graph=True)


def _grads(loss, model):
    g = torch.autograd.grad(loss, list(model.params().values()), allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if x is None else x for x, p in zip(g, model.params().values())]


@pytest.mark.parametrize("kind", KINDS)
def test_zero_inner_steps_equals_plain_forward(kind):
    model, batch = _batch(kind, tasks=1)
    t = task_slice(batch, 0)
    plain = batch_loss(model, model.params(), t.query, t.query_t)
    maml = meta_losses(model, model.params(), batch, lr=0.5, steps=0, first_order=False)[0]
    # two code paths (batch_loss vs the meta_losses graph): equal up to float reassociation
    torch.testing.assert_close(maml.detach(), plain.detach(), rtol=1e-6, atol=1e-7)
    for a, b in zip(_grads(plain, model), _grads(maml, model)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_equals_naive_loop(kind, first_order):
    model, batch = _batch(kind, tasks=3)
    ref_loss, ref = naive_meta_grads(model, batch, lr=0.3, steps=2, first_order=first_order)
    loss = meta_losses(model, model.params(), batch, lr=0.3, steps=2, first_order=first_order).mean()
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
    got = _grads(loss, model)
    for (name, p), a, b in zip(model.params().items(), got, ref):
        b = torch.zeros_like(p) if b is None else b
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=name)
    # the embedding table (outer loop only) does receive a meta-gradient
    assert got[list(model.params()).index("embed.weight")].abs().sum() > 0


def test_second_order_differs_from_first_order():
    model, batch = _batch("classification", tasks=2)
    so = _grads(meta_losses(model, model.params(), batch, lr=0.5, steps=2, first_order=False).mean(), model)
    fo = _grads(meta_losses(model, model.params(), batch, lr=0.5, steps=2, first_order=True).mean(), model)
    assert any(not torch.allclose(a, b) for a, b in zip(so, fo))


@pytest.mark.parametrize("kind", KINDS)
def test_vmapped_equals_serial(kind):
    model, batch = _batch(kind, tasks=4)
    kw = dict(lr=0.3, steps=2, first_order=False)
    v = meta_losses(model, model.params(), batch, vectorize=True, **kw)
    s = meta_losses(model, model.params(), batch, vectorize=False, **kw)
    torch.testing.assert_close(v, s, rtol=1e-6, atol=1e-6)
    for a, b in zip(_grads(v.mean(), model), _grads(s.mean(), model)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _method(kind, **cfg):
    source = tiny_source(kind)
    config = MAMLConfig(**{"shots": 2, "queries": 3, "meta_batch": 3, "inner_steps": 2, **cfg})
    return MAML(config, lambda: TinyModel(source.info, seed=0), source.info, np.random.default_rng(0)), source


def _accuracy(method, kind, shots):
    ep, gold = tiny_episode(kind, shots, n_query=30)
    preds = method.predict(ep, Meter("adapt", 10_000))
    if kind == "classification":
        return np.mean([p.label == g.label for p, g in zip(preds, gold)])
    return np.mean([p.text == (g.answers[0].text if kind == "qa" else g.summary) for p, g in zip(preds, gold)])


@pytest.mark.parametrize("first_order", [False, True])
def test_learns_separable_problem(first_order):
    method, source = _method("classification", meta_lr=0.03, inner_lr=0.3, first_order=first_order)
    method.load_state(method.model_factory().state_dict())  # the untrained init
    before = _accuracy(method, "classification", 3)
    method.train(source, Meter("source", 6000))
    after = _accuracy(method, "classification", 3)
    assert after >= 0.8 and after > before + 0.2, (before, after)


@pytest.mark.parametrize("kind", KINDS)
def test_spends_within_one_step_of_cap(kind):
    method, source = _method(kind)
    meter = Meter("source", 1000)
    method.train(source, meter)
    per_task = 2 * len(source_episode(source, "aa", 2, 3, np.random.default_rng(0))[0]) + len(
        source_episode(source, "aa", 2, 3, np.random.default_rng(0))[1]
    )
    assert meter.cap - per_task < meter.examples <= meter.cap
    assert meter.flops > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shots", [0, 2])
def test_predict_deterministic_and_pure(kind, shots):
    method, source = _method(kind)
    method.train(source, Meter("source", 300))
    before = {k: v.clone() for k, v in method.state().items()}
    ep_a, _ = tiny_episode(kind, shots, seed=5)
    ep_b, _ = tiny_episode(kind, 3, seed=6, lang="bb")
    meter = Meter("adapt", 10_000)
    a1 = method.predict(ep_a, meter)
    method.predict(ep_b, meter)
    a2 = method.predict(ep_a, meter)
    assert a1 == a2 and len(a1) == len(ep_a.query)
    for k, v in method.state().items():
        assert torch.equal(v, before[k]), k
    assert meter.examples == (2 * len(ep_a.support) + len(ep_b.support)) * method.config.adapt_steps


def test_adapt_budget_caps_predict():
    method, source = _method("classification", adapt_steps=50)
    method.train(source, Meter("source", 200))
    ep, _ = tiny_episode("classification", 2)
    meter = Meter("adapt", 20)
    method.predict(ep, meter)
    assert meter.examples == 18  # three steps of 6 support examples fit in 20


def test_state_roundtrip():
    method, source = _method("qa")
    method.train(source, Meter("source", 200))
    other, _ = _method("qa")
    other.load_state(method.state())
    ep, _ = tiny_episode("qa", 2)
    assert other.predict(ep, Meter("adapt", 1000)) == method.predict(ep, Meter("adapt", 1000))


def test_predict_before_train_is_a_clear_error():
    method, _ = _method("classification")
    with pytest.raises(RuntimeError, match="before train"):
        method.predict(tiny_episode("classification", 1)[0], Meter("adapt", 10))


def test_divergence_is_reported_not_hidden():
    from bench.budget import Diverged

    method, source = _method("classification", inner_lr=1e30, meta_lr=1e30)
    with pytest.raises(Diverged):
        method.train(source, Meter("source", 2000))


def test_large_models_train_first_order_by_default():
    from baselines.maml import MAML, MAMLConfig
    from tests.tinymodel import TinyModel, tiny_source

    source = tiny_source("classification")
    model = TinyModel(source.info, seed=0)
    for limit, first, expected in ((0, False, False), (10**9, False, False), (1, False, True), (0, True, True)):
        config = MAMLConfig(second_order_max_params=limit, first_order=first)
        method = MAML(config, lambda: model, source.info, np.random.default_rng(0))
        assert method.trains_first_order(model) is expected
