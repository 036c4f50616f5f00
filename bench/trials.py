"""Tuning records: a suite's ``tuning:`` block, the tuned-config file, and what a run used.

``xlbench tune`` (:mod:`bench.tune`) writes one YAML file per suite, by default
``<suite folder>/tuned/<suite name>.yaml``: per (task, method) every trial's config
overrides and dev score, and the chosen one. ``xlbench run`` attaches it to the suite
(:func:`attach`), which turns each (task, method) into its chosen config and records a
:class:`Tuned` in the suite itself, so the run's manifest (and the report header) say which
file was used and how many trials every method got. ``--no-tuned`` runs the Config defaults.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from bench.errors import SuiteError

TUNING_KEYS = {"trials", "sampler", "seed", "seeds", "episodes", "shots", "metric", "file"}


@dataclass(frozen=True)
class Tuning:
    """A suite's ``tuning:`` block: the same budget of trials for every method."""

    trials: int = 16  # trials per method (trial 0 = the suite's config; a method with no space gets 1)
    sampler: Literal["random", "grid"] = "random"  # seeded random search, or a thinned grid
    seed: int = 0  # seeds the sampler (each method derives its own stream from it)
    seeds: tuple[int, ...] = (0,)  # method seeds of every trial cell
    episodes: int = 3  # dev episodes per (task, dev language, K)
    shots: tuple[int, ...] | None = None  # K values scored (None: the suite's shots)
    metric: str | None = None  # the score maximised (None: each kind's primary metric)
    file: str | None = None  # where the tuned file goes (None: <suite folder>/tuned/<name>.yaml)


@dataclass(frozen=True)
class TunedMethod:
    """What a run used for one (task, method): the chosen trial of a tuned file, or nothing."""

    task: str
    method: str
    trials: int  # how many trials the method got (0: no entry in the tuned file)
    chosen: int | None  # the chosen trial (None: untuned, the suite's config)
    metric: str | None
    best: float | None  # its mean dev score
    overrides: Mapping[str, Any]  # the chosen trial's Config fields (on top of the suite's)
    config: Mapping[str, Any]  # the full config the run uses
    scores: tuple[float | None, ...] = ()  # dev score of every trial, in trial order
    space: Mapping[str, str] = field(default_factory=dict)  # the declared space, described


@dataclass(frozen=True)
class Tuned:
    """The tuned file a run used, by path and content hash, and every (task, method) entry."""

    file: str
    sha256: str
    entries: tuple[TunedMethod, ...]

    def config(self, task: str, method: str) -> Mapping[str, Any] | None:
        for e in self.entries:
            if e.task == task and e.method == method:
                return e.config
        return None


def parse_tuning(raw: Any, source: str) -> Tuning:
    """The ``tuning:`` block, strictly (unknown keys and bad values are errors)."""
    if raw is None:
        return Tuning()
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: 'tuning' must be a mapping like {{trials: 16, episodes: 3}}, got {raw!r}")
    unknown = sorted(set(raw) - TUNING_KEYS)
    if unknown:
        raise SuiteError(f"{source}: unknown tuning key(s) {unknown}. Valid keys: {', '.join(sorted(TUNING_KEYS))}")

    def integer(key: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SuiteError(f"{source}: tuning.{key} must be an integer >= {minimum}, got {value!r}")
        return value

    out = Tuning()
    values: dict[str, Any] = {}
    for key in ("trials", "episodes"):
        if key in raw:
            values[key] = integer(key, raw[key], 1)
    if "seed" in raw:
        values["seed"] = integer("seed", raw["seed"], 0)
    for key in ("seeds", "shots"):
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], list) or not raw[key]:
                raise SuiteError(f"{source}: tuning.{key} must be a non-empty list, got {raw[key]!r}")
            values[key] = tuple(-1 if (key == "shots" and v in ("all", -1)) else integer(key, v, 0)
                                for v in raw[key])
    if "sampler" in raw:
        if raw["sampler"] not in ("random", "grid"):
            raise SuiteError(f"{source}: tuning.sampler must be 'random' or 'grid', got {raw['sampler']!r}")
        values["sampler"] = raw["sampler"]
    for key in ("metric", "file"):
        if raw.get(key) is not None:
            if not isinstance(raw[key], str) or not raw[key]:
                raise SuiteError(f"{source}: tuning.{key} must be a non-empty string, got {raw[key]!r}")
            values[key] = raw[key]
    return Tuning(**{**out.__dict__, **values})


