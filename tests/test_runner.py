"""End to end through the real entry point, on a toy task and method (fast)."""

import json

import yaml

from bench import store
from bench.cli import main

SUITE = {
    "name": "toy", "seeds": [0, 1], "shots": [0, 2], "episodes": 2, "queries": 6,
    "budget": {"source_examples": 60, "adapt_examples": 100},
    "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo"],
    "executor": {"name": "inline"},
    "floors": False,  # these tests count the Echo method's cells only
}


def _write(tmp_path, **over):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE | over))
    return path


def test_run_twice_computes_once_and_rows_are_identical(tmp_path, capsys):
    suite = _write(tmp_path)
    results = tmp_path / "results"
    assert main(["run", "--suite", str(suite), "--results-dir", str(results)]) == 0
    (run_dir,) = store.run_dirs(results, "toy")
    first = store.load([run_dir]).scores
    # 2 seeds x 2 langs x 2 shots cells, 2 episodes each, 2 metrics
    assert len(first) == 2 * 2 * 2 * 2 * 2
    source = json.loads(next((run_dir / "source").glob("*.json")).read_text())
    assert 60 - 8 < source["audit"]["examples"] <= 60  # within one step of the cap
    capsys.readouterr()
    assert main(["run", "--suite", str(suite), "--results-dir", str(results)]) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert store.load([run_dir]).scores.equals(first)


def test_results_accepts_the_suite_file_it_was_run_with(tmp_path, capsys):
    suite, results = _write(tmp_path), tmp_path / "results"
    assert main(["run", "--suite", str(suite), "--results-dir", str(results)]) == 0
    capsys.readouterr()
    assert main(["results", "--suite", "toy", "--results-dir", str(results), "--format", "csv"]) == 0
    by_name = capsys.readouterr().out
    assert main(["results", "--suite", str(suite), "--results-dir", str(results), "--format", "csv"]) == 0
    assert capsys.readouterr().out == by_name and by_name.count("\n") > 8
    assert main(["results", "--suite", "other", "--results-dir", str(results)]) == 2
    assert "no results for suite 'other'" in capsys.readouterr().err


def test_rebuilt_index_gives_identical_table(tmp_path):
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_write(tmp_path)), "--results-dir", str(results)]) == 0
    (run_dir,) = store.run_dirs(results, "toy")
    before = store.load([run_dir])
    (run_dir / "index.sqlite").unlink()
    after = store.load([run_dir])
    assert before.scores.equals(after.scores) and before.cells.equals(after.cells)


def test_unknown_task_exits_2_and_writes_nothing(tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_write(tmp_path)), "--task", "nope", "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'nope'" in err and "Known tasks" in err
    assert not (results / "toy").exists()


def test_suite_with_unknown_key_exits_2(tmp_path, capsys):
    assert main(["run", "--suite", str(_write(tmp_path, shotz=[1])), "--results-dir", str(tmp_path / "r")]) == 2
    assert "'shotz'" in capsys.readouterr().err


def test_changed_suite_is_refused_unless_new_run(tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_write(tmp_path)), "--results-dir", str(results)]) == 0
    changed = _write(tmp_path, episodes=3)
    assert main(["run", "--suite", str(changed), "--results-dir", str(results)]) == 2
    assert "changed: episodes" in capsys.readouterr().err
    assert main(["run", "--suite", str(changed), "--results-dir", str(results), "--new-run"]) == 0
    assert len(store.run_dirs(results, "toy")) == 2


def test_task_and_method_filters_select_cells_of_the_same_run(tmp_path, capsys):
    suite = _write(tmp_path, methods=["tests.corefakes:Echo", {"name": "tests.corefakes:Echo", "label": "echo2"}])
    results = tmp_path / "results"
    assert main(["run", "--suite", str(suite), "--results-dir", str(results), "--method", "echo2"]) == 0
    (run_dir,) = store.run_dirs(results, "toy")
    assert set(store.load([run_dir]).cells["method"]) == {"echo2"}
    assert main(["run", "--suite", str(suite), "--results-dir", str(results)]) == 0
    assert store.run_dirs(results, "toy") == [run_dir]  # the same run, completed
    assert set(store.load([run_dir]).cells["method"]) == {"echo2", "tests.corefakes:Echo"}


def test_manifest_says_whether_the_checkout_had_uncommitted_changes(tmp_path):
    import subprocess

    from bench.runner import _git_dirty

    repo = tmp_path / "repo"
    repo.mkdir()
    assert _git_dirty(repo) is None  # not a checkout
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    (repo / "reports").mkdir()
    (repo / "reports" / "r.md").write_text("a report\n")
    subprocess.run([*git, "add", "reports"], check=True)
    subprocess.run([*git, "commit", "-qm", "r"], check=True)
    (repo / "new.txt").write_text("untracked files do not count\n")
    (repo / "reports" / "r.md").write_text("rewritten reports do not count\n")
    assert _git_dirty(repo) is False
    assert _git_dirty(repo / "reports") is False  # the whole checkout, wherever it is asked from
    (repo / "a.py").write_text("x = 2\n")
    assert _git_dirty(repo) is True and _git_dirty(repo / "reports") is True
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_write(tmp_path)), "--results-dir", str(results)]) == 0
    (run_dir,) = store.run_dirs(results, "toy")
    assert json.loads((run_dir / "manifest.json").read_text())["git_dirty"] in (True, False, None)
