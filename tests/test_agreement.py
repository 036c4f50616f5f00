"""xlbench compare: two runs reach the same conclusions, or the differences are listed."""

from __future__ import annotations

import dataclasses

import pytest
from report_fixture import load_fixture

from bench import store
from bench.agreement import compare_runs, lines
from bench.cli import main
from bench.errors import XlbenchError


def _shifted(results, method: str, by: float):  # noqa: ANN001, ANN202
    s = results.scores.copy()
    s.loc[s["method"] == method, "value"] += by
    return dataclasses.replace(results, scores=s)


def test_a_run_agrees_with_itself_and_a_jitter_inside_the_cis() -> None:
    a = load_fixture()
    same = compare_runs(a, a, boot=200)
    assert same.same and same.marks["agree"].all() and same.means["within"].all()
    jitter = compare_runs(a, _shifted(a, "logreg", 0.05), boot=200)  # thread-count noise
    assert jitter.same
    assert lines(jitter, "A", "B")[-1] == "conclusion: SAME conclusions (exit 0)"


def test_a_shifted_method_differs_and_every_difference_is_listed() -> None:
    a = load_fixture()
    b = _shifted(a, "maml", 80.0)
    verdict = compare_runs(a, b, boot=200)
    assert not verdict.same
    assert not verdict.means.set_index("method").loc["maml", "within"].any()
    text = "\n".join(lines(verdict, "A", "B"))
    assert "conclusions DIFFER (exit 1)" in text and "maml" in text
    assert "reference: finetune" in text


@pytest.mark.fault(area="report", case="compare: a folder that is not a run",
                   behaviour="exit 2 with the folder named")
def test_cli_exit_codes(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    runs = {"a": load_fixture(), "b": load_fixture(), "c": _shifted(load_fixture(), "maml", 80)}
    monkeypatch.setattr(store, "load", lambda dirs: runs[dirs[0].name])
    assert main(["compare", "a", "b", "--boot", "100"]) == 0
    assert "SAME" in capsys.readouterr().out
    assert main(["compare", "a", "c", "--boot", "100"]) == 1
    assert main(["compare", "a", "b", "--reference", "nosuch"]) == 2
    assert "no results for the reference 'nosuch'" in capsys.readouterr().err


def test_runs_without_shared_cells_are_bad_input() -> None:
    a = load_fixture()
    b = dataclasses.replace(a, scores=a.scores.assign(task="other"))
    with pytest.raises(XlbenchError, match="share no"):
        compare_runs(a, b, boot=50)


def test_method_filter_keeps_the_reference_and_drops_the_rest() -> None:
    a = load_fixture()
    verdict = compare_runs(a, _shifted(a, "maml", 80.0), boot=50, methods=("logreg",))
    assert set(verdict.marks["method"]) == {"logreg"} and verdict.same  # maml left out
