from pathlib import Path

import pytest

from bench.errors import SuiteError, UnknownNameError
from bench.suite import builtin_suites, diff, parse_suite, with_tasks

ROOT = Path(__file__).resolve().parents[1]
TOY = "tests.corefakes:ToyTask"
ECHO = "tests.corefakes:Echo"


def suite(**over):
    raw = {"name": "t", "tasks": [TOY], "methods": [ECHO], "shots": [0, 1, "all"],
           "budget": {"source_examples": 64, "adapt_examples": 10}}
    raw.update(over)
    return raw


def test_parse_resolves_defaults_and_all_shots():
    s = parse_suite(suite())
    assert s.shots == (0, 1, -1) and s.seeds == (0,) and s.episodes == 5
    assert s.tasks[0].config == {"items": 40, "labels": 3}
    assert s.methods[0].config == {"bias": 0}
    assert s.budgets[0].adapt_examples == 10
    assert len(s.fingerprint()) == 12 and s.fingerprint() == parse_suite(suite()).fingerprint()


def test_unknown_top_key_is_named_with_suggestion():
    with pytest.raises(SuiteError, match=r"'episods' \(did you mean 'episodes'\?\)"):
        parse_suite(suite(episods=3))


def test_unknown_config_field_lists_valid_ones():
    with pytest.raises(SuiteError, match="'bais'.*Valid keys: bias"):
        parse_suite(suite(methods=[{"name": ECHO, "config": {"bais": 1}}]))


def test_unknown_task_suggests():
    with pytest.raises(UnknownNameError, match="unknown task 'nope'"):
        parse_suite(suite(tasks=["nope"]))


def test_duplicate_labels_and_bad_values():
    with pytest.raises(SuiteError, match="appear twice"):
        parse_suite(suite(methods=[ECHO, ECHO]))
    with pytest.raises(SuiteError, match="'episodes' must be an integer >= 1"):
        parse_suite(suite(episodes=0))
    with pytest.raises(SuiteError, match="either 'budget' or 'budgets'"):
        parse_suite(suite(budgets=[{}]))


def test_budget_sweep_and_diff():
    raw = {k: v for k, v in suite().items() if k != "budget"}
    s = parse_suite(raw | {"budgets": [{"source_examples": 8}, {"source_examples": 16}]})
    assert [b.source_examples for b in s.budgets] == [8, 16]
    changed = diff(parse_suite(suite()).resolved(), parse_suite(suite(episodes=7)).resolved())
    assert changed == ["episodes"]


def test_with_tasks_unknown_name():
    with pytest.raises(UnknownNameError):
        with_tasks(parse_suite(suite()), ["nope"])


def test_builtin_suites_listed():
    assert "default" in builtin_suites()


@pytest.mark.parametrize("path", sorted(str(p) for p in (ROOT / "examples").rglob("*.yaml")
                                        if "tasks" not in p.relative_to(ROOT / "examples").parts[:1]))  # task specs: test_declarative
def test_example_suites_parse(path):
    from bench.suite import load_suite

    s = load_suite(path)  # strict: an unknown key or method config field fails here
    assert s.tasks and s.methods
