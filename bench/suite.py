"""Strict YAML suites -> frozen dataclasses -> cells.

A suite names tasks, methods, one backbone, the shots, episodes, seeds and the matched
budget (or a sweep of budgets). Unknown keys are errors, names are resolved through the
registry, and every method/task/backbone config is checked against its ``Config``
dataclass, so a typo fails in preflight, never after an hour of training.

Schema (see ``bench/suites/default.yaml``)::

    name: default                 # results go to results/<name>/
    description: one line
    backbone: ngram               # or "hf:<id>", or {name: ngram, config: {...}}
    seeds: [0, 1, 2]
    shots: [0, 1, 5, 10]          # per class (classification) or items; "all" = whole pool
    episodes: 5                   # fixed evaluation episodes per (task, language, shots)
    queries: 50                   # queries per episode (null = the whole test set)
    budget: {source_examples: 20000, adapt_examples: 400}
    budgets: [...]                # instead of budget: a sweep, same cells at several caps
    tasks: [synth-topic, {name: xquad, label: xquad-small, config: {...}, backbone: ...}]
    methods: [finetune, {name: maml, label: fomaml, config: {first_order: true}}]
    executor: {name: local, workers: 1}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from bench import registry
from bench.errors import SuiteError, XlbenchError
from bench.types import ALL_SHOTS, Budget

SUITES_DIR = Path(__file__).parent / "suites"

_TOP_KEYS = {
    "name", "description", "backbone", "seeds", "shots", "episodes", "queries",
    "budget", "budgets", "tasks", "methods", "executor",
}
_COMPONENT_KEYS = {"name", "label", "config"}
_TASK_KEYS = _COMPONENT_KEYS | {"backbone"}


@dataclass(frozen=True)
class Component:
    """A named, configured plugin: ``config`` is the resolved Config dataclass as a dict."""

    name: str
    label: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class TaskSpec:
    """A task of the suite, with an optional per-task backbone override."""

    name: str
    label: str
    config: Mapping[str, Any]
    backbone: Component


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    seeds: tuple[int, ...]
    shots: tuple[int, ...]
    episodes: int
    queries: int | None
    budgets: tuple[Budget, ...]
    tasks: tuple[TaskSpec, ...]
    methods: tuple[Component, ...]
    executor: Mapping[str, Any]

    def resolved(self) -> dict[str, Any]:
        """A JSON-able dict of everything that determines the results."""
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True, default=str))

    def fingerprint(self) -> str:
        """Hash of the resolved suite minus the executor (engines do not change scores)."""
        body = {k: v for k, v in self.resolved().items() if k not in {"executor", "description"}}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]


def suite_path(name_or_path: str) -> Path:
    """A built-in suite name (``bench/suites/<name>.yaml``) or a path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.is_file():
            raise SuiteError(f"suite file {path} does not exist")
        return path
    builtin = SUITES_DIR / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    known = builtin_suites()
    raise SuiteError(registry.unknown_message("task", name_or_path, known).replace(
        "unknown task", "unknown suite").replace("Known tasks", "Built-in suites"))


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def load_suite(name_or_path: str) -> Suite:
    path = suite_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from exc
    return parse_suite(raw, source=str(path))


