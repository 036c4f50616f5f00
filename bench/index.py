"""``index.sqlite``: the SQLite index of one run, a cache of its record files, never the truth.

:func:`open_index` (called when a run starts, and whenever ``xlbench results`` / ``report``
read a run) *reconciles* it with the files: a file the index lacks is indexed, rows whose
file is gone, changed or corrupt are dropped, and so are rows no file backs. It stats every
file but parses only new or changed ones (the ``files`` table keeps each file's inode, mtime
and size). A corrupt or truncated index is rebuilt, saying so in one line; a run folder that
cannot be written (a read-only mount, an archived copy) is read through an in-memory copy
and left untouched. Every write is one ``BEGIN IMMEDIATE`` transaction; a full disk raises
:class:`bench.record.DiskFull`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterable, Sequence

from bench import record
from bench.record import disk_full_error, is_disk_full, notice

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
FILE_COLUMNS = ("name", "ino", "mtime_ns", "size", "type", "task", "method", "seed", "budget", "lang", "shots")

Say = Callable[[str], None]


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS scores ({", ".join(SCORE_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, lang, shots, episode, metric));
CREATE TABLE IF NOT EXISTS cells ({", ".join(CELL_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, lang, shots));
CREATE TABLE IF NOT EXISTS audit ({", ".join(AUDIT_COLUMNS)},
    PRIMARY KEY (task, method, seed, budget, phase, lang, shots));
CREATE TABLE IF NOT EXISTS files ({", ".join(FILE_COLUMNS)}, PRIMARY KEY (name));
CREATE INDEX IF NOT EXISTS files_key ON files (type, task, method, seed, budget, lang, shots);
"""

_CELL_MATCH = ("f.type = 'cell' AND f.task = {t}.task AND f.method = {t}.method AND f.seed = {t}.seed "
               "AND f.budget = {t}.budget AND f.lang = {t}.lang AND f.shots = {t}.shots")
_SOURCE_MATCH = ("f.type = 'source' AND f.task = {t}.task AND f.method = {t}.method AND f.seed = {t}.seed "
                 "AND f.budget = {t}.budget")
#: Rows that no indexed file backs (left by an older index, a killed writer, a record
#: indexed from an event whose file never landed): dropped by every reconcile.
_ORPHANS = (
    f"DELETE FROM cells WHERE NOT EXISTS (SELECT 1 FROM files f WHERE {_CELL_MATCH.format(t='cells')})",
    f"DELETE FROM scores WHERE NOT EXISTS (SELECT 1 FROM files f WHERE {_CELL_MATCH.format(t='scores')})",
    f"DELETE FROM audit WHERE phase = 'adapt' AND NOT EXISTS "
    f"(SELECT 1 FROM files f WHERE {_CELL_MATCH.format(t='audit')})",
    f"DELETE FROM audit WHERE phase = 'source' AND NOT EXISTS "
    f"(SELECT 1 FROM files f WHERE {_SOURCE_MATCH.format(t='audit')})",
)


