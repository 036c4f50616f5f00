"""The executor contract: run every pending group of a prepared run, index what returns.

An executor decides *where* :func:`bench.runner.compute_group` runs (this process, worker
subprocesses, a Dask cluster, Slurm jobs). Whatever the engine, the coordinator — the
process that called :meth:`Executor.run` — is the only writer of the SQLite index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.runner import Prepared


@dataclass(frozen=True)
class Summary:
    """What a run did: counts by status, plus the cells skipped because they were done."""

    computed: int
    skipped: int
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        bad = sum(v for k, v in self.statuses.items() if k not in {"done", "n/a"})
        return 1 if bad else 0


class Executor(ABC):
    """Runs the pending groups of a prepared run."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    @abstractmethod
    def run(self, prepared: Prepared, progress: Callable[[dict], None]) -> Summary:
        """Compute every pending cell; index each record as it arrives."""
