"""MasakhaNEWS per-language caps: a content-hash sample in file order, not a file prefix
(upstream test and few-shot files are sorted by category, so a prefix held one topic)."""

from __future__ import annotations

import collections

import pytest

from tasks.masakhanews import MasakhaNews, Record, capped, item_id
from tests.realdata import real


def _rec(i: int, cat: str) -> Record:
    return Record(f"row {i}", f"text {i}", f"headline {i}", cat)


def test_capped_is_a_hash_sample_in_file_order():
    recs = [_rec(i, "a" if i < 50 else "b") for i in range(100)]  # sorted by category
    got = capped(recs, 20)
    want = sorted(recs, key=lambda r: item_id(r.text))[:20]
    assert {r.where for r in got} == {r.where for r in want}
    assert [int(r.where.split()[1]) for r in got] == sorted(int(r.where.split()[1]) for r in got)
    assert {r.category for r in got} == {"a", "b"}  # a prefix would hold only "a"
    assert capped(recs, None) == tuple(recs) and capped(recs, 500) == tuple(recs) and capped(recs, 0) == ()
    assert capped(list(reversed(recs)), 20) == tuple(reversed(got))  # independent of file order
    with pytest.raises(ValueError, match=">= 0"):
        capped(recs, -1)


def test_real_capped_test_sets_hold_several_topics():
    task = MasakhaNews(
        MasakhaNews.Config(max_source_per_lang=50, max_pool_per_lang=50, max_test_per_lang=100),
        real("masakhane-news"),
    )
    labels = task.info().labels
    eng = collections.Counter(labels[e.label] for e in task.target("eng").test)
    assert len(eng) >= 5 and max(eng.values()) < 40, eng  # the first 100 rows are all business
