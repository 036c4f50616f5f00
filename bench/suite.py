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
    reference: finetune           # the method label every method is compared with in the report
                                  # (default: finetune, when the suite has a method labelled so)
    tuning: {trials: 16, sampler: random, seeds: [0], episodes: 3, shots: [1, 5]}  # `xlbench tune`
    floors: true                  # the runner adds the trivial floors the suite omits
                                  # (bench/floors.py); false only for framework tests

``role`` (``target``, or ``dev`` in the trial suites ``xlbench tune`` derives) and ``tuned``
(the tuned file a run applied, :func:`bench.trials.attach`) are written by xlbench into
the manifest; a hand-written suite leaves them out.

Every value is checked before any work (exit 2 naming the key, the value and what is
valid): config fields by type and declared range (:mod:`bench.configcheck`), executor
options (:mod:`bench.executors.options`), seeds within 64 bits, no key given twice, and the
suite name, task and method labels are safe file names (cells and checkpoints are named by
them, so ``../x`` or ``a/b`` must never reach a path).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from bench import registry
from bench.configcheck import INT64_MAX, ConfigError, build
from bench.errors import SuiteError, XlbenchError
from bench.trials import Tuned, Tuning, parse_tuned, parse_tuning
from bench.types import ALL_SHOTS, Budget, EvalRole

SUITES_DIR = Path(__file__).parent / "suites"
#: The reference method label when a suite names none (and has a method labelled so).
DEFAULT_REFERENCE = "finetune"
#: Resolved-suite keys that do not change what a run computes: not part of the fingerprint.
_NOT_FINGERPRINTED = frozenset({"executor", "description", "reference", "tuning", "tuned"})

