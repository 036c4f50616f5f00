"""The schema of a stored record (one cell or source-training file) and what to do with bad ones.

A file under ``cells/`` or ``source/`` counts as finished only if it parses as JSON *and*
validates here: the right ``type``, a complete key that matches the file's name, a known
``status``, and scores that are finite numbers. Anything else (``{}``, ``{"status": "done"}``,
``[]``, ``null``, truncated JSON, a file copied under another cell's name) is *corrupt*: it is
moved aside as ``<name>.corrupt-<n>`` (never deleted, so it can be inspected) and the cell is
computed again.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

#: Every status a cell record may have; ``interrupted`` is the only one that is not final.
STATUSES = ("done", "n/a", "diverged", "oom", "failed", "interrupted")
#: Final statuses that ``xlbench run --retry-failed`` computes again (a timeout is ``failed``).
RETRYABLE = ("failed", "oom")

CELL_KEY: dict[str, type] = {"task": str, "method": str, "seed": int, "budget": int, "lang": str, "shots": int}
SOURCE_KEY: dict[str, type] = {"task": str, "method": str, "seed": int, "budget": int}


def _typed(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


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
    fields = CELL_KEY if kind == "cell" else SOURCE_KEY
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
