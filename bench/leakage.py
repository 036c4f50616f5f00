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


def check_task(task: Task, label: str | None = None, role: str = "target") -> None:
    """Read ``task``'s source, dev and (unless tuning, ``role="dev"``) target data; raise
    DataError on a leak: source vs dev, source vs target, and dev queries vs target tests.

    ``label`` names the task in the message (the suite label; default the task's own name).
    A tuning run never reads target data, so only source vs dev is checked then.
    """
    info = task.info()
    name = label or info.name
    source = task.source()
    devs = [task.dev(lang) for lang in info.dev_langs]
    if devs:
        check(name, source, devs)
    if role == "target":
        targets = [task.target(lang) for lang in info.target_langs]
        check(name, source, targets)
        if devs:
            check_dev(name, devs, targets)


def check_dev(task_name: str, devs: Iterable[TargetData], targets: Iterable[TargetData]) -> None:
    """Dev queries (tuning) hold no item or article of any target test set (nor its
    translation), and a dev pool is disjoint from its queries. Raise DataError otherwise."""
    targets = list(targets)
    test_ids = {ex.item_id for t in targets for ex in t.test}
    test_groups = {ex.group for t in targets for ex in t.test if ex.group is not None}
    found = []
    for dev in devs:
        for kind, hits in (
            ("target-test item id(s)", sorted({ex.item_id for ex in dev.test} & test_ids)),
            ("target-test article(s)", sorted({ex.group for ex in dev.test if ex.group} & test_groups)),
            ("dev-pool item id(s)", sorted({ex.item_id for ex in dev.pool} & {ex.item_id for ex in dev.test})),
        ):
            if hits:
                found.append(f"{len(hits)} {kind} in the {dev.lang} dev queries, e.g. {hits[:5]}")
    if found:
        raise DataError(
            f"{task_name}: the dev split overlaps the test split: {'; '.join(found)}. Dev "
            f"queries must come from items that are neither source-train nor target-test items."
        )
