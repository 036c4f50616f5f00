"""The worker side of every engine: compute one group under its lease.

:func:`run_group` is what a local subprocess, a Dask worker or a Slurm job runs. It takes a
JSON-able *payload* (see :func:`payload`), holds the group's lease (:mod:`bench.executors.lease`)
while it works, skips cells that already have a final record (another process finished
them), and returns the records. ``python -m bench.executors.worker FD PPID`` is the
long-lived local worker: one payload per stdin line, events as JSON lines on fd ``FD``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

from bench import store
from bench.executors import lease
from bench.types import CellKey, SourceKey

EventFn = Callable[[dict], None]


def payload(suite_dict: dict, run_dir: Path, data_dir: Path | None, key: SourceKey,
            cells: Sequence[CellKey], options: dict[str, Any]) -> dict:
    """Everything a worker needs to compute one group, as plain JSON-able data."""
    return {
        "suite": suite_dict,
        "run_dir": str(run_dir),
        "data_dir": None if data_dir is None else str(data_dir),
        "key": dataclasses.asdict(key),
        "cells": [dataclasses.asdict(c) for c in cells],
        "heartbeat_s": float(options.get("heartbeat_s", lease.HEARTBEAT_S)),
        "stale_s": float(options.get("stale_s", lease.STALE_S)),
    }


def run_group(job: dict, on_event: EventFn | None = None) -> dict:
    """Compute one group; returns ``{"busy", "records", "reused"}``.

    ``busy`` is True when a live process holds the group's lease (nothing was done; try
    again later), or took it over while this worker stalled (it stopped before the next
    cell). ``reused`` are the final records of cells someone already finished.
    Events: ``{"event": "start", "cell": id}`` before each cell, ``{"event": "record", ...}``
    after it.
    """
    from bench.runner import compute_group

    run_dir = Path(job["run_dir"])
    key = SourceKey(**job["key"])
    cells = [CellKey(**c) for c in job["cells"]]
    held = lease.Lease(lease.lock_path(run_dir, key.id()), job["heartbeat_s"], job["stale_s"])
    if not held.acquire():
        return {"busy": True, "records": [], "reused": []}
    try:
        reused, todo = [], []
        for cell in cells:
            rec = store.final_record(run_dir, cell.id())
            (reused.append(rec) if rec is not None else todo.append(cell))
        emit = on_event or (lambda event: None)

        def progress(event: dict) -> None:
            emit({"event": "record", "record": event["record"], "seconds": event["seconds"]})

        records = compute_group(job["suite"], run_dir, None if job["data_dir"] is None else Path(job["data_dir"]),
                                key, todo, progress, on_start=lambda c: emit({"event": "start", "cell": c.id()}),
                                owned=held.owned) if todo else []
        # A lease lost while we stalled: the new owner computes what we did not; ask again later.
        return {"busy": not held.owned(), "records": records, "reused": reused}
    finally:
        held.release()


def _die_with_parent(ppid: int) -> None:
    """Linux: SIGKILL this process when the coordinator dies (even by kill -9)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != ppid:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: Sequence[str]) -> int:
    """Local worker loop: read payloads from stdin, write events to the inherited fd."""
    fd, ppid = int(argv[0]), int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides about Ctrl-C
    _die_with_parent(ppid)
    from bench.executors.threads import apply_threads

    apply_threads()  # XLBENCH_THREADS, set by the local engine (bench.executors.threads)
    out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)

    def send(event: dict) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    send({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        start = time.perf_counter()
        try:
            result = run_group(job, send)
        except store.DiskFull as exc:  # not the cell's fault: the coordinator stops the run
            send({"event": "fatal", "error": str(exc)})
            continue
        except Exception:  # outside any cell (e.g. the task failed to build): the group fails
            send({"event": "error", "error": traceback.format_exc()[-8000:]})
            continue
        send({"event": "done", "busy": result["busy"], "reused": result["reused"],
              "seconds": time.perf_counter() - start})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
