"""``xlbench check-task``: validate a task (YAML spec or registered name) and show what it holds.

Reads every file the task needs (``Task.validate``: a missing file, column or label is a
``DataError``, exit 2), then prints: the files, counts per language / role / label, how
well item ids align across languages (parallel data), the leakage check
(:func:`leakage.leaks`) and the duplicate-text check (:func:`bench.duplicates.duplicates`),
skipped records (robust QA readers), and one evaluation episode as every method would see
it. Costs one read of the data; trains nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from bench import registry
from bench.errors import DataError
from bench.task import TargetData
from bench.types import Example, TaskInfo

Out = Callable[[str], None]


def load_task(target: str, data_dir: Path | None, overrides: dict[str, Any] | None = None) -> tuple[Any, str]:
    """A task object and its label from a YAML path or a registered name (its default config),
    with ``overrides`` (Config fields) applied."""
    from bench.suite import _config, instantiate
    from tasks.taskspec import suite_entry

    if target.endswith((".yaml", ".yml")) or Path(target).is_file():  # a YAML task; overrides = spec keys
        entry = suite_entry({"file": target, "config": dict(overrides or {})}, "<check-task>")
        name, label, config = entry["name"], entry["label"], entry["config"]
    else:  # a registered task: its default config plus the overrides
        name, label, config = target, target, dict(overrides or {})
    cls: Any = registry.resolve("task", name)
    resolved = _config(cls.Config, config, f"task {label!r}")
    return cls(instantiate(cls, resolved), data_dir), label


def _leakage() -> Any:
    try:
        from bench import leakage  # type: ignore[attr-defined]
    except ImportError:  # the check's old home (issue 18 moves it to bench/)
        from bench import leakage
    return leakage


def _by_label(examples: tuple[Example, ...], info: TaskInfo) -> str:
    if info.kind != "classification":
        return ""
    counts = Counter(ex.label for ex in examples)
    return " (" + ", ".join(f"{info.labels[i]} {counts.get(i, 0)}" for i in range(info.num_labels)) + ")"


def _alignment(role: str, sets: dict[str, set[str]], out: Out) -> None:
    if len(sets) < 2:
        return
    first, reference = next(iter(sets.items()))
    differ = {lang: len(ids ^ reference) for lang, ids in sets.items() if ids != reference}
    if not differ:
        out(f"  {role}: item ids identical in all {len(sets)} languages (parallel, aligned)")
    else:
        shared = set.intersection(*sets.values())
        out(f"  {role}: ids differ from {first}'s in {len(differ)} of {len(sets)} languages "
            f"({len(shared)} ids shared by all){' — not parallel' if not shared else ''}")


def check_task(target: str, data_dir: Path | None, shots: int = 1, out: Out = print,
               overrides: dict[str, Any] | None = None) -> int:
    """Validate and describe one task; 0 when it validates and nothing leaks, 1 on a leak."""
    from bench.duplicates import duplicates
    from bench.episodes import build_episodes

    task, label = load_task(target, data_dir, overrides)
    task.validate()
    info = task.info()
    dev_langs = tuple(getattr(getattr(task.config, "languages", None), "dev", ()))
    out(f"task {label}: {info.kind}, {len(info.source_langs)} source, {len(dev_langs)} dev, "
        f"{len(info.target_langs)} target languages" + (f"; labels {list(info.labels)}" if info.labels else ""))
    if hasattr(task, "files"):
        files = task.files()
        out(f"files ({len(files)}):")
        for path in files:
            out(f"  {path}")
    source = task.source()
    targets: dict[str, TargetData] = {lang: task.target(lang) for lang in info.target_langs}
    out("counts:")
    for lang, examples in source.train.items():
        out(f"  source {lang} train: {len(examples)}{_by_label(examples, info)}")
    for lang in dev_langs:
        dev = task.dev(lang)
        out(f"  dev {lang} pool: {len(dev.pool)}{_by_label(dev.pool, info)}; scored: {len(dev.test)}{_by_label(dev.test, info)}")
    for lang, data in targets.items():
        out(f"  target {lang} pool: {len(data.pool)}{_by_label(data.pool, info)}; test: {len(data.test)}{_by_label(data.test, info)}")
    out("alignment:")
    _alignment("source train", {lang: {ex.item_id for ex in exs} for lang, exs in source.train.items()}, out)
    _alignment("target pool", {lang: {ex.item_id for ex in d.pool} for lang, d in targets.items()}, out)
    _alignment("target test", {lang: {ex.item_id for ex in d.test} for lang, d in targets.items()}, out)
    leaks = _leakage().leaks(source, targets.values())
    out("leakage: " + ("PASS (no source item or article, and no pool item, in a test set)" if not leaks
                       else "FAIL: " + "; ".join(leaks)))
    dupes = duplicates(source, targets.values())
    out("duplicate texts: " + ("none between training or pools and test sets" if not dupes else "WARN: " + "; ".join(dupes)))
    for path, counts in (task.skipped() if hasattr(task, "skipped") else {}).items():
        total = counts.pop("records", 0)
        out(f"skipped {sum(counts.values())} of {total} records in {path}: {counts}")
    key = task.episode_key(label) if hasattr(task, "episode_key") else label
    lang = info.target_langs[0]
    episodes = build_episodes(key, info, targets[lang], shots, 1, 3)
    if not episodes:
        raise DataError(f"{label}: the {lang} test set is empty; no episode to preview")
    episode = episodes[0].episode
    out(f"episode preview ({lang}, K={shots}, episode 0): {len(episode.support)} support, showing 3 queries")
    for ex in episode.support[:6]:
        out(f"  support {_show(ex, info)}")
    for query, gold in zip(episode.query, episodes[0].gold):
        out(f"  query   {_show(gold, info, query.text)}")
    return 1 if leaks else 0


def _show(ex: Example, info: TaskInfo, text: str | None = None) -> str:
    shown = (text or ex.text).replace("\n", " ")
    shown = shown if len(shown) <= 70 else shown[:67] + "..."
    if info.kind == "classification":
        return f"[{info.labels[ex.label] if ex.label is not None else '?'}] {shown}"
    if info.kind == "qa":
        return f"Q: {ex.question!r:.60} A: {ex.answers[0].text!r:.30}"
    return f"summary: {ex.summary!r:.60} ({len(ex.sentences)} sentences)"
