"""A task as YAML: the spec (frozen dataclasses), its strict validation, and suite entries.

A declarative task names its kind, file format, a path template with ``{lang}`` and
``{split}``, a field map, the label set (or "read it from the data"), the languages in
their three roles (source / dev / target, DESIGN.md "The protocol"), the split names,
whether items are parallel across languages (and by which id, or a content hash), and
per-language caps. :class:`tasks.declarative.YamlTask` turns it into a :class:`bench.task.Task`;
``xlbench new-task`` writes a commented example of every field (:mod:`tasks.newtask`).

A suite names one in its ``tasks:`` list as a path (``tasks: [mytask.yaml]``), as
``{file: mytask.yaml, label: ..., config: {caps: ...}, backbone: ...}`` (``config``
overrides spec keys; ``class: module:Class`` names a YamlTask subclass), inline (``{name: mytask, kind: classification, format: csv, ...}``),
or as the registered task ``yaml`` with the spec as its config. Every key is checked:
an unknown key is an error with a did-you-mean, before any file is read.
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from bench.errors import SuiteError, XlbenchError
from bench.types import KINDS, TaskKind
from tasks.readers import FORMATS, SQUAD_FIELDS, Format

Parallel = Literal["id", "content", "none"]
PARALLEL: tuple[Parallel, ...] = ("id", "content", "none")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _strict(raw: Any, cls: type, where: str) -> Any:
    """``raw`` (a mapping) as the dataclass ``cls``, unknown keys refused with did-you-mean."""
    from bench.suite import _no_unknown

    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: expected a mapping of {[f.name for f in dataclasses.fields(cls)]}, got {raw!r}")
    _no_unknown(raw, {f.name for f in dataclasses.fields(cls)}, where, "task")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


@dataclass(frozen=True)
class Fields:
    """Which column (tables) or key (JSON; dots walk into objects) holds each part."""

    id: str | None = None  # item id; shared by the translations of an item when parallel: id
    text: str | None = None  # classification: the text
    label: str | None = None  # classification: the label value
    question: str | None = None  # qa
    context: str | None = None  # qa: the passage the answer is a span of
    answers: str | None = None  # qa: [{text, answer_start}, ...] or {text: [...], answer_start: [...]}
    answer: str | None = None  # qa: one answer text per record (instead of answers)
    answer_start: str | None = None  # qa: its character offset in the context
    document: str | None = None  # summarization: the document
    summary: str | None = None  # summarization: the reference summary
    sentences: str | None = None  # summarization: a list of sentences (else split from document)
    group: str | None = None  # article / document id: never split across roles (split_by_group)


@dataclass(frozen=True)
class Languages:
    """Language keys (the values ``{lang}`` takes in the path) in their three roles."""

    source: tuple[str, ...] = ()  # trained on (their train split)
    dev: tuple[str, ...] = ()  # tuning and model selection only (train + dev splits); never a target
    target: tuple[str, ...] = ()  # reported: K-shot support pool + test split


@dataclass(frozen=True)
class Splits:
    """The names ``{split}`` takes in the path for each role of a split."""

    train: str | None = "train"  # source training; the support pool when target_pool: train
    dev: str | None = "dev"  # dev languages' scores; the support pool when target_pool: dev
    test: str = "test"  # target queries


@dataclass(frozen=True)
class GroupSplit:
    """For data with no split (a path without ``{split}``): groups in file order, per role."""

    source: int = 1  # the first N groups (articles) train the source languages
    pool: int = 1  # the next N feed support pools (of target and dev languages)
    dev: int = 0  # the next N are dev queries (tuning only); the rest are the test set


@dataclass(frozen=True)
class Caps:
    """At most N items per language (a hash sample by item id: tasks.local.hash_sample)."""

    source: int | None = None  # per source language
    pool: int | None = None  # support pool per target (and dev) language
    test: int | None = None  # test items per target (and dev) language


@dataclass(frozen=True)
class YamlTaskConfig:
    """A declarative task; see ``xlbench new-task`` for a commented example of each field."""

    name: str = ""  # the task's identity: seeds its episodes (a display `label` does not)
    kind: TaskKind = "classification"  # classification | qa | summarization
    format: Format = "csv"  # csv | tsv | jsonl | json | squad
    path: str = ""  # file template below the data folder, with {lang} and {split}
    folder: str | None = None  # the data folder under --data-dir / $XLBENCH_DATA (default: name)
    root: str | None = None  # or the data folder itself (relative to the YAML file)
    upstream: str | None = None  # where the data come from (a URL, printed in hints)
    records: str | None = None  # json: the key holding the list of records (None: top level)
    fields: Fields = field(default_factory=Fields)
    labels: tuple[str, ...] | None = None  # the label set in label-id order; None: read from the data
    languages: Languages = field(default_factory=Languages)
    splits: Splits = field(default_factory=Splits)
    split_by_group: GroupSplit | None = None  # required when path has no {split}
    target_pool: Literal["train", "dev"] = "train"  # which split feeds a target's support pool
    parallel: Parallel = "none"  # id: translations share fields.id; content: a text hash; none
    caps: Caps = field(default_factory=Caps)
    max_skipped: float = 0.05  # qa: stop (exit 2) if a file has more than this fraction of bad records
    summary_sentences: int = 1  # summarization: sentences an extractive model picks
    max_sentences: int | None = None  # summarization: keep the first N sentences of a document
    max_answer_tokens: int = 30  # qa: longest span a decoder may return

    def __post_init__(self) -> None:
        where = f"task {self.name!r}" if self.name else "task"
        for key, cls in (("fields", Fields), ("languages", Languages), ("splits", Splits), ("caps", Caps)):
            object.__setattr__(self, key, _strict(getattr(self, key), cls, f"{where}: {key}"))
        if self.split_by_group is not None:
            object.__setattr__(self, "split_by_group", _strict(self.split_by_group, GroupSplit, f"{where}: split_by_group"))
        if isinstance(self.labels, list):
            object.__setattr__(self, "labels", tuple(self.labels))
        if self.folder is None and self.root is None:
            object.__setattr__(self, "folder", self.name)
        _validate(self, where)

    def placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.path) if name is not None}

    def field_map(self) -> dict[str, str | None]:
        """The field map in force (SQuAD files have a fixed one)."""
        given = dataclasses.asdict(self.fields)
        if self.format == "squad":
            return {**given, **SQUAD_FIELDS, **{k: v for k, v in given.items() if v}}
        return given


_REQUIRED: dict[str, tuple[str, ...]] = {
    "classification": ("text", "label"),
    "qa": ("question", "context"),
    "summarization": ("document", "summary"),
}


def _validate(cfg: YamlTaskConfig, where: str) -> None:
    """Every cross-field rule; ValueError saying what is wrong and what to write instead."""
    if not isinstance(cfg.name, str) or not _NAME.match(cfg.name):
        raise ValueError(f"{where}: 'name' must be a lower-case name (letters, digits, _ . -), got {cfg.name!r}")
    if cfg.kind not in KINDS:
        raise ValueError(f"{where}: kind {cfg.kind!r} is not one of {', '.join(KINDS)}")
    if cfg.format not in FORMATS:
        raise ValueError(f"{where}: format {cfg.format!r} is not one of {', '.join(FORMATS)}")
    if cfg.parallel not in PARALLEL:
        raise ValueError(f"{where}: parallel {cfg.parallel!r} is not one of {', '.join(PARALLEL)} "
                         "(id: translations share fields.id; content: a hash of the text; none)")
    if not isinstance(cfg.path, str) or not cfg.path:
        raise ValueError(f"{where}: 'path' is required: a file template such as '{{lang}}/{{split}}.tsv'")
    try:
        names = cfg.placeholders()
    except ValueError as exc:
        raise ValueError(f"{where}: path {cfg.path!r} is not a valid template ({exc})") from exc
    if names - {"lang", "split"} or "lang" not in names:
        raise ValueError(f"{where}: path {cfg.path!r} must use {{lang}} (and {{split}}) only; it uses {sorted(names)}")
    fmap = cfg.field_map()
    missing = [f"fields.{k}" for k in _REQUIRED[cfg.kind] if not fmap.get(k)]
    if cfg.kind == "qa" and not fmap.get("answers") and not (fmap.get("answer") and fmap.get("answer_start")):
        missing.append("fields.answers (or fields.answer + fields.answer_start)")
    if cfg.parallel == "id" and not fmap.get("id"):
        missing.append("fields.id (parallel: id aligns items by it)")
    if "split" not in names:
        if cfg.split_by_group is None:
            raise ValueError(f"{where}: path {cfg.path!r} has no {{split}}: add split_by_group: "
                             "{source: N, pool: M} (groups in file order), or put {split} in the path")
        if not fmap.get("group"):
            missing.append("fields.group (split_by_group splits by it)")
    if missing:
        raise ValueError(f"{where}: a {cfg.kind} task in {cfg.format} needs {', '.join(missing)}")
    if cfg.labels is not None:
        if cfg.kind != "classification":
            raise ValueError(f"{where}: 'labels' is for classification tasks; remove it for {cfg.kind}")
        labels = [str(x) for x in cfg.labels]
        if len(labels) < 2 or len(set(labels)) != len(labels) or any(not x for x in labels):
            raise ValueError(f"{where}: labels must be 2+ distinct non-empty values, got {list(cfg.labels)}")
        object.__setattr__(cfg, "labels", tuple(labels))
    langs = cfg.languages
    for role in ("source", "dev", "target"):
        values = getattr(langs, role)
        if isinstance(values, str):
            values = (values,)
            object.__setattr__(langs, role, values)
        dupes = sorted({x for x in values if values.count(x) > 1})
        if dupes or any(not isinstance(x, str) or not x for x in values):
            raise ValueError(f"{where}: languages.{role} must be distinct non-empty names, got {list(values)}")
    if not langs.target:
        raise ValueError(f"{where}: languages.target is empty; name at least one language to report")
    for role in ("source", "dev"):
        both = sorted(set(getattr(langs, role)) & set(langs.target))
        if both:
            raise ValueError(f"{where}: {both} are both {role} and target languages; target data is never "
                             f"used for {'training' if role == 'source' else 'tuning'} (DESIGN.md). "
                             f"Remove them from languages.{role} or languages.target.")
    if "split" in names:
        if cfg.target_pool == "dev" and not cfg.splits.dev:
            raise ValueError(f"{where}: target_pool: dev needs splits.dev")
        if (langs.source or cfg.target_pool == "train") and not cfg.splits.train:
            raise ValueError(f"{where}: source languages and target_pool: train need splits.train")
        if langs.dev and not (cfg.splits.dev and cfg.splits.train):
            raise ValueError(f"{where}: dev languages need splits.train and splits.dev")
    for key in ("source", "pool", "test"):
        cap = getattr(cfg.caps, key)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"{where}: caps.{key} must be a positive integer or null, got {cap!r}")
    if cfg.split_by_group is not None:
        for key in ("source", "pool"):
            value = getattr(cfg.split_by_group, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where}: split_by_group.{key} must be an integer >= 1, got {value!r}")
    if isinstance(cfg.max_skipped, bool) or not isinstance(cfg.max_skipped, (int, float)) or not 0 <= cfg.max_skipped <= 1:
        raise ValueError(f"{where}: max_skipped is a fraction in [0, 1], got {cfg.max_skipped!r}")
    for key in ("summary_sentences", "max_answer_tokens"):
        value = getattr(cfg, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: {key} must be an integer >= 1, got {value!r}")


# -- loading -------------------------------------------------------------------------

SPEC_KEYS = frozenset(f.name for f in dataclasses.fields(YamlTaskConfig))
_ENTRY_KEYS = {"file", "label", "backbone", "config", "class"}


def parse_spec(raw: Any, where: str, base: Path | None = None) -> YamlTaskConfig:
    """A spec mapping -> the validated config; ``root`` made absolute against ``base``."""
    from bench.suite import _no_unknown

    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: a task spec is a mapping of keys, got {type(raw).__name__}")
    _no_unknown(raw, set(SPEC_KEYS), where, "task")
    values = dict(raw)
    if values.get("root") is not None and base is not None:
        values["root"] = str((base / str(values["root"])).resolve())
    try:
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return YamlTaskConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise SuiteError(f"{where}: {exc}") from exc
    except XlbenchError as exc:
        raise SuiteError(f"{where}: {exc}") from exc


def load_spec(path: Path) -> dict[str, Any]:
    """The raw mapping of a task YAML file (a SuiteError for a missing file or bad YAML)."""
    import yaml

    if not path.is_file():
        raise SuiteError(f"task file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SuiteError(f"{path}: a task file is a mapping of keys, got {type(raw).__name__}")
    return raw


def locate(name: str, source: str) -> Path:
    """A task file named in a suite: relative to the suite's folder, else to the cwd."""
    path = Path(name).expanduser()
    if not path.is_absolute():
        beside = Path(source).parent / path
        if Path(source).is_file() and beside.is_file():
            return beside
    return path


