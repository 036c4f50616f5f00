"""``dask``: groups as tasks on a Dask cluster (named ``dask_engine`` so it never shadows ``dask``).

Options (suite ``executor:`` mapping)::

    executor: {name: dask, address: "tcp://10.0.0.5:8786"}    # an existing scheduler
    executor: {name: dask, workers: 4, retries: 2}             # a LocalCluster on 127.0.0.1
    executor: {name: dask, gpus_per_group: 1}                  # tasks need resource GPU=1

A LocalCluster binds its scheduler, workers and dashboard to 127.0.0.1 only. Worker death
(``KilledWorker``, lost connections) goes through the same retry policy as ``local``
(:mod:`bench.executors.coordinator`); on our own cluster Dask's silent re-execution is
turned off (``allowed-failures: 0``) so every attempt is counted once. ``timeout_s`` bounds a
whole group here: the worker running it is restarted.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from bench import store
from bench.executors.base import Executor, Summary
from bench.executors.coordinator import Coordinator, Flight
from bench.executors.worker import run_group
from bench.runner import Prepared

BUSY_RETRY_S = 1.0


def _cluster(options: dict[str, Any]) -> tuple[Any, Any]:
    import dask
    from distributed import Client, LocalCluster

    if options.get("address"):
        return Client(options["address"]), None
    gpus = int(options.get("gpus_per_group", 0))
    resources = {"GPU": _gpu_count()} if gpus else None
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=int(options.get("workers", 1)), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, resources=resources,
                               silence_logs=40, worker_dashboard_address=None)
        return Client(cluster), cluster


def _gpu_count() -> int:
    import torch

    return max(1, torch.cuda.device_count())


class DaskExecutor(Executor):
    """Submit each group as a Dask task; the coordinator indexes what comes back."""

    def run(self, prepared: Prepared, progress: Callable[[dict], None]) -> Summary:
        if not prepared.pending:
            return Summary(0, len(prepared.cells), {})
        coord = Coordinator(prepared, self.options, progress)
        client, cluster = _cluster(self.options)
        gpus = int(self.options.get("gpus_per_group", 0))
        resources = {"GPU": gpus} if gpus else None
        running: dict[Any, tuple[Flight, float]] = {}
        waiting: list[tuple[float, Flight]] = [(0.0, coord.flight(k, c)) for k, c in prepared.groups().items()]
        try:
            while waiting or running:
                now = time.monotonic()
                for item in [w for w in waiting if w[0] <= now]:
                    waiting.remove(item)
                    flight = coord.flight(item[1].key, item[1].cells)
                    fut = client.submit(run_group, coord.payload(flight), key=f"{flight.key.id()}-{time.time_ns()}",
                                        resources=resources, pure=False, retries=0)
                    running[fut] = (flight, now)
                self._collect(client, coord, running, waiting)
        except KeyboardInterrupt:
            for fut in running:
                fut.cancel()
            coord.interrupt([f for f, _ in running.values()])
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return coord.summary()

    def _collect(self, client: Any, coord: Coordinator, running: dict, waiting: list) -> None:
        from distributed import wait

        if not running:
            time.sleep(0.2)
            return
        try:
            done, _ = wait(list(running), timeout=0.5, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for fut in done:
            flight, _ = running.pop(fut)
            try:
                result = fut.result()
            except store.DiskFull:
                raise  # the run stops; a rerun resumes it
            except Exception as exc:  # KilledWorker, CommClosedError, ...: the worker died
                coord.finished(flight)
                left = coord.lost(flight, "died", f"{type(exc).__name__}: {exc}")
                if left:
                    waiting.append((0.0, Flight(flight.key, left)))
                continue
            for rec in result["records"]:
                coord.accept(rec)
            for rec in result["reused"]:
                coord.accept(rec, computed=False)
            coord.finished(flight, busy=result["busy"])
            if result["busy"]:
                waiting.append((time.monotonic() + BUSY_RETRY_S, flight))
        if coord.timeout_s:
            for fut, (flight, started) in list(running.items()):
                if time.monotonic() - started > coord.timeout_s:
                    where = [w for w, keys in client.processing().items() if fut.key in keys]
                    fut.cancel()
                    if where:
                        client.restart_workers(where)
                    running.pop(fut)
                    left = coord.lost(flight, "timeout", f"group ran past {coord.timeout_s:g}s")
                    if left:
                        waiting.append((0.0, Flight(flight.key, left)))
