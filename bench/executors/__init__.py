"""Executors: one contract (:class:`bench.executors.base.Executor`), several engines.

``local`` (default) runs groups in supervised worker subprocesses; ``dask`` on a Dask
cluster (an address, or a LocalCluster bound to 127.0.0.1); ``slurm`` as submitit job
arrays; ``inline`` in the coordinator process itself (no isolation; for debugging).
"""

DEFAULT_EXECUTOR = "local"

EXECUTORS: dict[str, str] = {
    "local": "bench.executors.local:LocalExecutor",
    "dask": "bench.executors.dask_engine:DaskExecutor",
    "slurm": "bench.executors.slurm:SlurmExecutor",
    "inline": "bench.executors.inline:InlineExecutor",
}
