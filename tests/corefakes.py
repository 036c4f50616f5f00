"""A tiny task and method for testing the framework without the real ones.

``Echo`` predicts the majority support label (or 0) and spends one example per query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.method import Method
from bench.task import TargetData, Task
from bench.types import Example, LanguageInfo, Prediction, SourceData, TaskInfo


@dataclass(frozen=True)
class ToyConfig:
    items: int = 40  # items per language and split
    labels: int = 3  # number of classes


class ToyTask(Task):
    Config = ToyConfig
    kind = "classification"

    def info(self) -> TaskInfo:
        return TaskInfo(
            name="toy", kind="classification", labels=tuple(f"c{i}" for i in range(self.config.labels)),
            source_langs=("src",), target_langs=("aa", "bb"),
            languages={"aa": LanguageInfo("aa", distance=0.1), "bb": LanguageInfo("bb", distance=0.5)},
        )

    def _items(self, lang: str, start: int) -> tuple[Example, ...]:
        n = self.config.labels
        return tuple(Example(f"i{start + i}", lang, f"w{i % n} x{i}", label=i % n) for i in range(self.config.items))

    def source(self) -> SourceData:
        return SourceData(self.info(), {"src": self._items("src", 0)})

    def target(self, lang: str) -> TargetData:
        return TargetData(lang, self._items(lang, 1000), self._items(lang, 2000))


@dataclass(frozen=True)
class EchoConfig:
    bias: int = 0  # the label predicted without support


class Echo(Method):
    Config = EchoConfig
    role = "meta"
    kinds = frozenset({"classification"})

    def train(self, source, meter):
        while True:
            meter.step(8)

    def predict(self, episode, meter):
        meter.step(len(episode.support))
        counts = Counter(ex.label for ex in episode.support)
        label = min(counts, key=lambda k: (-counts[k], k)) if counts else self.config.bias
        return [Prediction(label=label) for _ in episode.query]


class StatefulEcho(Echo):
    """``Echo`` with a source checkpoint (one tensor), so runs reuse ``source/<key>.safetensors``."""

    def state(self):
        import torch

        return {"bias": torch.tensor([float(self.config.bias)])}

    def load_state(self, state):
        self.loaded = state["bias"]
