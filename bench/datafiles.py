"""Which data files a run read, and their content hashes (recorded in the manifest).

Tasks report every file they read by calling :func:`note` — the shared readers in
:mod:`tasks.local` (``read_table``, ``read_labels``, ``read_json``) do it for every built-in
and YAML task; a plugin with its own reader calls ``note(path)`` too. The runner collects
the notes while preflight validates each task (:func:`recording`), and the manifest stores
each file's SHA-256 and size, hashed once per run (:func:`digests`): two runs with equal
manifests read byte-identical data.

Outside :func:`recording`, :func:`note` does nothing (a task used on its own records nothing).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from pathlib import Path
from typing import Iterator

_SEEN: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("xlbench_data_files", default=None)


def note(path: Path | str) -> None:
    """Record that ``path`` is being read (inside :func:`recording`; a no-op elsewhere)."""
    seen = _SEEN.get()
    if seen is not None:
        seen.add(str(Path(path).expanduser().resolve()))


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the paths :func:`note` is told about inside the block (nested blocks share)."""
    outer = _SEEN.get()
    if outer is not None:
        yield outer
        return
    seen: set[str] = set()
    token = _SEEN.set(seen)
    try:
        yield seen
    finally:
        _SEEN.reset(token)


def digests(paths: set[str] | list[str] | tuple[str, ...]) -> dict[str, dict[str, object]]:
    """``{path: {"sha256": ..., "bytes": ...}}`` of every path, sorted; a vanished file says so."""
    out: dict[str, dict[str, object]] = {}
    for path in sorted(paths):
        sha = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    sha.update(block)
            out[path] = {"sha256": sha.hexdigest(), "bytes": Path(path).stat().st_size}
        except OSError as exc:
            out[path] = {"sha256": None, "error": f"{type(exc).__name__}: {exc}"}
    return out
