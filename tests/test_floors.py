"""bench.floors: the runner adds the trivial floors every suite must carry."""

from __future__ import annotations

import pytest
import yaml

from bench.errors import SuiteError
from bench.floors import FLOORS, with_floors
from bench.runner import prepare
from bench.suite import load_suite, parse_suite

BASE = {
    "name": "toy", "seeds": [0], "shots": [0, 2], "episodes": 2, "queries": 6,
    "budget": {"source_examples": 60, "adapt_examples": 100},
    "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo"],
}


def test_floors_are_added_once_and_only_when_missing() -> None:
    suite = with_floors(parse_suite(BASE))
    assert [m.label for m in suite.methods] == ["tests.corefakes:Echo", *FLOORS]
    assert with_floors(suite) == suite  # idempotent
    named = parse_suite(BASE | {"methods": ["tests.corefakes:Echo", {"name": "majority",
                                                                     "label": "maj"}]})
    assert [m.label for m in with_floors(named).methods] == [
        "tests.corefakes:Echo", "maj", "lead", "overlap"]  # present by name, any label


@pytest.mark.fault(area="preflight", case="a method's label is a floor's name",
                   behaviour="refused before any work, says to rename it")
def test_a_label_that_takes_a_floor_name_is_refused() -> None:
    clash = parse_suite(BASE | {"methods": [{"name": "tests.corefakes:Echo", "label": "lead"}]})
    with pytest.raises(SuiteError, match="label 'lead' is taken"):
        with_floors(clash)


def test_the_runner_adds_floors_to_a_suite_that_omits_them(tmp_path) -> None:
    prepared = prepare(parse_suite(BASE), tmp_path / "r", None)
    assert {c.method for c in prepared.cells} == {"tests.corefakes:Echo", *FLOORS}
    assert {m.label for m in prepared.suite.methods} >= set(FLOORS)  # what the manifest records
    off = prepare(parse_suite(BASE | {"floors": False}), tmp_path / "r2", None)
    assert {c.method for c in off.cells} == {"tests.corefakes:Echo"}


@pytest.mark.fault(area="preflight", case="floors: is not a boolean",
                   behaviour="SuiteError naming the key and the valid values")
def test_floors_key_must_be_boolean(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(BASE | {"floors": "yes"}))
    with pytest.raises(SuiteError, match="'floors' must be true or false"):
        load_suite(str(path))
