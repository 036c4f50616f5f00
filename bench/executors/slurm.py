"""``slurm``: groups as Slurm job arrays through submitit, requeued on preemption.

Options (suite ``executor:`` mapping; every key but ``retries``/``timeout_s``/``poll_s``
is optional)::

    executor: {name: slurm, partition: gpu, workers: 32, timeout_s: 3600, retries: 2,
               cpus_per_task: 4, gpus_per_node: 1, mem: 16GB, setup: ["module load cuda"]}

``workers`` caps how many array tasks run at once. A preempted (or timed-out) job gets
``SIGUSR2``; :meth:`GroupJob.checkpoint` asks submitit to requeue the same group, and the
requeued job skips the cells its first run finished. Dead jobs are found without ``sacct``
(a bare cluster has no accounting daemon): a job is dead when it left ``squeue`` without a
result, or when its group lease stopped beating (:mod:`bench.executors.lease`) — a lost node.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any, Callable

from bench.executors import lease
from bench.executors.base import Executor, Summary
from bench.executors.coordinator import Coordinator, Flight
from bench.executors.worker import run_group
from bench.runner import Prepared

ALIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
         "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING"}
_SLURM_KEYS = ("partition", "cpus_per_task", "gpus_per_node", "mem", "setup", "qos", "account",
               "constraint", "exclude", "additional_parameters")


class GroupJob:
    """The callable a Slurm job runs: one group, requeued as-is on preemption."""

    def __call__(self, job: dict) -> dict:
        return run_group(job)

    def checkpoint(self, job: dict) -> Any:
        """submitit's preemption hook: resubmit the same group (finished cells are skipped)."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(GroupJob(), job)


def squeue_states(job_ids: list[str]) -> dict[str, str]:
    """Job id -> state for the jobs ``squeue`` still lists (array tasks expanded)."""
    if not job_ids:
        return {}
    out = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T", "-j", ",".join(sorted({j.split("_")[0] for j in job_ids}))],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:  # squeue answers "Invalid job id" once every job has left
        return {}
    return dict(line.split()[:2] for line in out.stdout.splitlines() if len(line.split()) >= 2)


class SlurmExecutor(Executor):
    """Submit pending groups as one job array; poll results, squeue and heartbeats."""

    def run(self, prepared: Prepared, progress: Callable[[dict], None]) -> Summary:
        if not prepared.pending:
            return Summary(0, len(prepared.cells), {})
        import submitit

        coord = Coordinator(prepared, self.options, progress)
        folder = prepared.run_dir / "slurm"
        executor = submitit.SlurmExecutor(folder=str(folder), max_num_timeout=int(self.options.get("retries", 2)))
        params: dict[str, Any] = {k: self.options[k] for k in _SLURM_KEYS if k in self.options}
        timeout_s = self.options.get("timeout_s")
        executor.update_parameters(job_name=f"xlbench-{prepared.suite.name}",
                                   time=max(1, int(-(-float(timeout_s) // 60))) if timeout_s else 24 * 60,
                                   array_parallelism=int(self.options.get("workers", 64)),
                                   signal_delay_s=int(self.options.get("signal_delay_s", 90)), **params)
        running: dict[Any, tuple[Flight, float]] = {}
        self._submit(executor, coord, [coord.flight(k, c) for k, c in prepared.groups().items()], running)
        poll_s = float(self.options.get("poll_s", 1.0))
        try:
            while running:
                time.sleep(poll_s)
                again = self._poll(coord, running)
                if again:
                    self._submit(executor, coord, again, running)
        except KeyboardInterrupt:
            for job in running:
                job.cancel(check=False)
            coord.interrupt([f for f, *_ in running.values()])
            raise
        return coord.summary()

    def _submit(self, executor: Any, coord: Coordinator, flights: list[Flight], running: dict) -> None:
        flights = [coord.flight(f.key, f.cells) for f in flights]
        with executor.batch():
            jobs = [executor.submit(GroupJob(), coord.payload(f)) for f in flights]
        for job, flight in zip(jobs, flights):
            running[job] = (flight, time.monotonic(), time.time())

    def _poll(self, coord: Coordinator, running: dict) -> list[Flight]:
        again: list[Flight] = []
        states = squeue_states([job.job_id for job in running])
        stale_s = float(self.options.get("stale_s", lease.STALE_S))
        for job, (flight, since, submitted_at) in list(running.items()):
            done = job.paths.result_pickle.exists()
            state = states.get(job.job_id)
            lock = lease.lock_path(coord.run_dir, flight.key.id())
            age = lease.heartbeat_age(lock)  # only a lock taken after this submission is this job's
            ours = age is not None and time.time() - age > submitted_at
            lost_node = state == "RUNNING" and ours and lease.is_stale(lock, stale_s)
            if not done and (state in ALIVE and not lost_node):
                continue
            if not done and state is None and time.monotonic() - since < 10:
                continue  # just submitted: squeue may not list it yet
            running.pop(job)
            if lost_node:
                job.cancel(check=False)
            try:
                result = job.result() if done else None
            except Exception as exc:  # the job raised outside any cell: the group fails
                coord.finished(flight)
                coord.lost(flight, "error", f"{type(exc).__name__}: {exc}")
                continue
            if result is None:
                coord.finished(flight)
                left = coord.lost(flight, "died", f"Slurm job {job.job_id} ended ({state or 'gone'}) "
                                                  f"without a result; see {job.paths.stderr}")
                again += [Flight(flight.key, left)] if left else []
                continue
            for rec in result["records"]:
                coord.accept(rec)
            for rec in result["reused"]:
                coord.accept(rec, computed=False)
            coord.finished(flight, busy=result["busy"])
            if result["busy"]:
                again.append(flight)
        return again


__all__ = ["SlurmExecutor", "GroupJob", "squeue_states"]
