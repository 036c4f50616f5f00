"""One contract, several engines: identical score rows on local, dask and slurm; leases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench import store
from bench.cli import main
from bench.executors import lease
from tests.faultsuite import ROOT, records, run_dir, write_suite

SETUP = ROOT / "tests" / "slurm_setup.sh"


def _scores(tmp_path: Path, executor: dict) -> "object":
    results = tmp_path / executor["name"]
    suite = write_suite(tmp_path, executor=executor)
    assert main(["run", "--suite", str(suite), "--results-dir", str(results)]) == 0
    run = run_dir(results)
    assert all(r["attempts"] == 1 for r in records(run).values())
    return store.load([run]).scores


@pytest.fixture(scope="session")
def slurm() -> None:
    """A single-node Slurm on 127.0.0.1 (tests/slurm_setup.sh), or a skip saying why not."""
    if shutil.which("sinfo") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0:
        return
    if os.geteuid() != 0:
        pytest.skip("Slurm is not running and starting it needs root (run: sudo sh tests/slurm_setup.sh)")
    try:
        out = subprocess.run(["sh", str(SETUP)], capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("tests/slurm_setup.sh did not finish within 10 minutes")
    if out.returncode != 0:
        pytest.skip(f"Slurm could not start here: {out.stderr.strip()[-500:]}")


@pytest.mark.faults
def test_local_and_dask_give_identical_score_rows(tmp_path):
    local = _scores(tmp_path, {"name": "local", "workers": 2})
    dask = _scores(tmp_path, {"name": "dask", "workers": 2})
    assert len(local) == 8 * 4 and local.equals(dask)


@pytest.mark.faults
def test_slurm_gives_the_same_score_rows(tmp_path, slurm):
    local = _scores(tmp_path, {"name": "local", "workers": 2})
    via_slurm = _scores(tmp_path, {"name": "slurm", "workers": 2, "poll_s": 0.5})
    assert len(local) == 8 * 4 and local.equals(via_slurm)


@pytest.mark.fault(area="executor", case="a Slurm job is preempted (SIGUSR2)",
                   behaviour="the same group is requeued and skips its finished cells")
def test_preempted_slurm_job_requeues_the_same_group_and_skips_finished_cells(tmp_path):
    from submitit.helpers import DelayedSubmission

    from bench.executors.slurm import GroupJob
    from bench.executors.worker import payload
    from bench.runner import prepare, write_manifest
    from bench.suite import load_suite

    prepared = prepare(load_suite(str(write_suite(tmp_path))), tmp_path / "r", None)
    write_manifest(prepared)
    key, cells = next(iter(prepared.groups().items()))
    job = payload(prepared.suite.resolved(), prepared.run_dir, None, key, cells, {})
    first = GroupJob()(dict(job, cells=job["cells"][:1]))  # the job computed one cell, then was preempted
    assert len([r for r in first["records"] if r["type"] == "cell"]) == 1
    again = GroupJob().checkpoint(job)  # what submitit calls on SIGUSR2
    assert isinstance(again, DelayedSubmission) and again.args == (job,)
    resumed = again.function(*again.args)
    assert len(resumed["reused"]) == 1 and len([r for r in resumed["records"] if r["type"] == "cell"]) == len(cells) - 1
    assert all(store.attempts(prepared.run_dir, c.id()) == 1 for c in cells)


@pytest.mark.fault(area="executor", case="a lease owner stalls (its heartbeat stops)",
                   behaviour="the stale lease is taken over; the stalled owner cannot remove the new lock")
def test_lease_is_exclusive_while_alive_and_taken_over_when_stale(tmp_path):
    path = tmp_path / "locks" / "g.lock"
    first = lease.Lease(path, heartbeat_s=0.1, stale_s=5)
    assert first.acquire()
    assert not lease.Lease(path, stale_s=5).acquire()  # a live owner is never robbed
    time.sleep(0.3)
    assert lease.heartbeat_age(path) < 0.3  # the heartbeat keeps it fresh
    first._stop.set()  # the owner stalls (a lost node): its heartbeat stops
    first._thread.join()
    old = time.time() - 60
    os.utime(path, (old, old))
    second = lease.Lease(path, stale_s=5)
    assert second.acquire() and second.owned() and not first.owned()
    first.release()  # the stalled owner must not remove the new owner's lock
    assert path.exists()
    second.release()
    assert not path.exists()


@pytest.mark.fault(area="executor", case="the lock of a dead process on this host",
                   behaviour="stale at once and taken over")
def test_lock_of_a_dead_process_on_this_host_is_stale_at_once(tmp_path):
    path = tmp_path / "g.lock"
    dead = 2**22 + 12345  # beyond pid_max on most systems: not alive
    path.write_text(json.dumps({"host": os.uname().nodename, "pid": dead, "token": "x"}))
    assert lease.is_stale(path, stale_s=3600)
    assert lease.Lease(path).acquire()
