"""Leases: a lock file per unit of work, kept alive by a heartbeat, taken over when stale.

Two processes working on the same run (two ``xlbench run`` started by mistake, a Slurm job
requeued while its first copy still runs) must not compute a group twice. Before a worker
computes a group it acquires ``<run>/locks/<group>.lock``:

* the file is created with ``O_CREAT | O_EXCL`` (atomic, also over NFS v3+) and holds the
  owner's host, pid and start time;
* a daemon thread touches it every ``heartbeat_s`` seconds (the mtime is the heartbeat);
* a lock is **stale** when its heartbeat is older than ``stale_s``, or when its owner ran on
  this host and that pid no longer exists. A stale lock is taken over: under a short
  ``flock`` on ``locks/.takeover`` the staleness is checked again, then the file is
  replaced by ours. So a dead worker (``kill -9``, a lost node) blocks its group for at
  most ``stale_s`` seconds, and a live one is never robbed.

The coordinator also reads heartbeats (:func:`heartbeat_age`) to notice workers that died
without telling anyone (a Slurm node lost) — no ``sacct`` needed.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

HEARTBEAT_S = 2.0  # seconds between heartbeats
STALE_S = 30.0  # a lock whose heartbeat is older than this is stale


def lock_path(run_dir: Path, unit_id: str) -> Path:
    return run_dir / "locks" / f"{unit_id}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_owner(path: Path) -> dict[str, Any] | None:
    """The owner recorded in a lock file, or None if there is no (readable) lock."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the lock's last heartbeat, or None if it does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None


def is_stale(path: Path, stale_s: float = STALE_S) -> bool:
    """True if the lock exists and its owner is dead (same host) or silent for ``stale_s``."""
    age = heartbeat_age(path)
    if age is None:
        return False
    if age > stale_s:
        return True
    owner = read_owner(path)
    if owner is None:  # being written right now, or garbage: trust the heartbeat
        return False
    return owner.get("host") == socket.gethostname() and not _pid_alive(int(owner.get("pid", -1)))


class Lease:
    """An exclusive, heartbeated claim on one unit of work (``with Lease(...) as held:``)."""

    def __init__(self, path: Path, heartbeat_s: float = HEARTBEAT_S, stale_s: float = STALE_S) -> None:
        self.path = path
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self.held = False
        self._token = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lease if it is free or stale; False if a live owner holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._create():
            return self._started()
        with open(self.path.parent / ".takeover", "a") as mutex:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            try:
                if self._create():
                    return self._started()
                if not is_stale(self.path, self.stale_s):
                    return False
                self.path.unlink(missing_ok=True)
                if self._create():
                    return self._started()
                return False
            finally:
                fcntl.flock(mutex, fcntl.LOCK_UN)

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"host": socket.gethostname(), "pid": os.getpid(), "token": self._token,
                       "since": time.time()}, fh)
        return True

    def _started(self) -> bool:
        self.held = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.path.stem}", daemon=True)
        self._thread.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return  # taken over (we were presumed dead); the owner check on release handles it

    def owned(self) -> bool:
        """Whether the lock file still names us (it may have been taken over while we stalled)."""
        owner = read_owner(self.path)
        return owner is not None and owner.get("token") == self._token

    def release(self) -> None:
        """Stop the heartbeat and remove the lock if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.held and self.owned():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
