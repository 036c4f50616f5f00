"""Labels from a results folder never steer where a report writes, nor break its Markdown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from report_fixture import load_fixture

from bench.report import render

EVIL = "../../evil|*x*"


@pytest.mark.fault(area="report", case="task label with ../, | or * in the results",
                   behaviour="report files stay in the report folder (sanitised names); Markdown escaped")
def test_a_hostile_task_label_stays_inside_the_report_folder(tmp_path: Path) -> None:
    from bench.report.writer import Options

    r = load_fixture()
    swap = {"synth-cls": EVIL}
    r = dataclasses.replace(r, **{name: getattr(r, name).replace({"task": swap})
                                  for name in ("scores", "cells", "audit", "languages")})
    out = tmp_path / "deep" / "report"
    out.parent.mkdir()
    paths = render(r, out, Options(boot=50))
    assert all(out.resolve() in p.resolve().parents for p in paths)
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {p.resolve() for p in paths}  # nothing anywhere else
    evil = [p for p in paths if p.name.startswith("scripts-__") and p.suffix == ".md"]
    assert len(evil) == 1 and evil[0].parent == out / "tables"  # the label's table, renamed, in tables/
    main = (out / "tables" / "trivial-gap.md").read_text(encoding="utf-8")  # a table with a task column
    assert EVIL not in main and "../../evil\\|\\*x\\*" in main  # escaped in its row
    header = next(line for line in main.splitlines() if line.startswith("| "))
    for line in main.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert line.replace("\\|", "").count("|") == header.count("|"), line


def test_file_stem_keeps_plain_names_and_separates_rewritten_ones() -> None:
    from bench.report.formats import file_stem

    assert file_stem("main-classification") == "main-classification"
    assert file_stem("scripts-synth.cls_2") == "scripts-synth.cls_2"
    a, b = file_stem("scripts-a/b"), file_stem("scripts-a:b")
    assert a != b and "/" not in a and ":" not in b and a.startswith("scripts-a_b-")
    assert not file_stem("..").startswith(".") and "/" not in file_stem("/etc/passwd")
