"""The task contract: a task turns files (or a generator) into examples, split safely.

Languages play one of three disjoint roles (DESIGN.md, "The protocol"): ``source``
(:meth:`Task.source`, training), ``dev`` (:meth:`Task.dev`, tuning and model selection
only) and ``target`` (:meth:`Task.target`, reported). A task never decides episodes:
:mod:`bench.episodes` draws them from :class:`TargetData` with seeds that depend only on
(task, role, language, shots, index), so every method sees identical support and query
sets. ``xlbench tune`` reaches data only through :meth:`Task.source` and :meth:`Task.dev`
(:func:`evaluation_data`), so target data is never loaded while tuning.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench.errors import DataError
from bench.types import EvalRole, Example, SourceData, TaskInfo, TaskKind


@dataclass(frozen=True)
class TargetData:
    """An evaluated language's data (role ``target`` or ``dev``): ``pool`` feeds support
    sets, ``test`` feeds queries.

    The two are disjoint, and no item id (or group) in either appears in source training.
    A dev language's ``test`` holds no item of any target test set (nor its translation).
    """

    lang: str
    pool: tuple[Example, ...]
    test: tuple[Example, ...]


class Task(ABC):
    """Base class of every task. ``Config`` is a frozen dataclass with defaulted fields."""

    Config: ClassVar[type]
    kind: ClassVar[TaskKind]

    def __init__(self, config: Any, data_dir: Path | None = None) -> None:
        """Store only: reading files happens in the methods below."""
        self.config = config
        self.data_dir = data_dir

    @abstractmethod
    def info(self) -> TaskInfo:
        """Name, kind, labels and languages (source, dev and target)."""

    def episode_key(self, label: str) -> str:
        """What seeds this task's fixed episodes and its cells' initial weights.

        The suite's ``label`` by default; a declarative task returns its spec's name, so
        changing only its display label changes neither episodes nor scores.
        """
        return label

    def validate(self, role: EvalRole = "target") -> None:
        """Read every file the role needs; raise ``DataError`` naming file and record.

        ``role="dev"`` (what ``xlbench tune`` calls) reads source and dev data only.
        """
        self.source()
        info = self.info()
        for lang in info.dev_langs if role == "dev" else info.target_langs:
            evaluation_data(self, role, lang)

    @abstractmethod
    def source(self) -> SourceData:
        """Training data of the source languages."""

    @abstractmethod
    def target(self, lang: str) -> TargetData:
        """Support pool and test items of one target language."""

    def dev(self, lang: str) -> TargetData:
        """Support pool and queries of one dev language (tuning only; never a target item)."""
        raise DataError(
            f"{type(self).__name__} declares no dev languages, so it cannot be tuned; give it "
            f"dev_langs and implement dev(lang), or tune the suite without this task"
        )


def evaluation_data(task: Task, role: EvalRole, lang: str) -> TargetData:
    """The data of ``lang`` in ``role``: the only way the runner reaches evaluated data.

    A dev-role run calls :meth:`Task.dev` and nothing else, so tuning cannot read a target
    language's files (tested with a task whose target files are missing).
    """
    if role == "dev":
        return task.dev(lang)
    if role == "target":
        return task.target(lang)
    raise DataError(f"unknown language role {role!r}; valid roles: 'dev', 'target'")


def check_roles(info: TaskInfo) -> None:
    """The three roles are disjoint (a language is source, dev or target, never two)."""
    roles = {"source": info.source_langs, "dev": info.dev_langs, "target": info.target_langs}
    seen: dict[str, str] = {}
    clashes = []
    for role, langs in roles.items():
        for lang in langs:
            if lang in seen and seen[lang] != role:
                clashes.append(f"{lang!r} is both {seen[lang]} and {role}")
            seen.setdefault(lang, role)
    if clashes:
        raise DataError(
            f"task {info.name!r}: language roles must be disjoint, but {'; '.join(clashes)}. "
            f"Change source_langs / dev_langs / target_langs in the task config (the suite's "
            f"task 'config:' overrides the task's defaults)"
        )
