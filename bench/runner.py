"""Run a suite: preflight, plan cells, train each source unit once, evaluate, store.

The unit of work is a *group*: one (task, method, seed, budget) source-training unit and the
evaluation cells that reuse it (every target language × K). :func:`compute_group` is a pure
function of its arguments and the files under the run folder, so any executor (in-process,
subprocess, Dask, Slurm) can run it; it writes each finished cell atomically and returns the
records for the coordinator to index.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from bench import leakage, record, registry, store
from bench.errors import XlbenchError
from bench.method import method_role
from bench.seeding import derive_seed, generator
from bench.suite import Suite, TaskSpec, diff, instantiate, parse_suite, safe_name
from bench.types import CellKey, SourceKey, TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    import sqlite3

ProgressFn = Callable[[dict], None]


@dataclass(frozen=True)
class Prepared:
    """A validated run: every name resolved, every data file read, the run folder chosen."""

    suite: Suite
    run_dir: Path
    data_dir: Path | None
    infos: dict[str, TaskInfo]
    cells: tuple[CellKey, ...]
    done: frozenset[str]
    failed: frozenset[str] = frozenset()  # finished as failed/oom (in ``done``); --retry-failed redoes them
    retry: frozenset[str] = frozenset()  # failed/oom cells this invocation computes again (not in ``done``)
    data_files: tuple[str, ...] = ()  # every file the tasks read in preflight (hashed into the manifest)

    @property
    def pending(self) -> tuple[CellKey, ...]:
        return tuple(c for c in self.cells if c.id() not in self.done)

    def groups(self) -> dict[SourceKey, list[CellKey]]:
        out: dict[SourceKey, list[CellKey]] = {}
        for cell in self.pending:
            out.setdefault(cell.source_key, []).append(cell)
        return out


def build_task(spec: TaskSpec, data_dir: Path | None) -> Any:
    cls = registry.resolve("task", spec.name)
    return cls(instantiate(cls, spec.config), data_dir)


def build_backbone(spec: TaskSpec) -> Any:
    cls = registry.resolve("backbone", spec.backbone.name)
    return cls(instantiate(cls, spec.backbone.config))


def prepare(
    suite: Suite,
    results_root: Path,
    data_dir: Path | None,
    new_run: bool = False,
    only_tasks: Sequence[str] = (),
    only_methods: Sequence[str] = (),
    retry_failed: bool = False,
    floors: bool = True,
) -> Prepared:
    """Preflight: resolve names, validate data, check every task for parallel leakage
    (:func:`bench.leakage.check_task`), choose the run folder. Writes nothing.

    ``only_tasks`` / ``only_methods`` (labels of the suite) restrict which cells this
    invocation computes without changing the run: the rest stay for a later invocation.
    ``retry_failed`` makes cells recorded ``failed`` or ``oom`` (timeouts are ``failed``)
    pending again; :func:`open_run` sets their old records aside.
    ``floors`` (and the suite's own ``floors`` key) add the trivial baselines the suite
    omits (:mod:`bench.floors`); only a speed benchmark that times chosen methods, and
    framework tests that count cells, turn it off.
    """
    if floors and suite.floors:
        from bench.floors import with_floors

        suite = with_floors(suite)  # trivial floors are part of every suite
    from bench import datafiles
    from bench.task import check_roles

    infos: dict[str, TaskInfo] = {}
    with datafiles.recording() as read:
        for spec in suite.tasks:
            if only_tasks and spec.label not in only_tasks:
                continue
            task = build_task(spec, data_dir)
            check_roles(task.info())
            _validate(task, spec.label, suite.role)
            leakage.check_task(task, spec.label, suite.role)  # every task, also one that never mentions leakage
            infos[spec.label] = task.info()
            backbone = build_backbone(spec)
            if hasattr(backbone, "validate"):
                backbone.validate()
    for label, info in infos.items():
        for lang in (*info.source_langs, *info.dev_langs, *info.target_langs):
            safe_name(lang, f"language code of task {label!r}", "preflight")  # cell files are named by it
    for m in suite.methods:
        method_role(registry.resolve("method", m.name))  # a method without a valid role stops here
    run_dir = _choose_run_dir(suite, results_root, new_run)
    cells = tuple(
        CellKey(spec.label, m.label, seed, b.source_examples, lang, shots)
        for b in suite.budgets
        for spec in suite.tasks
        if spec.label in infos
        for m in suite.methods
        if not only_methods or m.label in only_methods
        for seed in suite.seeds
        for lang in _evaluated(infos[spec.label], suite.role)
        for shots in suite.shots
    )
    statuses = store.final_statuses(run_dir) if run_dir.exists() else {}
    wanted = {c.id() for c in cells}
    failed = frozenset(k for k, v in statuses.items() if v in record.RETRYABLE and k in wanted)
    retry = failed if retry_failed else frozenset()
    done = frozenset(statuses) - retry
    prepared = Prepared(suite, run_dir, data_dir, infos, cells, done, failed - retry, retry, tuple(sorted(read)))
    if prepared.pending:
        _check_same_code(run_dir)
    return prepared


def open_run(prepared: Prepared) -> "sqlite3.Connection":
    """Start computing a prepared run: write its manifest, set aside the records of the
    cells to retry, and open its index reconciled with the files (:func:`bench.store.open_index`).

    Every executor calls this once before its first group; the connection is its index writer.
    """
    write_manifest(prepared)
    for cell_id in sorted(prepared.retry):
        store.set_aside_for_retry(prepared.run_dir, cell_id)
    return store.open_index(prepared.run_dir)


def _check_same_code(run_dir: Path) -> None:
    """Refuse to add cells to a run begun by other code: one run, one git sha.

    (The alternative, a sha per cell and a report that says the run mixes versions, would
    let a table silently average two versions of a method.) Outside a git checkout, or for a
    manifest without a sha, there is nothing to compare.
    """
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        return
    try:
        started = store.read_json(manifest).get("git_sha")
    except (OSError, ValueError, AttributeError):
        return  # an unreadable manifest is reported where it is read
    now = _git_sha()
    if started and now and started != now:
        raise XlbenchError(
            f"run {run_dir} was started by code at git sha {started}, but this checkout is at {now}; "
            "finishing it would mix cells of two code versions in one table. Check out "
            f"{started[:12]} to finish it (git checkout {started[:12]}), or move that folder aside "
            "to compute the whole run again with this code."
        )


def _validate(task: Any, label: str, role: str) -> None:
    """``task.validate()``; for a tuning run ``task.validate("dev")``, which reads source
    and dev data only. A task whose ``validate`` takes no role cannot promise that."""
    if role == "target":
        task.validate()
        return
    import inspect

    if "role" not in inspect.signature(task.validate).parameters:
        raise XlbenchError(
            f"task {label!r} ({type(task).__name__}) overrides validate() without a 'role' "
            f"parameter, so it cannot be validated for tuning without reading target data; "
            f"give it `validate(self, role=\"target\")` that reads only source and dev data "
            f"when role is \"dev\" (see bench/task.py)"
        )
    task.validate(role)


def _evaluated(info: TaskInfo, role: str) -> tuple[str, ...]:
    """The languages a run evaluates: the dev ones in a tuning run, else the targets."""
    langs = info.dev_langs if role == "dev" else info.target_langs
    if not langs:
        raise XlbenchError(
            f"task {info.name!r} has no {role} languages; set {role}_langs in its config "
            f"(the suite's task 'config:')" + (" to tune it" if role == "dev" else "")
        )
    return langs


def _choose_run_dir(suite: Suite, results_root: Path, new_run: bool) -> Path:
    """``<suite>/<fingerprint>``; a rerun resumes the newest run of that fingerprint, and
    ``new_run`` starts a fresh folder (``<fingerprint>.<n>`` when the suite did not change)."""
    fingerprint = suite.fingerprint()
    run_dir = results_root / suite.name / fingerprint
    _check_writable(results_root)
    previous = store.run_dirs(results_root, suite.name)
    if new_run:
        n = 2
        while run_dir.exists() and (run_dir / "manifest.json").exists():
            run_dir, n = results_root / suite.name / f"{fingerprint}.{n}", n + 1
        return run_dir
    same = [d for d in previous if d.name == fingerprint or d.name.startswith(f"{fingerprint}.")]
    if same:
        return same[-1]
    if run_dir.exists():
        return run_dir  # begun but no manifest yet
    if previous:
        old = store.read_json(previous[-1] / "manifest.json")["suite"]
        changed = diff(old, suite.resolved())
        changed = [k for k in changed if not k.startswith(("executor", "description", "reference"))]
        raise XlbenchError(
            f"suite {suite.name!r} changed since its last run {previous[-1]} "
            f"(changed: {', '.join(changed) or 'code defaults'}). Rerun with --new-run to start "
            "a new run beside it, or restore the old settings to resume it."
        )
    return run_dir


def _check_writable(results_root: Path) -> None:
    import shutil
    import tempfile

    try:
        results_root.mkdir(parents=True, exist_ok=True)
        # a fresh name created with O_EXCL (mkstemp): never opens an existing file or
        # follows a symlink planted at a fixed name, so the probe cannot clobber anything
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=results_root)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise XlbenchError(f"results folder {results_root} is not writable ({exc}); "
                           "pass --results-dir with a writable folder") from exc
    free = shutil.disk_usage(results_root).free
    if free < 200 * 2**20:
        raise XlbenchError(f"only {free // 2**20} MiB free under {results_root}; free some disk "
                           "space or pass --results-dir on another disk")


def write_manifest(prepared: Prepared) -> None:
    """manifest.json and languages.json, once per run.

    The manifest holds the resolved suite and its fingerprint, the git sha (and whether the
    checkout was dirty), package versions, the machine (CPU model and flags, torch/BLAS
    build, threads: :func:`bench.provenance.machine`), every component's distribution and
    version, and the SHA-256 of every data file the tasks read in preflight."""
    from bench import datafiles, provenance

    run_dir = prepared.run_dir
    if not (run_dir / "manifest.json").exists():
        store.write_json(run_dir / "manifest.json", {
            "run_id": run_dir.name,
            "suite": prepared.suite.resolved(),
            "fingerprint": prepared.suite.fingerprint(),
            "git_sha": _git_sha(),
            "git_dirty": _git_dirty(),  # tracked files differed from git_sha when the run began
            "versions": _versions(),
            "machine": provenance.machine(),  # CPU model and flags, torch/BLAS build, threads
            "components": provenance.components(prepared.suite),  # every plugin's distribution and version
            "data_files": datafiles.digests(prepared.data_files),  # sha256 of every file the tasks read
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
    rows = []
    for label, info in prepared.infos.items():
        evaluated = info.dev_langs if prepared.suite.role == "dev" else info.target_langs
        for role, langs in (("source", info.source_langs), (prepared.suite.role, evaluated)):
            for lang in langs:
                meta = info.languages.get(lang)
                rows.append({"task": label, "lang": lang, "role": role,
                             "script": getattr(meta, "script", None), "family": getattr(meta, "family", None),
                             "distance": getattr(meta, "distance", None)})
    store.write_json(run_dir / "languages.json", rows)


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _git_dirty(cwd: Path = Path(__file__).parent) -> bool | None:
    """True when tracked files have uncommitted changes (so ``git_sha`` alone does not say
    which code produced the run); None outside a git checkout. ``reports/`` does not count:
    ``make bench`` rewrites the committed reports, and they do not change what a run computes."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                              ":(top)", ":(top,exclude)reports"],
                             cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("xlbench", "torch", "numpy", "scikit-learn", "transformers"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


# --- the work ----------------------------------------------------------------------------


def compute_group(
    suite_dict: dict,
    run_dir: Path,
    data_dir: Path | None,
    source_key: SourceKey,
    cells: Sequence[CellKey],
    progress: ProgressFn | None = None,
    on_start: Callable[[CellKey], None] | None = None,
    owned: Callable[[], bool] | None = None,
) -> list[dict]:
    """Train (or load) one source unit and evaluate its cells; returns the stored records.

    Takes the resolved suite as a plain dict so that it can be shipped to another process.
    Every cell ends with a record: ``done``, ``n/a``, ``diverged`` (a non-finite loss or
    score; no score is stored), ``oom`` or ``failed`` (the method raised; the error is kept).
    Each start of a cell is logged (:func:`bench.store.begin_attempt`), so a record's
    ``attempts`` counts the workers that died on it too. ``on_start`` is told before each cell.
    ``owned`` (the group's lease, :meth:`bench.executors.lease.Lease.owned`) is asked before each cell:
    a worker that stalled and lost its lease to another process stops instead of computing
    the group a second time. A full disk raises :class:`bench.store.DiskFull` (never a
    ``failed`` cell: the run stops and a rerun resumes).
    """
    from bench.budget import Meter
    from bench.episodes import build_episodes
    from bench.metrics import score
    from bench.task import evaluation_data

    suite = parse_suite(_unresolve(suite_dict), source="manifest")
    spec = next(t for t in suite.tasks if t.label == source_key.task)
    mspec = next(m for m in suite.methods if m.label == source_key.method)
    budget = next(b for b in suite.budgets if b.source_examples == source_key.budget)
    task = build_task(spec, data_dir)
    info = task.info()
    key = getattr(task, "episode_key", lambda label: label)(spec.label)  # seeds episodes and weights
    method_cls = registry.resolve("method", mspec.name)
    backbone = build_backbone(spec)
    init_seed = derive_seed("init", key, source_key.seed)
    method = method_cls(
        instantiate(method_cls, suite.method_config(spec.label, mspec.label)),
        lambda: backbone.build(info, init_seed),
        info,
        generator("method", key, mspec.label, source_key.seed),
    )
    generative = bool(getattr(backbone, "is_generative", lambda: False)())
    records: list[dict] = []
    needed = [c for c in cells if method.why_not(info, c.shots, generative) is None]
    source_outcome: dict[str, Any] | None = None  # set when source training did not succeed
    if needed:
        try:
            records += _source(method, task, source_key, budget.source_examples, run_dir, Meter)
        except store.DiskFull:
            raise
        except Exception as exc:  # recorded on every cell of the group, never swallowed
            source_outcome = _outcome(exc, "source")
    for cell in cells:
        if owned is not None and not owned():
            break  # another process took the group over while we stalled; it computes the rest
        start = time.perf_counter()
        if on_start:
            on_start(cell)
        reason = method.why_not(info, cell.shots, generative)
        rec: dict[str, Any] = {"type": "cell", "run_id": run_dir.name, "suite": suite.name,
                               "key": dataclasses.asdict(cell), "kind": info.kind,
                               "role": method_role(method_cls),
                               "attempts": store.begin_attempt(run_dir, cell.id())}
        if reason is not None:
            rec.update(status="n/a", reason=reason, scores=[], audit=None)
        elif source_outcome is not None:
            rec.update(source_outcome, scores=[], audit=None)
        else:
            rows, usage, status = [], {"examples": 0, "steps": 0, "flops": 0.0, "seconds": 0.0}, "done"
            episodes = build_episodes(key, info, evaluation_data(task, suite.role, cell.lang),
                                      cell.shots, suite.episodes, suite.queries, suite.role)
            # what K gave each episode: per class (classification) or items (bench.episodes)
            rec["realised_shots"] = [list(e.realised) for e in episodes]
            try:
                for scored in episodes:
                    meter = Meter("adapt", budget.adapt_examples)
                    preds = method.predict(scored.episode, meter)
                    if len(preds) != len(scored.episode.query):
                        raise XlbenchError(f"method {mspec.label!r} returned {len(preds)} predictions "
                                           f"for {len(scored.episode.query)} queries (one per query is the contract)")
                    for metric, value in score(info.kind, preds, scored.gold, info.num_labels).items():
                        if not store.is_finite(value):
                            status = "diverged"
                            continue
                        rows.append({"episode": scored.episode.index, "metric": metric, "value": float(value)})
                    used = meter.usage()
                    for k in usage:
                        usage[k] += getattr(used, k)
            except Exception as exc:
                outcome = _outcome(exc, "adapt")
                status, rows = outcome.pop("status"), []
                rec.update(outcome)
            if status == "diverged":
                rows = []  # a diverged cell has no valid score; none is stored
                rec.setdefault("reason", "a metric was NaN or infinite")
            rec.setdefault("reason", None)
            rec.update(status=status, scores=rows,
                       audit={**usage, "cap": budget.adapt_examples, "episodes": len(episodes)})
        store.write_json(store.cell_path(run_dir, cell.id()), rec)
        records.append(rec)
        if progress:
            progress({"cell": cell, "record": rec, "seconds": time.perf_counter() - start})
    return records


def _outcome(exc: BaseException, phase: str) -> dict[str, Any]:
    """The record fields for a cell whose training or adaptation raised ``exc``."""
    import traceback

    from bench.budget import Diverged

    if isinstance(exc, Diverged):
        return {"status": "diverged", "reason": f"{exc.phase} loss became {exc.loss} at step {exc.step}",
                "diverged": {"phase": exc.phase, "step": exc.step}}
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower():
        return {"status": "oom", "reason": f"out of memory during {phase}: {text}"}
    return {"status": "failed", "reason": f"{phase} raised {text}",
            "error": "".join(traceback.format_exception(exc))[-8000:]}


def _source(method: Any, task: Any, key: SourceKey, cap: int, run_dir: Path, meter_cls: type) -> list[dict]:
    """Train on source data once per (task, method, seed, budget), or load the checkpoint."""
    ckpt = store.source_path(run_dir, key.id(), ".safetensors")
    meta = store.source_path(run_dir, key.id())
    if ckpt.exists() and meta.exists():
        from safetensors.torch import load_file

        try:
            method.load_state(load_file(str(ckpt)))
            return []
        except NotImplementedError:
            pass
        except Exception as exc:  # a truncated or corrupt checkpoint: keep it aside, train again
            moved = record.set_aside(ckpt)
            store.notice(f"source checkpoint {ckpt} is unreadable ({type(exc).__name__}: {exc}); "
                         f"moved aside to {moved.name if moved else '(gone)'} and training again")
    from bench.budget import BudgetExhausted

    store.begin_attempt(run_dir, f"source__{key.id()}")
    meter = meter_cls("source", cap)
    try:
        method.train(task.source(), meter)
    except BudgetExhausted:
        pass  # the normal end of training
    usage = meter.usage()
    try:
        state = method.state()
    except NotImplementedError:
        state = None
    if state is not None:
        from safetensors.torch import save_file

        tmp = ckpt.with_suffix(".tmp")
        try:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
            tmp.replace(ckpt)
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if store.is_disk_full(exc):
                raise store.disk_full_error(ckpt, exc) from exc
            raise
    rec = {"type": "source", "run_id": run_dir.name, "key": dataclasses.asdict(key),
           "audit": {"examples": usage.examples, "steps": usage.steps, "flops": usage.flops,
                     "seconds": usage.seconds, "cap": usage.cap, "episodes": 0}}
    store.write_json(meta, rec)
    return [rec]


def _unresolve(resolved: dict) -> dict:
    """A resolved suite dict back into suite-file form (for parse_suite in a worker)."""
    def comp(c: dict) -> dict:
        return {"name": c["name"], "label": c["label"], "config": c["config"]}

    return {
        "name": resolved["name"],
        "description": resolved.get("description", ""),
        "seeds": resolved["seeds"],
        "shots": ["all" if s == -1 else s for s in resolved["shots"]],
        "episodes": resolved["episodes"],
        "queries": resolved["queries"],
        "budgets": resolved["budgets"],
        "backbone": comp(resolved["tasks"][0]["backbone"]),  # else the default is resolved (imports it)
        "tasks": [{**comp(t), "backbone": comp(t["backbone"])} for t in resolved["tasks"]],
        "methods": [comp(m) for m in resolved["methods"]],
        "executor": resolved.get("executor", {"name": "local"}),
        "reference": resolved.get("reference"),
        "tuning": {k: v for k, v in (resolved.get("tuning") or {}).items() if v is not None},
        "role": resolved.get("role", "target"),
        "tuned": resolved.get("tuned"),
        "floors": resolved.get("floors", True),
    }
