"""LogReg: budget accounting, single-class and no-budget fallbacks, TF-IDF, all kinds, the cache."""

from __future__ import annotations

import numpy as np
import pytest
from test_finetune import INFO, accuracy, episode, sentiment
from tinymodel import tiny_episode, tiny_source

from baselines.features import FeatureCache, collate
from baselines.logreg import LogReg, LogRegConfig
from bench.backbones.ngram import Config, NgramBackbone
from bench.budget import Meter
from bench.errors import XlbenchError
from bench.types import EvalEpisode, SourceData, TaskInfo

SMALL = Config(buckets=2**12, dim=16, hidden=32, max_tokens=32)


def method(config: LogRegConfig = LogRegConfig(), info: TaskInfo = INFO) -> LogReg:
    backbone = NgramBackbone(SMALL)
    return LogReg(config, lambda: backbone.build(info, 0), info, np.random.default_rng(0))


@pytest.fixture(scope="module")
def trained() -> LogReg:
    m = method(LogRegConfig(batch_size=24, lr=1e-2))
    m.train(SourceData(INFO, {"en": sentiment("en", 150, 0)}), Meter("source", 300))
    return m


def test_encoder_fit_spends_encoding_plus_iterations(trained) -> None:
    ep, gold = episode(4)  # 8 support examples
    meter = Meter("adapt", 400)
    preds = trained.predict(ep, meter)
    assert len(preds) == len(gold)
    assert meter.steps == 2  # encode the support, then one record of the fit
    iters = (meter.examples - 8) // 8
    assert meter.examples == 8 + 8 * iters and 1 <= iters <= 49  # min(max_iter, (400-8)//8)
    assert accuracy(preds, gold) >= 0.8
    assert preds == trained.predict(ep, Meter("adapt", 400))  # repeatable


def test_iterations_are_capped_by_the_budget(trained) -> None:
    ep, _ = episode(4)
    meter = Meter("adapt", 8 + 8 * 2)  # encoding + at most 2 iterations
    trained.predict(ep, meter)
    assert meter.examples <= meter.cap and meter.examples >= 16


def test_no_affordable_iteration_spends_nothing_and_predicts_majority(trained) -> None:
    ep, _ = episode(4)
    meter = Meter("adapt", 15)  # encoding (8) + one iteration (8) does not fit
    preds = trained.predict(ep, meter)
    assert meter.examples == 0 and meter.steps == 0
    assert {p.label for p in preds} == {0}  # tie 4/4 → the smallest label


def test_single_class_support_predicts_it(trained) -> None:
    ep, _ = episode(4)
    ones = tuple(e for e in ep.support if e.label == 1)
    single = EvalEpisode(ep.info, ep.lang, 4, 0, ones, ep.query)
    meter = Meter("adapt", 400)
    assert {p.label for p in trained.predict(single, meter)} == {1}
    assert meter.examples == len(ones)  # only the encoding pass: no fit


def test_tfidf_ignores_source_and_fits_support() -> None:
    m = method(LogRegConfig(features="tfidf"))
    source_meter = Meter("source", 300)
    m.train(SourceData(INFO, {"en": sentiment("en", 50, 0)}), source_meter)
    assert source_meter.examples == 0 and m.state() == {}
    ep, gold = episode(8)
    meter = Meter("adapt", 400)
    preds = m.predict(ep, meter)
    assert 0 < meter.examples <= 400 and meter.examples % 16 == 0
    assert accuracy(preds, gold) > 0.6


def test_tfidf_is_not_applicable_beyond_classification() -> None:
    qa = TaskInfo("q", "qa")
    assert LogReg.not_applicable(qa, 4) is None  # the class alone cannot see the config
    assert "classification only" in method(LogRegConfig(features="tfidf"), info=qa).why_not(qa, 4)
    assert "support" in LogReg.not_applicable(INFO, 0)
    with pytest.raises(XlbenchError, match="classification only"):
        method(LogRegConfig(features="tfidf"), info=qa).train(SourceData(qa, {}), Meter("source", 1))


@pytest.mark.parametrize("kind", ["qa", "summarization"])
def test_encoder_other_kinds(kind) -> None:
    source = tiny_source(kind, n=20)
    m = method(LogRegConfig(batch_size=8), info=source.info)
    m.train(source, Meter("source", 40))
    ep, _ = tiny_episode(kind, shots=2, n_query=5)
    meter = Meter("adapt", 400)
    preds = m.predict(ep, meter)
    assert len(preds) == 5 and all(p.text and p.text in q.text for p, q in zip(preds, ep.query))
    assert meter.examples > len(ep.support)  # the support was encoded and a fit ran


def test_feature_cache_encodes_each_item_once() -> None:
    model = NgramBackbone(SMALL).build(INFO, 0)
    calls: list[int] = []
    featurize = model.featurize
    model.featurize = lambda items: calls.append(len(items)) or featurize(items)  # type: ignore[method-assign]
    cache = FeatureCache()
    items = sentiment("en", 5, 0)
    first = cache.encode(model, model.params(), items, "k")
    again = cache.encode(model, model.params(), items[::-1], "k")
    assert calls == [5] and again[0] is first[-1]
    cache.encode(model, model.params(), items[:2], "other-params")
    assert calls == [5, 2] and len(cache) == 7
    h, feats = collate(first)
    assert tuple(h.shape) == (5, 1, SMALL.hidden) and feats.mask.all()


def test_log_proba_matches_sklearn_where_finite() -> None:
    from baselines.logreg import _fit, _log_proba

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    for classes in (2, 3):
        clf = _fit(x, np.arange(30) % classes, 1.0, 50, scale=True)
        np.testing.assert_allclose(_log_proba(clf, x), clf.predict_log_proba(x), rtol=1e-7, atol=1e-6)