def tuned_path(suite_file: Path, suite_name: str, tuning: Tuning) -> Path:
    """Where a suite's tuned file lives: ``tuning.file`` (relative to the suite's folder),
    else ``<suite folder>/tuned/<suite name>.yaml``."""
    if tuning.file:
        path = Path(tuning.file)
        return path if path.is_absolute() else suite_file.parent / path
    return suite_file.parent / "tuned" / f"{suite_name}.yaml"


def read_file(path: Path) -> dict[str, Any]:
    """A tuned file, checked for the keys :func:`attach` needs."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError(f"tuned file {path} cannot be read: {exc}; rerun `xlbench tune` or pass --no-tuned") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise SuiteError(f"tuned file {path} has no 'entries' list; rerun `xlbench tune` or pass --no-tuned")
    return doc


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def attach(suite: Any, path: Path, display: str | None = None) -> Any:
    """The suite with its tuned file applied: every (task, method) the file tuned runs its
    chosen config; the others keep the suite's config and are recorded with 0 trials.

    Raises SuiteError when an entry was tuned from a different base config (the suite or
    a Config default changed since `xlbench tune`): rerun it, or pass --no-tuned. A Config
    field added since (absent from the entry's base) keeps its default and is no conflict;
    a method with no search space always runs the suite's config.
    """
    import dataclasses

    from bench import registry
    from bench.suite import _config

    doc = read_file(path)
    by_key = {(e.get("task"), e.get("method")): e for e in doc["entries"] if isinstance(e, dict)}
    entries = []
    for spec in suite.tasks:
        for m in suite.methods:
            e = by_key.get((spec.label, m.label))
            if e is None:
                entries.append(TunedMethod(spec.label, m.label, 0, None, None, None, {}, dict(m.config)))
                continue
            base, now = json.loads(_canon(e.get("base") or {})), json.loads(_canon(dict(m.config)))
            changed = sorted(k for k in set(base) & set(now) if base[k] != now[k])
            if changed and e.get("space"):  # a method with no space runs the suite's config anyway
                raise SuiteError(
                    f"tuned file {path}: {spec.label}/{m.label} was tuned from a different config "
                    f"(changed since: {', '.join(f'{k} {base[k]!r} -> {now[k]!r}' for k in changed)}). "
                    f"Rerun `xlbench tune --suite "
                    f"{suite.name}` (or pass --no-tuned to run the suite's own configs)"
                )
            cls: Any = registry.resolve("method", m.name)
            overrides = dict(e.get("overrides") or {}) if e.get("space") else {}
            config = _config(cls.Config, {**dict(m.config), **overrides}, f"{path}: {spec.label}/{m.label}")
            history = e.get("history") or []
            entries.append(TunedMethod(
                task=spec.label, method=m.label, trials=int(e.get("trials", len(history))),
                chosen=e.get("chosen"), metric=e.get("metric"), best=e.get("best"),
                overrides=overrides, config=config,
                scores=tuple(h.get("score") for h in history), space=dict(e.get("space") or {}),
            ))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    tuned = Tuned(file=display or str(path), sha256=digest, entries=tuple(entries))
    return dataclasses.replace(suite, tuned=tuned)


def parse_tuned(raw: Any, source: str) -> Tuned | None:
    """A :class:`Tuned` back from its resolved (manifest) form."""
    if raw is None:
        return None
    try:
        entries = tuple(
            TunedMethod(**{**e, "scores": tuple(e.get("scores") or ())}) for e in raw["entries"]
        )
        return Tuned(file=str(raw["file"]), sha256=str(raw["sha256"]), entries=entries)
    except (KeyError, TypeError) as exc:
        raise SuiteError(f"{source}: malformed 'tuned' record ({exc}); it is written by xlbench, not by hand") from exc


def trial_counts(tuned: Mapping[str, Any] | None) -> dict[str, int]:
    """Method label -> trials (the most over tasks) from a resolved ``tuned`` record."""
    out: dict[str, int] = {}
    for e in (tuned or {}).get("entries", []):
        out[e["method"]] = max(out.get(e["method"], 0), int(e["trials"]))
    return out


__all__ = ["Tuning", "Tuned", "TunedMethod", "attach", "parse_tuning", "parse_tuned", "tuned_path"]
