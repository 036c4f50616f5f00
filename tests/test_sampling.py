"""Source episodes when source languages do not all have every label (MasakhaNEWS-style):
an episode covers the classes its language has, labels stay full-space indices, unequal
episodes batch through padding that changes nothing, and every meta-learner trains and
predicts on such a source within its budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.maml import MAML, MAMLConfig, meta_losses
from baselines.protonet import ProtoNet, ProtoNetConfig
from baselines.reptile import Reptile, ReptileConfig
from baselines.taskbatch import stack_tasks
from bench.budget import Meter
from bench.errors import DataError
from bench.sampling import (
    can_sample,
    episode_classes,
    episode_langs,
    episode_sizes,
    meta_batch_langs,
    meta_batch_plan,
    source_episode,
)
from bench.types import EvalEpisode, Example, SourceData
from tests.tinymodel import WORDS, TinyModel, tiny_info

SHOTS, QUERIES = 2, 3


pytestmark = pytest.mark.usefixtures("one_thread_module")


def _ex(lang: str, i: int, label: int, rng: np.random.Generator) -> Example:
    fill = " ".join(rng.choice(["the", "a", "big", "red", "old"], size=3))
    return Example(f"{lang}-{i}", lang, f"{fill} {WORDS[label]}{lang} {fill}", label=label)


def ragged_source(per_class: int = 20) -> SourceData:
    """Three classes; ``aa`` lacks class 2, ``bb`` has only 2 items of class 0 (too few for an
    episode of 2 + 3), ``cc`` has all three."""
    rng = np.random.default_rng(0)
    counts = {"aa": (per_class, per_class, 0), "bb": (2, per_class, per_class), "cc": (per_class,) * 3}
    train = {}
    for lang, cs in counts.items():
        labels = [c for c, k in enumerate(cs) for _ in range(k)]
        rng.shuffle(labels)
        train[lang] = tuple(_ex(lang, i, c, rng) for i, c in enumerate(labels))
    return SourceData(tiny_info("classification"), train)


def test_episode_covers_the_classes_its_language_has_in_full_label_space():
    source = ragged_source()
    assert episode_classes(source, "aa", SHOTS, QUERIES) == (0, 1)
    assert episode_classes(source, "bb", SHOTS, QUERIES) == (1, 2)
    assert episode_classes(source, "cc", SHOTS, QUERIES) == (0, 1, 2)
    assert episode_classes(source, "bb", 1, 1) == (0, 1, 2)  # 2 items of class 0 suffice for 1 + 1
    rng = np.random.default_rng(3)
    for lang, want in (("aa", [0, 1]), ("bb", [1, 2]), ("cc", [0, 1, 2])):
        support, query = source_episode(source, lang, SHOTS, QUERIES, rng)
        assert [e.label for e in support] == [c for c in want for _ in range(SHOTS)]
        assert [e.label for e in query] == [c for c in want for _ in range(QUERIES)]
        assert not {e.item_id for e in support} & {e.item_id for e in query}
        assert all(e.lang == lang for e in (*support, *query))
        assert episode_sizes(source, lang, SHOTS, QUERIES) == (len(support), len(query))
    assert episode_langs(source, SHOTS, QUERIES) == ("aa", "bb", "cc")


def test_a_language_needs_two_usable_classes():
    source = ragged_source(per_class=4)  # 4 < 2 + 3 everywhere
    assert not any(can_sample(source, lang, SHOTS, QUERIES) for lang in source.train)
    with pytest.raises(DataError, match="2 classes with 2 \\+ 3 examples each.*'rain': 4"):
        episode_langs(source, SHOTS, QUERIES)
    one = SourceData(source.info, {"aa": tuple(e for e in ragged_source().train["aa"] if e.label == 0)})
    assert episode_classes(one, "aa", SHOTS, QUERIES) == (0,) and not can_sample(one, "aa", SHOTS, QUERIES)
    with pytest.raises(DataError, match="too small"):
        source_episode(one, "aa", SHOTS, QUERIES, np.random.default_rng(0))


def test_meta_batch_plan():
    langs = ("aa", "bb", "cc")
    for remaining in (0, 9, 10, 25, 1000):  # equal costs: exactly the old draw
        got = meta_batch_plan(langs, dict.fromkeys(langs, 10), 2, remaining, np.random.default_rng(4))
        want = meta_batch_langs(langs, min(2, remaining // 10), np.random.default_rng(4))
        assert got == want
    cost = {"aa": 10, "bb": 10, "cc": 30}
    for seed in range(20):
        for remaining in (5, 15, 25, 45, 100):
            got = meta_batch_plan(langs, cost, 3, remaining, np.random.default_rng(seed))
            assert sum(cost[g] for g in got) <= remaining and len(got) <= 3
            assert got or remaining < 30  # stops only when the drawn first task does not fit
    assert meta_batch_plan(langs, cost, 3, 9, np.random.default_rng(0)) == ()


def test_padded_batch_equals_each_episode_alone():
    source = ragged_source()
    model = TinyModel(source.info, seed=1)
    rng = np.random.default_rng(2)
    eps = [source_episode(source, lang, SHOTS, QUERIES, rng) for lang in ("aa", "cc", "bb")]
    batch = stack_tasks(model, eps)
    assert batch.support.x.shape[:2] == (3, 3 * SHOTS) and batch.query.x.shape[:2] == (3, 3 * QUERIES)
    ignored = [(t == -100).sum().item() for t in (batch.support_t[0], batch.query_t[0])]
    assert ignored == [2 * SHOTS, 2 * QUERIES]  # aa and bb each padded by one class's rows
    kw = dict(lr=0.3, steps=2, first_order=False)
    together = meta_losses(model, model.params(), batch, **kw)
    alone = torch.cat([meta_losses(model, model.params(), stack_tasks(model, [e]), **kw) for e in eps])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)
    params = list(model.params().values())
    g1 = torch.autograd.grad(together.sum(), params, allow_unused=True)
    g2 = torch.autograd.grad(alone.sum(), params, allow_unused=True)
    for a, b in zip(g1, g2):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_protonet_padded_loss_is_the_query_weighted_mean():
    source = ragged_source()
    info = source.info
    method = ProtoNet(ProtoNetConfig(), lambda: TinyModel(info, seed=0), info, np.random.default_rng(0))
    model = TinyModel(info, seed=0)
    rng = np.random.default_rng(5)
    eps = [source_episode(source, lang, SHOTS, QUERIES, rng) for lang in ("cc", "aa")]
    with torch.no_grad():
        together = method.episode_loss(model, eps)
        alone = [method.episode_loss(model, [e]) for e in eps]
    n = [len(q) for _, q in eps]
    torch.testing.assert_close(together, (n[0] * alone[0] + n[1] * alone[1]) / sum(n), rtol=1e-5, atol=1e-6)


METHODS = {
    "maml": lambda info: MAML(MAMLConfig(shots=SHOTS, queries=QUERIES, meta_batch=2, inner_steps=2), lambda: TinyModel(info), info, np.random.default_rng(0)),
    "fomaml": lambda info: MAML(MAMLConfig(shots=SHOTS, queries=QUERIES, meta_batch=2, inner_steps=2, first_order=True), lambda: TinyModel(info), info, np.random.default_rng(0)),
    "reptile": lambda info: Reptile(ReptileConfig(inner_steps=2, batch=5, meta_batch=2), lambda: TinyModel(info), info, np.random.default_rng(0)),
    "protonet": lambda info: ProtoNet(ProtoNetConfig(shots=SHOTS, queries=QUERIES, meta_batch=2), lambda: TinyModel(info), info, np.random.default_rng(0)),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_meta_learner_trains_and_predicts_with_a_language_missing_a_class(name):
    source = ragged_source()
    info = source.info
    method = METHODS[name](info)
    c = method.config
    if name == "reptile":
        largest = c.inner_steps * c.batch
    else:
        inner = c.inner_steps if name != "protonet" else 1
        largest = max(inner * s + q for s, q in (episode_sizes(source, g, SHOTS, QUERIES) for g in source.train))
    meter = Meter("source", 400)
    method.train(source, meter)
    assert meter.cap - largest < meter.examples <= meter.cap  # within one task of the cap
    assert meter.flops > 0
    rng = np.random.default_rng(9)
    support = tuple(_ex("zz", i, c_, rng) for i, c_ in enumerate((0, 0, 1, 1)))  # class 2 absent
    gold = tuple(_ex("zz", 100 + i, i % 3, rng) for i in range(9))
    ep = EvalEpisode(info, "zz", 2, 0, support, tuple(e.as_query() for e in gold))
    preds = method.predict(ep, Meter("adapt", 1000))
    assert len(preds) == len(gold) and preds == method.predict(ep, Meter("adapt", 1000))
    assert all(p.label in range(info.num_labels) for p in preds)
    if name == "protonet":  # no prototype for class 2: never predicted
        assert all(p.label in (0, 1) for p in preds)
