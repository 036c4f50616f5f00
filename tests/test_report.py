"""bench.report on the committed fixture: files, content, determinism, golden main table."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import pandas as pd
import pytest
from report_fixture import FIXTURE, load_fixture

from bench.errors import XlbenchError
from bench.report import compatible, render, style

GOLDEN = FIXTURE / "main-classification.golden.md"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], float]:
    out = tmp_path_factory.mktemp("report") / "report-small"
    start = time.perf_counter()
    paths = render(load_fixture(), out)
    return out, paths, time.perf_counter() - start


def test_render_writes_every_table_figure_and_page(rendered) -> None:  # noqa: ANN001
    out, paths, seconds = rendered
    names = {p.relative_to(out).as_posix() for p in paths}
    for table in ("main-classification", "main-qa", "metrics-classification", "metrics-qa",
                  "per-language-classification",
                  "per-language-qa", "scripts-synth-cls",
                  "budget-audit", "win-tie-loss", "absent", "ranks"):
        assert {f"tables/{table}.{ext}" for ext in ("md", "tex", "csv")} <= names
    for fig in ("score-vs-shots", "gain-heatmap", "gain-vs-distance", "critical-difference",
                "score-vs-budget"):
        assert {f"figures/{fig}.pdf", f"figures/{fig}.png"} <= names
    assert {"index.html", "report.md", "tables/distance-correlation.csv"} <= names
    assert all(p.stat().st_size > 0 for p in paths)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # temp dir gone
    assert seconds < 60  # a few seconds on an idle machine; generous for loaded CI


def test_main_table_matches_golden(rendered) -> None:  # noqa: ANN001
    out, _, _ = rendered
    got = (out / "tables" / "main-classification.md").read_text(encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8"), (
        "main table changed; if intended, copy the new table over "
        f"{GOLDEN.relative_to(FIXTURE.parent.parent.parent)}")


def test_main_table_marks_na_best_and_significance(rendered) -> None:  # noqa: ANN001
    out, _, _ = rendered
    md = (out / "tables" / "main-qa.md").read_text(encoding="utf-8")
    protonet = next(line for line in md.splitlines() if line.startswith("| protonet"))
    assert "| n/a |" in protonet  # K=0 is n/a for ProtoNets, not a blank
    maml = next(line for line in md.splitlines() if line.startswith("| maml"))
    assert "**48.1" in maml  # the planted gain at K=5: best mean ...
    assert "↑" not in maml.split("|")[-2]  # ... but 3 languages cannot carry it after Holm
    assert "pre-registered reference finetune" in md and "all methods x K within a task" in md
    assert "K = labelled support items" in md
    per_lang = (out / "tables" / "per-language-qa.md").read_text(encoding="utf-8")
    assert "↑" in per_lang  # where it is planted strongest, the episodes of one language do
    assert "all methods x target languages x K within a task" in per_lang
    tex = (out / "tables" / "per-language-qa.tex").read_text(encoding="utf-8")
    assert "\\toprule" in tex and "\\textbf{" in tex and "$^{\\uparrow}$" in tex
    assert "±" not in tex and "$\\pm$" in tex
    csv = pd.read_csv(out / "tables" / "main-qa.csv")
    assert {"task", "method", "shots", "mean", "lo", "hi", "p_holm", "reference", "mde",
            "family_size", "below_floor"} <= set(csv)
    assert set(csv["reference"].dropna()) == {"finetune"}


def test_absent_and_audit_tables_explain_every_gap(rendered) -> None:  # noqa: ANN001
    out, _, _ = rendered
    absent = pd.read_csv(out / "tables" / "absent.csv", keep_default_na=False)
    reasons = set(zip(absent["method"], absent["task"], absent["shots"], absent["reason"]))
    assert ("protonet", "synth-cls", 0, "needs a support set (K >= 1)") in reasons
    assert ("maml", "synth-qa", 5, "loss became NaN at step 112") in reasons
    audit = pd.read_csv(out / "tables" / "budget-audit.csv")
    assert set(audit["phase"]) == {"source", "adapt"}
    assert (audit["examples_max"] <= audit["cap"]).all()
    for kind, task in (("classification", "synth-cls"), ("qa", "synth-qa")):
        lang = pd.read_csv(out / "tables" / f"per-language-{kind}.csv")
        assert {"script", "family", "distance"} <= set(lang) and set(lang["task"]) == {task}
    corr = pd.read_csv(out / "tables" / "distance-correlation.csv")
    assert (corr["rho"] < 0).all() and (corr["p"] > 0.3).all()  # n = 3: exact p = 1/3
    assert "Spearman" in (out / "report.md").read_text(encoding="utf-8")


def test_page_is_self_contained(rendered) -> None:  # noqa: ANN001
    out, _, _ = rendered
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<img ") == 5 and page.count('src="data:image/png;base64,') == 5
    assert "http://" not in page and "https://" not in page
    for heading in ("Protocol", "Main results", "Per language", "Ranks", "Budget",
                    "Absent results"):
        assert f"<h2>{heading}</h2>" in page


def _digests(paths: list[Path], root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in paths}


def test_rendering_twice_is_byte_identical(rendered, tmp_path: Path) -> None:  # noqa: ANN001
    out, paths, _ = rendered
    again = tmp_path / "again"
    assert _digests(paths, out) == _digests(render(load_fixture(), again), again)


def test_single_budget_skips_budget_figure_with_a_note(tmp_path: Path) -> None:
    r = load_fixture()
    one = dataclasses.replace(r, scores=r.scores[r.scores["budget"] == 8000],
                              cells=r.cells[r.cells["budget"] == 8000],
                              audit=r.audit[r.audit["budget"] == 8000])
    from bench.report.writer import Options

    paths = render(one, tmp_path, Options(boot=100))
    names = {p.name for p in paths}
    assert "score-vs-budget.png" not in names and "score-vs-shots.png" in names
    assert "score-vs-budget skipped: only one budget" in (tmp_path / "report.md").read_text()


def test_no_scores_is_a_helpful_error(tmp_path: Path) -> None:
    r = load_fixture()
    with pytest.raises(XlbenchError, match="no scores"):
        render(dataclasses.replace(r, scores=r.scores.iloc[:0]), tmp_path)


def test_compatible_allows_other_methods_but_not_other_protocols() -> None:
    m = load_fixture().manifests[0]
    other = {**m, "run_id": "b", "suite": {**m["suite"], "methods": [{"name": "reptile"}]}}
    compatible([m, other])
    for key, value in (("shots", [0, 1]), ("episodes", 10), ("queries", 20),
                       ("budgets", [{"source_examples": 1}]), ("tasks", [{"name": "x"}])):
        bad = {**m, "run_id": "c", "suite": {**m["suite"], key: value}}
        with pytest.raises(XlbenchError, match=f"{key}: "):
            compatible([m, bad])
    with pytest.raises(XlbenchError, match="no runs"):
        compatible([])


def test_compatible_allows_a_task_subset_but_not_a_changed_shared_task() -> None:
    m = load_fixture().manifests[0]
    tasks = m["suite"]["tasks"]
    subset = {**m, "run_id": "b", "suite": {**m["suite"], "tasks": tasks[:1]}}
    compatible([m, subset])
    changed = [{**tasks[0], "config": {**tasks[0].get("config", {}), "seed": 99}}]
    bad = {**m, "run_id": "c", "suite": {**m["suite"], "tasks": changed}}
    with pytest.raises(XlbenchError, match=f"task {tasks[0].get('label', tasks[0]['name'])!r}"):
        compatible([m, bad])


def test_method_looks_are_fixed_distinct_and_deterministic() -> None:
    builtins = ["finetune", "logreg", "logreg-tfidf", "protonet", "maml", "fomaml", "reptile"]
    roles = {"finetune": "transfer", "logreg": "transfer", "logreg-tfidf": "transfer", "majority": "trivial"}
    looks = [style.look(m, roles) for m in builtins]
    assert len({(lk.color, lk.marker) for lk in looks}) == len(builtins)
    assert all(lk.color in style.OKABE_ITO.values() for lk in looks)
    assert style.look("finetune", roles).linestyle == "--" and style.look("maml", roles).linestyle == "-"
    assert style.look("my-plugin", roles) == style.look("my-plugin", roles)
    assert style.method_order(["logreg", "maml", "majority", "finetune"], roles) == [
        "maml", "finetune", "logreg", "majority"]
    # the role, not the label, decides: a transfer baseline under any label is dashed
    assert style.look("ft-lr1e-2", {"ft-lr1e-2": "transfer"}).linestyle == "--"


def test_render_survives_store_edge_cases(tmp_path: Path) -> None:
    """No language metadata, a cell that failed before any K, object-typed distances."""
    from bench.report.writer import Options

    r = load_fixture()
    cells = pd.concat([r.cells, pd.DataFrame([{
        "run_id": "x", "task": "synth-cls", "kind": "classification", "method": "reptile",
        "seed": 0, "lang": None, "shots": None, "budget": 8000, "status": "failed",
        "reason": "source training raised RuntimeError", "attempts": 3}])], ignore_index=True)
    paths = render(dataclasses.replace(r, cells=cells, languages=r.languages.iloc[:0]),
                   tmp_path, Options(boot=50))
    absent = (tmp_path / "tables" / "absent.md").read_text(encoding="utf-8")
    assert "| reptile | synth-cls | any | failed | source training raised RuntimeError |" in absent
    assert any(p.name == "gain-vs-distance.png" for p in paths)  # by script ("?") instead


def test_unsupported_methods_leave_tables_but_stay_in_the_absent_table(tmp_path: Path) -> None:
    """A method n/a at every K of a task (kind unsupported) gets no all-n/a row or column;
    one n/a only at some K (ProtoNets at K = 0) keeps its row."""
    from bench.report.writer import Options

    r = load_fixture()
    template = r.cells[(r.cells["task"] == "synth-cls") & (r.cells["method"] == "maml")]
    lead = template.assign(method="lead", status="n/a",
                           reason="LeadK does not support classification tasks")
    render(dataclasses.replace(r, cells=pd.concat([r.cells, lead], ignore_index=True)),
           tmp_path, Options(boot=50))
    tables = tmp_path / "tables"
    main = (tables / "main-classification.md").read_text(encoding="utf-8")
    assert "| lead" not in main and "| protonet | n/a |" in main
    assert "lead" not in (tables / "per-language-classification.md").read_text(encoding="utf-8")
    absent = pd.read_csv(tables / "absent.csv", keep_default_na=False)
    lead_rows = absent[absent["method"] == "lead"]
    assert set(lead_rows["shots"]) == {0, 1, 5} and set(lead_rows["status"]) == {"n/a"}
    assert (lead_rows["reason"] == "LeadK does not support classification tasks").all()
