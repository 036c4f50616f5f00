"""Preflight refuses every bad value before any work (exit 2, naming the field, the value and
what is valid), and nothing a suite names can write outside its folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from bench import store
from bench.cli import main
from bench.types import Prediction
from tests.corefakes import Echo

SUITE = {
    "name": "toy", "seeds": [0], "shots": [0, 2], "episodes": 1, "queries": 6,
    "budget": {"source_examples": 60, "adapt_examples": 100},
    "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo"],
    "executor": {"name": "inline"},
    "floors": False,  # the tests count the fake methods' cells only
}


def _run(tmp_path: Path, capsys, text: str | None = None, **over) -> tuple[int, str]:
    path = tmp_path / "suite.yaml"
    path.write_text(text if text is not None else yaml.safe_dump({**SUITE, **over}))
    capsys.readouterr()
    code = main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "results")])
    return code, capsys.readouterr().err


def _refused(tmp_path: Path, capsys, *needles: str, text: str | None = None, **over) -> str:
    code, err = _run(tmp_path, capsys, text, **over)
    assert code == 2, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "results" / "toy").exists()  # nothing was written
    return err


def _method(name: str, config: dict) -> list:
    return [{"name": name, "config": config}]


BAD_CONFIGS = [
    # (where, suite override, what the message must name)
    ("method lr a string", {"methods": _method("finetune", {"lr": "fast"})}, ["'lr'", "'fast'", "finite number > 0"]),
    ("method lr negative", {"methods": _method("finetune", {"lr": -1})}, ["'lr'", "-1", "> 0"]),
    ("method lr infinite", {"methods": _method("maml", {"inner_lr": float("inf")})}, ["'inner_lr'", "finite"]),
    ("method int a float", {"methods": _method("protonet", {"shots": 2.5})}, ["'shots'", "2.5", "integer >= 1"]),
    ("method bool an int", {"methods": _method("maml", {"first_order": 1})}, ["'first_order'", "boolean"]),
    ("method int a bool", {"methods": _method("maml", {"meta_batch": True})}, ["'meta_batch'", "integer"]),
    ("method literal", {"methods": _method("reptile", {"inner_optimizer": "rmsprop"})},
     ["'inner_optimizer'", "'rmsprop'", "one of 'sgd', 'adam'"]),
    ("method zero batch", {"methods": _method("finetune", {"batch_size": 0})}, ["'batch_size'", ">= 1"]),
    ("backbone buckets", {"backbone": {"name": "ngram", "config": {"buckets": "many"}}}, ["'buckets'", "'many'", "integer"]),
    ("backbone even window", {"backbone": {"name": "ngram", "config": {"window": 4}}}, ["window", "odd"]),
    ("task cap", {"tasks": [{"name": "sib200", "config": {"max_test_per_lang": -3}}]}, ["'max_test_per_lang'", "-3", ">= 1"]),
    ("task split size", {"tasks": [{"name": "xquad", "config": {"source_articles": 2.5}}]}, ["'source_articles'", "2.5"]),
    ("task language list", {"tasks": [{"name": "nusax", "config": {"target_langs": [1, 2]}}]}, ["'target_langs'", "str"]),
]


@pytest.mark.fault(area="preflight", case="method/backbone/task config value of the wrong type or range",
                   behaviour="exit 2 naming field, value and valid range; nothing written")
@pytest.mark.parametrize("case,over,needles", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_value_is_refused_in_preflight(tmp_path, capsys, case, over, needles):
    _refused(tmp_path, capsys, *needles, **over)


BAD_BUDGETS = [
    ({"source_examples": -1}, "-1"),
    ({"source_examples": "many"}, "'many'"),
    ({"adapt_examples": True}, "True"),
    ({"adapt_examples": 10.5}, "10.5"),
    ({"source_examples": float("inf")}, "inf"),
    ({"source_examples": 10**29}, str(10**29)),
]


@pytest.mark.fault(area="preflight", case="budget negative, string, bool, float, inf or absurdly large",
                   behaviour="exit 2 naming the field and its range")
@pytest.mark.parametrize("budget,shown", BAD_BUDGETS, ids=[str(b) for b, _ in BAD_BUDGETS])
def test_bad_budget_is_refused(tmp_path, capsys, budget, shown):
    err = _refused(tmp_path, capsys, "budget", shown, budget={"source_examples": 60, "adapt_examples": 100, **budget})
    assert "integer >= 0 and <= 1000000000000" in err


def test_a_yaml_float_in_exponent_form_is_a_number(tmp_path, capsys):
    text = yaml.safe_dump(SUITE).replace("methods:\n- tests.corefakes:Echo", "methods:\n- {name: finetune, config: {lr: 1e-3}}")
    assert "lr: 1e-3" in text
    from bench.suite import load_suite

    (tmp_path / "s.yaml").write_text(text)
    assert load_suite(str(tmp_path / "s.yaml")).methods[0].config["lr"] == 0.001


@pytest.mark.fault(area="preflight", case="seed outside the 64-bit range", behaviour="exit 2 naming seeds and the range")
@pytest.mark.parametrize("seed", [2**64, -1])
def test_seed_outside_64_bits_is_refused(tmp_path, capsys, seed):
    _refused(tmp_path, capsys, "'seeds'", str(seed), str(2**63 - 1), seeds=[seed])


@pytest.mark.fault(area="preflight", case="a YAML key given twice", behaviour="exit 2 naming the key and both lines")
def test_duplicate_yaml_key_is_refused(tmp_path, capsys):
    text = yaml.safe_dump(SUITE) + "seeds: [3]\n"
    _refused(tmp_path, capsys, "'seeds' is given twice", text=text)


@pytest.mark.fault(area="preflight", case="nested YAML key given twice", behaviour="exit 2 naming the key")
def test_duplicate_nested_key_is_refused(tmp_path, capsys):
    text = yaml.safe_dump(SUITE).replace("  adapt_examples: 100\n", "  adapt_examples: 100\n  adapt_examples: 5\n")
    _refused(tmp_path, capsys, "'adapt_examples' is given twice", text=text)


BAD_EXECUTORS = [
    ({"name": "local", "wrokers": 2}, ["'wrokers'", "did you mean 'workers'"]),
    ({"name": "local", "timeout_s": -5}, ["'timeout_s'", "-5", "> 0"]),
    ({"name": "local", "workers": 0}, ["'workers'", ">= 1"]),
    ({"name": "local", "retries": "twice"}, ["'retries'", "'twice'"]),
    ({"name": "dask", "gpus_per_group": -1}, ["'gpus_per_group'"]),
    ({"name": "slurm", "poll_s": 0}, ["'poll_s'", "> 0"]),
]


@pytest.mark.fault(area="preflight", case="executor option unknown (wrokers) or out of range (timeout_s: -5)",
                   behaviour="exit 2 naming the option and the valid keys or range")
@pytest.mark.parametrize("executor,needles", BAD_EXECUTORS, ids=[str(e) for e, _ in BAD_EXECUTORS])
def test_bad_executor_option_is_refused(tmp_path, capsys, executor, needles):
    _refused(tmp_path, capsys, *needles, executor=executor)


def test_workers_flag_is_checked_too(tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump({**SUITE, "executor": {"name": "inline"}}))
    code = main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "r"), "--executor", "local",
                 "--workers", "-3"])
    err = capsys.readouterr().err
    assert code == 2 and "'workers'" in err and "-3" in err


@pytest.mark.fault(area="preflight", case="budgets sweep whose entries share source_examples",
                   behaviour="exit 2: the later entry would never run")
def test_budget_sweep_sharing_source_examples_is_refused(tmp_path, capsys):
    suite = {k: v for k, v in SUITE.items() if k != "budget"}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump({**suite, "budgets": [{"source_examples": 60, "adapt_examples": 10},
                                                         {"source_examples": 60, "adapt_examples": 100}]}))
    code = main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and "share source_examples [60]" in err, err
    assert not (tmp_path / "results" / "toy").exists()


def test_every_builtin_config_checks_its_declared_ranges_when_built():
    """Direct construction (a plugin's tests, the tuner) gets the same checks as preflight."""
    from baselines.finetune import FineTuneConfig
    from baselines.maml import MAMLConfig
    from bench.backbones.ngram import Config as NgramConfig
    from bench.configcheck import ConfigError
    from bench.types import Budget

    for build in (lambda: MAMLConfig(meta_batch=0), lambda: FineTuneConfig(lr=-1.0),
                  lambda: NgramConfig(buckets=0), lambda: Budget(source_examples=-5)):
        with pytest.raises(ConfigError, match="must be"):
            build()


class FloatLabel(Echo):
    """Predicts a float where a label index belongs."""

    def predict(self, episode, meter):
        return [Prediction(label=1.7) for _ in episode.query]


@pytest.mark.fault(area="preflight", case="a predicted label that is not an int in range (1.7)",
                   behaviour="cell recorded failed with the reason; never scored as 1")
def test_a_float_label_fails_the_cell_instead_of_scoring(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, methods=["tests.test_preflight:FloatLabel"], shots=[2])
    assert code == 1, err
    (run,) = store.run_dirs(tmp_path / "results", "toy")
    recs = [store.read_json(p) for p in (run / "cells").glob("*.json")]
    assert recs and all(r["status"] == "failed" and "label must be an int in [0, 3), got 1.7" in r["reason"]
                        for r in recs)
    assert len(store.load([run]).scores) == 0


# --- nothing is written outside its folder ------------------------------------------------------

UNSAFE = ["../x", "a/b", "/abs", "..", "x\ny", "x\x00y", ".hidden", "a\\b"]


@pytest.mark.fault(area="preflight", case="suite name with ../, / or a control character",
                   behaviour="exit 2: not a safe name; nothing written")
@pytest.mark.parametrize("name", UNSAFE, ids=repr)
def test_unsafe_suite_name_is_refused(tmp_path, capsys, name):
    code, err = _run(tmp_path, capsys, name=name)
    assert code == 2 and "is not a safe name" in err, err
    assert not any((tmp_path / "results").rglob("*.json")) and not (tmp_path / "x").exists()


@pytest.mark.fault(area="preflight", case="method or task label with ../ or /",
                   behaviour="exit 2: not a safe name; no cell or checkpoint outside results/")
@pytest.mark.parametrize("what", ["tasks", "methods"])
@pytest.mark.parametrize("label", ["../../escape", "sub/dir", "tab\there"], ids=repr)
def test_unsafe_label_is_refused(tmp_path, capsys, what, label):
    name = SUITE[what][0]
    code, err = _run(tmp_path, capsys, **{what: [{"name": name, "label": label}]})
    assert code == 2 and f"{what[:-1]} label" in err and "is not a safe name" in err, err
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "suite.yaml"]


