"""The store: cell files are the truth, the SQLite index a cache reconciled on every open.

Fast, in-process runs of the toy suite (inline engine). Each case is one row of the README's
fault matrix (``@pytest.mark.fault``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from bench import store
from bench.cli import main
from bench.executors import lease

SUITE = {
    "name": "toy", "seeds": [0, 1], "shots": [0, 2], "episodes": 2, "queries": 6,
    "budget": {"source_examples": 60, "adapt_examples": 100},
    "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo"],
    "executor": {"name": "inline"},
    "floors": False,  # the tests count the fake method's cells only
}
CELLS, ROWS = 8, 8 * 2 * 2  # 2 seeds x 2 langs x 2 shots; 2 episodes x 2 metrics each


def _suite(tmp_path: Path, **over) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE | over))
    return path


def _run(tmp_path: Path, *extra: str, **over) -> int:
    return main(["run", "--suite", str(_suite(tmp_path, **over)), "--results-dir", str(tmp_path / "results"), *extra])


def _run_dir(tmp_path: Path) -> Path:
    return store.run_dirs(tmp_path / "results", "toy")[-1]


def _raw_counts(run_dir: Path) -> tuple[int, int]:
    """(cells, scores) rows of the on-disk index as it is (no reconcile)."""
    conn = sqlite3.connect(run_dir / "index.sqlite")
    try:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("cells", "scores"))
    finally:
        conn.close()


def _exported(tmp_path: Path, capsys, table: str = "scores", results: Path | None = None) -> list[str]:
    capsys.readouterr()
    assert main(["results", "--suite", "toy", "--results-dir", str(results or tmp_path / "results"),
                 "--table", table]) == 0
    return capsys.readouterr().out.splitlines()[1:]


# --- 2. the index is a cache, never the truth --------------------------------------------


@pytest.mark.fault(area="store", case="index deleted, then a rerun with cells pending",
                   behaviour="the run start indexes every cell file, not only the new cells")
def test_deleted_index_then_rerun_with_pending_cells_indexes_every_cell(tmp_path):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    (run / "index.sqlite").unlink()
    for path in sorted((run / "cells").glob("*.json"))[:2]:
        path.unlink()
    assert _run(tmp_path) == 0
    assert _raw_counts(run) == (CELLS, ROWS)


@pytest.mark.fault(area="store", case="cells written by a worker that no coordinator indexed",
                   behaviour="results/report index them on read; the next run start too")
def test_cells_no_coordinator_indexed_are_read_and_indexed(tmp_path, capsys):
    from bench.runner import compute_group, prepare
    from bench.suite import load_suite

    suite = _suite(tmp_path, methods=["tests.corefakes:Echo", {"name": "tests.corefakes:Echo", "label": "e2"}])
    results = tmp_path / "results"
    assert main(["run", "--suite", str(suite), "--results-dir", str(results), "--method", "e2"]) == 0
    run = _run_dir(tmp_path)
    assert _raw_counts(run) == (CELLS, ROWS)
    prepared = prepare(load_suite(str(suite)), results, None)
    for key, cells in prepared.groups().items():  # a worker writes, its coordinator is gone
        compute_group(prepared.suite.resolved(), run, None, key, cells)
    assert _raw_counts(run) == (CELLS, ROWS)  # the index does not know yet
    assert len(_exported(tmp_path, capsys)) == 2 * ROWS
    assert _raw_counts(run) == (2 * CELLS, 2 * ROWS)


@pytest.mark.fault(area="store", case="index rows whose cell file was deleted",
                   behaviour="dropped from the index on the next read")
def test_rows_of_deleted_cell_files_are_dropped(tmp_path, capsys):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    next((run / "cells").glob("*.json")).unlink()
    assert len(_exported(tmp_path, capsys)) == ROWS - 4
    assert len(_exported(tmp_path, capsys, "cells")) == CELLS - 1


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
@pytest.mark.fault(area="store", case="corrupt or truncated index.sqlite",
                   behaviour="rebuilt from the cell files, saying so in one line")
def test_corrupt_or_truncated_index_is_rebuilt_with_one_line(tmp_path, capsys, damage):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    before = _exported(tmp_path, capsys)
    db = run / "index.sqlite"
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 200)
    else:
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    assert main(["results", "--suite", "toy", "--results-dir", str(tmp_path / "results")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == before and len(before) == ROWS
    lines = [line for line in err.splitlines() if "index" in line]
    assert len(lines) == 1 and "rebuilt" in lines[0] and str(db) in lines[0], err
    assert "Traceback" not in err
    assert _raw_counts(run) == (CELLS, ROWS)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out = {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
           for p in [folder, *folder.rglob("*")]}
    return out


@pytest.mark.parametrize("index", ["kept", "missing"])
@pytest.mark.fault(area="store", case="run folder not writable (results/report)",
                   behaviour="read through an in-memory index; nothing in the folder is written")
def test_unwritable_run_folder_is_read_without_writing(tmp_path, capsys, monkeypatch, index):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    if index == "missing":
        (run / "index.sqlite").unlink()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK and str(p).startswith(str(run))
                        else real_access(p, mode, **kw))
    before = _snapshot(run)
    time.sleep(0.01)
    assert len(_exported(tmp_path, capsys)) == ROWS
    assert main(["report", "--suite", "toy", "--results-dir", str(tmp_path / "results"),
                 "--out", str(tmp_path / "report")]) == 0
    assert _snapshot(run) == before
    assert (tmp_path / "report" / "index.html").is_file()


@contextlib.contextmanager
def _read_only_view(folder: Path, tmp_path: Path):
    """``folder`` seen through a read-only bind mount (root), or chmod'ed read-only (non-root)."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
        try:
            yield folder
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
        return
    view = tmp_path / "ro-view"
    view.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(view)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("running as root without permission to bind-mount read-only, so no read-only folder")
    try:
        if os.access(view, os.W_OK):
            pytest.skip("the read-only bind mount is writable here")
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False)


