"""The simplest engine: every group in this process, one after another."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from bench import store
from bench.executors.base import Executor, Summary
from bench.runner import Prepared, compute_group, open_run


class InlineExecutor(Executor):
    """Runs groups sequentially in the coordinator process (no isolation, no parallelism)."""

    def run(self, prepared: Prepared, progress: Callable[[dict], None]) -> Summary:
        pending = prepared.pending
        skipped = len(prepared.cells) - len(pending)
        if not pending:
            return Summary(0, skipped, {})
        statuses: Counter[str] = Counter()
        conn = open_run(prepared)
        try:
            for key, cells in prepared.groups().items():
                records = compute_group(prepared.suite.resolved(), prepared.run_dir,
                                        prepared.data_dir, key, cells, progress)
                store.index_records(conn, records, prepared.run_dir)
                statuses.update(r["status"] for r in records if r["type"] == "cell")
        finally:
            conn.close()
        return Summary(sum(statuses.values()), skipped, dict(statuses))
