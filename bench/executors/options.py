"""The options each executor accepts (suite ``executor:`` mapping), as frozen dataclasses.

Checked in preflight like every other config (:mod:`bench.configcheck`): an unknown key
(``wrokers``) or a bad value (``timeout_s: -5``) stops the run with exit 2 before any work,
instead of being ignored or failing every cell. The engines read the same keys with the same
defaults (``bench/executors/local.py``, ``dask_engine.py``, ``slurm.py``, ``worker.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from bench.configcheck import ConfigError, bounded, build
from bench.executors.lease import HEARTBEAT_S, STALE_S

_DAY_S = 7 * 86_400.0  # no single timeout or lease period is longer than a week


@dataclass(frozen=True)
class CommonOptions:
    """The coordinator's and the workers' knobs, shared by every engine."""

    retries: int = bounded(2, ge=0, le=100)  # resubmissions of a group whose worker died or timed out
    timeout_s: float | None = bounded(None, gt=0, le=_DAY_S)  # wall-clock limit per cell (None: none)
    heartbeat_s: float = bounded(HEARTBEAT_S, gt=0, le=3600)  # how often a worker refreshes its lease
    stale_s: float = bounded(STALE_S, gt=0, le=_DAY_S)  # a lease this old belongs to a lost worker


@dataclass(frozen=True)
class LocalOptions(CommonOptions):
    workers: int | None = bounded(None, ge=1, le=4096)  # worker subprocesses (None: one per usable core)


@dataclass(frozen=True)
class InlineOptions(CommonOptions):
    workers: int | None = bounded(None, ge=1, le=1)  # always the coordinator itself


@dataclass(frozen=True)
class DaskOptions(CommonOptions):
    workers: int | None = bounded(None, ge=1, le=4096)  # LocalCluster workers (no address)
    address: str | None = None  # scheduler address of an existing cluster
    gpus_per_group: int = bounded(0, ge=0, le=64)  # GPU resources a group requests


@dataclass(frozen=True)
class SlurmOptions(CommonOptions):
    workers: int | None = bounded(None, ge=1, le=100_000)  # array parallelism (None: 64)
    poll_s: float = bounded(1.0, gt=0, le=3600)  # how often job states are read
    signal_delay_s: int = bounded(90, ge=0, le=86_400)  # SIGUSR2 this long before the time limit
    partition: str | None = None
    cpus_per_task: int | None = bounded(None, ge=1, le=4096)
    gpus_per_node: int | None = bounded(None, ge=0, le=64)
    mem: str | None = None  # e.g. "16G"
    setup: tuple[str, ...] | None = None  # shell lines run before the job
    qos: str | None = None
    account: str | None = None
    constraint: str | None = None
    exclude: str | None = None
    additional_parameters: Mapping[str, Any] | None = None


OPTIONS: dict[str, type] = {
    "local": LocalOptions,
    "inline": InlineOptions,
    "dask": DaskOptions,
    "slurm": SlurmOptions,
}


def check_options(name: str, options: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ConfigError` naming the key, the value and the valid keys or range."""
    cls = OPTIONS.get(name)
    if cls is None:
        return  # an unknown executor name is reported by its own check
    allowed = sorted(f.name for f in dataclasses.fields(cls))
    unknown = sorted(set(options) - set(allowed) - {"name"})
    if unknown:
        import difflib

        hints = [f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, allowed, 1)) else repr(k)
                 for k in unknown]
        raise ConfigError(f"{where}: unknown {name} executor option(s) {', '.join(hints)}. "
                          f"Valid options: {', '.join(allowed)}")
    try:
        build(cls, {k: v for k, v in options.items() if k != "name"})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {name} executor option {exc}") from exc
