"""``local`` (the default engine): groups run in N supervised worker subprocesses.

Each worker is a long-lived ``python -m bench.executors.worker`` in its own session (so a
terminal Ctrl-C reaches only the coordinator), killed with the coordinator even by
``kill -9`` (``PR_SET_PDEATHSIG``). A worker that crashes fails only the cell it was
computing (retried up to ``retries`` times, see :mod:`bench.executors.coordinator`); a
new worker replaces it. Options (suite ``executor:`` mapping)::

    executor: {name: local, workers: 2, retries: 2, timeout_s: 600}

``timeout_s`` bounds each cell (and the source training before the first cell).
Without ``workers`` (suite or ``--workers``) there is one worker per usable core, each with
one torch / BLAS thread: the rule and its overrides are in :mod:`bench.executors.threads`.
First Ctrl-C: stop scheduling, kill the workers, record running cells ``interrupted``,
exit 130. A second Ctrl-C while that happens exits at once.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench import store
from bench.executors.base import Executor, Summary
from bench.executors.coordinator import Coordinator, Flight
from bench.runner import Prepared

BUSY_RETRY_S = 1.0  # wait before retrying a group whose lease another process holds


@dataclass
class _Slot:
    """One worker subprocess and the group it is computing."""

    index: int
    proc: subprocess.Popen
    fd: int
    buffer: bytes = b""
    flight: Flight | None = None
    clock: float = field(default_factory=time.monotonic)  # start of the current cell (or group)
    dead: bool = False


class LocalExecutor(Executor):
    """N worker subprocesses on this machine, supervised by the coordinator."""

    def run(self, prepared: Prepared, progress: Callable[[dict], None]) -> Summary:
        if not prepared.pending:
            return Summary(0, len(prepared.cells), {})
        coord = Coordinator(prepared, self.options, progress)
        queue: deque[tuple[float, Flight]] = deque(
            (0.0, coord.flight(k, cells)) for k, cells in prepared.groups().items())
        from bench.executors.threads import default_workers

        requested = self.options.get("workers")
        workers = default_workers(len(queue), None if requested is None else int(requested))
        self._workers = workers
        self._slots: list[_Slot] = []
        self._sel = selectors.DefaultSelector()
        self._log_dir = prepared.run_dir / "logs"
        try:
            while queue or any(s.flight for s in self._slots):
                self._schedule(coord, queue, workers)
                self._pump(coord, queue, timeout=0.2)
        except KeyboardInterrupt:
            previous = signal.signal(signal.SIGINT, lambda *_: self._hard_exit())
            try:
                self._kill_all()
                coord.interrupt([s.flight for s in self._slots if s.flight])
            finally:
                signal.signal(signal.SIGINT, previous)
            raise
        finally:
            self._shutdown()
        return coord.summary()

    # --- workers --------------------------------------------------------------------

    def _spawn(self, index: int) -> _Slot:
        read, write = os.pipe()
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self._log_dir / f"worker-{index}.log", "ab")
        from bench.executors.threads import worker_env

        env = worker_env(self._workers)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([p for p in (root, env.get("PYTHONPATH")) if p])
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.executors.worker", str(write), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=(write,),
            start_new_session=True, env=env, cwd=os.getcwd(),
        )
        os.close(write)
        log.close()
        os.set_blocking(read, False)
        slot = _Slot(index, proc, read)
        self._sel.register(read, selectors.EVENT_READ, slot)
        return slot

    def _schedule(self, coord: Coordinator, queue: deque, workers: int) -> None:
        self._slots = [s for s in self._slots if not s.dead]
        while len(self._slots) < workers and queue:
            used = {s.index for s in self._slots}
            self._slots.append(self._spawn(min(set(range(workers)) - used)))
        now = time.monotonic()
        for slot in self._slots:
            if slot.flight is not None or not queue:
                continue
            ready = next((i for i, (t, _) in enumerate(queue) if t <= now), None)
            if ready is None:
                return
            _, flight = queue[ready]
            del queue[ready]
            flight = coord.flight(flight.key, flight.cells)
            slot.flight, slot.clock = flight, now
            assert slot.proc.stdin is not None  # workers start with stdin=PIPE
            try:
                slot.proc.stdin.write((json.dumps(coord.payload(flight)) + "\n").encode())
                slot.proc.stdin.flush()
            except BrokenPipeError:
                pass  # the worker died; _pump sees its pipe close

    def _pump(self, coord: Coordinator, queue: deque, timeout: float) -> None:
        for sel_key, _ in self._sel.select(timeout):
            slot: _Slot = sel_key.data
            try:
                chunk = os.read(slot.fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                self._lost(slot, coord, queue, "died", f"worker exited with status {slot.proc.wait()}")
                continue
            slot.buffer += chunk
            *lines, slot.buffer = slot.buffer.split(b"\n")
            for line in lines:
                self._event(slot, json.loads(line), coord, queue)
        if coord.timeout_s:
            for slot in self._slots:
                if slot.flight and not slot.dead and time.monotonic() - slot.clock > coord.timeout_s:
                    self._kill(slot)
                    self._lost(slot, coord, queue, "timeout", f"killed after {coord.timeout_s:g}s")

    def _event(self, slot: _Slot, event: dict, coord: Coordinator, queue: deque) -> None:
        kind = event["event"]
        if kind == "start":
            slot.clock = time.monotonic()
        elif kind == "record":
            coord.accept(event["record"], event["seconds"])
            slot.clock = time.monotonic()
        elif kind == "done":
            assert slot.flight is not None  # a worker reports only on the group it was given
            for rec in event["reused"]:
                coord.accept(rec, computed=False)
            coord.finished(slot.flight, busy=event["busy"])
            if event["busy"]:
                queue.append((time.monotonic() + BUSY_RETRY_S, slot.flight))
            slot.flight = None
        elif kind == "error":
            assert slot.flight is not None
            coord.lost(slot.flight, "error", event["error"])
            slot.flight = None
        elif kind == "fatal":  # the disk is full: stop the run (a rerun resumes it)
            raise store.DiskFull(event["error"])

    def _lost(self, slot: _Slot, coord: Coordinator, queue: deque, why: str, detail: str) -> None:
        slot.dead = True
        self._sel.unregister(slot.fd)
        os.close(slot.fd)
        if slot.flight is not None:
            left = coord.lost(slot.flight, why, detail)  # type: ignore[arg-type]
            if left:
                queue.appendleft((0.0, Flight(slot.flight.key, left)))
            slot.flight = None

    def _kill(self, slot: _Slot) -> None:
        try:
            os.killpg(slot.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        slot.proc.wait()

    def _kill_all(self) -> None:
        for slot in self._slots:
            self._kill(slot)

    def _hard_exit(self) -> None:
        """Second Ctrl-C: kill every worker and leave now."""
        for slot in getattr(self, "_slots", []):
            try:
                os.killpg(slot.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(130)

    def _shutdown(self) -> None:
        for slot in self._slots:
            try:
                if slot.proc.stdin is not None:
                    slot.proc.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for slot in self._slots:
            try:
                slot.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill(slot)
            if not slot.dead:
                slot.dead = True
                try:
                    self._sel.unregister(slot.fd)
                except (KeyError, ValueError):
                    pass
                os.close(slot.fd)
        self._sel.close()


__all__ = ["LocalExecutor"]
