"""The schema of a stored record (one cell or source-training file) and what to do with bad ones.

A file under ``cells/`` or ``source/`` counts as finished only if it parses as JSON *and*
validates here: the right ``type``, a complete key that matches the file's name, a known
``status``, and scores that are finite numbers. Anything else (``{}``, ``{"status": "done"}``,
``[]``, ``null``, truncated JSON, a file copied under another cell's name) is *corrupt*: it is
moved aside as ``<name>.corrupt-<n>`` (never deleted, so it can be inspected) and the cell is
computed again. Records are written atomically (:func:`write_json`); a full disk is
:class:`DiskFull`, never a failed cell.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.errors import XlbenchError

#: Every status a cell record may have; ``interrupted`` is the only one that is not final.
STATUSES = ("done", "n/a", "diverged", "oom", "failed", "interrupted")
#: Final statuses that ``xlbench run --retry-failed`` computes again (a timeout is ``failed``).
RETRYABLE = ("failed", "oom")

#: The key columns of the index's ``files`` table, in order (bench/index.py).
CELL_KEY = ("task", "method", "seed", "budget", "lang", "shots")
SOURCE_KEY = ("task", "method", "seed", "budget")


@functools.lru_cache(maxsize=2)
def key_fields(kind: str) -> dict[str, Any]:
    """Field -> type of a record's key, read from ``CellKey`` / ``SourceKey`` (declared once)."""
    import typing

    from bench.types import CellKey, SourceKey

    return typing.get_type_hints(CellKey if kind == "cell" else SourceKey)


def _typed(value: Any, kind: Any) -> bool:
    if isinstance(value, bool):
        return kind is bool
    try:
        return isinstance(value, kind)
    except TypeError:  # a type isinstance cannot check: accept what JSON gives
        return True


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def key_id(kind: str, key: dict) -> str:
    """The file stem of a record's key (``CellKey.id()`` / ``SourceKey.id()``)."""
    from bench.types import CellKey, SourceKey

    return CellKey(**key).id() if kind == "cell" else SourceKey(**key).id()


def problem(rec: Any, stem: str | None = None) -> str | None:
    """What is wrong with ``rec`` as a stored record (None when it is valid).

    ``stem``, when given, is the file's name without ``.json``: the key must produce it.
    """
    if not isinstance(rec, dict):
        return f"not a JSON object (got {type(rec).__name__ if rec is not None else 'null'})"
    kind = rec.get("type")
    if kind not in ("cell", "source"):
        return f"'type' is {kind!r}, not 'cell' or 'source'"
    fields = key_fields(kind)
    key = rec.get("key")
    if not isinstance(key, dict) or set(key) != set(fields):
        return f"'key' must have exactly the fields {sorted(fields)}, got {key!r}"
    bad = [f for f, t in fields.items() if not _typed(key[f], t)]
    if bad:
        return f"'key' fields {bad} have the wrong type ({ {f: key[f] for f in bad} })"
    if stem is not None and key_id(kind, key) != stem:
        return f"its key is {key_id(kind, key)!r}, not the file's name {stem!r}"
    if not isinstance(rec.get("run_id"), str):
        return "'run_id' is missing"
    audit = rec.get("audit")
    if kind == "source":
        return None if isinstance(audit, dict) else "a source record needs an 'audit' object"
    status = rec.get("status")
    if status not in STATUSES:
        return f"'status' is {status!r}; valid: {', '.join(STATUSES)}"
    scores = rec.get("scores")
    if not isinstance(scores, list):
        return "'scores' must be a list"
    for s in scores:
        if not (isinstance(s, dict) and _typed(s.get("episode"), int) and isinstance(s.get("metric"), str)
                and _number(s.get("value"))):
            return f"score {s!r} is not {{episode: int, metric: str, value: finite number}}"
    if status == "done" and (not scores or not isinstance(audit, dict)):
        return "a 'done' cell needs scores and an 'audit' object"
    if audit is not None and not isinstance(audit, dict):
        return "'audit' must be an object or null"
    return None


def read(path: Path) -> tuple[dict | None, str | None]:
    """``(record, None)`` if ``path`` parses and validates, else ``(None, what is wrong)``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({exc})"
    try:
        rec = json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON ({exc}; {len(text)} bytes, truncated?)"
    why = problem(rec, path.name[: -len(".json")] if path.name.endswith(".json") else None)
    return (None, why) if why else (rec, None)


def set_aside(path: Path, tag: str = "corrupt") -> Path | None:
    """Rename ``path`` to ``<name>.<tag>-<n>`` (the first free n); None if it is already gone."""
    n = 1
    while True:
        target = path.with_name(f"{path.name}.{tag}-{n}")
        if not target.exists():
            break
        n += 1
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return target


# --- writing ------------------------------------------------------------------------------


def notice(message: str) -> None:
    """One line on stderr about something xlbench repaired (a corrupt file, a rebuilt index)."""
    print(f"xlbench: {message}", file=sys.stderr, flush=True)


class DiskFull(XlbenchError):
    """The disk (or quota) filled up while writing results; finished cells are kept. Exit 1."""

    exit_code = 1


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return "No space left on device" in str(exc)


def disk_full_error(where: Path, exc: BaseException) -> DiskFull:
    """The message for a write that failed because the disk is full."""
    return DiskFull(f"disk full while writing {where} ({exc}). Free space under {where.parent} and rerun "
                    "the same `xlbench run` command: it resumes, finished cells are kept")


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically (a temp file in the same folder, fsync, rename), mode 0644.

    A full disk raises :class:`DiskFull` (and leaves no temp file behind).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        raise
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, sort_keys=True, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        raise


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
