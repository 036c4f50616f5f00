"""Load the committed ``tests/fixtures/report-small`` result set as a ``Results``.

Uses ``bench.store.Results`` when the store exists, else a local dataclass with the same
fields (the report code only reads the attributes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FIXTURE = Path(__file__).parent / "fixtures" / "report-small"

try:  # the store's record, when it has landed
    from bench.store import Results  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until bench/store.py exists

    @dataclass(frozen=True)
    class Results:  # type: ignore[no-redef]
        scores: pd.DataFrame
        audit: pd.DataFrame
        cells: pd.DataFrame
        languages: pd.DataFrame
        manifests: tuple[dict, ...]


def load_fixture(path: Path = FIXTURE) -> Results:
    """The fixture's CSV/JSON files as a Results record (dtypes as the store returns them)."""
    cells = pd.read_csv(path / "cells.csv", keep_default_na=False,
                        dtype={"reason": str, "status": str})
    audit = pd.read_csv(path / "audit.csv").astype({"shots": "Int64", "episodes": "Int64"})
    audit["lang"] = audit["lang"].astype(object).where(audit["lang"].notna(), None)
    manifest = json.loads((path / "manifest.json").read_text())
    return Results(
        scores=pd.read_csv(path / "scores.csv"),
        audit=audit,
        cells=cells,
        languages=pd.read_csv(path / "languages.csv"),
        manifests=(manifest,),
    )
