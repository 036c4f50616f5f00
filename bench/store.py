"""Results on disk: per-cell JSON files (the truth) and a SQLite index (a cache of them).

Layout of one run (DESIGN.md, "Results and reports")::

    results/<suite>/<run-id>/
        manifest.json          git sha, versions, resolved suite
        languages.json         script / family / distance of every language of every task
        cells/<cell-id>.json   one per finished evaluation cell (atomic: temp, fsync, rename)
        source/<key>.json      source-training audit; <key>.safetensors its checkpoint
        attempts/<unit>.log    one line per start of a cell or source unit
        index.sqlite           scores + cells + audit of those files, reconciled on every open

``run-id`` is the fingerprint of the resolved suite, so rerunning a suite finds its run.
A record file counts only if it validates (:mod:`bench.record`); the index is a cache that
:func:`bench.index.open_index` reconciles with the files whenever a run starts or is read.
This module is the one a caller imports: it re-exports the writing and index functions.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from bench import record
from bench.errors import XlbenchError
from bench.index import (  # noqa: F401  (the store's public API)
    AUDIT_COLUMNS,
    CELL_COLUMNS,
    LANGUAGE_COLUMNS,
    SCORE_COLUMNS,
    connect,
    index_records,
    open_index,
    rebuild_index,
    reconcile,
)
from bench.record import DiskFull, disk_full_error, is_disk_full, notice, read_json, write_json  # noqa: F401

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass(frozen=True)
class Results:
    """Everything a report needs, as tidy DataFrames (every table is a pivot)."""

    scores: "pd.DataFrame"
    audit: "pd.DataFrame"
    cells: "pd.DataFrame"
    languages: "pd.DataFrame"
    manifests: tuple[dict, ...]


def cell_path(run_dir: Path, cell_id: str) -> Path:
    return run_dir / "cells" / f"{cell_id}.json"


def source_path(run_dir: Path, key_id: str, suffix: str = ".json") -> Path:
    return run_dir / "source" / f"{key_id}{suffix}"


def final_statuses(run_dir: Path) -> dict[str, str]:
    """Cell id -> status of every cell with a valid final record (any status but 'interrupted').

    A file that does not parse or validate (:mod:`bench.record`) is not finished: it is
    recomputed (and moved aside when the run's index is next opened).
    """
    out = {}
    for path in (run_dir / "cells").glob("*.json"):
        rec, _ = record.read(path)
        if rec is not None and rec["status"] != "interrupted":
            out[path.stem] = rec["status"]
    return out


def finished_cells(run_dir: Path) -> set[str]:
    """Ids of the cells that have a valid final record (any status but 'interrupted')."""
    return set(final_statuses(run_dir))


def attempt_path(run_dir: Path, unit_id: str) -> Path:
    return run_dir / "attempts" / f"{unit_id}.log"


def begin_attempt(run_dir: Path, unit_id: str) -> int:
    """Log that a worker starts ``unit_id`` (a cell id, or ``source__<key>``); returns the attempt number.

    One line per start, appended with ``O_APPEND`` (atomic for short lines), so the count
    survives workers that die mid-cell and coordinators that are killed.
    """
    path = attempt_path(run_dir, unit_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, f"{os.getpid()} {time.time():.3f}\n".encode())
        finally:
            os.close(fd)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        raise
    return attempts(run_dir, unit_id)


def attempts(run_dir: Path, unit_id: str) -> int:
    """How many times ``unit_id`` was started (0 if never)."""
    try:
        return attempt_path(run_dir, unit_id).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def final_record(run_dir: Path, cell_id: str) -> dict | None:
    """The cell's stored record if it is valid and final (not ``interrupted``), else None."""
    rec, _ = record.read(cell_path(run_dir, cell_id))
    return rec if rec is not None and rec["status"] != "interrupted" else None


def set_aside_for_retry(run_dir: Path, cell_id: str) -> None:
    """``--retry-failed``: keep the old record and attempt log as ``*.retried-<n>``, so the
    cell is computed afresh with a fresh attempt count."""
    record.set_aside(cell_path(run_dir, cell_id), "retried")
    if attempt_path(run_dir, cell_id).exists():
        record.set_aside(attempt_path(run_dir, cell_id), "retried")


def is_finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# --- loading ---------------------------------------------------------------------------


def run_dirs(results_root: Path, suite: str) -> list[Path]:
    """Runs of a suite, newest manifest last."""
    base = results_root / suite
    runs = [p.parent for p in base.glob("*/manifest.json")]
    return sorted(runs, key=lambda p: (p / "manifest.json").stat().st_mtime)


def load(dirs: Sequence[Path]) -> Results:
    """Read runs into tidy DataFrames, through each run's index reconciled with its files."""
    import pandas as pd

    frames: dict[str, list[pd.DataFrame]] = {"scores": [], "cells": [], "audit": []}
    languages, manifests = [], []
    for run_dir in dirs:
        if not (run_dir / "manifest.json").is_file():
            raise XlbenchError(f"{run_dir} is not a run folder (no manifest.json); "
                               "pass a folder like results/<suite>/<run-id>")
        manifests.append(read_json(run_dir / "manifest.json"))
        conn = open_index(run_dir)
        try:
            for table in frames:
                frames[table].append(pd.read_sql_query(f"SELECT * FROM {table}", conn))
        finally:
            conn.close()
        if (run_dir / "languages.json").is_file():
            languages += read_json(run_dir / "languages.json")
    columns = {"scores": SCORE_COLUMNS, "cells": CELL_COLUMNS, "audit": AUDIT_COLUMNS}
    out = {}
    for table, parts in frames.items():
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns[table]))
        df = df.reindex(columns=list(columns[table]))
        out[table] = df.sort_values([c for c in columns[table] if c not in {"value", "reason"}][:10],
                                    kind="stable").reset_index(drop=True)
    audit = out["audit"]
    audit.loc[audit["phase"] == "source", ["lang", "shots"]] = None
    langs = pd.DataFrame(languages, columns=list(LANGUAGE_COLUMNS)).drop_duplicates(["task", "lang"])
    return Results(out["scores"], audit, out["cells"], langs.reset_index(drop=True), tuple(manifests))
