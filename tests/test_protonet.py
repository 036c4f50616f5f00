"""ProtoNet: logits are negative squared distances to class means, learns, budget, predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.protonet import ABSENT, ProtoNet, ProtoNetConfig, classes_per_head, proto_logits, prototypes
from bench.budget import Meter
from tests.tinymodel import TinyModel, tiny_episode, tiny_source

KINDS = ("classification", "qa", "summarization")


pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.mark.parametrize("kind", KINDS)
def test_logits_are_negative_squared_distances_to_class_means(kind):
    source = tiny_source(kind)
    model = TinyModel(source.info)
    support, query = source.train["aa"][:6], source.train["bb"][:4]
    with torch.no_grad():
        sf, qf = model.featurize(support), model.featurize(query)
        hs, hq = model.trunk(model.params(), sf), model.trunk(model.params(), qf)
        targets = model.targets(support, sf)
        got = proto_logits(hq, prototypes(hs, targets, classes_per_head(model)))
    for head, (t, c) in enumerate(zip(targets, classes_per_head(model))):
        assert got[head].shape == (len(query), hq.shape[1], c)
        for k in range(c):
            units = [hs[b, u] for b in range(len(support)) for u in range(hs.shape[1]) if t[b, u] == k]
            if not units:
                assert (got[head][..., k] == ABSENT).all()
                continue
            mean = torch.stack(units).mean(0)
            for b in range(len(query)):
                for u in range(hq.shape[1]):
                    want = -((hq[b, u] - mean) ** 2).sum()
                    torch.testing.assert_close(got[head][b, u, k], want, rtol=1e-5, atol=1e-5)


def test_absent_class_gets_absent_logit_and_batched_tasks_match():
    h = torch.randn(2, 3, 1, 4)  # two tasks, three support items, one unit
    t = torch.tensor([[[0], [0], [1]], [[2], [2], [-100]]])
    protos = prototypes(h, [t], [3])
    (p, present), = protos
    assert present.tolist() == [[True, True, False], [False, False, True]]
    torch.testing.assert_close(p[1, 2], h[1, :2, 0].mean(0))
    q = torch.randn(2, 5, 1, 4)
    lg = proto_logits(q, protos)[0]
    assert (lg[0, ..., 2] == ABSENT).all() and (lg[1, ..., :2] == ABSENT).all()
    for task in range(2):  # batched over tasks = one task at a time
        one = proto_logits(q[task], prototypes(h[task], [t[task]], [3]))[0]
        torch.testing.assert_close(lg[task], one)


def _method(kind, **cfg):
    source = tiny_source(kind)
    config = ProtoNetConfig(**{"shots": 2, "queries": 3, "meta_batch": 3, **cfg})
    return ProtoNet(config, lambda: TinyModel(source.info, seed=0), source.info, np.random.default_rng(0)), source


def test_not_zero_shot():
    assert ProtoNet.not_applicable(tiny_source("qa").info, 0) is not None
    assert ProtoNet.not_applicable(tiny_source("qa").info, 1) is None


@pytest.mark.parametrize("kind", ["classification", "qa"])
def test_learns_separable_problem(kind):
    method, source = _method(kind, lr=0.03)
    ep, gold = tiny_episode(kind, 3, n_query=30)

    def acc():
        preds = method.predict(ep, Meter("adapt", 10**4))
        if kind == "classification":
            return np.mean([p.label == g.label for p, g in zip(preds, gold)])
        return np.mean([p.text == g.answers[0].text for p, g in zip(preds, gold)])

    method.load_state(method.model_factory().state_dict())
    before = acc()
    method.train(source, Meter("source", 3000))
    after = acc()
    assert after >= 0.8 and after > before + 0.2, (before, after)


@pytest.mark.parametrize("kind", KINDS)
def test_spends_within_one_step_of_cap(kind):
    method, source = _method(kind)
    meter = Meter("source", 500)
    method.train(source, meter)
    per_episode = 5 * (3 if kind == "classification" else 1)
    assert 500 - per_episode < meter.examples <= 500 and meter.flops > 0


@pytest.mark.parametrize("kind", KINDS)
def test_predict_deterministic_pure_and_spends_support(kind):
    method, source = _method(kind)
    method.train(source, Meter("source", 200))
    before = method.state()
    ep_a, _ = tiny_episode(kind, 2, seed=5)
    ep_b, _ = tiny_episode(kind, 3, seed=6, lang="bb")
    meter = Meter("adapt", 10_000)
    a1 = method.predict(ep_a, meter)
    method.predict(ep_b, meter)
    assert method.predict(ep_a, meter) == a1 and len(a1) == len(ep_a.query)
    assert meter.examples == 2 * len(ep_a.support) + len(ep_b.support)
    for k, v in method.state().items():
        assert torch.equal(v, before[k]), k


def test_predict_encodes_only_the_support_that_fits():
    method, source = _method("classification")
    method.train(source, Meter("source", 100))
    ep, _ = tiny_episode("classification", 2)
    meter = Meter("adapt", 4)
    assert len(method.predict(ep, meter)) == len(ep.query)
    assert meter.examples == 4
