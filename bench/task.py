"""The task contract: a task turns files (or a generator) into examples, split safely.

A task never decides episodes: :mod:`bench.episodes` draws them from
:class:`TargetData` with seeds that depend only on (task, language, shots, index), so
every method sees identical support and query sets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench.types import Example, SourceData, TaskInfo, TaskKind


@dataclass(frozen=True)
class TargetData:
    """A target language's data: ``pool`` feeds support sets, ``test`` feeds queries.

    The two are disjoint, and no item id (or group) in either appears in source training.
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
        """Name, kind, labels and languages (source and target)."""

    def episode_key(self, label: str) -> str:
        """What seeds this task's fixed episodes and its cells' initial weights.

        The suite's ``label`` by default; a declarative task returns its spec's name, so
        changing only its display label changes neither episodes nor scores.
        """
        return label

    def validate(self) -> None:
        """Read every file the task needs; raise ``DataError`` naming file and record."""
        self.source()
        for lang in self.info().target_langs:
            self.target(lang)

    @abstractmethod
    def source(self) -> SourceData:
        """Training data of the source languages."""

    @abstractmethod
    def target(self, lang: str) -> TargetData:
        """Support pool and test items of one target language."""
