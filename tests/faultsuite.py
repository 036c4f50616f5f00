"""Helpers for the fault tests: fake suites on disk, runs in-process or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from bench import store

ROOT = Path(__file__).resolve().parents[1]
FAKE = "tests.fakeplugin"


def write_suite(tmp: Path, fault: dict | None = None, executor: dict | None = None, langs: int = 2,
                seeds: tuple[int, ...] = (0, 1), shots: tuple[int, ...] = (0, 2), name: str = "fake") -> Path:
    """An 8-cell suite by default: 2 seeds x 2 target languages x 2 shots, 2 episodes each."""
    suite = {
        "name": name, "seeds": list(seeds), "shots": list(shots), "episodes": 2, "queries": 4,
        "budget": {"source_examples": 40, "adapt_examples": 100},
        "backbone": f"{FAKE}:FakeBackbone",
        "tasks": [{"name": f"{FAKE}:FakeTask", "label": "fake", "config": {"langs": langs}}],
        "methods": [{"name": f"{FAKE}:FakeMethod", "label": "m", "config": fault or {}}],
        "executor": executor or {"name": "local", "workers": 2, "retries": 1},
        "floors": False,  # the tests count cells of the fake method only
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), out.get("PYTHONPATH")) if p)
    return out


def spawn(suite: Path, results: Path, *extra: str) -> subprocess.Popen:
    """``xlbench run`` as a separate process (for kill -9 and Ctrl-C tests)."""
    return subprocess.Popen([sys.executable, "-m", "bench.cli", "run", "--suite", str(suite),
                             "--results-dir", str(results), *extra],
                            cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_dir(results: Path, name: str = "fake") -> Path:
    (one,) = store.run_dirs(results, name)
    return one


def records(run: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (run / "cells").glob("*.json")}


def attempt_pids(run: Path) -> set[int]:
    """Every worker pid that ever started a cell or a source unit of the run."""
    pids = set()
    for log in (run / "attempts").glob("*.log"):
        pids |= {int(line.split()[0]) for line in log.read_text().splitlines() if line.strip()}
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def done_record(run_id: str, cell) -> dict:
    """A valid ``done`` cell record for ``cell`` (a CellKey), as a worker writes it."""
    import dataclasses

    return {"type": "cell", "run_id": run_id, "suite": "fake", "key": dataclasses.asdict(cell),
            "kind": "classification", "status": "done", "reason": None, "attempts": 1,
            "scores": [{"episode": 0, "metric": "accuracy", "value": 50.0}],
            "audit": {"examples": 2, "steps": 1, "flops": 0.0, "seconds": 0.0, "cap": 100, "episodes": 1}}
