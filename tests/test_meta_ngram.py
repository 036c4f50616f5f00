"""The meta-learners on the real CPU backbone (ngram) and the synthetic tasks: parity of the
torch.func paths with naive loops, vmapped = serial, and a train + predict smoke per kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.maml import MAML, MAMLConfig, meta_losses
from baselines.protonet import ProtoNet, ProtoNetConfig
from baselines.reptile import Reptile, ReptileConfig, reptile_deltas
from baselines.taskbatch import stack_tasks
from bench.backbones.ngram import Config, NgramBackbone
from bench.budget import Meter
from bench.sampling import language_batch, source_episode
from bench.types import EvalEpisode
from tests.test_maml import naive_meta_grads

SMALL = Config(buckets=2**10, dim=16, hidden=24, window=3)
KINDS = ("classification", "qa", "summarization")


pytestmark = pytest.mark.usefixtures("one_thread_module")


def _task(kind):
    if kind == "classification":
        from tasks.synth.topic import SynthTopic, SynthTopicConfig

        return SynthTopic(SynthTopicConfig(n_topics=3, n_train=40, n_pool=20, n_test=20))
    if kind == "qa":
        from tasks.synth.qa import SynthQA, SynthQAConfig

        return SynthQA(SynthQAConfig(n_train=40, n_pool=20, n_test=20))
    from tasks.synth.summarization import SynthSumm, SynthSummConfig

    return SynthSumm(SynthSummConfig(n_train=40, n_pool=20, n_test=20))


@pytest.fixture(scope="module", params=KINDS)
def setup(request):
    task = _task(request.param)
    return task, task.source(), NgramBackbone(SMALL).build(task.info(), 0)


def _grads(loss, model):
    g = torch.autograd.grad(loss, list(model.params().values()), allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if x is None else x for x, p in zip(g, model.params().values())]


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_meta_gradient_equals_naive_loop(setup, first_order):
    task, source, model = setup
    rng = np.random.default_rng(0)
    langs = sorted(source.train)
    batch = stack_tasks(model, [source_episode(source, langs[i], 2, 2, rng) for i in range(3)])
    ref_loss, ref = naive_meta_grads(model, batch, lr=0.2, steps=2, first_order=first_order)
    kw = dict(lr=0.2, steps=2, first_order=first_order)
    v = meta_losses(model, model.params(), batch, vectorize=True, **kw)
    s = meta_losses(model, model.params(), batch, vectorize=False, **kw)
    torch.testing.assert_close(v.mean(), ref_loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(v, s, rtol=1e-5, atol=1e-6)
    for (name, p), a, b, c in zip(model.params().items(), _grads(v.mean(), model), ref, _grads(s.mean(), model)):
        b = torch.zeros_like(p) if b is None else b
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
        torch.testing.assert_close(a, c, rtol=1e-4, atol=1e-5, msg=name)


def test_padding_to_the_meta_batch_width_changes_nothing(setup):
    """Episodes featurised together are padded to one unit width; each alone is not."""
    task, source, model = setup
    rng = np.random.default_rng(1)
    eps = [source_episode(source, lang, 2, 2, rng) for lang in sorted(source.train)[:3]]
    kw = dict(lr=0.2, steps=2, first_order=False)
    together = meta_losses(model, model.params(), stack_tasks(model, eps), **kw)
    alone = torch.cat([meta_losses(model, model.params(), stack_tasks(model, [e]), **kw) for e in eps])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_reptile_vmapped_equals_serial(setup):
    task, source, model = setup
    rng = np.random.default_rng(0)
    eps = [(language_batch(source, lang, 6, rng), ()) for lang in sorted(source.train)[:3]]
    batch = stack_tasks(model, eps)
    v = reptile_deltas(model, model.params(), batch, steps=3, lr=0.1, vectorize=True)
    s = reptile_deltas(model, model.params(), batch, steps=3, lr=0.1, vectorize=False)
    torch.testing.assert_close(v, s, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "method_cls,config",
    [
        (MAML, MAMLConfig(shots=2, queries=2, meta_batch=2, inner_steps=2, adapt_steps=2)),
        (MAML, MAMLConfig(shots=2, queries=2, meta_batch=2, inner_steps=2, adapt_steps=2, first_order=True)),
        (Reptile, ReptileConfig(inner_steps=2, batch=4, meta_batch=2, adapt_steps=2)),
        (ProtoNet, ProtoNetConfig(shots=2, queries=2, meta_batch=2)),
    ],
    ids=["maml", "fomaml", "reptile", "protonet"],
)
def test_train_and_predict_smoke(setup, method_cls, config):
    task, source, _ = setup
    info = task.info()
    method = method_cls(config, lambda: NgramBackbone(SMALL).build(info, 0), info, np.random.default_rng(0))
    meter = Meter("source", 150)
    method.train(source, meter)
    assert 100 < meter.examples <= 150
    target = task.target(info.target_langs[0])
    ep = EvalEpisode(info, target.lang, 2, 0, target.pool[:4], tuple(e.as_query() for e in target.test[:5]))
    adapt = Meter("adapt", 400)
    preds = method.predict(ep, adapt)
    assert len(preds) == 5 and preds == method.predict(ep, Meter("adapt", 400))
    assert 0 < adapt.examples <= 400
    if info.kind == "classification":
        assert all(p.label in range(info.num_labels) for p in preds)
    else:
        assert all(isinstance(p.text, str) for p in preds)
