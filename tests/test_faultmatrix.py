"""The README's fault matrix is the tests' ``fault`` markers, rendered (tests/faultmatrix.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.faultmatrix import AREAS, README, ROOT, readme_block, render


def test_readme_fault_matrix_matches_the_markers_of_the_whole_suite():
    """Collects every test in a fresh process (markers anywhere count) and compares."""
    out = subprocess.run([sys.executable, "-m", "tests.faultmatrix", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]


def test_render_counts_and_escapes():
    rows = {("store", "a | b", "kept"): {"t::x"}, ("executor", "dies", "retried"): {"t::x", "t::y"}}
    block = render(rows)
    assert "2 cases, each checked by a test in `make test` (2 tests): store 1, executor 1." in block
    assert "| store | a \\| b | kept |" in block
    assert block.index("| store |") < block.index("| executor |")  # areas in AREAS order
    assert AREAS[0] == "store"


def test_readme_has_the_generated_block():
    assert readme_block(README.read_text(encoding="utf-8")) is not None


@pytest.mark.parametrize("kwargs", [{"area": "nowhere", "case": "c", "behaviour": "b"}, {"area": "store", "case": ""}])
def test_a_malformed_marker_is_an_error(tmp_path, kwargs):
    from tests.faultmatrix import _Collector

    class Item:
        nodeid = "t.py::test_x"

        def iter_markers(self, name):
            return [pytest.mark.fault(**kwargs).mark]

    collector = _Collector()
    collector.pytest_collection_modifyitems([Item()])
    assert collector.bad and not collector.rows
