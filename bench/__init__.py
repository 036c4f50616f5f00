"""xlbench: meta-learning vs transfer for cross-lingual understanding, under a matched budget.

The public API of a plugin (a method, a task, a backbone) is what this package exports::

    from bench import Method, Meter, BudgetExhausted, EvalEpisode, Prediction, SourceData

Names are loaded lazily (module-level ``__getattr__``, PEP 562): ``import bench`` imports no
torch, pandas or transformers, and each name's module is imported on first use. The full
architecture: docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (declared once; ``dir(bench)`` lists them).
_EXPORTS: dict[str, str] = {
    # the method contract
    "Method": "bench.method",
    "MethodRole": "bench.method",
    "ModelFactory": "bench.method",
    # Config dataclasses: types from annotations, ranges declared per field
    "Checked": "bench.configcheck",
    "bounded": "bench.configcheck",
    # search spaces `xlbench tune` draws trials from (a method's `search_space`)
    "Space": "bench.searchspace",
    "LogUniform": "bench.searchspace",
    "Uniform": "bench.searchspace",
    "IntRange": "bench.searchspace",
    "Choice": "bench.searchspace",
    # the budget
    "Meter": "bench.budget",
    "BudgetExhausted": "bench.budget",
    "Diverged": "bench.budget",
    # records
    "Answer": "bench.types",
    "Budget": "bench.types",
    "EvalEpisode": "bench.types",
    "Example": "bench.types",
    "KINDS": "bench.types",
    "LanguageInfo": "bench.types",
    "Prediction": "bench.types",
    "Query": "bench.types",
    "SourceData": "bench.types",
    "TaskInfo": "bench.types",
    "TaskKind": "bench.types",
    # the task contract and the leakage check every task passes
    "Task": "bench.task",
    "TargetData": "bench.task",
    "leaks": "bench.leakage",
    # source episodes for meta-training, shared by every method
    "Episode": "bench.sampling",
    "MIN_WAYS": "bench.sampling",
    "can_sample": "bench.sampling",
    "episode_classes": "bench.sampling",
    "episode_langs": "bench.sampling",
    "episode_sizes": "bench.sampling",
    "language_batch": "bench.sampling",
    "meta_batch_langs": "bench.sampling",
    "meta_batch_plan": "bench.sampling",
    "source_episode": "bench.sampling",
    # backbones' unit models
    "Feats": "bench.backbones.base",
    "UnitModel": "bench.backbones.base",
    # the contract as checks (what `xlbench check` runs)
    "run_checks": "bench.contract.checks",
    "passed": "bench.contract.checks",
    "failures": "bench.contract.checks",
    # errors
    "XlbenchError": "bench.errors",
    "DataError": "bench.errors",
    "SuiteError": "bench.errors",
    "UnknownNameError": "bench.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from bench.backbones.base import Feats, UnitModel
    from bench.budget import BudgetExhausted, Diverged, Meter
    from bench.configcheck import Checked, bounded
    from bench.contract.checks import failures, passed, run_checks
    from bench.errors import DataError, SuiteError, UnknownNameError, XlbenchError
    from bench.leakage import leaks
    from bench.method import Method, MethodRole, ModelFactory
    from bench.sampling import (
        MIN_WAYS,
        Episode,
        can_sample,
        episode_classes,
        episode_langs,
        episode_sizes,
        language_batch,
        meta_batch_langs,
        meta_batch_plan,
        source_episode,
    )
    from bench.searchspace import Choice, IntRange, LogUniform, Space, Uniform
    from bench.task import TargetData, Task
    from bench.types import (
        KINDS,
        Answer,
        Budget,
        EvalEpisode,
        Example,
        LanguageInfo,
        Prediction,
        Query,
        SourceData,
        TaskInfo,
        TaskKind,
    )