@pytest.mark.fault(area="store", case="results on a read-only filesystem or archived copy",
                   behaviour="results and report read it (in-memory index)")
def test_run_on_a_read_only_filesystem_can_be_read(tmp_path, capsys):
    assert _run(tmp_path) == 0
    before = _exported(tmp_path, capsys)
    run = _run_dir(tmp_path)
    (run / "index.sqlite").unlink()  # an archive may lack the cache too
    with _read_only_view(tmp_path / "results", tmp_path) as view:
        assert _exported(tmp_path, capsys, results=view) == before
        assert main(["report", "--suite", "toy", "--results-dir", str(view), "--out", str(tmp_path / "rep")]) == 0
    assert not (run / "index.sqlite").exists()


def test_reconcile_parses_only_new_or_changed_files(tmp_path, monkeypatch):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    conn = store.open_index(run)
    try:
        assert store.reconcile(conn, run) == 0  # nothing new: stat only
        path = next((run / "cells").glob("*.json"))
        rec = json.loads(path.read_text())
        rec["scores"][0]["value"] = 12.5
        store.write_json(path, rec)
        assert store.reconcile(conn, run) == 1
        values = conn.execute("SELECT value FROM scores WHERE lang = ? AND shots = ? AND seed = ? AND episode = ? "
                              "AND metric = ?", (rec["key"]["lang"], rec["key"]["shots"], rec["key"]["seed"],
                                                 rec["scores"][0]["episode"], rec["scores"][0]["metric"])).fetchall()
        assert values == [(12.5,)]
    finally:
        conn.close()


# --- 3. a cell file is finished only if it parses and validates ---------------------------

BAD_FILES = {"empty-object": "{}", "status-only": '{"status": "done"}', "list": "[]", "null": "null",
             "truncated": None}


@pytest.mark.parametrize("content", BAD_FILES, ids=list(BAD_FILES))
@pytest.mark.fault(area="store", case="cell file {} / {status: done} / [] / null / truncated",
                   behaviour="reported with its path, moved aside as .corrupt-N, recomputed")
def test_invalid_cell_file_is_reported_moved_aside_and_recomputed(tmp_path, capsys, content):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    path = sorted((run / "cells").glob("*.json"))[3]
    good = path.read_text()
    bad = good[: len(good) // 2] if BAD_FILES[content] is None else BAD_FILES[content]
    path.write_text(bad)
    capsys.readouterr()
    assert _run(tmp_path) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if str(path) in line]
    assert len(lines) == 1 and "moved aside" in lines[0], err
    assert "7 already finished, 1 to compute" in err
    assert (path.parent / f"{path.name}.corrupt-1").read_text() == bad
    assert json.loads(path.read_text())["status"] == "done"
    assert len(_exported(tmp_path, capsys)) == ROWS


@pytest.mark.fault(area="store", case="cell file stored under another cell's name",
                   behaviour="treated as corrupt (its key must match its name), recomputed")
def test_cell_file_under_the_wrong_name_is_corrupt(tmp_path, capsys):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    a, b = sorted((run / "cells").glob("*.json"))[:2]
    b.write_text(a.read_text())
    assert len(_exported(tmp_path, capsys, "cells")) == CELLS - 1
    assert (b.parent / f"{b.name}.corrupt-1").exists()


