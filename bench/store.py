"""Results on disk: per-cell JSON files (the truth) and a SQLite index (rebuildable).

Layout of one run (docs/architecture.md, "Results and reports")::

    results/<suite>/<run-id>/
        manifest.json          git sha, versions, resolved suite
        languages.json         script / family / distance of every language of every task
        cells/<cell-id>.json   one per finished evaluation cell (atomic: temp, fsync, rename)
        source/<key>.json      source-training audit; <key>.safetensors its checkpoint
        index.sqlite           scores + cells + audit, rebuilt from the files on demand

``run-id`` is the fingerprint of the resolved suite, so rerunning a suite finds its run.
Only one process (the coordinator) writes the index, inside ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SCORE_COLUMNS = (
    "run_id", "suite", "task", "kind", "method", "seed", "lang", "shots", "episode",
    "budget", "metric", "value",
)
CELL_COLUMNS = (
    "run_id", "task", "kind", "method", "seed", "lang", "shots", "budget", "status",
    "reason", "attempts", "role",
)
AUDIT_COLUMNS = (
    "run_id", "task", "method", "seed", "budget", "phase", "lang", "shots", "examples",
    "steps", "flops", "seconds", "cap", "episodes",
)
LANGUAGE_COLUMNS = ("task", "lang", "role", "script", "family", "distance")


@dataclass(frozen=True)
class Results:
    """Everything a report needs, as tidy DataFrames (every table is a pivot)."""

    scores: "pd.DataFrame"
    audit: "pd.DataFrame"
    cells: "pd.DataFrame"
    languages: "pd.DataFrame"
    manifests: tuple[dict, ...]


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically: a temp file in the same folder, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, sort_keys=True, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def cell_path(run_dir: Path, cell_id: str) -> Path:
    return run_dir / "cells" / f"{cell_id}.json"


def source_path(run_dir: Path, key_id: str, suffix: str = ".json") -> Path:
    return run_dir / "source" / f"{key_id}{suffix}"


def finished_cells(run_dir: Path) -> set[str]:
    """Ids of the cells that have a final record (any status but 'interrupted')."""
    out = set()
    for path in (run_dir / "cells").glob("*.json"):
        try:
            if read_json(path).get("status") != "interrupted":
                out.add(path.stem)
        except (OSError, ValueError):
            continue  # an unreadable file is not finished; it will be recomputed
    return out


def attempt_path(run_dir: Path, unit_id: str) -> Path:
    return run_dir / "attempts" / f"{unit_id}.log"


def begin_attempt(run_dir: Path, unit_id: str) -> int:
    """Log that a worker starts ``unit_id`` (a cell id, or ``source__<key>``); returns the attempt number.

    One line per start, appended with ``O_APPEND`` (atomic for short lines), so the count
    survives workers that die mid-cell and coordinators that are killed.
    """
    path = attempt_path(run_dir, unit_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()} {time.time():.3f}\n".encode())
    finally:
        os.close(fd)
    return attempts(run_dir, unit_id)


def attempts(run_dir: Path, unit_id: str) -> int:
    """How many times ``unit_id`` was started (0 if never)."""
    try:
        return attempt_path(run_dir, unit_id).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def final_record(run_dir: Path, cell_id: str) -> dict | None:
    """The cell's stored record if it is final (not ``interrupted``), else None."""
    try:
        rec = read_json(cell_path(run_dir, cell_id))
    except (OSError, ValueError):
        return None
    return rec if rec.get("status") != "interrupted" else None


def is_finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# --- SQLite index -----------------------------------------------------------------------

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS scores ({", ".join(SCORE_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, lang, shots, episode, metric));
CREATE TABLE IF NOT EXISTS cells ({", ".join(CELL_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, lang, shots));
CREATE TABLE IF NOT EXISTS audit ({", ".join(AUDIT_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, phase, lang, shots));
"""


def connect(run_dir: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(run_dir / "index.sqlite", timeout=60, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # the index is rebuildable; the cell files are fsynced
    conn.executescript(_SCHEMA)
    if "role" not in {row[1] for row in conn.execute("PRAGMA table_info(cells)")}:
        try:  # an index written before cell records stored the method's role
            conn.execute("ALTER TABLE cells ADD COLUMN role")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise
    return conn


def index_records(conn: sqlite3.Connection, records: Iterable[dict]) -> None:
    """Insert cell and source records into the index in one ``BEGIN IMMEDIATE`` transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for rec in records:
            _index_one(conn, rec)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _insert(conn: sqlite3.Connection, table: str, columns: Sequence[str], row: dict) -> None:
    marks = ", ".join("?" for _ in columns)
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [row.get(c) for c in columns],
    )


def _index_one(conn: sqlite3.Connection, rec: dict) -> None:
    key = rec["key"]
    if rec["type"] == "source":
        _insert(conn, "audit", AUDIT_COLUMNS, {**key, "run_id": rec["run_id"], "phase": "source",
                                               "lang": "", "shots": -2, **rec["audit"]})
        return
    base = {**key, "run_id": rec["run_id"], "suite": rec["suite"], "kind": rec["kind"]}
    _insert(conn, "cells", CELL_COLUMNS, {**base, "status": rec["status"],
                                          "reason": rec.get("reason"), "attempts": rec.get("attempts", 1),
                                          "role": rec.get("role")})
    if rec.get("audit"):
        _insert(conn, "audit", AUDIT_COLUMNS, {**base, "phase": "adapt", **rec["audit"]})
    for s in rec.get("scores", []):
        _insert(conn, "scores", SCORE_COLUMNS, {**base, **s})


def rebuild_index(run_dir: Path) -> int:
    """Recreate ``index.sqlite`` from the per-cell files; returns the number of records."""
    db = run_dir / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    records = [read_json(p) for p in sorted((run_dir / "source").glob("*.json"))]
    records += [read_json(p) for p in sorted((run_dir / "cells").glob("*.json"))]
    conn = connect(run_dir)
    try:
        index_records(conn, records)
    finally:
        conn.close()
    return len(records)


# --- loading ---------------------------------------------------------------------------


def run_dirs(results_root: Path, suite: str) -> list[Path]:
    """Runs of a suite, newest manifest last."""
    base = results_root / suite
    runs = [p.parent for p in base.glob("*/manifest.json")]
    return sorted(runs, key=lambda p: (p / "manifest.json").stat().st_mtime)


def load(dirs: Sequence[Path]) -> Results:
    """Read runs into tidy DataFrames. Reads the index; rebuilds it when it is missing."""
    import pandas as pd

    frames: dict[str, list[pd.DataFrame]] = {"scores": [], "cells": [], "audit": []}
    languages, manifests = [], []
    for run_dir in dirs:
        if not (run_dir / "manifest.json").is_file():
            from bench.errors import XlbenchError

            raise XlbenchError(f"{run_dir} is not a run folder (no manifest.json); "
                               "pass a folder like results/<suite>/<run-id>")
        manifests.append(read_json(run_dir / "manifest.json"))
        if not (run_dir / "index.sqlite").is_file():
            rebuild_index(run_dir)
        conn = connect(run_dir)
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
