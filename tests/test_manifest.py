"""What a run records about itself, the refusal to resume it with other code, and the
dependency-free Markdown export of ``xlbench results``."""

from __future__ import annotations

import hashlib
import sys

import pytest
import yaml

from bench import runner, store
from bench.cli import main
from tests.realdata import write_sib

TOY = {
    "name": "toy", "seeds": [0], "shots": [0, 2], "episodes": 1, "queries": 6,
    "budget": {"source_examples": 60, "adapt_examples": 100},
    "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo", "majority"],
    "executor": {"name": "inline"},
    "floors": False,
}


def _run(tmp_path, suite: dict, *extra: str) -> int:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "results"), *extra])


def _manifest(tmp_path, name: str = "toy") -> dict:
    (run,) = store.run_dirs(tmp_path / "results", name)
    return store.read_json(run / "manifest.json")


def test_manifest_records_the_machine_and_the_numeric_stack(tmp_path):
    import torch

    assert _run(tmp_path, TOY) == 0
    machine = _manifest(tmp_path)["machine"]
    assert machine["cpu"]["model"] and machine["cpu"]["logical_cores"] >= 1
    if sys.platform.startswith("linux"):
        assert isinstance(machine["cpu"]["flags"], list) and machine["cpu"]["flags"]
    assert machine["torch"]["version"] == torch.__version__
    assert "BLAS" in machine["torch"]["build"] or "blas" in machine["torch"]["build"].lower()
    assert machine["torch"]["threads"] >= 1 and "intra-op" in machine["torch"]["parallel"].lower() or \
        "threads" in machine["torch"]["parallel"].lower()
    assert machine["numpy"]["version"]


def test_manifest_records_every_component_with_its_distribution(tmp_path):
    assert _run(tmp_path, TOY) == 0
    rows = {(c["kind"], c["name"]): c for c in _manifest(tmp_path)["components"]}
    assert rows[("method", "majority")]["distribution"] == "xlbench"
    assert rows[("method", "majority")]["version"] and rows[("method", "majority")]["origin"] == "built-in"
    assert rows[("backbone", "ngram")]["distribution"] == "xlbench"
    fake = rows[("method", "tests.corefakes:Echo")]  # a module path from a folder, no distribution
    assert fake["target"] == "tests.corefakes:Echo" and fake["distribution"] is None
    assert ("task", "tests.corefakes:ToyTask") in rows


def test_manifest_hashes_every_data_file_the_tasks_read(tmp_path):
    base = write_sib(tmp_path / "data", langs=("eng_Latn", "hau_Latn"))
    suite = {**TOY, "tasks": [{"name": "sib200", "config": {"source_langs": ["eng_Latn"],
                                                            "target_langs": ["hau_Latn"], "dev_langs": []}}],
             "methods": ["majority"]}
    assert _run(tmp_path, suite, "--data-dir", str(tmp_path / "data")) == 0
    files = _manifest(tmp_path)["data_files"]
    ann = base / "data" / "annotated"
    want = {base / "data" / "eng" / "labels.txt", ann / "eng_Latn" / "train.tsv",  # source
            ann / "hau_Latn" / "train.tsv", ann / "hau_Latn" / "test.tsv"}  # target pool and test
    assert set(files) == {str(p.resolve()) for p in want}  # exactly what was read, nothing unread
    test_file = base / "data" / "annotated" / "hau_Latn" / "test.tsv"
    assert files[str(test_file.resolve())] == {"sha256": hashlib.sha256(test_file.read_bytes()).hexdigest(),
                                               "bytes": test_file.stat().st_size}


@pytest.mark.fault(area="store", case="resuming a run after the code changed (another git sha)",
                   behaviour="refused with exit 2 naming both shas; nothing computed")
def test_resuming_with_other_code_is_refused_naming_both_shas(tmp_path, capsys):
    if runner._git_sha() is None:
        pytest.skip("not a git checkout: no sha to compare")
    assert _run(tmp_path, TOY) == 0
    (run,) = store.run_dirs(tmp_path / "results", "toy")
    manifest = store.read_json(run / "manifest.json")
    store.write_json(run / "manifest.json", {**manifest, "git_sha": "0" * 40})
    victim = sorted((run / "cells").glob("*.json"))[0]
    victim.unlink()  # one cell left to compute
    capsys.readouterr()
    assert _run(tmp_path, TOY) == 2
    err = capsys.readouterr().err
    assert "0" * 40 in err and runner._git_sha() in err and "git checkout 000000000000" in err
    assert not victim.exists()
    # a finished run with other code is only read, never refused
    store.write_json(run / "manifest.json", manifest)
    assert _run(tmp_path, TOY) == 0 and victim.exists()
    store.write_json(run / "manifest.json", {**manifest, "git_sha": "0" * 40})
    assert _run(tmp_path, TOY) == 0


@pytest.mark.fault(area="report", case="`xlbench results --format md` without the optional tabulate",
                   behaviour="a Markdown table, escaped, no extra dependency")
def test_results_as_markdown_needs_no_tabulate(tmp_path, capsys, monkeypatch):
    assert _run(tmp_path, {**TOY, "methods": [{"name": "majority", "label": "_majority"}]}) == 0
    monkeypatch.setitem(sys.modules, "tabulate", None)  # as on a clean install: import fails
    capsys.readouterr()
    assert main(["results", "--suite", "toy", "--results-dir", str(tmp_path / "results"), "--format", "md"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| run_id | suite | task |") and set(out[1]) <= set("|-:")
    rows = out[2:]
    assert rows and all(r.count(" | ") == out[0].count(" | ") for r in rows)
    assert all(" \\_majority |" in r for r in rows)  # escaped: it would open emphasis


def test_markdown_escapes_what_would_change_a_table():
    import pandas as pd

    from bench.report.formats import frame_markdown, md_escape

    assert md_escape("a|b *x* `c` [l](u) <b>\nnext") == "a\\|b \\*x\\* \\`c\\` \\[l\\](u) \\<b> next"
    assert md_escape("run_id _em_ p < 0.05") == "run_id \\_em\\_ p < 0.05"
    text = frame_markdown(pd.DataFrame({"method": ["a|b"], "value": [1.5]}))
    assert text.splitlines() == ["| method | value |", "|---|--:|", "| a\\|b | 1.5 |"]
