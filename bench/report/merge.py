"""Which runs may be reported together (``xlbench report --results A --results B``)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from bench.errors import XlbenchError

#: Suite fields that must agree for scores to be comparable; methods (and seeds) may differ.
MATCHED_FIELDS: tuple[str, ...] = (
    "tasks", "shots", "episodes", "queries", "budget", "budgets", "backbone",
)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def compatible(manifests: Sequence[dict]) -> None:
    """Raise :class:`XlbenchError` unless every run used the same tasks, episodes and budget.

    Runs may differ in their methods (that is what merging is for) and seeds, but not in
    tasks (or their configs), shots, episodes, queries, budget(s) or backbone: their
    episodes or budgets would not be shared, and paired comparisons would be meaningless.
    """
    if not manifests:
        raise XlbenchError("no runs to report: pass at least one --results <run folder>")
    first = manifests[0]
    base = first.get("suite", {})
    for other in manifests[1:]:
        suite = other.get("suite", {})
        diffs = [
            f"  {key}: {first.get('run_id', '?')} has {_canon(base.get(key))}, "
            f"{other.get('run_id', '?')} has {_canon(suite.get(key))}"
            for key in MATCHED_FIELDS if _canon(base.get(key)) != _canon(suite.get(key))
        ]
        if diffs:
            raise XlbenchError(
                "these runs cannot be reported together; they differ in\n" + "\n".join(diffs)
                + "\nOnly runs of the same tasks, shots, episodes, queries, budget and backbone"
                " can be merged (methods and seeds may differ). Report them separately, or "
                "rerun the new methods with the first run's suite settings."
            )