@pytest.mark.fault(area="store", case="source checkpoint truncated",
                   behaviour="moved aside and the source unit retrained; its cells are done, not failed")
def test_truncated_source_checkpoint_is_retrained(tmp_path, capsys):
    over = {"methods": ["tests.corefakes:StatefulEcho"], "seeds": [0]}
    assert _run(tmp_path, **over) == 0
    run = _run_dir(tmp_path)
    (ckpt,) = (run / "source").glob("*.safetensors")
    ckpt.write_bytes(ckpt.read_bytes()[:20])
    next((run / "cells").glob("*.json")).unlink()
    capsys.readouterr()
    assert _run(tmp_path, **over) == 0
    err = capsys.readouterr().err
    assert "unreadable" in err and str(ckpt) in err
    assert (ckpt.parent / f"{ckpt.name}.corrupt-1").exists() and ckpt.stat().st_size > 20
    statuses = [json.loads(p.read_text())["status"] for p in (run / "cells").glob("*.json")]
    assert statuses == ["done"] * 4
    assert len(_exported(tmp_path, capsys)) == 16


@pytest.mark.fault(area="store", case="a done cell replaced by a failed record",
                   behaviour="its old scores leave the index")
def test_a_recomputed_cell_replaces_all_its_rows(tmp_path):
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    path = next((run / "cells").glob("*.json"))
    rec = json.loads(path.read_text())
    failed = {**rec, "status": "failed", "reason": "x", "scores": [], "audit": None}
    store.write_json(path, failed)
    conn = store.connect(run)
    try:
        store.index_records(conn, [failed])
        where = " AND ".join(f"{k} = ?" for k in rec["key"])
        n = conn.execute(f"SELECT COUNT(*) FROM scores WHERE {where}", list(rec["key"].values())).fetchone()[0]
    finally:
        conn.close()
    assert n == 0


@pytest.mark.parametrize("bad", [{}, {"status": "done"}, [], None, {"type": "cell", "key": {}, "status": "done"}])
def test_record_schema_rejects_incomplete_records(bad):
    from bench import record

    assert record.problem(bad) is not None


# --- 4. failed cells can be retried ------------------------------------------------------


@pytest.mark.parametrize("fault", ["raise", "oom"])
@pytest.mark.fault(area="executor", case="a transient failure (failed / oom cell)",
                   behaviour="`xlbench run --retry-failed` computes it again; the old record kept as .retried-N")
def test_retry_failed_recomputes_failed_cells(tmp_path, capsys, fault):
    from tests.faultsuite import records, run_dir, write_suite

    marker = tmp_path / "faulted"
    suite = write_suite(tmp_path, {"fault": fault, "lang": "t1", "shots": 2, "once": str(marker)}, {"name": "inline"})
    results = tmp_path / "r"
    argv = ["run", "--suite", str(suite), "--results-dir", str(results)]
    assert main(argv) == 1
    run = run_dir(results)
    (bad,) = [k for k, r in records(run).items() if r["status"] != "done"]
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "nothing to do" in err and "--retry-failed" in err
    assert main([*argv, "--retry-failed"]) == 0
    assert "1 to compute (1 failed, computed again)" in capsys.readouterr().err
    recs = records(run)
    assert {r["status"] for r in recs.values()} == {"done"} and recs[bad]["attempts"] == 1
    assert json.loads((run / "cells" / f"{bad}.json.retried-1").read_text())["status"] == fault.replace("raise", "failed")
    cells = store.load([run]).cells
    assert len(cells) == 8 and set(cells.status) == {"done"}


@pytest.mark.fault(area="executor", case="'nothing to do' on a finished run",
                   behaviour="the hint names commands that work (report, --retry-failed, --new-run)")
def test_nothing_to_do_hint_names_commands_that_work(tmp_path, capsys):
    assert _run(tmp_path) == 0
    capsys.readouterr()
    assert _run(tmp_path) == 0
    err = capsys.readouterr().err
    hint = next(line for line in err.splitlines() if line.startswith("nothing to do"))
    commands = [part for i, part in enumerate(hint.split("`")) if i % 2]
    assert any("--new-run" in c for c in commands) and any(c.startswith("xlbench report") for c in commands)
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] == "report":
            argv += ["--out", str(tmp_path / "rep")]
        assert main(argv) == 0, command
    runs = store.run_dirs(tmp_path / "results", "toy")
    assert len(runs) == 2 and runs[1].name.startswith(runs[0].name + ".")
    assert len(store.load([runs[1]]).scores) == ROWS  # --new-run computed a whole new run
    capsys.readouterr()
    assert _run(tmp_path) == 0  # a plain rerun resumes the newest run
    assert str(runs[1]) in capsys.readouterr().err


