"""Reports: pure functions from stored results to tables (md/tex/csv), figures and HTML.

Entry points: :func:`render` writes a whole report folder; :func:`compatible` checks that
several runs may be reported together. Importing this package stays cheap: pandas,
scipy and matplotlib load only when a function runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from bench.report.writer import Options


def render(results: Any, out_dir: Path, options: "Options | None" = None) -> list[Path]:
    """Write every table, figure and ``index.html`` of ``results`` into ``out_dir``."""
    from bench.report.writer import Options
    from bench.report.writer import render as _render

    return _render(results, Path(out_dir), options or Options())


def compatible(manifests: Sequence[dict]) -> None:
    """Raise XlbenchError unless the runs share tasks, shots, episodes, queries, budgets."""
    from bench.report.merge import compatible as _compatible

    _compatible(manifests)


__all__ = ["render", "compatible"]
