"""The e5 feature cache: same features as a fresh forward, invalidated by every key part,
atomic and corruption-safe entries, and ``train_layers: 0`` equal to ``frozen``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from bench.backbones.featurecache import FeatureCache, item_key
from bench.types import Answer, Example, TaskInfo
from tests.e5support import SENTENCES, units

TOPIC = TaskInfo("e5-topic", "classification", ("a", "b", "c"))
QA = TaskInfo("e5-qa", "qa")
SUMM = TaskInfo("e5-summ", "summarization")


def _cls_items(n: int = 6) -> list[Example]:
    return [Example(f"c{i}", "x", SENTENCES[i * 5][1], label=i % 3) for i in range(n)]


def _qa_items() -> list[Example]:
    ctx = " ".join(s for _, s in SENTENCES[:12])  # long enough for two windows at max_length 64
    return [
        Example("q0", "x", ctx, question="What floods the valley?", answers=(Answer("The river", 0),)),
        Example("q1", "x", SENTENCES[8][1], question="Столица?", answers=(Answer("Москва", 0),)),
    ]


def _summ_items() -> list[Example]:
    sents = tuple(s for _, s in SENTENCES[10:14])
    return [Example("s0", "x", " ".join(sents), summary=sents[0], sentences=sents),
            Example("s1", "x", " ".join(sents[:2]), summary=sents[1], sentences=sents[:2])]


@pytest.mark.parametrize("info,items,cfg", [
    (TOPIC, _cls_items, {}),
    (QA, _qa_items, {"max_length": 64, "stride": 16}),
    (SUMM, _summ_items, {}),
    (TOPIC, _cls_items, {"train_layers": 2}),
    (QA, _qa_items, {"max_length": 64, "stride": 16, "train_layers": 1}),
    (SUMM, _summ_items, {"train_layers": 1}),
], ids=["cls", "qa", "summ", "cls-top2", "qa-top1", "summ-top1"])
def test_cached_features_equal_a_fresh_forward(tmp_path, info, items, cfg):
    fresh = units(info, None, **cfg)
    cached = units(info, tmp_path, **cfg)
    xs = items()
    a = fresh.featurize(xs)
    cached.featurize(xs)  # writes the entries
    assert cached._cache.stats.written == len(xs) and cached._cache.stats.hits == 0
    b = cached.featurize(xs)  # reads them
    assert cached._cache.stats.hits == len(xs)
    torch.testing.assert_close(b.x, a.x, rtol=0, atol=1e-5)
    assert torch.equal(b.mask, a.mask)
    p = fresh.params()
    torch.testing.assert_close(cached.logits(p, b)[0], fresh.logits(p, a)[0], rtol=1e-4, atol=1e-4)


def test_a_batch_and_single_items_agree(tmp_path):
    """Length-bucketed batches (padding) do not change an item's features."""
    m = units(TOPIC, None)
    xs = _cls_items()
    together = m.featurize(xs).x
    alone = torch.cat([m.featurize([x]).x for x in xs])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("change", ["prefix", "max_length", "pooling", "text", "weights", "train_layers"])
def test_every_key_part_invalidates(tmp_path, change):
    xs = _cls_items(2)
    base = units(TOPIC, tmp_path)
    base.featurize(xs)
    cfg = {"prefix": {"prefix": "passage: "}, "max_length": {"max_length": 17}, "pooling": {"pooling": "cls"},
           "train_layers": {"train_layers": 1}}.get(change, {})
    other = units(TOPIC, tmp_path, **cfg)
    if change == "weights":
        other._weights_hash = "another-checkpoint"
    if change == "text":
        xs = [Example(x.item_id, x.lang, x.text + " !", label=x.label) for x in xs]
    got = other.featurize(xs)
    assert other._cache.stats.hits == 0 and other._cache.stats.misses == 2, change
    torch.testing.assert_close(got.x, units(TOPIC, None, **cfg).featurize(xs).x, rtol=0, atol=1e-5)


def test_train_layers_zero_equals_frozen():
    xs = _cls_items()
    frozen = units(TOPIC, None)
    zero = units(TOPIC, None, train_layers=0)
    assert set(zero.params()) == set(frozen.params()) == {"head.0.weight", "head.0.bias"}
    p = frozen.params()
    torch.testing.assert_close(zero.logits(p, zero.featurize(xs))[0], frozen.logits(p, frozen.featurize(xs))[0], rtol=1e-4, atol=1e-5)
    two = units(TOPIC, None, train_layers=2)
    assert {n.split(".")[0] for n in two.params()} == {"top", "head"} and len(two.top) == 2
    torch.testing.assert_close(two.logits(two.params(), two.featurize(xs))[0], frozen.logits(p, frozen.featurize(xs))[0], rtol=1e-4, atol=1e-4)


@pytest.mark.fault(area="store", case="feature cache entry corrupted", behaviour="entry removed and recomputed")
@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_entry_is_recomputed(tmp_path, damage):
    xs = _cls_items(2)
    m = units(TOPIC, tmp_path)
    want = m.featurize(xs).x
    path = m._cache.path(m.key(xs[0])[0])
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[-3] ^= 0xFF  # a payload byte: only the digest notices
    else:
        raw = bytearray(b"not a safetensors file")
    path.write_bytes(bytes(raw))
    again = units(TOPIC, tmp_path)
    got = again.featurize(xs).x
    assert again._cache.stats.corrupt == 1 and again._cache.stats.hits == 1
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    assert again._cache.get(*again.key(xs[0])) is not None  # rewritten whole


def test_key_text_mismatch_is_a_miss(tmp_path):
    c = FeatureCache(tmp_path)
    d, k = item_key({"text": "a"})
    c.put(d, k, torch.ones(3))
    assert c.get(d, k) is not None
    assert c.get(d, k + "x") is None and c.stats.corrupt == 1  # a (simulated) digest collision


@pytest.mark.fault(area="store", case="concurrent workers write the same feature entries", behaviour="atomic rename: no partial or mixed entry")
def test_concurrent_writers_leave_whole_entries(tmp_path):
    code = textwrap.dedent(f"""
        import sys, torch
        from bench.backbones.featurecache import FeatureCache, item_key
        c = FeatureCache({str(tmp_path)!r})
        for rep in range(3):
            for i in range(60):
                d, k = item_key({{"i": i}})
                c.put(d, k, torch.full((256,), float(i)))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    c = FeatureCache(tmp_path)
    for i in range(60):
        x = c.get(*item_key({"i": i}))
        assert x is not None and torch.equal(x, torch.full((256,), float(i)))
    assert c.stats.corrupt == 0
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary file left behind
