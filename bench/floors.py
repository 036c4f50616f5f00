"""Trivial floors: the baselines every suite carries, whether or not it names them.

A score means little until it is set against what needs no learning at all: the majority
class (classification), the lead-k sentences (summarization), the question-overlap
sentence (extractive QA) — see :mod:`baselines.trivial`. The runner calls
:func:`with_floors` in preflight, so a suite that omits them (e.g. the real suites) still
reports them, and the report can say where a method fails to clear its floor. A floor is
n/a on the kinds it does not support (recorded like any n/a pair, left out of tables).
They train nothing and spend nothing, so they cost milliseconds per cell.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from bench.suite import Suite

#: Registry names of the trivial floors, declared once (``bench.stats`` reads it too).
FLOORS: tuple[str, ...] = ("majority", "lead", "overlap")


def with_floors(suite: "Suite") -> "Suite":
    """``suite`` with every floor of :data:`FLOORS` it does not already run, appended.

    A floor counts as present when a method of that registry *name* is in the suite (any
    label or config). The added ones use their default config and label = name; a label
    already taken by another method is an error (rename that method).
    """
    from bench.errors import SuiteError
    from bench.suite import Component

    names = {m.name for m in suite.methods}
    labels = {m.label for m in suite.methods}
    added = []
    for name in FLOORS:
        if name in names:
            continue
        if name in labels:
            raise SuiteError(
                f"suite {suite.name!r}: the label {name!r} is taken by another method, but the "
                f"runner adds the trivial floor {name!r} to every suite; give that method "
                "another label")
        added.append(Component(name, name, {}))
    return dataclasses.replace(suite, methods=suite.methods + tuple(added)) if added else suite