def is_task_file(raw: Any) -> bool:
    return isinstance(raw, str) and raw.endswith((".yaml", ".yml"))


def suite_entry(raw: Any, source: str) -> Any:
    """A suite ``tasks:`` entry that is a YAML task -> ``{name: yaml, label, config}``.

    Other entries (built-in names, ``{name: ..., config: ...}``) are returned unchanged.
    """
    from bench.suite import _no_unknown

    if is_task_file(raw):
        raw = {"file": raw}
    if not isinstance(raw, dict):
        return raw
    if "file" in raw:
        _no_unknown(raw, _ENTRY_KEYS, source, "task entry")
        path = locate(str(raw["file"]), source)
        spec = {**load_spec(path), **(raw.get("config") or {})}
        config = parse_spec(spec, str(path), path.parent)
    elif set(raw) & (SPEC_KEYS - {"name"}):
        spec = {k: v for k, v in raw.items() if k not in ("label", "backbone")}
        config = parse_spec(spec, f"{source}: task {raw.get('name')!r}", Path(source).parent)
    else:
        return raw
    entry: dict[str, Any] = {"name": str(raw.get("class", "yaml")), "label": str(raw.get("label", config.name)),
                             "config": dataclasses.asdict(config)}
    if "backbone" in raw:
        entry["backbone"] = raw["backbone"]
    return entry
