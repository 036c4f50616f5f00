"""Name -> class, for methods, tasks and backbones.

Three ways to name a thing (docs/architecture.md, "Registration"):

1. a built-in short name from the tables in ``baselines/__init__.py``, ``tasks/__init__.py``
   and :data:`BACKBONES` below;
2. an installed plugin's entry point in the groups ``xlbench.methods`` / ``xlbench.tasks``
   / ``xlbench.backbones``;
3. a ``module:Class`` path.

Nothing is imported until a name is resolved, so a broken plugin only breaks runs that use
it. A name defined twice (a plugin shadowing a built-in, or two plugins) is an error; an
unknown name gets did-you-mean suggestions and the list of known names.
"""

from __future__ import annotations

import difflib
import importlib
import traceback
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Literal

from bench.errors import UnknownNameError, XlbenchError

Kind = Literal["method", "task", "backbone"]

BACKBONES: dict[str, str] = {
    "ngram": "bench.backbones.ngram:NgramBackbone",
    "hf": "bench.backbones.hf:HFBackbone",
    "hf-seq2seq": "bench.backbones.hf:Seq2SeqBackbone",
    "e5": "bench.backbones.e5:E5Backbone",
}

_GROUPS: dict[Kind, str] = {
    "method": "xlbench.methods",
    "task": "xlbench.tasks",
    "backbone": "xlbench.backbones",
}


@dataclass(frozen=True)
class Entry:
    """Where a name comes from: ``target`` is a "module:Class" path."""

    name: str
    target: str
    origin: str  # "built-in" or "plugin <distribution>"


def _builtin(kind: Kind) -> dict[str, str]:
    if kind == "method":
        from baselines import METHODS

        return METHODS
    if kind == "task":
        from tasks import TASKS

        return TASKS
    return BACKBONES


def entries(kind: Kind) -> dict[str, Entry]:
    """Every known name of ``kind``: built-ins plus installed entry points (not imported)."""
    table = {n: Entry(n, t, "built-in") for n, t in _builtin(kind).items()}
    for ep in entry_points(group=_GROUPS[kind]):
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        if ep.name in table and table[ep.name].target != ep.value:
            raise XlbenchError(
                f"{kind} name {ep.name!r} is defined twice: {table[ep.name].origin} "
                f"({table[ep.name].target}) and plugin {dist} ({ep.value}). "
                "Rename one of them (a plugin may not shadow another name)."
            )
        table.setdefault(ep.name, Entry(ep.name, ep.value, f"plugin {dist}"))
    return table


def _import(target: str, name: str, kind: Kind) -> type:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise UnknownNameError(f"{kind} path {target!r} must look like 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UnknownNameError(
                f"{kind} {name!r}: module {module_name!r} is not importable ({exc}). "
                "Is the plugin installed in this environment (pip install -e <folder>)?"
            ) from exc
        raise XlbenchError(_broken(kind, name, target)) from exc
    except Exception as exc:
        raise XlbenchError(_broken(kind, name, target)) from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        public = sorted(a for a in dir(module) if a[:1].isupper())
        raise UnknownNameError(
            f"{kind} {name!r}: module {module_name!r} has no attribute {attr!r}; "
            f"classes there: {', '.join(public) or 'none'}"
        ) from exc


def _broken(kind: Kind, name: str, target: str) -> str:
    return (
        f"{kind} {name!r} ({target}) failed to import; its traceback:\n"
        f"{traceback.format_exc()}"
        f"Fix the plugin, or remove {name!r} from the suite to run without it."
    )


def resolve(kind: Kind, name: str) -> type:
    """The class registered as ``name`` (or at the ``module:Class`` path ``name``)."""
    if ":" in name and name.split(":", 1)[0] not in entries(kind):
        return _import(name, name, kind)
    known = entries(kind)
    if name not in known:
        raise UnknownNameError(unknown_message(kind, name, sorted(known)))
    return _import(known[name].target, name, kind)


def unknown_message(kind: Kind, name: str, known: list[str]) -> str:
    """'unknown task 'nope'; did you mean ...? known tasks: ...' plus what to do next."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known) or 'none'}. "
        f"Use one of those, a 'module:Class' path, or install a plugin that registers "
        f"{name!r} in the entry point group {_GROUPS[kind]!r}."
    )
