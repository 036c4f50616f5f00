"""The xlbench method contract, run on NearestCentroid (seconds, offline), plus its rule."""

import dataclasses

import pytest
from xlbench_nearest_centroid.method import NearestCentroid

from bench import failures, passed, registry, run_checks


def test_keeps_the_contract():
    results = run_checks(NearestCentroid)
    assert passed(results), failures(results)


def test_keeps_the_contract_without_cl2n():
    config = NearestCentroid.Config(center=False, normalize=False)
    results = run_checks(NearestCentroid, ["synth-topic"], config=config)
    assert passed(results), failures(results)


def test_one_shot_support_items_predict_their_own_label():
    from bench.contract.harness import Harness

    h = Harness(NearestCentroid, "synth-topic")
    episode = h.episode("a")
    one_shot = tuple({ex.label: ex for ex in episode.support}.values())  # one item per class
    # with one shot, each centroid *is* its support item: distance 0 to itself
    episode = dataclasses.replace(episode, support=one_shot, query=tuple(ex.as_query() for ex in one_shot))
    out = h.predict("a", episode)
    assert out.error is None, out.error
    assert [p.label for p in out.preds] == [ex.label for ex in one_shot]
    assert out.meter.examples == len(one_shot)  # one pass per support example


def test_registered_under_its_name():
    try:
        cls = registry.resolve("method", "nearest_centroid")
    except Exception:
        pytest.skip("not installed: pip install -e examples/nearest_centroid")
    assert cls is NearestCentroid