@pytest.mark.fault(area="preflight", case="a task's language code with ../ (cell files are named by it)",
                   behaviour="exit 2 naming the code; nothing written")
def test_unsafe_language_code_is_refused(tmp_path, capsys):
    task = {"name": "synth-topic", "config": {"targets": [{"code": "../t9"}], "n_train": 20, "n_pool": 10, "n_test": 10}}
    code, err = _run(tmp_path, capsys, tasks=[task])
    assert code == 2 and "language code of task 'synth-topic'" in err and "'../t9' is not a safe name" in err, err
    assert not (tmp_path / "results" / "toy").exists()


def test_a_language_knob_of_the_wrong_type_is_refused(tmp_path, capsys):
    task = {"name": "synth-topic", "config": {"targets": [{"code": "t9", "sound_changes": "many"}]}}
    _refused(tmp_path, capsys, "'sound_changes'", "'many'", tasks=[task])


@pytest.mark.fault(area="preflight", case="--method/--task given an unsafe name", behaviour="exit 2")
def test_unsafe_name_on_the_command_line_is_refused(tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    assert main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "r"), "--method", "../m"]) == 2
    assert "is not a safe name" in capsys.readouterr().err


@pytest.mark.fault(area="store", case="results folder holds a .write-probe symlink to a file",
                   behaviour="the probe never opens it; the target is untouched")
def test_write_probe_does_not_follow_a_symlink(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    (results / ".write-probe").symlink_to(victim)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    assert main(["run", "--suite", str(path), "--results-dir", str(results)]) == 0
    assert victim.read_text() == "keep me\n"
    assert os.path.islink(results / ".write-probe")  # left as it was
    assert not list(results.glob(".write-probe-*"))  # the real probe cleaned up after itself
