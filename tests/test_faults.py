"""Fault injection: crashes, hangs, NaN, OOM, kill -9, Ctrl-C, concurrent runs, big resumes.

Every test runs fake task/method plugins (tests/fakeplugin.py) through the real entry point
with the default ``local`` executor, on loopback only, and asserts exact counts.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time

import pytest

from bench import store
from bench.cli import main
from bench.executors import lease
from tests.faultsuite import ROOT, alive, attempt_pids, done_record, env, records, run_dir, spawn, write_suite

pytestmark = pytest.mark.faults

N = 8  # cells of the default fake suite
ROWS = N * 2 * 2  # 2 episodes x 2 metrics per cell


def _run(suite, results, *extra) -> int:
    return main(["run", "--suite", str(suite), "--results-dir", str(results), *extra])


def _wait(pred, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.fault(area="executor", case="a worker dies (os._exit) once mid-cell",
                   behaviour="that cell costs one attempt and is retried; the run ends all done")
def test_worker_killed_once_costs_that_cell_one_attempt(tmp_path):
    marker = tmp_path / "crashed-once"
    suite = write_suite(tmp_path, {"fault": "crash", "lang": "t1", "shots": 2, "once": str(marker)})
    assert _run(suite, tmp_path / "r") == 0
    recs = records(run_dir(tmp_path / "r"))
    attempts = sorted(r["attempts"] for r in recs.values())
    assert marker.exists() and len(recs) == N
    assert attempts == [1] * (N - 1) + [2]
    assert {r["status"] for r in recs.values()} == {"done"}
    assert len(store.load([run_dir(tmp_path / "r")]).scores) == ROWS


@pytest.mark.fault(area="executor", case="a cell kills its worker on every attempt",
                   behaviour="failed after retries + 1 attempts with the reason; the other cells finish; exit 1")
def test_cell_that_always_crashes_fails_after_its_attempts_and_others_finish(tmp_path, capsys):
    suite = write_suite(tmp_path, {"fault": "crash", "lang": "t1", "shots": 2},
                        {"name": "local", "workers": 2, "retries": 1})
    assert _run(suite, tmp_path / "r") == 1
    recs = records(run_dir(tmp_path / "r"))
    failed = {k: r for k, r in recs.items() if r["status"] == "failed"}
    assert len(recs) == N and len(failed) == 2  # (t1, K=2) for each of the 2 seeds
    assert all(k.endswith("__t1__k2") and r["attempts"] == 2 and "died" in r["reason"] for k, r in failed.items())
    assert all(r["attempts"] == 1 for k, r in recs.items() if k not in failed)
    cells = store.load([run_dir(tmp_path / "r")]).cells
    assert (cells.status == "done").sum() == N - 2 and (cells.status == "failed").sum() == 2
    assert "2 failed" in capsys.readouterr().err


@pytest.mark.fault(area="executor", case="NaN loss during adaptation",
                   behaviour="the cell is diverged with the step; no NaN score stored; the next cell runs")
def test_nan_loss_at_step_3_is_recorded_as_diverged_and_the_next_cell_runs(tmp_path):
    suite = write_suite(tmp_path, {"fault": "nan", "lang": "t0", "shots": 2, "nan_step": 3})
    assert _run(suite, tmp_path / "r") == 1
    run = run_dir(tmp_path / "r")
    recs = records(run)
    diverged = [r for r in recs.values() if r["status"] == "diverged"]
    assert len(diverged) == 2 and all(r["diverged"] == {"phase": "adapt", "step": 3} and r["scores"] == []
                                      for r in diverged)
    assert sum(r["status"] == "done" for r in recs.values()) == N - 2
    scores = store.load([run]).scores
    assert len(scores) == (N - 2) * 4 and scores.value.map(math.isfinite).all()


@pytest.mark.fault(area="executor", case="NaN loss during source training",
                   behaviour="every cell of the group is diverged with the step")
def test_nan_in_source_training_diverges_the_group(tmp_path):
    suite = write_suite(tmp_path, {"fault": "nan", "phase": "source", "nan_step": 3}, seeds=(0,))
    assert _run(suite, tmp_path / "r") == 1
    recs = records(run_dir(tmp_path / "r"))
    assert len(recs) == 4 and all(r["status"] == "diverged" and r["diverged"]["step"] == 3 for r in recs.values())


@pytest.mark.fault(area="executor", case="the method raises, or runs out of memory",
                   behaviour="failed with its traceback kept, or oom; one attempt")
def test_exception_is_failed_with_its_error_and_memory_error_is_oom(tmp_path):
    for fault, status in (("raise", "failed"), ("oom", "oom")):
        suite = write_suite(tmp_path, {"fault": fault, "lang": "t1", "shots": 0}, name=f"f{fault}")
        assert _run(suite, tmp_path / "r") == 1
        recs = records(run_dir(tmp_path / "r", f"f{fault}"))
        bad = [r for r in recs.values() if r["status"] != "done"]
        assert [r["status"] for r in bad] == [status, status] and all(r["attempts"] == 1 for r in bad)
        assert ("fake failure in adapt" if fault == "raise" else "out of memory") in bad[0]["reason"]


@pytest.mark.fault(area="executor", case="a cell hangs",
                   behaviour="killed after timeout_s and recorded failed (timed out); the others finish")
def test_hanging_cell_times_out_and_the_others_finish(tmp_path):
    suite = write_suite(tmp_path, {"fault": "hang", "lang": "t1", "shots": 2}, seeds=(0,),
                        executor={"name": "local", "workers": 1, "retries": 2, "timeout_s": 10})
    start = time.monotonic()
    assert _run(suite, tmp_path / "r") == 1
    recs = records(run_dir(tmp_path / "r"))
    (hung,) = [r for r in recs.values() if r["status"] == "failed"]
    assert "timed out" in hung["reason"] and hung["attempts"] == 1 and len(recs) == 4
    assert time.monotonic() - start < 60


@pytest.mark.fault(area="executor", case="the coordinator is killed with kill -9",
                   behaviour="no orphan workers; a rerun resumes without recomputing finished cells")
def test_coordinator_kill_9_then_rerun_resumes_without_recomputing(tmp_path):
    suite = write_suite(tmp_path, {"sleep_s": 0.25}, langs=3)  # 12 cells, ~0.5 s each
    results = tmp_path / "r"
    proc = spawn(suite, results)
    assert _wait(lambda: len(list(results.glob("fake/*/cells/*.json"))) >= 3), proc.communicate()
    proc.kill()
    proc.wait()
    run = run_dir(results)
    before = {p.name: p.read_bytes() for p in (run / "cells").glob("*.json")}
    assert 3 <= len(before) < 12
    assert _wait(lambda: not any(alive(p) for p in attempt_pids(run)), 10), "orphan workers survived kill -9"
    rerun = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--suite", str(suite), "--results-dir",
                            str(results)], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(before)} already finished" in rerun.stderr
    after = {p.name: p.read_bytes() for p in (run / "cells").glob("*.json")}
    assert len(after) == 12 and all(after[k] == v for k, v in before.items())  # finished cells untouched
    assert all(store.attempts(run, k[:-5]) == 1 for k in before)
    res = store.load([run])
    assert len(res.cells) == 12 and len(res.scores) == 12 * 4
    assert not res.scores.duplicated(["task", "method", "seed", "lang", "shots", "episode", "metric"]).any()


@pytest.mark.fault(area="executor", case="Ctrl-C during a run",
                   behaviour="running cells recorded interrupted (a rerun redoes them), exit 130, no orphans")
def test_ctrl_c_marks_running_cells_interrupted_and_exits_130_without_orphans(tmp_path):
    suite = write_suite(tmp_path, {"sleep_s": 1.0}, langs=3)
    results = tmp_path / "r"
    proc = spawn(suite, results)
    assert _wait(lambda: len(list(results.glob("fake/*/attempts/*__k*.log"))) >= 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    run = run_dir(results)
    statuses = [r["status"] for r in records(run).values()]
    assert statuses.count("interrupted") >= 1 and set(statuses) <= {"done", "interrupted"}
    assert not any(alive(p) for p in attempt_pids(run))
    assert "interrupted" in set(store.load([run]).cells.status)


@pytest.mark.fault(area="executor", case="a second Ctrl-C",
                   behaviour="exits at once, no orphan workers")
def test_second_ctrl_c_exits_at_once(tmp_path):
    suite = write_suite(tmp_path, {"sleep_s": 1.0}, langs=3)
    results = tmp_path / "r"
    proc = spawn(suite, results)
    assert _wait(lambda: len(list(results.glob("fake/*/attempts/*__k*.log"))) >= 1)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert _wait(lambda: not any(alive(p) for p in attempt_pids(run_dir(results))), 10)


@pytest.mark.fault(area="executor", case="two `xlbench run` on one run at once",
                   behaviour="each cell computed once (a lease per group); the counts add up to the cells")
def test_two_processes_on_one_run_compute_each_cell_once(tmp_path):
    suite = write_suite(tmp_path, {"sleep_s": 0.1}, langs=3)
    results = tmp_path / "r"
    first, second = spawn(suite, results), spawn(suite, results)
    computed = []
    for proc in (first, second):
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()
        computed.append(int(re.search(r"computed (\d+) cells", err.decode()).group(1)))
    run = run_dir(results)
    assert len(records(run)) == 12
    assert all(store.attempts(run, k) == 1 for k in records(run))
    assert len(store.load([run]).scores) == 12 * 4
    assert sum(computed) == 12, computed  # each run reports the cells it computed, not the other's


@pytest.mark.fault(area="store", case="rerun of a finished 1000-cell run",
                   behaviour="nothing computed, no attempt logged, in seconds")
def test_rerunning_a_finished_1000_cell_run_computes_nothing(tmp_path, capsys):
    from bench.runner import prepare, write_manifest
    from bench.suite import load_suite

    suite = write_suite(tmp_path, langs=250)  # 2 seeds x 250 languages x 2 shots
    prepared = prepare(load_suite(str(suite)), tmp_path / "r", None)
    assert len(prepared.cells) == 1000
    write_manifest(prepared)
    for cell in prepared.cells:  # a finished run, written directly (computing it is not the point)
        path = store.cell_path(prepared.run_dir, cell.id())
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(done_record(prepared.run_dir.name, cell)))
    start = time.perf_counter()
    assert _run(suite, tmp_path / "r") == 0
    seconds = time.perf_counter() - start
    print(f"\nresume of a finished 1000-cell run: {seconds:.2f}s")
    assert "1000 already finished, 0 to compute" in capsys.readouterr().err
    assert not (prepared.run_dir / "attempts").exists() and seconds < 60


def _index_many(run: str, worker: int) -> int:
    from pathlib import Path

    from bench import store as st

    conn = st.connect(Path(run))
    for i in range(300):
        rec = {"type": "cell", "run_id": "r", "suite": "s", "kind": "classification", "status": "done",
               "attempts": 1, "key": {"task": "t", "method": "m", "seed": worker, "budget": 1, "lang": f"l{i}", "shots": 0},
               "scores": [{"episode": 0, "metric": "accuracy", "value": float(worker)}]}
        st.index_records(conn, [rec])
    conn.close()
    return 300


def test_four_processes_writing_the_index_lose_nothing(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(pool.map(_index_many, [str(tmp_path)] * 4, range(4)))
    assert done == [300] * 4  # no "database is locked" in any of the 1200 transactions
    conn = store.connect(tmp_path)
    # each writer has its own 300 keys (seed = writer), so a lost write is a missing row
    want = {(w, f"l{i}") for w in range(4) for i in range(300)}
    assert set(conn.execute("SELECT seed, lang FROM cells").fetchall()) == want
    assert set(conn.execute("SELECT seed, lang FROM scores WHERE value = seed").fetchall()) == want
    assert conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 1200
    conn.close()


@pytest.mark.fault(area="store", case="index.sqlite deleted",
                   behaviour="rebuilt from the cell files; an identical export")
def test_deleting_the_index_and_rebuilding_gives_an_identical_export(tmp_path, capsys):
    suite = write_suite(tmp_path, {"fault": "crash", "lang": "t1", "shots": 2}, {"name": "local", "retries": 0})
    results = tmp_path / "r"
    assert _run(suite, results) == 1
    exports = []
    for _ in range(2):
        capsys.readouterr()
        for table in ("scores", "cells", "audit"):
            assert main(["results", "--suite", "fake", "--results-dir", str(results), "--table", table]) == 0
        exports.append(capsys.readouterr().out)
        (run_dir(results) / "index.sqlite").unlink()
    assert exports[0] == exports[1] and exports[0].count("\n") > N


@pytest.mark.fault(area="preflight", case="unknown method, executor or task",
                   behaviour="exit 2 within seconds, no cell started")
def test_preflight_failure_exits_2_fast_with_no_cell_started(tmp_path, capsys):
    suite = write_suite(tmp_path)
    results = tmp_path / "r"
    for extra in (["--method", "nope"], ["--executor", "nope"], ["--data-dir", str(tmp_path / "missing"), "--task", "fake", "--task", "nosuchtask"]):
        start = time.perf_counter()
        assert _run(suite, results, *extra) == 2
        assert time.perf_counter() - start < 10
        assert not list(results.glob("*/*/attempts")) and not list(results.glob("*/*/cells"))
    assert "unknown executor 'nope'" in capsys.readouterr().err


@pytest.mark.fault(area="store", case="cells written by workers after the coordinator stopped reading, then kill -9",
                   behaviour="results/report index every cell file on read; nothing is silently missing")
def test_cells_written_while_the_coordinator_was_stopped_are_reported(tmp_path, capsys):
    suite = write_suite(tmp_path, {"sleep_s": 0.2}, langs=3)  # 12 cells, ~0.4 s each, 2 workers
    results = tmp_path / "r"
    proc = spawn(suite, results)
    cells = lambda: list(results.glob("fake/*/cells/*.json"))  # noqa: E731
    assert _wait(lambda: len(cells()) >= 2), proc.communicate()
    proc.send_signal(signal.SIGSTOP)  # the coordinator stops reading; its workers go on writing
    seen = len(cells())
    assert _wait(lambda: len(cells()) >= seen + 2, 60), "the workers wrote nothing while the coordinator was stopped"
    proc.kill()
    proc.wait()
    run = run_dir(results)
    assert _wait(lambda: not any(alive(p) for p in attempt_pids(run)), 10)
    done = [r for r in records(run).values() if r["status"] == "done"]
    assert main(["results", "--suite", "fake", "--results-dir", str(results)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == len(done) * 4 and len(done) >= seen + 2


@pytest.mark.fault(area="executor", case="disk full while a worker writes a cell",
                   behaviour="'disk full while writing <file>', exit 1, no cell recorded failed; a rerun completes")
def test_disk_full_in_a_worker_stops_the_run_and_a_resume_completes(tmp_path):
    marker = tmp_path / "filled"
    suite = write_suite(tmp_path, {"fault": "enospc", "lang": "t1", "shots": 2, "once": str(marker)})
    results = tmp_path / "r"
    first = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--suite", str(suite), "--results-dir",
                            str(results)], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=180)
    assert first.returncode == 1 and marker.exists(), first.stderr
    assert "disk full while writing" in first.stderr and "Traceback" not in first.stderr, first.stderr
    run = run_dir(results)
    assert "failed" not in {r["status"] for r in records(run).values()}
    again = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--suite", str(suite), "--results-dir",
                            str(results)], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    recs = records(run)
    assert len(recs) == N and {r["status"] for r in recs.values()} == {"done"}
    assert len(store.load([run]).scores) == ROWS


@pytest.mark.fault(area="executor", case="a second run on a group another process holds and finishes",
                   behaviour="each run reports only the cells it computed (the other's count as skipped)")
def test_a_run_reports_only_the_cells_it_computed(tmp_path):
    from bench.runner import prepare, write_manifest
    from bench.suite import load_suite

    suite = write_suite(tmp_path, seeds=(0,), executor={"name": "local", "workers": 1})  # one group, 4 cells
    results = tmp_path / "r"
    prepared = prepare(load_suite(str(suite)), results, None)
    write_manifest(prepared)
    ((key, cells),) = prepared.groups().items()
    other = lease.Lease(lease.lock_path(prepared.run_dir, key.id()))  # another run holds the group
    assert other.acquire()
    try:
        proc = spawn(suite, results)
        assert _wait(lambda: (prepared.run_dir / "logs").exists(), 60)  # it planned its 4 cells
        for cell in cells:  # ... which the other run finishes while this one is told "busy"
            store.write_json(store.cell_path(prepared.run_dir, cell.id()), done_record(prepared.run_dir.name, cell))
        # A worker that finds the lease taken tries a takeover under locks/.takeover: busy.
        assert _wait(lambda: (prepared.run_dir / "locks" / ".takeover").exists(), 120)
        time.sleep(1.0)
    finally:
        other.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert "computed 0 cells" in err.decode() and "skipped 4 finished" in err.decode(), err.decode()