def parse_suite(raw: Any, source: str = "<suite>") -> Suite:
    """Validate a suite mapping strictly and resolve every name and config."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: a suite is a mapping of keys, got {type(raw).__name__}")
    _no_unknown(raw, _TOP_KEYS, source, "suite")
    for key in ("name", "tasks", "methods"):
        if key not in raw:
            raise SuiteError(f"{source}: missing required key {key!r}")
    if "budget" in raw and "budgets" in raw:
        raise SuiteError(f"{source}: give either 'budget' or 'budgets' (a sweep), not both")
    backbone = _backbone(raw.get("backbone", "ngram"), source)
    budgets_raw = raw.get("budgets") or [raw.get("budget", {})]
    tasks = tuple(_task(t, backbone, source) for t in _list(raw, "tasks", source))
    methods = tuple(_component("method", m, source) for m in _list(raw, "methods", source))
    for what, items in (("task", tasks), ("method", methods)):
        labels = [c.label for c in items]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise SuiteError(f"{source}: {what} label(s) {dupes} appear twice; give each a distinct 'label'")
    executor = raw.get("executor", {"name": "local"})
    if isinstance(executor, str):
        executor = {"name": executor}
    return Suite(
        name=_str(raw["name"], "name", source),
        description=str(raw.get("description", "")),
        seeds=tuple(_int(s, "seeds", source) for s in _list(raw, "seeds", source, [0])),
        shots=tuple(_shot(s, source) for s in _list(raw, "shots", source, [0, 1, 5, 10])),
        episodes=_int(raw.get("episodes", 5), "episodes", source, minimum=1),
        queries=None if raw.get("queries", 50) is None else _int(raw.get("queries", 50), "queries", source, minimum=1),
        budgets=tuple(_budget(b, source) for b in budgets_raw),
        tasks=tasks,
        methods=methods,
        executor=dict(executor),
    )


def _no_unknown(raw: Mapping[str, Any], allowed: set[str], source: str, what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        import difflib

        hints = [
            f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, allowed, 1)) else repr(k)
            for k in unknown
        ]
        raise SuiteError(
            f"{source}: unknown {what} key(s) {', '.join(hints)}. Valid keys: {', '.join(sorted(allowed))}"
        )


def _list(raw: Mapping[str, Any], key: str, source: str, default: list | None = None) -> list:
    value = raw.get(key, default)
    if not isinstance(value, list) or not value:
        raise SuiteError(f"{source}: {key!r} must be a non-empty list, got {value!r}")
    return value


def _str(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise SuiteError(f"{source}: {key!r} must be a non-empty string, got {value!r}")
    return value


def _int(value: Any, key: str, source: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SuiteError(f"{source}: {key!r} must be an integer >= {minimum}, got {value!r}")
    return value


def _shot(value: Any, source: str) -> int:
    if value == "all":
        return ALL_SHOTS
    return _int(value, "shots", source)


def _budget(raw: Any, source: str) -> Budget:
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: a budget is a mapping like {{source_examples: 20000, adapt_examples: 400}}")
    return Budget(**_config(Budget, raw, f"{source}: budget"))


def _config(cls: type, raw: Any, where: str) -> dict[str, Any]:
    """Check ``raw`` against the dataclass ``cls``; return the full config with defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: config must be a mapping, got {raw!r}")
    fields = {f.name for f in dataclasses.fields(cls)}
    _no_unknown(raw, fields, where, "config")
    try:
        return dataclasses.asdict(cls(**raw))
    except (TypeError, ValueError) as exc:
        raise SuiteError(f"{where}: invalid config {raw!r}: {exc}") from exc


def _split(kind: registry.Kind, raw: Any, source: str) -> tuple[str, str, Any]:
    if isinstance(raw, str):
        return raw, raw, {}
    if not isinstance(raw, dict) or "name" not in raw:
        raise SuiteError(f"{source}: a {kind} is a name or a mapping with 'name', got {raw!r}")
    _no_unknown(raw, _TASK_KEYS if kind == "task" else _COMPONENT_KEYS, source, kind)
    return raw["name"], str(raw.get("label", raw["name"])), raw.get("config")


def _component(kind: registry.Kind, raw: Any, source: str) -> Component:
    name, label, config = _split(kind, raw, source)
    cls = registry.resolve(kind, name)
    return Component(name, label, _config(cls.Config, config, f"{source}: {kind} {label!r}"))


def _backbone(raw: Any, source: str) -> Component:
    if isinstance(raw, str) and raw.startswith("hf:"):
        from bench.backbones.e5 import HUB_IDS  # multilingual-e5-small: the e5 module, hub weights

        raw = {"name": "e5", "config": {"source": raw[3:]}} if raw[3:] in HUB_IDS else {"name": "hf", "config": {"model": raw[3:]}}
    return _component("backbone", raw, source)


def _task(raw: Any, default_backbone: Component, source: str) -> TaskSpec:
    backbone = default_backbone
    if isinstance(raw, dict) and "backbone" in raw:
        backbone = _backbone(raw["backbone"], f"{source}: task {raw.get('name')!r}")
    component = _component("task", {k: v for k, v in raw.items() if k != "backbone"} if isinstance(raw, dict) else raw, source)
    return TaskSpec(component.name, component.label, component.config, backbone)


def instantiate(cls: type, config: Mapping[str, Any]) -> Any:
    """Build ``cls.Config`` from a resolved config dict (nested lists back to tuples)."""
    fields = {f.name: f for f in dataclasses.fields(cls.Config)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in fields}
    return cls.Config(**values)


def with_tasks(suite: Suite, names: list[str]) -> Suite:
    """The suite restricted to (or extended with) the named tasks (``--task``)."""
    by_label = {t.label: t for t in suite.tasks}
    default_backbone = suite.tasks[0].backbone if suite.tasks else _backbone("ngram", "--task")
    chosen = tuple(by_label.get(n) or _task(n, default_backbone, "--task") for n in names)
    return dataclasses.replace(suite, tasks=chosen)


def with_methods(suite: Suite, names: list[str]) -> Suite:
    """The suite restricted to (or extended with) the named methods (``--method``)."""
    by_label = {m.label: m for m in suite.methods}
    chosen = tuple(by_label.get(n) or _component("method", n, "--method") for n in names)
    return dataclasses.replace(suite, methods=chosen)


def diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two resolved suites."""
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += diff(a, b, path + ".")
        elif a != b:
            out.append(path)
    return out


__all__ = ["Suite", "TaskSpec", "Component", "load_suite", "parse_suite", "XlbenchError"]
