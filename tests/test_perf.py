"""``xlbench perf``: the record's fields, the gradient checks, the threads rule, the text cache."""

from __future__ import annotations

import json

import pytest

from bench.backbones import hashing
from bench.executors import threads
from bench.perf import benchmark as perf

pytestmark = pytest.mark.usefixtures("one_thread")


def test_quick_perf_writes_a_record_whose_checks_pass(tmp_path, monkeypatch):
    # smaller than --quick: this test checks the plumbing, not the speed
    cfg = perf.PerfConfig(repeats=1, tasks=2, shots=1, queries=2, inner_steps=1, reptile_batch=2, hidden=(16,),
                          mm_size=64, eval_tasks=("synth-topic",), eval_methods=("majority",), eval_cells=1,
                          eval_source_examples=10, e5_sentences=0)
    monkeypatch.setattr(perf.PerfConfig, "quick", classmethod(lambda cls: cfg))
    out = tmp_path / "perf.json"
    assert perf.main(quick=True, json_path=str(out), threads=1) == 0
    rec = json.loads(out.read_text())
    assert rec["checks_passed"] is True and rec["machine"]["threads"] == 1
    steps = rec["meta_steps"]["16"]
    assert set(steps) == {"maml", "fomaml", "reptile", "protonet"}
    for r in steps.values():
        assert r["max_abs_diff"] <= perf.GRAD_TOL and r["check_passed"]
        assert r["flops"] > 0 and r["speedup_wall"] > 0
        for impl in ("xlbench", "reference"):
            w = r[impl]["wall"]
            assert w["min"] <= w["median"] <= w["max"] and r[impl]["pct_peak"] > 0
    assert rec["matmul_peak_gflops"] > 0
    assert rec["evaluation"]["groups"][0]["cells"] == 1 and rec["evaluation"]["cells_per_s"] > 0
    assert "gradient checks" in perf.render(rec)


def test_second_order_check_detects_a_wrong_reference():
    """The check can fail: a first-order reference differs from the second-order step."""
    import numpy as np

    from bench.backbones.ngram import Config, NgramBackbone
    from bench.perf import steps as P
    from bench.sampling import source_episode

    cfg = perf.PerfConfig(tasks=2, shots=2, queries=2)
    src = perf._five_way(cfg)
    model = NgramBackbone(Config(buckets=2**10, hidden=16)).build(src.info, 0)
    rng = np.random.default_rng(0)
    eps = [source_episode(src, lang, 2, 2, rng) for lang in sorted(src.train)[:2]]
    P.maml_xlbench(model, eps, steps=2, lr=0.5, first_order=False)
    so = P.dense_grads(model)
    P.maml_reference(model, eps, steps=2, lr=0.5, first_order=False)
    assert P.max_abs_diff(so, P.dense_grads(model)) <= perf.GRAD_TOL
    P.maml_reference(model, eps, steps=2, lr=0.5, first_order=True)
    assert P.max_abs_diff(so, P.dense_grads(model)) > perf.GRAD_TOL


def test_threads_rule(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    assert threads.default_workers(groups=90) == 4 and threads.threads_per_worker(4) == 1
    assert threads.default_workers(groups=2) == 2 and threads.threads_per_worker(2) == 2
    assert threads.default_workers(groups=90, requested=1) == 1 and threads.threads_per_worker(1) == 4
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.threads_per_worker(4) == 3
    monkeypatch.setenv(threads.THREADS_ENV, "zero")
    with pytest.raises(ValueError, match="XLBENCH_THREADS"):
        threads.threads_per_worker(1)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        threads.default_workers(groups=3, requested=0)


def test_worker_env_sets_blas_threads_unless_the_user_did(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    env = threads.worker_env(2, base={"OMP_NUM_THREADS": "7"})
    assert env[threads.THREADS_ENV] == "1" and env["OPENBLAS_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "7"


def test_text_cache_returns_read_only_ids_equal_to_uncached():
    words = ["héllo", "world"]
    ids = hashing.text_bag("Héllo world", 1, 4, 2**18, True, None)
    assert ids.tolist() == hashing.bag_ids(words, 1, 4, 2**18)
    assert not ids.flags.writeable
    assert hashing.text_bag("Héllo world", 1, 4, 2**18, True, 1).tolist() == hashing.bag_ids(words[:1], 1, 4, 2**18)
    bags = hashing.token_bags("a bc d", 1, 2, 2**10, True, 2)
    assert bags.truncated and bags.offsets == ((0, 1), (2, 4))
    assert bags.lengths.tolist() == [len(hashing.word_ngram_ids(w, 1, 2, 2**10)) for w in ("a", "bc")]
