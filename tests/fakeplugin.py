"""A tiny task, method and backbone whose faults are driven by their configs (for executor tests).

``FakeTask`` generates its data (``langs`` target languages); ``FakeMethod`` predicts the
majority support label and can crash (``os._exit``), hang, raise, run out of memory,
produce a NaN loss at a given step, fill the disk, or sleep — on a chosen target language, optionally only
once (``once``: a marker file path created on the first fault). ``FakeBackbone`` builds
nothing, so workers never import torch.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.method import Method
from bench.task import TargetData, Task
from bench.types import Example, LanguageInfo, Prediction, SourceData, TaskInfo


@dataclass(frozen=True)
class FakeTaskConfig:
    langs: int = 2  # number of target languages (t0, t1, ...)
    items: int = 12  # items per language and split
    labels: int = 3  # classes


class FakeTask(Task):
    Config = FakeTaskConfig
    kind = "classification"

    def info(self) -> TaskInfo:
        targets = tuple(f"t{i}" for i in range(self.config.langs))
        return TaskInfo(name="fake", kind="classification", labels=tuple(f"c{i}" for i in range(self.config.labels)),
                        source_langs=("src",), target_langs=targets,
                        languages={lg: LanguageInfo(lg, distance=i / 10) for i, lg in enumerate(targets)})

    def _items(self, lang: str, start: int) -> tuple[Example, ...]:
        n = self.config.labels
        skew = sum(map(ord, lang)) % n  # a different majority class per language
        return tuple(Example(f"{lang}{start + i}", lang, f"w{i} {lang}", label=(i * i + skew) % n)
                     for i in range(self.config.items))

    def source(self) -> SourceData:
        return SourceData(self.info(), {"src": self._items("src", 0)})

    def target(self, lang: str) -> TargetData:
        return TargetData(lang, self._items(lang, 1000), self._items(lang, 2000))


@dataclass(frozen=True)
class FakeBackboneConfig:
    width: int = 1  # unused


class FakeBackbone:
    Config = FakeBackboneConfig

    def __init__(self, config: FakeBackboneConfig) -> None:
        self.config = config

    def build(self, info: TaskInfo, seed: int) -> None:
        return None


@dataclass(frozen=True)
class FakeMethodConfig:
    fault: str = ""  # "", crash, hang, raise, oom, nan, enospc (the disk fills up)
    phase: str = "adapt"  # where the fault happens: source or adapt
    lang: str = ""  # adapt faults: only on this target language ("" = every one)
    shots: int = -2  # adapt faults: only at this K (-2 = every K)
    once: str = ""  # marker file: fault only if it does not exist yet (then create it)
    nan_step: int = 3  # fault "nan": the step whose loss is NaN
    sleep_s: float = 0.0  # seconds per predict call


class FakeMethod(Method):
    Config = FakeMethodConfig
    role = "meta"
    kinds = frozenset({"classification"})

    def _fault(self, phase: str, episode, meter) -> None:
        c = self.config
        if not c.fault or c.phase != phase:
            return
        if episode is not None and ((c.lang and c.lang != episode.lang) or c.shots not in (-2, episode.shots)):
            return
        if c.once:
            if Path(c.once).exists():
                return
            Path(c.once).write_text("faulted")
        if c.fault == "crash":
            os._exit(9)
        if c.fault == "hang":
            time.sleep(3600)
        if c.fault == "raise":
            raise RuntimeError(f"fake failure in {phase}")
        if c.fault == "oom":
            raise MemoryError("fake allocation of 1 TiB")
        if c.fault == "enospc":
            fill_the_disk()
        if c.fault == "nan":
            for step in range(1, 10):
                meter.step(1, loss=float("nan") if step == c.nan_step else 1.0 / step)

    def train(self, source, meter):
        self._fault("source", None, meter)
        while True:
            meter.step(4, loss=0.5)

    def predict(self, episode, meter):
        if self.config.sleep_s:
            time.sleep(self.config.sleep_s)
        self._fault("adapt", episode, meter)
        meter.step(len(episode.support))
        counts = Counter(ex.label for ex in episode.support)
        label = min(counts, key=lambda k: (-counts[k], k)) if counts else 0
        return [Prediction(label=label) for _ in episode.query]


def fill_the_disk() -> None:
    """Fault ``enospc``: from now on every fsync in this process fails with ENOSPC (disk full)."""
    import errno

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    os.fsync = full