# --- 7. clear errors for the rest ----------------------------------------------------------


class _FullAtCommit(sqlite3.Connection):
    """A connection whose COMMIT number ``fail_at`` fails as on a full disk (SQLite rolls back)."""

    fail_at = 2
    commits = 0

    def execute(self, sql, *args):  # type: ignore[override]
        if sql == "COMMIT":
            type(self).commits += 1
            if type(self).commits == self.fail_at:
                super().execute("ROLLBACK")  # what SQLite does itself when COMMIT hits SQLITE_FULL
                exc = sqlite3.OperationalError("database or disk is full")
                exc.sqlite_errorcode = sqlite3.SQLITE_FULL
                raise exc
        return super().execute(sql, *args)


@pytest.mark.fault(area="store", case="disk full when the index commits",
                   behaviour="'disk full while writing …' and exit 1 (no traceback); a rerun resumes and completes")
def test_disk_full_at_index_commit_says_so_and_a_resume_completes(tmp_path, capsys, monkeypatch):
    real = sqlite3.connect
    monkeypatch.setattr(_FullAtCommit, "commits", 0)
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **kw: real(*a, **kw, factory=_FullAtCommit))
    assert _run(tmp_path) == 1
    err = capsys.readouterr().err
    assert "disk full while writing" in err and "rerun" in err and "Traceback" not in err
    monkeypatch.setattr(sqlite3, "connect", real)
    assert _run(tmp_path) == 0
    run = _run_dir(tmp_path)
    assert len(_exported(tmp_path, capsys)) == ROWS
    assert _raw_counts(run) == (CELLS, ROWS)
    assert {json.loads(p.read_text())["status"] for p in (run / "cells").glob("*.json")} == {"done"}


@pytest.mark.fault(area="store", case="disk full when a cell file is written (inline engine)",
                   behaviour="'disk full while writing <file>' and exit 1; no cell is recorded failed")
def test_disk_full_writing_a_cell_file_says_so(tmp_path, capsys, monkeypatch):
    import errno

    calls = [0]
    real = os.fsync

    def fsync(fd):
        calls[0] += 1
        if calls[0] > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert _run(tmp_path) == 1
    err = capsys.readouterr().err
    assert "disk full while writing" in err and ".json" in err
    run = _run_dir(tmp_path)
    assert not list((run / "cells").glob(".*.tmp"))
    monkeypatch.setattr(os, "fsync", real)
    assert _run(tmp_path) == 0
    assert {json.loads(p.read_text())["status"] for p in (run / "cells").glob("*.json")} == {"done"}
    assert len(list((run / "cells").glob("*.json"))) == CELLS


@pytest.mark.fault(area="executor", case="a stalled worker whose lease was taken over",
                   behaviour="re-checks its lease before each cell and stops; the new owner computes the rest")
def test_worker_that_lost_its_lease_stops_before_the_next_cell(tmp_path):
    from bench.executors.worker import payload, run_group
    from bench.runner import prepare, write_manifest
    from bench.suite import load_suite
    from tests.faultsuite import write_suite

    suite = write_suite(tmp_path, {"sleep_s": 0.3}, seeds=(0,))  # one group of 4 cells, 2 episodes each
    prepared = prepare(load_suite(str(suite)), tmp_path / "r", None)
    write_manifest(prepared)
    ((key, cells),) = prepared.groups().items()
    job = payload(prepared.suite.resolved(), prepared.run_dir, None, key, cells, {})
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(run_group(job)))
    worker.start()
    first = store.attempt_path(prepared.run_dir, cells[0].id())
    end = time.monotonic() + 60
    while not first.exists() and time.monotonic() < end:
        time.sleep(0.01)
    lock = lease.lock_path(prepared.run_dir, key.id())
    lock.unlink()  # what a takeover does: the stale lock is replaced by the new owner's
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "thief", "since": time.time()}))
    worker.join(60)
    assert out["busy"] is True
    computed = [c for c in cells if store.attempts(prepared.run_dir, c.id())]
    assert computed == cells[:1]


@pytest.mark.fault(area="store", case="file modes of results",
                   behaviour="result files are created 0644 (readable by the group and others)")
def test_result_files_are_0644(tmp_path):
    assert _run(tmp_path, methods=["tests.corefakes:StatefulEcho"]) == 0
    run = _run_dir(tmp_path)
    files = [run / "manifest.json", run / "languages.json", *(run / "cells").glob("*.json"),
             *(run / "source").glob("*.json")]
    assert len(files) > CELLS + 2
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}
