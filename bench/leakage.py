"""The "no parallel leakage" check (docs/architecture.md, "The protocol").

Parallel corpora (SIB-200, NusaX, XQuAD) hold translations of one item in every language
under one ``item_id``; XQuAD items also share their article in ``group``. A source-training
item id or article must never reach a target test set, and a target's support pool must
be disjoint from its test set. The runner calls :func:`check_task` for every task of a
suite in preflight, so a task (built-in or plugin) is checked whether or not it mentions
leakage; the tests call :func:`leaks` on the real data.
"""

from __future__ import annotations

from typing import Iterable

from bench.errors import DataError
from bench.task import TargetData, Task
from bench.types import SourceData


def leaks(source: SourceData, targets: Iterable[TargetData], limit: int = 5) -> list[str]:
    """Every leak, described: source item/article in a target test set, or pool ∩ test."""
    train = source.all()
    ids = {ex.item_id for ex in train}
    groups = {ex.group for ex in train if ex.group is not None}
    found: list[str] = []
    for target in targets:
        test_ids = {ex.item_id for ex in target.test}
        test_groups = {ex.group for ex in target.test if ex.group is not None}
        for kind, hits in (
            ("source item id(s)", sorted(ids & test_ids)),
            ("source article(s)", sorted(groups & test_groups)),
            ("support-pool item id(s)", sorted({ex.item_id for ex in target.pool} & test_ids)),
        ):
            if hits:
                found.append(
                    f"{len(hits)} {kind} in the {target.lang} test set, e.g. {hits[:limit]}"
                )
    return found


def check(task_name: str, source: SourceData, targets: Iterable[TargetData]) -> None:
    """Raise DataError if :func:`leaks` finds anything."""
    found = leaks(source, targets)
    if found:
        raise DataError(
            f"{task_name}: split leaks test items into training: {'; '.join(found)}. "
            f"Split by item id (or article) across all languages."
        )


def check_task(task: Task, label: str | None = None) -> None:
    """Read ``task``'s source data and every target language's data; raise DataError on a leak.

    ``label`` names the task in the message (the suite label; default the task's own name).
    """
    info = task.info()
    check(label or info.name, task.source(), [task.target(lang) for lang in info.target_langs])
