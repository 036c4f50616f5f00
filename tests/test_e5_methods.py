"""Every built-in method runs on every task kind on the e5 backbone, frozen and with the top
layer trained (a tiny synthetic suite through the runner, in this process)."""

from __future__ import annotations

import json

import pytest

from tests.e5support import bundled_path

METHODS = ("finetune, logreg, protonet, maml, {name: maml, label: fomaml, config: {first_order: true}}, "
           "reptile, majority, lead, overlap")
LANGS = "sources: [{code: s1}], targets: [{code: t1}]"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["frozen", "train_layers: 1"])
def test_every_method_runs_on_every_kind(tmp_path, mode, monkeypatch):
    bundled_path()
    from bench.cli import main

    monkeypatch.setenv("XLBENCH_THREADS", "1")
    extra = "" if mode == "frozen" else ", train_layers: 1"
    suite = tmp_path / "e5-tiny.yaml"
    suite.write_text(
        f"name: e5-tiny\nbackbone: {{name: e5, config: {{max_length: 48{extra}}}}}\nseeds: [0]\nshots: [0, 1]\n"
        "episodes: 1\nqueries: 3\nbudget: {source_examples: 12, adapt_examples: 6}\ntasks:\n"
        f"  - {{name: synth-topic, config: {{n_topics: 3, n_train: 24, n_pool: 6, n_test: 3, {LANGS}}}}}\n"
        f"  - {{name: synth-qa, config: {{n_train: 8, n_pool: 4, n_test: 3, {LANGS}}}}}\n"
        f"  - {{name: synth-summ, config: {{n_train: 8, n_pool: 4, n_test: 3, {LANGS}}}}}\n"
        f"methods: [{METHODS}]\n"
    )
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "r"), "--executor", "inline"]) == 0
    cells = [json.loads(p.read_text()) for p in (tmp_path / "r").rglob("cells/*.json")]
    status = {(c["key"]["task"], c["key"]["method"], c["key"]["shots"]): c["status"] for c in cells}
    assert len(status) == 3 * 9 * 2
    assert not [k for k, s in status.items() if s not in ("done", "n/a")], status
    done = {(t, m) for (t, m, _), s in status.items() if s == "done"}
    for task in ("synth-topic", "synth-qa", "synth-summ"):
        for m in ("finetune", "logreg", "protonet", "maml", "fomaml", "reptile"):
            assert (task, m) in done, (task, m)