_TOP_KEYS = {
    "name", "description", "backbone", "seeds", "shots", "episodes", "queries",
    "budget", "budgets", "tasks", "methods", "executor", "reference", "tuning", "role", "tuned",
    "floors",
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
    reference: str | None = None  # report setting: the method label others are compared with
    tuning: Tuning = Tuning()  # the `xlbench tune` block (not part of the fingerprint)
    role: EvalRole = "target"  # languages evaluated: "target" (runs) or "dev" (tuning trials)
    tuned: Tuned | None = None  # the tuned file this run applies (bench.trials.attach)
    floors: bool = True  # add the trivial floors the suite omits (bench/floors.py)

    def resolved(self) -> dict[str, Any]:
        """A JSON-able dict of everything that determines the results."""
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True, default=str))

    def fingerprint(self) -> str:
        """Hash of the resolved suite minus what does not change scores (executor, description,
        the report's reference, the tuning block); of a tuned file only the configs it chose count."""
        body = {k: v for k, v in self.resolved().items() if k not in _NOT_FINGERPRINTED}
        if self.tuned is not None:
            body["tuned"] = sorted([e.task, e.method, json.loads(json.dumps(e.config, default=str))]
                                   for e in self.tuned.entries)
        if self.role == "target":
            body.pop("role", None)  # runs keep the fingerprints they had before roles existed
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]

    def method_config(self, task: str, method: str) -> Mapping[str, Any]:
        """The config (task, method) runs with: the tuned file's choice, else the suite's."""
        chosen = self.tuned.config(task, method) if self.tuned is not None else None
        if chosen is not None:
            return chosen
        return next(m.config for m in self.methods if m.label == method)


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


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice and reads ``1e-3`` as a number (YAML 1.2)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise SuiteError(f"key {key!r} is given twice (lines {seen[key].start_mark.line + 1} and "
                                 f"{key_node.start_mark.line + 1}); keep one")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str) -> Any:
    """Parse suite YAML strictly (duplicate keys are errors; ``1e-3`` is a float)."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def load_suite(name_or_path: str) -> Suite:
    path = suite_path(name_or_path)
    try:
        raw = read_yaml(path.read_text(encoding="utf-8"))
    except SuiteError as exc:
        raise SuiteError(f"{path}: {exc}") from exc
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
    for what, items in (("task", tasks), ("method", methods)):
        for c in items:
            safe_name(c.label, f"{what} label", source)
    executor = _executor(raw.get("executor", {"name": "local"}), source)
    budgets = tuple(_budget(b, source) for b in budgets_raw)
    caps = [b.source_examples for b in budgets]
    shared = sorted({c for c in caps if caps.count(c) > 1})
    if shared:
        raise SuiteError(
            f"{source}: budgets {[dataclasses.asdict(b) for b in budgets if b.source_examples in shared]} "
            f"share source_examples {shared}; cells and checkpoints are keyed by the source cap, so the "
            "later entry would never run. Give every budget of a sweep its own source_examples, or run "
            "a sweep over adapt_examples as separate suites (one 'name' each)")
    labels = [m.label for m in methods]
    reference = raw.get("reference", _default_reference(labels))
    if reference is not None and reference not in labels:
        raise SuiteError(
            f"{source}: reference {reference!r} is not a method label of the suite; valid: "
            f"{', '.join(labels)}. Name the method every other method is compared with, or drop "
            f"`reference` (default: {DEFAULT_REFERENCE!r} when the suite has it)."
        )
    return Suite(
        name=safe_name(_str(raw["name"], "name", source), "name", source),
        description=str(raw.get("description", "")),
        seeds=tuple(_int(s, "seeds", source, maximum=INT64_MAX) for s in _list(raw, "seeds", source, [0])),
        shots=tuple(_shot(s, source) for s in _list(raw, "shots", source, [0, 1, 5, 10])),
        episodes=_int(raw.get("episodes", 5), "episodes", source, minimum=1),
        queries=None if raw.get("queries", 50) is None else _int(raw.get("queries", 50), "queries", source, minimum=1),
        budgets=budgets,
        tasks=tasks,
        methods=methods,
        executor=dict(executor),
        reference=reference,
        tuning=parse_tuning(raw.get("tuning"), source),
        role=_role(raw.get("role", "target"), source),
        tuned=parse_tuned(raw.get("tuned"), source),
        floors=_bool(raw.get("floors", True), "floors", source),
    )


def _default_reference(labels: list[str]) -> str | None:
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in labels else None


def _role(value: Any, source: str) -> EvalRole:
    if value not in ("target", "dev"):
        raise SuiteError(f"{source}: 'role' must be 'target' or 'dev', got {value!r}")
    return value


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


def _int(value: Any, key: str, source: str, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise SuiteError(f"{source}: {key!r} must be an integer >= {minimum} and <= {maximum}, got {value!r}")
    return value


#: A name that becomes part of a file name: letters, digits and ``. _ + - = , @ :`` (no path
#: separators, no ``..``, no leading dot, no control characters, no spaces).
_SAFE = re.compile(r"[A-Za-z0-9_+=,@:-][A-Za-z0-9._+=,@:~-]{0,119}")  # "~": tuning trials, maml~t3


def safe_name(value: Any, key: str, source: str) -> str:
    """``value`` if it is safe as one path component, else a SuiteError saying why not."""
    text = str(value)
    if _SAFE.fullmatch(text) and ".." not in text:
        return text
    why = ("a path separator" if "/" in text or "\\" in text else "'..'" if ".." in text
           else "a control character or space" if any(not c.isprintable() or c.isspace() for c in text)
           else "a leading '.'" if text.startswith(".") else "more than 120 characters" if len(text) > 120
           else "a character outside letters, digits and . _ + = , @ : ~ -")
    raise SuiteError(f"{source}: {key} {text!r} is not a safe name (it has {why}); results, cells and "
                     "checkpoints are files named by it. Use letters, digits and . _ + = , @ : ~ - "
                     "(e.g. 'maml-fo', 'xquad_small')")


def _bool(value: Any, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise SuiteError(f"{source}: {key!r} must be true or false, got {value!r}")
    return value


def _shot(value: Any, source: str) -> int:
    if value == "all":
        return ALL_SHOTS
    return _int(value, "shots", source)


def _budget(raw: Any, source: str) -> Budget:
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: a budget is a mapping like {{source_examples: 20000, adapt_examples: 400}}")
    return Budget(**_config(Budget, raw, f"{source}: budget"))


def _executor(raw: Any, source: str) -> dict[str, Any]:
    from bench.executors import EXECUTORS
    from bench.executors.options import check_options

    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: executor must be a name or a mapping like {{name: local, workers: 2}}, got {raw!r}")
    name = raw.get("name", "local")
    if name not in EXECUTORS:
        raise SuiteError(f"{source}: " + registry.unknown_message("backbone", str(name), sorted(EXECUTORS))
                         .replace("backbone", "executor"))
    check_options(name, raw, f"{source}: executor")
    return {**raw, "name": name}


def _config(cls: type, raw: Any, where: str) -> dict[str, Any]:
    """Check ``raw`` against the dataclass ``cls`` (keys, types, declared ranges, its
    ``__post_init__``); return the full config with defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: config must be a mapping, got {raw!r}")
    fields = {f.name for f in dataclasses.fields(cls)}
    _no_unknown(raw, fields, where, "config")
    try:
        return dataclasses.asdict(build(cls, raw))
    except ConfigError as exc:
        raise SuiteError(f"{where}: {exc}") from exc
    except (TypeError, ValueError, XlbenchError) as exc:
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
    cls: Any = registry.resolve(kind, name)
    return Component(name, label, _config(cls.Config, config, f"{source}: {kind} {label!r}"))


