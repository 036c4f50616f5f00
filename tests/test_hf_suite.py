"""A suite with ``backbone: hf:<local path>`` runs end to end through `xlbench run` and `report`."""

from __future__ import annotations

import yaml

from bench import store
from bench.cli import main
from tests.hfmodels import tiny_encoder_dir


def test_hf_local_path_suite_runs_and_reports(tmp_path):
    small = {"n_train": 24, "n_pool": 12, "n_test": 8}
    suite = {
        "name": "hf-tiny", "backbone": f"hf:{tiny_encoder_dir()}",
        "seeds": [0], "shots": [0, 1], "episodes": 1, "queries": 4,
        "budget": {"source_examples": 32, "adapt_examples": 16},
        "tasks": [{"name": "synth-topic", "config": small}, {"name": "synth-qa", "config": small}],
        "methods": ["finetune", "protonet", {"name": "maml", "label": "fomaml", "config": {"first_order": True}}],
        "executor": "inline",
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    results = tmp_path / "results"
    assert main(["run", "--suite", str(path), "--results-dir", str(results)]) == 0
    (run_dir,) = store.run_dirs(results, "hf-tiny")
    loaded = store.load([run_dir])
    assert set(loaded.cells["status"]) <= {"done", "n/a"}
    # the runner adds the trivial floors the suite omits (majority, overlap score here)
    assert set(loaded.scores["method"]) == {"finetune", "protonet", "fomaml", "majority", "overlap"}
    assert set(loaded.scores["kind"]) == {"classification", "qa"}
    out = tmp_path / "report"
    assert main(["report", "--results", str(run_dir), "--out", str(out)]) == 0
    assert (out / "index.html").is_file() and (out / "tables" / "main-qa.md").is_file()