def connect(run_dir: Path) -> sqlite3.Connection:
    """The run's on-disk index, as it is (no reconcile; see :func:`open_index`)."""
    conn = sqlite3.connect(run_dir / "index.sqlite", timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # the index is a cache; the cell files are fsynced
        conn.executescript(_SCHEMA)
        if "role" not in {row[1] for row in conn.execute("PRAGMA table_info(cells)")}:
            try:  # an index written before cell records stored the method's role
                conn.execute("ALTER TABLE cells ADD COLUMN role")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
    except BaseException:
        conn.close()
        raise
    return conn


def _transaction(conn: sqlite3.Connection, work: Callable[[], None], where: Path | None = None) -> None:
    """Run ``work`` inside ``BEGIN IMMEDIATE``; a full disk raises :class:`DiskFull`.

    SQLite rolls a transaction back by itself when COMMIT fails for lack of space; only a
    transaction still open is rolled back here.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            work()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        if is_disk_full(exc):
            raise disk_full_error(where or Path("index.sqlite"), exc) from exc
        raise


def index_records(conn: sqlite3.Connection, records: Iterable[dict], run_dir: Path | None = None) -> None:
    """Index cell and source records in one transaction; each replaces every row of its key.

    With ``run_dir``, each record's file is noted with its inode, mtime and size, so the next
    reconcile does not parse it again.
    """
    records = list(records)

    def work() -> None:
        for rec in records:
            _drop(conn, rec["type"], rec["key"])
            _index_one(conn, rec)
            if run_dir is not None:
                name = f"{'cells' if rec['type'] == 'cell' else 'source'}/{record.key_id(rec['type'], rec['key'])}.json"
                try:
                    st = os.stat(run_dir / name)
                except FileNotFoundError:
                    continue  # no file: the row is an orphan, dropped by the next reconcile
                _note(conn, name, (st.st_ino, st.st_mtime_ns, st.st_size), rec)

    _transaction(conn, work, None if run_dir is None else run_dir / "index.sqlite")


def _insert(conn: sqlite3.Connection, table: str, columns: Sequence[str], row: dict) -> None:
    marks = ", ".join("?" for _ in columns)
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [row.get(c) for c in columns],
    )


def _drop(conn: sqlite3.Connection, kind: str, key: dict) -> None:
    """Delete every index row of one cell (scores, cell, adaptation audit) or source unit."""
    base = "task = ? AND method = ? AND seed = ? AND budget = ?"
    head = [key["task"], key["method"], key["seed"], key["budget"]]
    if kind == "source":
        conn.execute(f"DELETE FROM audit WHERE phase = 'source' AND {base}", head)
        return
    where, values = f"{base} AND lang = ? AND shots = ?", [*head, key["lang"], key["shots"]]
    conn.execute(f"DELETE FROM scores WHERE {where}", values)
    conn.execute(f"DELETE FROM cells WHERE {where}", values)
    conn.execute(f"DELETE FROM audit WHERE phase = 'adapt' AND {where}", values)


def _note(conn: sqlite3.Connection, name: str, sig: tuple[int, int, int], rec: dict) -> None:
    _insert(conn, "files", FILE_COLUMNS, {"name": name, "ino": sig[0], "mtime_ns": sig[1], "size": sig[2],
                                          "type": rec["type"], **rec["key"]})


def _index_one(conn: sqlite3.Connection, rec: dict) -> None:
    key = rec["key"]
    if rec["type"] == "source":
        _insert(conn, "audit", AUDIT_COLUMNS, {**key, "run_id": rec["run_id"], "phase": "source",
                                               "lang": "", "shots": -2, **rec["audit"]})
        return
    base = {**key, "run_id": rec["run_id"], "suite": rec.get("suite"), "kind": rec.get("kind")}
    _insert(conn, "cells", CELL_COLUMNS, {**base, "status": rec["status"],
                                          "reason": rec.get("reason"), "attempts": rec.get("attempts", 1),
                                          "role": rec.get("role")})
    if rec.get("audit"):
        _insert(conn, "audit", AUDIT_COLUMNS, {**base, "phase": "adapt", **rec["audit"]})
    for s in rec.get("scores", []):
        _insert(conn, "scores", SCORE_COLUMNS, {**base, **s})


def _disk_files(run_dir: Path) -> dict[str, tuple[int, int, int]]:
    """``cells/<id>.json`` / ``source/<key>.json`` -> (inode, mtime_ns, size), by one scandir each."""
    out = {}
    for sub in ("source", "cells"):
        try:
            with os.scandir(run_dir / sub) as entries:
                for entry in entries:
                    if entry.name.endswith(".json") and not entry.name.startswith("."):
                        try:
                            st = entry.stat()
                        except FileNotFoundError:
                            continue
                        out[f"{sub}/{entry.name}"] = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            continue
    return out


def reconcile(conn: sqlite3.Connection, run_dir: Path, writable: bool = True, say: Say = notice) -> int:
    """Make the index agree with the files of ``run_dir``; returns how many files were (re)indexed.

    New or changed files (by inode, mtime, size) are parsed and validated; a corrupt one is
    reported with its path and, when the folder is writable, moved aside as
    ``<name>.corrupt-<n>`` (:func:`bench.record.set_aside`) so that the next run recomputes
    it. Rows of files that are gone, changed or corrupt, and rows that no file backs, are
    dropped. Costs one ``stat`` per file and one parse per new or changed file.
    """
    known = {row[0]: (tuple(row[1:4]), row[4:]) for row in
             conn.execute("SELECT name, ino, mtime_ns, size, type, task, method, seed, budget, lang, shots FROM files")}
    disk = _disk_files(run_dir)
    fresh, bad = [], []
    for name, sig in sorted(disk.items()):
        if name in known and known[name][0] == sig:
            continue
        rec, why = record.read(run_dir / name)
        if rec is None:
            bad.append(name)
            if why == "missing":
                continue  # removed while we looked
            moved = record.set_aside(run_dir / name) if writable else None
            what = (f"moved aside to {moved.name}; the next `xlbench run` computes it again" if moved else
                    "left in place (folder not writable) and left out of the results")
            say(f"corrupt result file {run_dir / name}: {why}; {what}")
            continue
        fresh.append((name, sig, rec))
    stale = [n for n in known if n not in disk or n in bad or any(n == f[0] for f in fresh)]

    def work() -> None:
        for name in stale:
            kind, *key = known[name][1]
            fields = record.CELL_KEY if kind == "cell" else record.SOURCE_KEY
            _drop(conn, kind, dict(zip(fields, key)))
            conn.execute("DELETE FROM files WHERE name = ?", (name,))
        for name, sig, rec in fresh:
            _drop(conn, rec["type"], rec["key"])
            _index_one(conn, rec)
            _note(conn, name, sig, rec)
        for sql in _ORPHANS:
            conn.execute(sql)

    _transaction(conn, work, run_dir / "index.sqlite")
    return len(fresh)


def _writable(run_dir: Path) -> bool:
    db = run_dir / "index.sqlite"
    return os.access(run_dir, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def _checked(conn: sqlite3.Connection) -> sqlite3.Connection:
    verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if verdict != "ok":
        raise sqlite3.DatabaseError(verdict)
    conn.execute("SELECT COUNT(*) FROM files").fetchone()
    return conn


def _in_memory(run_dir: Path, say: Say) -> sqlite3.Connection:
    """A private copy of the index (read without writing anything: ``immutable=1``)."""
    from urllib.parse import quote

    mem = sqlite3.connect(":memory:", isolation_level=None)
    db = run_dir / "index.sqlite"
    if db.is_file():
        try:
            src = sqlite3.connect(f"file:{quote(str(db.resolve()))}?immutable=1", uri=True)
            try:
                src.backup(mem)
            finally:
                src.close()
            mem.executescript(_SCHEMA)
            return _checked(mem)
        except sqlite3.DatabaseError as exc:
            mem.close()
            mem = sqlite3.connect(":memory:", isolation_level=None)
            say(f"index {db} is unreadable ({exc}); read the result files instead (folder not writable)")
    mem.executescript(_SCHEMA)
    return mem


def open_index(run_dir: Path, say: Say = notice) -> sqlite3.Connection:
    """The run's index, reconciled with its files (see the module docstring).

    A corrupt or truncated ``index.sqlite`` is rebuilt from the files, saying so in one line.
    When the folder cannot be written, the index is an in-memory copy and nothing is written.
    """
    writable = _writable(run_dir)
    conn = None
    if writable:
        db = run_dir / "index.sqlite"
        try:
            conn = _checked(connect(run_dir))
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if is_disk_full(exc):
                raise disk_full_error(db, exc) from exc
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                writable = False  # e.g. a read-only mount that os.access did not see
            else:
                say(f"index {db} was unreadable ({exc}); rebuilt it from the result files")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                conn = connect(run_dir)
    if not writable:
        conn = _in_memory(run_dir, say)
    assert conn is not None
    try:
        reconcile(conn, run_dir, writable, say)
    except sqlite3.OperationalError as exc:
        if not writable or "readonly" not in str(exc):
            raise
        conn.close()
        conn = _in_memory(run_dir, say)
        reconcile(conn, run_dir, False, say)
    return conn


def rebuild_index(run_dir: Path) -> int:
    """Recreate ``index.sqlite`` from the result files; returns the number of records."""
    db = run_dir / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = open_index(run_dir)
    try:
        return conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    finally:
        conn.close()
