"""Detail tables: every metric of a task kind, and each method's gap over the trivial baseline.

The main tables show one primary metric per kind (:data:`bench.types.PRIMARY_METRIC`).
:func:`metrics_table` shows all of them — SQuAD EM and F1 (Rajpurkar et al. 2016) for QA,
ROUGE-1/2/L (Lin 2004) for summarization, accuracy and macro-F1 for classification — so a
reader can check that a conclusion does not hang on the choice of metric.
:func:`trivial_gap_table` calibrates the scores against the trivial baseline of the kind
(majority class, lead-k, question-overlap sentence): a trained method that does not clear it
has learned nothing usable, whatever its rank among the other methods.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from bench import inference
from bench.report.style import method_order
from bench.report.tables import Table, shot_label, shot_order, unsupported
from bench.stats import Role, role_of


def metrics_table(kind: str, scores: pd.DataFrame, budget: int, boot: int = 1000,
                  seed: int = 0, *, roles: Mapping[str, Role] | None = None) -> Table:
    """Rows (task, method, metric) x K: mean ± 95% bootstrap CI half-width over target
    languages, seeds and episodes, for every metric the kind's tasks record."""
    s = scores[(scores["kind"] == kind) & (scores["budget"] == budget)]
    s = s.astype({"shots": int, "seed": int, "episode": int, "budget": int})
    summary = inference.summarise(s, ["task", "method", "metric", "shots"], boot=boot,
                                  seed=seed)
    idx = summary.set_index(["task", "method", "metric", "shots"])
    tasks, metrics, ks = sorted(s["task"].unique()), sorted(s["metric"].unique()), shot_order(s["shots"])
    disp = []
    for task in tasks:
        for method in method_order(set(s.loc[s["task"] == task, "method"]), roles):
            for metric in metrics:
                row = {"task": task, "method": method, "metric": metric}
                for k in ks:
                    key = (task, method, metric, k)
                    row[shot_label(k)] = (f"{idx.loc[key, 'mean']:.1f} ± {idx.loc[key, 'half']:.1f}"
                                          if key in idx.index else "n/a")
                disp.append(row)
    display = pd.DataFrame(disp)
    if len(tasks) == 1:
        display = display.drop(columns="task")
    title = (f"{kind}: every metric (%) by method and K, mean over target languages, seeds and "
             f"episodes; source budget {budget}")
    legend = ("± is the 95% cluster-bootstrap CI half-width (resampling languages, then episodes "
              f"within each); n/a: no score at that K. {inference.shots_meaning([kind])}.")
    return Table(f"metrics-{kind}", title, display, summary.assign(budget=budget), None, legend)


def trivial_gap_table(rows: pd.DataFrame, languages: pd.DataFrame, cells: pd.DataFrame,
                      budget: int, *, roles: Mapping[str, Role] | None = None) -> Table | None:
    """Each trained method's primary-metric gap over the best trivial baseline of its task.

    ``rows`` are primary-metric rows (:func:`bench.stats.primary`). The display is the
    headline K (the largest K > 0): the score and gap on the nearest target language (the
    smallest ``distance``; "—" when the task gives none) and the gap averaged over target
    languages. The CSV holds the gap for every (task, method, K, language). None when no
    task has a trivial baseline. Every task of ``rows`` gets rows: one without a trivial
    baseline in these results says so instead of being left out.
    """
    r = rows[rows["budget"] == budget]
    per = r.groupby(["task", "method", "shots", "lang"])["value"].mean().reset_index()
    skip = unsupported(cells, budget)
    is_trivial = per["method"].map(lambda m: role_of(m, roles)) == "trivial"
    supported = pd.Series([(t, m) not in skip for t, m in zip(per["task"], per["method"])], index=per.index)
    triv = per[is_trivial & supported]
    if per.empty:
        return None
    no_floor = sorted(set(per["task"]) - set(triv["task"]))
    if triv.empty:
        return _no_floor_table(no_floor, budget)
    # the best trivial baseline per task (by its mean over languages and K)
    best = triv.groupby(["task", "method"])["value"].mean().reset_index()
    best = best.loc[best.groupby("task")["value"].idxmax(), ["task", "method"]]
    ref = triv.merge(best, on=["task", "method"]).rename(
        columns={"method": "trivial", "value": "trivial_value"})
    trained = per[~is_trivial]
    data = trained.merge(ref, on=["task", "shots", "lang"], how="inner")
    data["gap"] = data["value"] - data["trivial_value"]
    targets = languages[languages["role"] == "target"][["task", "lang", "distance"]]
    data = data.merge(targets, on=["task", "lang"], how="left")
    data = data.sort_values(["task", "method", "shots", "lang"]).reset_index(drop=True)
    if data.empty:
        return _no_floor_table(no_floor, budget)
    ks = [k for k in shot_order(data["shots"]) if k > 0] or shot_order(data["shots"])
    head = ks[-1]
    disp = []
    for task in sorted(data["task"].unique()):
        d = data[(data["task"] == task) & (data["shots"] == head)]
        dist = pd.to_numeric(d["distance"], errors="coerce")
        nearest = d.loc[dist.idxmin(), "lang"] if dist.notna().any() else None
        for method in method_order(set(d["method"]), roles):
            m = d[d["method"] == method]
            near = m[m["lang"] == nearest] if nearest is not None else m.iloc[0:0]
            disp.append({
                "task": task, "method": method, "K": shot_label(head),
                "nearest target": nearest or "—",
                "score": f"{near['value'].iloc[0]:.1f}" if len(near) else "—",
                "trivial": (f"{near['trivial'].iloc[0]} {near['trivial_value'].iloc[0]:.1f}"
                            if len(near) else m["trivial"].iloc[0]),
                "gap": f"{near['gap'].iloc[0]:+.1f}" if len(near) else "—",
                "mean gap over targets": f"{m['gap'].mean():+.1f}",
                "targets above trivial": f"{int(np.sum(m['gap'] > 0))}/{len(m)}",
            })
    disp += _no_floor_rows(no_floor, shot_label(head))
    title = (f"Gap over the trivial baseline (primary metric, points) at {shot_label(head)}; "
             f"source budget {budget}")
    legend = ("trivial: the best trivial baseline of the task (majority class, lead-k or "
              "question-overlap sentence); gap = method − trivial, mean over seeds and "
              "episodes; nearest target: the target language with the smallest distance to "
              "the source languages. The CSV holds every K and language. Every task is listed; "
              "a task without a trivial result says so. "
              + inference.shots_meaning(sorted(set(rows["kind"]))) + ".")
    return Table("trivial-gap", title, pd.DataFrame(disp), data, None, legend)


_LEGEND_NONE = ("No trivial baseline ran on these tasks: rerun them (the runner adds the "
                "floors to every suite; see bench/floors.py) to learn whether the methods clear "
                "a floor.")


def _no_floor_rows(tasks: list[str], k: str) -> list[dict[str, str]]:
    return [{"task": task, "method": "—", "K": k, "nearest target": "—", "score": "—",
             "trivial": "none in these results", "gap": "—", "mean gap over targets": "—",
             "targets above trivial": "—"} for task in tasks]


def _no_floor_table(tasks: list[str], budget: int) -> Table:
    """The trivial-gap table of results without any trivial baseline: every task, said so."""
    return Table("trivial-gap", f"Gap over the trivial baseline; source budget {budget}",
                 pd.DataFrame(_no_floor_rows(tasks, "—")), pd.DataFrame(), None, _LEGEND_NONE,
                 tuple(f"{t}: no trivial baseline in these results" for t in tasks))
