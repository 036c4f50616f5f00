"""``xlbench tune``: the same number of trials for every method, scored on dev languages only.

The procedure (DESIGN.md, "Equal tuning"; the no-target-selection rule of Perez et al.
2021, "True Few-Shot Learning with Language Models", and Schmidt et al. 2023 for
cross-lingual transfer; Meta-Dataset selected on validation classes the same way):

1. :func:`plan` derives a *trial suite* from a suite: each method becomes ``trials``
   methods labelled ``<method>~t<i>`` whose configs are the draws of
   :func:`bench.searchspace.sample` over the method's declared ``search_space`` (trial 0 is
   the suite's own config). It keeps the suite's tasks, backbone and budget, takes its
   seeds, episodes and K from the ``tuning:`` block, and evaluates ``role: dev``: the
   runner then reaches data only through ``Task.source`` and ``Task.dev``
   (:func:`bench.task.evaluation_data`), never a target language.
2. The trial suite runs as an ordinary run (same runner, executors, budget and store, so
   it resumes and parallelises) under ``results/<suite>~tune/<fingerprint>/``.
3. :func:`collect` scores each trial by its mean dev score (the metric of the tuning block,
   else each kind's primary metric; mean over seeds, dev languages, K and episodes) and
   chooses the best per (task, method); a trial with any failed or diverged cell is not
   eligible. Ties go to the lower trial index, so the defaults win ties.
4. :func:`write` saves the tuned file (:mod:`bench.trials`), which ``xlbench run`` applies.

What it spends: ``trials`` × (seeds of the block) source trainings per (task, method), each
under the suite's source budget, plus the dev episodes under the adaptation budget.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from bench import registry
from bench.errors import XlbenchError
from bench.searchspace import describe, sample, space_of
from bench.seeding import derive_seed
from bench.suite import Component, Suite, _config
from bench.types import PRIMARY_METRIC

TRIAL_SEP = "~t"


@dataclass(frozen=True)
class Plan:
    """The trials of one method of a suite: its label, space and trial overrides."""

    method: Component
    space: Mapping[str, str]
    overrides: tuple[Mapping[str, Any], ...]

    def label(self, index: int) -> str:
        return f"{self.method.label}{TRIAL_SEP}{index}"


def plan(suite: Suite) -> tuple[Suite, tuple[Plan, ...]]:
    """The trial suite of ``suite`` and each method's trials (see the module docstring)."""
    tuning = suite.tuning
    plans, methods = [], []
    for m in suite.methods:
        cls: Any = registry.resolve("method", m.name)
        space = space_of(cls)
        overrides = sample(space, tuning.trials, derive_seed("tune", tuning.seed, m.label), tuning.sampler)
        p = Plan(m, describe(space), tuple(overrides))
        plans.append(p)
        for i, ov in enumerate(overrides):
            config = _config(cls.Config, {**dict(m.config), **ov}, f"tuning trial {p.label(i)}")
            methods.append(Component(m.name, p.label(i), config))
    trial = dataclasses.replace(
        suite,
        name=f"{suite.name}~tune",
        description=f"tuning trials of {suite.name} on dev languages",
        seeds=tuning.seeds,
        episodes=tuning.episodes,
        shots=tuning.shots or suite.shots,
        methods=tuple(methods),
        role="dev",
        tuned=None,
    )
    return trial, tuple(plans)


