"""Search spaces: what ``xlbench tune`` may vary in a method's Config.

A method declares ``search_space`` next to its ``Config`` (a class attribute mapping Config
field names to a :data:`Space`); the Config's defaults stay the single source of the
values a run uses when no tuned file applies. Every method of a suite gets the same number
of trials (``tuning.trials``); trial 0 is always the suite's own config (the defaults), the
others are drawn by :func:`sample` (seeded random search, Bergstra and Bengio 2012, or an
evenly thinned grid). A method that declares no space gets exactly one trial: its defaults.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal, Mapping, Union

import numpy as np

from bench.errors import SuiteError

Sampler = Literal["random", "grid"]


@dataclass(frozen=True)
class LogUniform:
    """A positive float drawn uniformly in log space between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise SuiteError(f"LogUniform needs 0 < low < high, got low={self.low}, high={self.high}")

    def draw(self, rng: np.random.Generator) -> float:
        return _round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def grid(self) -> tuple[float, ...]:
        return tuple(_round(v) for v in np.geomspace(self.low, self.high, 3))

    def describe(self) -> str:
        return f"log-uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise SuiteError(f"Uniform needs low < high, got low={self.low}, high={self.high}")

    def draw(self, rng: np.random.Generator) -> float:
        return _round(rng.uniform(self.low, self.high))

    def grid(self) -> tuple[float, ...]:
        return tuple(_round(v) for v in np.linspace(self.low, self.high, 3))

    def describe(self) -> str:
        return f"uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class IntRange:
    """An integer drawn uniformly from ``low`` to ``high`` inclusive (``log``: in log space)."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high or (self.log and self.low < 1):
            raise SuiteError(f"IntRange needs low <= high (and low >= 1 when log), got {self}")

    def draw(self, rng: np.random.Generator) -> int:
        if self.log:
            value = round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
            return int(min(max(value, self.low), self.high))
        return int(rng.integers(self.low, self.high + 1))

    def grid(self) -> tuple[int, ...]:
        points = np.geomspace(self.low, self.high, 3) if self.log else np.linspace(self.low, self.high, 3)
        return tuple(sorted({int(round(v)) for v in points}))

    def describe(self) -> str:
        return f"int{' log' if self.log else ''} [{self.low}, {self.high}]"


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (any YAML-able values), uniformly."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise SuiteError("Choice needs at least one option")

    def draw(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self) -> tuple[Any, ...]:
        return self.options

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.options))


Space = Union[LogUniform, Uniform, IntRange, Choice]


def _round(value: float) -> float:
    """Three significant digits: trial configs stay readable in the tuned file."""
    return float(f"{value:.3g}")


def space_of(method_cls: type) -> Mapping[str, Space]:
    """The declared search space of a method class (empty when it declares none), checked:
    every key must be a field of its Config."""
    space = dict(getattr(method_cls, "search_space", None) or {})
    config = getattr(method_cls, "Config", None)
    names = {f.name for f in fields(config)} if config is not None and is_dataclass(config) else set()
    unknown = sorted(set(space) - names)
    if unknown:
        raise SuiteError(
            f"{method_cls.__module__}:{method_cls.__qualname__}.search_space names {unknown}, "
            f"which are not fields of its Config ({', '.join(sorted(names))}); fix the space"
        )
    bad = sorted(k for k, v in space.items() if not isinstance(v, (LogUniform, Uniform, IntRange, Choice)))
    if bad:
        raise SuiteError(
            f"{method_cls.__qualname__}.search_space[{bad[0]!r}] is not a Space; use LogUniform, "
            f"Uniform, IntRange or Choice from bench.searchspace"
        )
    return space


def sample(space: Mapping[str, Space], trials: int, seed: int, sampler: Sampler = "random") -> list[dict[str, Any]]:
    """``trials`` overrides of the Config: trial 0 is ``{}`` (the defaults), then distinct
    draws (a space too small for distinct draws repeats some, so every method still gets
    exactly ``trials``). An empty space yields one trial (``[{}]``): nothing to tune. A grid
    with fewer points than trials yields every point once (then the method has fewer
    trials, and the tuned file records how many it had)."""
    if trials < 1:
        raise SuiteError(f"tuning.trials must be >= 1, got {trials}")
    if not space:
        return [{}]
    keys = sorted(space)
    out: list[dict[str, Any]] = [{}]
    if sampler == "grid":
        points = [dict(zip(keys, combo)) for combo in itertools.product(*(space[k].grid() for k in keys))]
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(points)).tolist()
        return out + [points[i] for i in order[: trials - 1]]
    if sampler != "random":
        raise SuiteError(f"tuning.sampler must be 'random' or 'grid', got {sampler!r}")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    attempts = 0
    while len(out) < trials:
        attempts += 1
        draw = {k: space[k].draw(rng) for k in keys}
        key = repr(sorted(draw.items()))
        if key not in seen or attempts > 100 * trials:  # a tiny space repeats: counts stay equal
            seen.add(key)
            out.append(draw)
    return out


def describe(space: Mapping[str, Space]) -> dict[str, str]:
    """Field -> a human-readable range (for the tuned file and the report)."""
    return {k: space[k].describe() for k in sorted(space)}


__all__ = ["Choice", "IntRange", "LogUniform", "Space", "Uniform", "describe", "sample", "space_of"]
