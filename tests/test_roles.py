"""Method roles are declared by the class and stored in every cell record, not guessed from
suite labels; a suite names its reference method."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from baselines import METHODS
from bench import inference, registry, stats, store
from bench.cli import main
from bench.errors import SuiteError, XlbenchError
from bench.method import ROLES, method_role
from bench.suite import parse_suite
from tests.fakeplugin import FakeMethod

EXPECTED = {"finetune": "transfer", "logreg": "transfer", "protonet": "meta", "maml": "meta",
            "reptile": "meta", "majority": "trivial", "lead": "trivial", "overlap": "trivial"}


class PluginTransfer(FakeMethod):
    """A third-party transfer baseline: its label says nothing about its role."""

    role = "transfer"


class NoRole(FakeMethod):
    role = None  # type: ignore[assignment]


def test_every_builtin_declares_its_role():
    assert set(EXPECTED) == set(METHODS)
    for name, role in EXPECTED.items():
        assert method_role(registry.resolve("method", name)) == role
    assert set(EXPECTED.values()) == set(ROLES)


def test_a_method_without_a_valid_role_is_refused_with_the_options():
    with pytest.raises(XlbenchError, match="'transfer'.*'meta'.*'trivial'"):
        method_role(NoRole)


def _tiny_suite(tmp_path, methods, **over):
    small = {"sources": [{"code": "s1"}, {"code": "s2", "replacement_rate": 0.1}],
             "targets": [{"code": "t1", "replacement_rate": 0.2}], "n_train": 90, "n_pool": 12, "n_test": 8,
             "n_topics": 3}
    suite = {
        "name": "roles", "seeds": [0], "shots": [1], "episodes": 1, "queries": 4,
        "budget": {"source_examples": 64, "adapt_examples": 20},
        "backbone": {"name": "ngram", "config": {"buckets": 4096, "dim": 16, "hidden": 32}},
        "tasks": [{"name": "synth-topic", "config": small}], "methods": methods,
        "executor": {"name": "inline"}, **over,
    }
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def test_records_store_the_role_and_stats_read_it(tmp_path):
    methods = [{"name": "finetune", "label": "ft-lr1e-2", "config": {"lr": 0.01}},
               {"name": f"{__name__}:PluginTransfer", "label": "my-baseline"},
               {"name": "tests.fakeplugin:FakeMethod", "label": "my-meta"},
               "majority"]
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_tiny_suite(tmp_path, methods)), "--results-dir", str(results)]) == 0
    (run,) = store.run_dirs(results, "roles")
    loaded = store.load([run])
    assert set(loaded.cells["role"]) == {"transfer", "meta", "trivial"}
    roles = stats.roles(loaded.cells)
    assert {k: v for k, v in roles.items() if k not in ("lead", "overlap")} == {
        "ft-lr1e-2": "transfer", "my-baseline": "transfer", "my-meta": "meta", "majority": "trivial"}
    rows = stats.primary(loaded.scores)
    # the floors are what the records call trivial, whatever their labels
    assert inference.trivial_methods(rows, roles) == {"majority"}
    assert inference.trivial_methods(rows, {**roles, "my-meta": "trivial"}) == {"majority", "my-meta"}


def test_old_records_without_a_role_fall_back_to_the_builtin_labels():
    cells = pd.DataFrame({"method": ["finetune", "ft-lr1e-2", "logreg-tfidf", "lead", "mine"],
                          "role": [None] * 5})
    assert stats.roles(cells) == {"finetune": "transfer", "ft-lr1e-2": "meta", "logreg-tfidf": "transfer",
                                  "lead": "trivial", "mine": "meta"}
    no_column = cells.drop(columns="role")
    assert stats.roles(no_column) == stats.roles(cells)


def _raw(**over):
    return {"name": "s", "tasks": ["synth-topic"], "methods": ["finetune", "maml"], **over}


def test_suite_names_its_reference_method():
    assert parse_suite(_raw()).reference == "finetune"
    assert parse_suite(_raw(methods=["maml", "majority"])).reference is None  # nothing to compare with
    assert parse_suite(_raw(reference="maml")).reference == "maml"
    with pytest.raises(SuiteError, match="reference 'ft'.*finetune, maml"):
        parse_suite(_raw(reference="ft"))
    # a report setting: it does not change the run (same fingerprint, same run folder)
    assert parse_suite(_raw(reference="maml")).fingerprint() == parse_suite(_raw()).fingerprint()


@pytest.mark.fault(area="preflight", case="a plugin method declares no role",
                   behaviour="exit 2 in preflight naming the class and the valid roles")
def test_a_method_without_a_role_stops_the_run_in_preflight(tmp_path, capsys):
    methods = [{"name": f"{__name__}:NoRole", "label": "norole"}]
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_tiny_suite(tmp_path, methods)), "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "NoRole declares role None" in err and "'transfer'" in err, err
    assert not list(results.glob("*/*/manifest.json"))
