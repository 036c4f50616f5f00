"""Executors: one contract (:class:`bench.executors.base.Executor`), several engines."""

EXECUTORS: dict[str, str] = {
    "inline": "bench.executors.inline:InlineExecutor",
}