def collect(suite: Suite, trial_suite: Suite, run_dir: Path, plans: Sequence[Plan],
            kinds: Mapping[str, str]) -> list[dict[str, Any]]:
    """One tuned-file entry per (task, method): every trial's dev score and the choice."""
    from bench import store

    results = store.load([run_dir])
    scores, cells = results.scores, results.cells
    entries = []
    for spec in trial_suite.tasks:
        kind = kinds[spec.label]
        metric = suite.tuning.metric or PRIMARY_METRIC[kind]  # type: ignore[index]
        for p in plans:
            history: list[dict[str, Any]] = []
            for i, ov in enumerate(p.overrides):
                label = p.label(i)
                mine = cells[(cells["task"] == spec.label) & (cells["method"] == label)]
                statuses = sorted(set(mine["status"]))
                rows = scores[(scores["task"] == spec.label) & (scores["method"] == label)
                              & (scores["metric"] == metric)]
                bad = [s for s in statuses if s not in ("done", "n/a")]
                if bad or rows.empty:
                    score = None
                    status = bad[0] if bad else ("n/a" if statuses == ["n/a"] else "missing")
                else:
                    means = rows.groupby(["seed", "lang", "shots"])["value"].mean()
                    score, status = round(float(means.mean()), 4), "done"
                history.append({"trial": i, "overrides": dict(ov), "score": score, "status": status})
            eligible = [h for h in history if h["score"] is not None]
            best = max(eligible, key=lambda h: (h["score"], -h["trial"])) if eligible else None
            entries.append({
                "task": spec.label,
                "method": p.method.label,
                "name": p.method.name,
                "trials": len(p.overrides),
                "space": dict(p.space),
                "metric": metric,
                "chosen": None if best is None else best["trial"],
                "best": None if best is None else best["score"],
                "overrides": {} if best is None else best["overrides"],
                "base": _plain(dict(p.method.config)),
                "history": _plain(history),
            })
    return entries


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively (YAML-safe)."""
    import json

    return json.loads(json.dumps(value, default=str))


def write(path: Path, suite: Suite, trial_suite: Suite, run_dir: Path, entries: list[dict],
          dev_langs: Mapping[str, Sequence[str]], seconds: float) -> Path:
    """Write the tuned file (atomically)."""
    import os

    import yaml

    from bench import store

    manifest = store.read_json(run_dir / "manifest.json")  # the code the trials ran, not today's
    doc = {
        "suite": suite.name,
        "role": "dev",
        "tuning": _plain(dataclasses.asdict(suite.tuning)),
        "trial_run": _relative(run_dir),
        "git_sha": manifest.get("git_sha"),
        "git_dirty": manifest.get("git_dirty"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(seconds, 1),
        "dev_langs": {k: list(v) for k, v in dev_langs.items()},
        "budget": _plain([dataclasses.asdict(b) for b in trial_suite.budgets]),
        "entries": entries,
    }
    head = ("# Written by `xlbench tune`: every method got the same number of trials (a method\n"
            "# with no search space gets 1, its defaults), scored on dev languages only.\n"
            "# `xlbench run` applies the chosen configs; `xlbench run --no-tuned` ignores this file.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(head + yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")
    os.replace(tmp, path)
    write_table(path)
    return path


def write_table(path: Path) -> Path:
    """``<tuned file>.md`` beside it: the trial table (every trial's score) for reviewers."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = doc["entries"]
    t = doc["tuning"]
    lines = [f"# Tuning of suite `{doc['suite']}` on dev languages", "",
             f"Written by `xlbench tune` ({doc.get('created')}, git {str(doc.get('git_sha'))[:12]}, "
             f"{doc.get('seconds')} s): {t['trials']} trials per method ({t['sampler']} sampler, seed "
             f"{t['seed']}; trial 0 = the Config defaults; a method with no search space gets 1), "
             f"seeds {t['seeds']}, {t['episodes']} dev episodes, K {t['shots'] or 'of the suite'}, "
             f"budget {doc.get('budget')}. Dev languages: "
             + "; ".join(f"{k}: {', '.join(v)}" for k, v in doc["dev_langs"].items()) + ".", "",
             "## Chosen configs", "", trial_table(entries), "", "## Every trial", ""]
    for e in entries:
        scores = ", ".join("-" if h["score"] is None else f"{h['score']:.1f}" for h in e["history"])
        lines.append(f"- {e['task']} / {e['method']} ({e['metric']}): {scores}")
    out = path.with_suffix(".md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _relative(path: Path) -> str:
    """``path`` relative to the working folder when inside it (committed files stay portable)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def trial_table(entries: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of the tuning: trials, best dev score and the choice per (task, method)."""
    lines = ["| task | method | trials | metric | best dev | chosen | config |", "|---|---|---|---|---|---|---|"]
    for e in entries:
        best = "n/a" if e["best"] is None else f"{e['best']:.1f}"
        config = ", ".join(f"{k}={v}" for k, v in e["overrides"].items()) or (
            "defaults (no search space)" if not e["space"] else "defaults")
        lines.append(f"| {e['task']} | {e['method']} | {e['trials']} | {e['metric']} | {best} | "
                     f"{'-' if e['chosen'] is None else e['chosen']} | {config} |")
    return "\n".join(lines)


def check_equal(plans: Sequence[Plan]) -> None:
    """Every method with a search space got the same number of trials (an invariant)."""
    counts = {p.method.label: len(p.overrides) for p in plans if p.space}
    if len(set(counts.values())) > 1:
        raise XlbenchError(f"unequal tuning budgets {counts}: a grid smaller than tuning.trials "
                           "gives fewer trials; use sampler: random or fewer trials")


__all__ = ["Plan", "plan", "collect", "write", "trial_table", "check_equal"]