def _backbone(raw: Any, source: str) -> Component:
    if isinstance(raw, str) and raw.startswith("hf:"):
        from bench.backbones.e5 import HUB_IDS  # multilingual-e5-small: the e5 module, hub weights

        raw = {"name": "e5", "config": {"source": raw[3:]}} if raw[3:] in HUB_IDS else {"name": "hf", "config": {"model": raw[3:]}}
    return _component("backbone", raw, source)


def _task(raw: Any, default_backbone: Component, source: str) -> TaskSpec:
    from tasks.taskspec import suite_entry

    raw = suite_entry(raw, source)  # a YAML task (path, {file: ...} or inline) -> {name: yaml, ...}
    backbone = default_backbone
    if isinstance(raw, dict) and "backbone" in raw:
        backbone = _backbone(raw["backbone"], f"{source}: task {raw.get('name')!r}")
    component = _component("task", {k: v for k, v in raw.items() if k != "backbone"} if isinstance(raw, dict) else raw, source)
    return TaskSpec(component.name, component.label, component.config, backbone)


def instantiate(cls: Any, config: Mapping[str, Any]) -> Any:
    """Build ``cls.Config`` from a resolved config dict (nested lists back to tuples)."""
    fields = {f.name: f for f in dataclasses.fields(cls.Config)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in fields}
    return cls.Config(**values)


def with_tasks(suite: Suite, names: list[str]) -> Suite:
    """The suite restricted to (or extended with) the named tasks (``--task``)."""
    by_label = {t.label: t for t in suite.tasks}
    default_backbone = suite.tasks[0].backbone if suite.tasks else _backbone("ngram", "--task")
    chosen = tuple(by_label.get(n) or _task(safe_name(n, "task", "--task"), default_backbone, "--task") for n in names)
    return dataclasses.replace(suite, tasks=chosen)


def with_methods(suite: Suite, names: list[str]) -> Suite:
    """The suite restricted to (or extended with) the named methods (``--method``)."""
    by_label = {m.label: m for m in suite.methods}
    chosen = tuple(by_label.get(n) or _component("method", safe_name(n, "method", "--method"), "--method") for n in names)
    labels = [m.label for m in chosen]
    reference = suite.reference if suite.reference in labels else _default_reference(labels)
    return dataclasses.replace(suite, methods=chosen, reference=reference)


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
