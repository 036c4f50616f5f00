"""The coordinator's bookkeeping, shared by every engine that runs groups out of process.

It owns the SQLite index (the only writer in its run), turns what comes back from workers
into progress and counts, and decides what a lost worker means (docs/architecture.md, "Results and reports"):

* a worker that **died** (crash, ``kill -9``, preemption, lost node) costs the cell it was
  computing one attempt (``store.begin_attempt`` logged it); the group is resubmitted
  without its finished cells. A cell that used ``retries + 1`` attempts is recorded as
  ``failed`` with the error, and the run goes on. A death during source training charges
  the source unit the same way.
* a cell that ran past ``timeout_s`` is ``failed`` at once (a hang does not get better).
* on Ctrl-C the cells being computed are recorded as ``interrupted`` (not final: a rerun
  computes them again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from bench import record, store
from bench.executors.base import Summary
from bench.executors.worker import payload
from bench.runner import Prepared, open_run
from bench.types import CellKey, SourceKey

Loss = Literal["died", "timeout", "error"]


@dataclass
class Flight:
    """One submission of a group: the cells sent and their attempt counts when sent."""

    key: SourceKey
    cells: list[CellKey]
    before: dict[str, int] = field(default_factory=dict)
    source_before: int = 0


class Coordinator:
    """Indexes records, counts statuses, applies the retry policy for one run."""

    def __init__(self, prepared: Prepared, options: dict[str, Any], progress: Callable[[dict], None]) -> None:
        self.prepared = prepared
        self.run_dir = prepared.run_dir
        self.retries = int(options.get("retries", 2))
        self.timeout_s = float(options["timeout_s"]) if options.get("timeout_s") else None
        self.options = options
        self.progress = progress
        self.statuses: Counter[str] = Counter()
        self.computed = 0
        self.skipped = len(prepared.cells) - len(prepared.pending)
        self.group_losses: Counter[SourceKey] = Counter()
        self.accepted: set[str] = set()
        self.conn = open_run(prepared)  # manifest, retried cells set aside, index reconciled
        self._suite = prepared.suite.resolved()

    # --- submissions ----------------------------------------------------------------

    def flight(self, key: SourceKey, cells: list[CellKey]) -> Flight:
        before = {c.id(): store.attempts(self.run_dir, c.id()) for c in cells}
        return Flight(key, cells, before, store.attempts(self.run_dir, f"source__{key.id()}"))

    def payload(self, flight: Flight) -> dict:
        return payload(self._suite, self.run_dir, self.prepared.data_dir, flight.key, flight.cells, self.options)

    def unfinished(self, flight: Flight) -> list[CellKey]:
        return [c for c in flight.cells if store.final_record(self.run_dir, c.id()) is None]

    # --- what comes back ------------------------------------------------------------

    def accept(self, rec: dict, seconds: float = 0.0, computed: bool = True) -> None:
        """Index one record from a worker (or from the coordinator) and report progress.

        ``computed`` is False for records this run did not compute (another process did):
        they count as skipped, so each of two concurrent runs reports only its own cells.
        """
        store.index_records(self.conn, [rec], self.run_dir)
        if rec["type"] != "cell":
            return
        cell_id = CellKey(**rec["key"]).id()
        if cell_id in self.accepted:
            return
        self.accepted.add(cell_id)
        if computed:
            self.computed += 1
            self.statuses[rec["status"]] += 1
            self.progress({"cell": CellKey(**rec["key"]), "record": rec, "seconds": seconds})
        else:
            self.skipped += 1

    def finished(self, flight: Flight, busy: bool = False) -> None:
        """A group came back (or died): index its files (the truth) that no event brought.

        A cell counts as computed by this run only if its attempt log grew since the flight
        was sent and the worker held the group (``busy`` is False): otherwise another
        process finished it.
        """
        path = store.source_path(self.run_dir, flight.key.id())
        if (rec := record.read(path)[0]) is not None:
            store.index_records(self.conn, [rec], self.run_dir)
        for cell in flight.cells:  # finished by a worker that died before returning them
            if cell.id() not in self.accepted and (rec := store.final_record(self.run_dir, cell.id())):
                ours = not busy and store.attempts(self.run_dir, cell.id()) > flight.before.get(cell.id(), 0)
                self.accept(rec, computed=ours)

    def lost(self, flight: Flight, why: Loss, detail: str) -> list[CellKey]:
        """A worker stopped without finishing ``flight``: record what is final, return what to resubmit."""
        self.finished(flight)
        left = self.unfinished(flight)
        if not left:
            return []
        if why == "error":
            for cell in left:
                self._final(cell, "failed", f"the worker failed outside any cell: {detail}", detail)
            return []
        started = [c for c in left if store.attempts(self.run_dir, c.id()) > flight.before.get(c.id(), 0)]
        source_now = store.attempts(self.run_dir, f"source__{flight.key.id()}")
        for cell in started:
            n = store.attempts(self.run_dir, cell.id())
            if why == "timeout":
                self._final(cell, "failed", f"timed out after {self.timeout_s:g}s (attempt {n})", detail)
            elif n > self.retries:
                self._final(cell, "failed", f"the worker died on all {n} attempts ({detail})", detail)
        if not started:
            charged = source_now > flight.source_before
            self.group_losses[flight.key] += 0 if charged else 1
            if why == "timeout" or (charged and source_now > self.retries) or self.group_losses[flight.key] > self.retries:
                what = "timed out" if why == "timeout" else "the worker died"
                for cell in left:
                    self._final(cell, "failed", f"{what} before this cell started "
                                f"(source attempts: {source_now}; {detail})", detail)
        return self.unfinished(flight)

    def interrupt(self, flights: list[Flight]) -> None:
        """Ctrl-C: record the cells being computed as ``interrupted`` (a rerun redoes them)."""
        for flight in flights:
            for cell in self.unfinished(flight):
                if store.attempts(self.run_dir, cell.id()) > flight.before.get(cell.id(), 0):
                    self._write(cell, "interrupted", "interrupted by the user (Ctrl-C); a rerun computes it", None)
        self.conn.close()

    def _final(self, cell: CellKey, status: str, reason: str, error: str | None) -> None:
        rec = self._write(cell, status, reason, error)
        self.accept(rec)

    def _write(self, cell: CellKey, status: str, reason: str, error: str | None) -> dict:
        import dataclasses

        info = self.prepared.infos.get(cell.task)
        rec: dict[str, Any] = {"type": "cell", "run_id": self.run_dir.name, "suite": self.prepared.suite.name,
               "key": dataclasses.asdict(cell), "kind": getattr(info, "kind", None), "status": status,
               "reason": reason, "scores": [], "audit": None,
               "attempts": store.attempts(self.run_dir, cell.id())}
        if error:
            rec["error"] = error[-8000:]
        store.write_json(store.cell_path(self.run_dir, cell.id()), rec)
        if status == "interrupted":
            store.index_records(self.conn, [rec], self.run_dir)
        return rec

    def summary(self) -> Summary:
        self.conn.close()
        return Summary(self.computed, self.skipped, dict(self.statuses))
