"""Config fields checked from their dataclass: the type from the annotation, the range from
the field's metadata, cross-field rules from ``__post_init__``.

Every ``Config`` (method, task, backbone, executor) and the :class:`bench.types.Budget` are
checked the same way in preflight (:func:`bench.suite.parse_suite`), so ``lr: 'fast'``,
``lr: -1`` or ``buckets: many`` stop the run with exit 2 before any work, for built-ins and
plugins alike:

* the **type** comes from the annotation: ``int`` (not ``bool``), ``float`` (an int is
  accepted; NaN and infinity are not), ``bool``, ``str``, ``Literal[...]``, ``X | None``,
  ``tuple[T, ...]`` / ``tuple[A, B]`` (a YAML list), ``Mapping``; other annotations are not
  type-checked;
* the **range** is declared once, on the field, with :func:`bounded`::

      lr: float = bounded(1e-3, gt=0)  # learning rate
      buckets: int = bounded(2**18, ge=1, le=2**26)

* **cross-field** rules (``n_min <= n_max``, an odd window) live in the Config's own
  ``__post_init__``, raising ``ValueError``: they run whenever a Config is built.

A plugin gets the type checks for free and the ranges by using :func:`bounded`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from bench.errors import SuiteError

#: The largest integer any count may be (SQLite and JSON keep 64-bit integers).
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Range:
    """Inclusive (``ge``/``le``) or exclusive (``gt``/``lt``) bounds of a number."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def allows(self, value: float) -> bool:
        return not ((self.ge is not None and value < self.ge) or (self.gt is not None and value <= self.gt)
                    or (self.le is not None and value > self.le) or (self.lt is not None and value >= self.lt))

    def describe(self) -> str:
        parts = [f"{op} {bound:g}" if isinstance(bound, float) else f"{op} {bound}"
                 for op, bound in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                 if bound is not None]
        return " and ".join(parts)


def bounded(default: Any, *, ge: float | None = None, gt: float | None = None,
            le: float | None = None, lt: float | None = None) -> Any:
    """A dataclass field with a default and a declared numeric range (None always allowed)."""
    return dataclasses.field(default=default, metadata={"range": Range(ge, gt, le, lt)})


class ConfigError(SuiteError, ValueError):
    """A config value of the wrong type or out of its declared range (exit 2 in the CLI)."""


def _name(hint: Any) -> str:
    """A readable type: 'float', 'int or None', "one of 'sgd', 'adam'", 'list of str'."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {getattr(args[0], '__name__', args[0])}"
        return f"a list of {len(args)} ({', '.join(getattr(a, '__name__', str(a)) for a in args)})"
    if hint is type(None):
        return "null"
    words = {int: "an integer", float: "a finite number", bool: "a boolean (true or false)", str: "a string"}
    return words.get(hint, getattr(hint, "__name__", str(hint)))


def type_problem(value: Any, hint: Any) -> str | None:
    """None if ``value`` fits the annotation ``hint``, else what was expected."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or isinstance(hint, (str, typing.TypeVar)):
        return None
    if origin is Literal:
        ok = any(value == a and type(value) is type(a) for a in args)
        return None if ok else _name(hint)
    if origin in (typing.Union, types.UnionType):
        return None if any(type_problem(value, a) is None for a in args) else _name(hint)
    if hint is type(None):
        return None if value is None else _name(hint)
    if hint is bool:
        return None if isinstance(value, bool) else "a boolean (true or false)"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "a number"
        return None if math.isfinite(value) else "a finite number"
    if hint is str:
        return None if isinstance(value, str) else "a string"
    if origin is tuple or hint is tuple:
        if not isinstance(value, (list, tuple)):
            return _name(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            bad = [v for v in value if type_problem(v, args[0]) is not None]
            return None if not bad else f"{_name(hint)} (item {bad[0]!r} is not)"
        if args and (len(value) != len(args) or any(type_problem(v, a) for v, a in zip(value, args))):
            return _name(hint)
        return None
    if origin in (dict, Mapping, typing.Mapping) or hint in (dict, Mapping):
        return None if isinstance(value, Mapping) else "a mapping"
    return None  # an annotation this check does not know: the Config's own __post_init__ decides


def hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass's fields (names as strings when unresolvable)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # one annotation cannot be resolved: resolve the others one by one
        import sys

        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            owner = next((c for c in cls.__mro__ if f.name in getattr(c, "__annotations__", {})), cls)
            space = vars(sys.modules.get(owner.__module__, typing))
            try:
                out[f.name] = eval(f.type, space) if isinstance(f.type, str) else f.type  # noqa: S307
            except Exception:
                out[f.name] = Any  # that field alone is left to the Config's __post_init__
        return out


def problems(cls: type, values: Mapping[str, Any]) -> list[str]:
    """Every field of ``values`` whose type or declared range is wrong, as a sentence each."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    types_of = hints(cls)
    out = []
    for key, value in values.items():
        if key not in fields:
            continue
        hint = types_of.get(key, Any)
        expected = type_problem(value, hint)
        rng = fields[key].metadata.get("range")
        if rng is not None and (expected is not None or (
                isinstance(value, (int, float)) and not isinstance(value, bool) and not rng.allows(value))):
            args = typing.get_args(hint)
            optional = type(None) in args
            base = next((a for a in args if a is not type(None)), hint) if optional else hint
            expected = f"{_name(base)} {rng.describe()}" + (" (or null)" if optional else "")
        if expected is not None:
            out.append(f"field {key!r} must be {expected}, got {value!r} ({type(value).__name__})")
    return out


def build(cls: type, raw: Mapping[str, Any]) -> Any:
    """``cls(**raw)`` after the type and range checks; raises :class:`ConfigError`.

    Lists become tuples (YAML has no tuples). ``__post_init__`` errors (cross-field rules)
    are re-raised as ConfigError with their message.
    """
    found = problems(cls, raw)
    if found:
        raise ConfigError("; ".join(found))
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in fields}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc


def check(instance: Any) -> None:
    """Raise ValueError if a built Config breaks a declared range (for ``__post_init__``)."""
    found = problems(type(instance), {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)})
    if found:
        raise ConfigError(f"{type(instance).__name__}: " + "; ".join(found))


class Checked:
    """Base of a Config dataclass whose declared ranges hold however it is built.

    ``__post_init__`` runs :func:`check`; a subclass with cross-field rules defines its own
    ``__post_init__`` and calls ``super().__post_init__()`` first.
    """

    def __post_init__(self) -> None:
        check(self)
