"""Which runs may be reported together (``xlbench report --results A --results B``)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from bench.errors import XlbenchError

#: Resolved-suite fields that must agree for scores to be comparable; methods (and seeds) may
#: differ. Tasks may differ between runs, but a task present in several runs must be identical
#: there (config and its backbone: a resolved suite holds the backbone per task), and the runs
#: must share at least one task. (A resolved suite always says ``budgets``, never ``budget``.)
MATCHED_FIELDS: tuple[str, ...] = ("shots", "episodes", "queries", "budgets")


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def compatible(manifests: Sequence[dict]) -> None:
    """Raise :class:`XlbenchError` unless every run used the same tasks, episodes and budget.

    Runs may differ in their methods (that is what merging is for), seeds and the set of
    tasks, but not in shots, episodes, queries, budget(s), nor in the config or backbone of
    a task they share: their episodes or budgets would not be shared, and paired
    comparisons would be meaningless.
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
        diffs += _task_diffs(first, other)
        if diffs:
            raise XlbenchError(
                "these runs cannot be reported together; they differ in\n" + "\n".join(diffs)
                + "\nOnly runs with the same shots, episodes, queries and budget, and identical"
                " configs for the tasks they share,"
                " can be merged (methods and seeds may differ). Report them separately, or "
                "rerun the new methods with the first run's suite settings."
            )


def _task_diffs(first: dict, other: dict) -> list[str]:
    """Differences between the tasks two runs share (or a line if they share none)."""
    mine = {t.get("label", t.get("name")): t for t in first.get("suite", {}).get("tasks", [])}
    theirs = {t.get("label", t.get("name")): t for t in other.get("suite", {}).get("tasks", [])}
    common = sorted(set(mine) & set(theirs))
    if not common:
        return [f"  tasks: {first.get('run_id', '?')} has {sorted(mine)}, "
                f"{other.get('run_id', '?')} has {sorted(theirs)} (no task in common)"]
    return [
        f"  task {label!r}: {first.get('run_id', '?')} has {_canon(mine[label])}, "
        f"{other.get('run_id', '?')} has {_canon(theirs[label])}"
        for label in common if _canon(mine[label]) != _canon(theirs[label])
    ]
