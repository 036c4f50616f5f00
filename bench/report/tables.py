"""Report tables: pure functions from primary-metric rows (and the audit) to :class:`Table`.

A :class:`Table` keeps three views of the same content: ``display`` (formatted strings, the
Markdown/LaTeX/HTML body), ``bold`` (which display cells to embolden) and ``data`` (the tidy
numbers written to CSV). :mod:`bench.report.formats` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from bench import inference, stats
from bench.report.style import method_order
from bench.stats import Role
from bench.types import PRIMARY_METRIC

UP, DOWN = "↑", "↓"  # significantly better / worse than the reference (Holm, p < alpha)
FLOOR = "°"  # the method and the reference are both below the trivial floor there


@dataclass(frozen=True, eq=False)
class Table:
    """One report table: formatted cells, bold mask, tidy numbers and a legend line."""

    name: str  # file stem, e.g. "main-classification"
    title: str
    display: pd.DataFrame  # strings; column names are the header
    data: pd.DataFrame  # tidy numbers for the CSV
    bold: pd.DataFrame | None = None  # same shape as display
    legend: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def shot_label(k: int) -> str:
    """Column label of a K value (-1 means every available example)."""
    if pd.isna(k):
        return "K=any"  # a cell that failed before any K (e.g. in source training)
    return "K=all" if int(k) < 0 else f"K={int(k)}"


def shot_order(shots: "pd.Series | list[int]") -> list[int]:
    """K values in display order, 'all' (-1) last."""
    ks = sorted({int(k) for k in shots})
    return [k for k in ks if k >= 0] + [k for k in ks if k < 0]


def _mark(direction: float, below_floor: bool = False) -> str:
    arrow = UP if direction > 0 else DOWN if direction < 0 else ""
    return arrow + (FLOOR if below_floor else "")


def _comparison(c: pd.DataFrame, key: tuple) -> tuple[int, bool]:
    """(direction, below_floor) of one comparison row, (0, False) when there is none."""
    if key not in c.index:
        return 0, False
    r = c.loc[key]
    return int(r["direction"]), bool(r["below_floor"])


def _fmt(mean: float, half: float) -> str:
    return f"{mean:.1f} ± {half:.1f}"


def _na_keys(cells: pd.DataFrame, budget: int) -> set[tuple]:
    na = cells[(cells["status"] == "n/a") & (cells["budget"] == budget)]
    return {(t, m, int(k)) for t, m, k in zip(na["task"], na["method"], na["shots"])
            if pd.notna(k)}


def unsupported(cells: pd.DataFrame, budget: int) -> set[tuple[str, str]]:
    """(task, method) pairs whose every cell at ``budget`` is n/a: the method does not
    support the task at all (e.g. a summarization baseline on a classification task).

    Tables and figures leave these out; :func:`na_table` still lists them with the reason.
    A method that is n/a only at some K (e.g. K = 0 without a support set) is not here.
    """
    c = cells[cells["budget"] == budget]
    if c.empty:
        return set()
    all_na = (c["status"] == "n/a").groupby([c["task"], c["method"]]).all()
    return {(str(t), str(m)) for (t, m), v in all_na.items() if v}


def significance_legend(alpha: float, reference: str, level: inference.Level,
                        comparisons: pd.DataFrame | None = None) -> str:
    """The caption of a table with marks: reference, test, unit, Holm family, floor flag."""
    c = comparisons if comparisons is not None else pd.DataFrame()
    m = sorted({int(x) for x in c.get("family_size", pd.Series(dtype=int)) if x > 0})
    size = f" (m = {', '.join(map(str, m))} tests)" if m else ""
    units = set(c.get("unit", pd.Series(dtype=str)))
    if level == "language":
        unit = ("paired t-test over target languages, each language's score the mean over "
                "its episodes and seeds")
        if "episode" in units:
            unit += (f"; a task with fewer than {inference.MIN_LANGUAGES} target languages is "
                     "tested over its (language, episode) units")
    else:
        unit = "paired t-test over the language's episodes, each the mean over seeds"
    ci = ("the 95% cluster-bootstrap CI half-width (resampling languages, then episodes "
          "within each; expanded for few languages)" if level == "language" else
          "the 95% bootstrap CI half-width over the language's episodes")
    return (f"{UP}/{DOWN}: significantly better/worse than the pre-registered reference "
            f"{reference} ({unit}; Holm-corrected over {inference.family(level)}{size}, "
            f"p < {alpha:g}; trivial floors are not tested); {FLOOR}: the method and "
            f"{reference} both score below the best trivial floor there, so the comparison "
            f"says nothing; bold: best mean; ± is {ci}.")


def main_table(kind: str, rows: pd.DataFrame, cells: pd.DataFrame, summary: pd.DataFrame,
               pooled: pd.DataFrame, budget: int, alpha: float = 0.05,
               reference: str = stats.DEFAULT_REFERENCE, *, roles: Mapping[str, Role] | None = None) -> Table:
    """Methods x K for one task kind: mean ± CI half-width, best bold, significance marks.

    ``summary`` is :func:`bench.inference.summarise` by (task, method, shots, budget) and
    ``pooled`` :func:`bench.inference.compare` with ``level="language"`` against
    ``reference``.
    """
    metric = PRIMARY_METRIC[kind]  # type: ignore[index]
    tasks = sorted(rows.loc[rows["kind"] == kind, "task"].unique())
    ks = shot_order(rows["shots"])
    s = summary[(summary["budget"] == budget) & summary["task"].isin(tasks)]
    c = pooled[(pooled["budget"] == budget) & pooled["task"].isin(tasks)].set_index(
        ["task", "method", "shots"])
    na = _na_keys(cells, budget)
    skip = unsupported(cells, budget)
    methods = method_order(set(s["method"]) | {m for t, m, _ in na if t in tasks}, roles)
    disp, bold = [], []
    sidx = s.set_index(["task", "method", "shots"])
    best = s.groupby(["task", "shots"])["mean"].max()
    for task in tasks:
        for method in methods:
            if (task, method) in skip:
                continue  # not supported at all: listed in the absent table instead
            drow, brow = {"task": task, "method": method}, {"task": False, "method": False}
            for k in ks:
                col, key = shot_label(k), (task, method, k)
                brow[col] = False
                if key in sidx.index:
                    r = sidx.loc[key]
                    drow[col] = _fmt(r["mean"], r["half"]) + _mark(*_comparison(c, key))
                    brow[col] = bool(np.isclose(r["mean"], best.loc[(task, k)]))
                else:
                    drow[col] = "n/a" if key in na else "—"
            disp.append(drow)
            bold.append(brow)
    missing = [t for t in tasks if not ((s["task"] == t) & (s["method"] == reference)).any()]
    display = pd.DataFrame(disp)
    if len(tasks) == 1:
        display = display.drop(columns="task")
    boldf = pd.DataFrame(bold)[display.columns]
    data = s.merge(c.reset_index()[["task", "method", "shots", "reference", "unit", "diff", "p",
                                    "p_holm", "family_size", "mde", "below_floor",
                                    "direction"]], on=["task", "method", "shots"], how="left")
    title = (f"{kind}: {metric} (%) by method and K ({inference.shots_meaning([kind])}), "
             f"mean over target languages of the mean over episodes and seeds; source "
             f"budget {budget}")
    legend = significance_legend(alpha, reference, "language", c.reset_index())
    notes = tuple(f"{t}: no {reference!r} results, so no marks (the suite's reference)"
                  for t in missing)
    return Table(f"main-{kind}", title, display, data, boldf, legend, notes)


def language_table(rows: pd.DataFrame, languages: pd.DataFrame, summary: pd.DataFrame,
                   per_lang: pd.DataFrame, cells: pd.DataFrame, budget: int,
                   alpha: float = 0.05, kind: str | None = None,
                   reference: str = stats.DEFAULT_REFERENCE, *, roles: Mapping[str, Role] | None = None) -> Table:
    """Per (task, K, language): every method's mean ± CI, with script, family, distance.

    With ``kind`` only that kind's tasks and the methods scored on them (table
    ``per-language-<kind>``); without it every task (table ``per-language``).
    """
    s = summary[summary["budget"] == budget]
    if kind is not None:
        s = s[s["task"].isin(set(rows.loc[rows["kind"] == kind, "task"]))]
    c = per_lang[per_lang["budget"] == budget][
        ["task", "method", "shots", "lang", "reference", "diff", "p", "p_holm", "family_size",
         "mde", "below_floor", "direction"]]
    if kind is not None:
        c = c[c["task"].isin(set(s["task"]))]
    meta = languages[languages["role"] == "target"][["task", "lang", "script", "family",
                                                    "distance"]]
    data = s.merge(meta, on=["task", "lang"], how="left").merge(
        c, on=["task", "method", "shots", "lang"], how="left")
    methods = method_order(set(s["method"]), roles)
    na = _na_keys(cells, budget)
    disp, bold = [], []
    for (task, k, lang), grp in s.groupby(["task", "shots", "lang"], sort=True):
        m = meta[(meta["task"] == task) & (meta["lang"] == lang)]
        dist = m["distance"].iat[0] if len(m) else np.nan
        drow = {"task": task, "K": shot_label(k)[2:], "lang": lang,
                "script": m["script"].iat[0] if len(m) else "?",
                "distance": "" if pd.isna(dist) else f"{dist:.2f}"}
        brow = {key: False for key in drow}
        g = grp.set_index("method")
        top = g["mean"].max()
        for method in methods:
            if method not in g.index:
                drow[method] = "n/a" if (task, method, int(k)) in na else "—"
                brow[method] = False
                continue
            hit = c[(c["task"] == task) & (c["method"] == method) & (c["shots"] == k)
                    & (c["lang"] == lang)]
            d = hit["direction"].iat[0] if len(hit) else 0
            low = bool(hit["below_floor"].iat[0]) if len(hit) else False
            drow[method] = _fmt(g.loc[method, "mean"], g.loc[method, "half"]) + _mark(d, low)
            brow[method] = bool(np.isclose(g.loc[method, "mean"], top))
        disp.append(drow)
        bold.append(brow)
    display = pd.DataFrame(disp, columns=list(disp[0]) if disp else ["task", "K", "lang"])
    display["_k"] = display["K"].map(lambda x: 10**9 if x == "all" else int(x))
    display = display.sort_values(["task", "_k", "lang"], kind="stable").drop(columns="_k")
    boldf = pd.DataFrame(bold, columns=display.columns).loc[display.index]
    display, boldf = display.reset_index(drop=True), boldf.reset_index(drop=True)
    name = "per-language" if kind is None else f"per-language-{kind}"
    metric = "primary metric" if kind is None else PRIMARY_METRIC[kind]  # type: ignore[index]
    what = "Primary metric" if kind is None else f"{kind}: {metric}"
    if display["task"].nunique() == 1:  # one task: named in the title, not in every row
        what = f"{display['task'].iat[0]}: {metric}"
        display, boldf = display.drop(columns="task"), boldf.drop(columns="task")
    kinds = sorted(set(rows.loc[rows["task"].isin(set(s["task"])), "kind"])) or [kind or ""]
    return Table(name, f"{what} (%) per target language ({inference.shots_meaning(kinds)}); "
                 f"source budget {budget}", display, data, boldf,
                 significance_legend(alpha, reference, "episode", c))


def script_table(task: str, rows: pd.DataFrame, languages: pd.DataFrame,
                 cells: pd.DataFrame, budget: int, boot: int, seed: int, *, roles: Mapping[str, Role] | None = None) -> Table:
    """One multi-script task grouped by script: mean ± CI over the languages of each script."""
    meta = languages[(languages["task"] == task) & (languages["role"] == "target")]
    sel = rows[(rows["task"] == task) & (rows["budget"] == budget)].merge(
        meta[["lang", "script"]], on="lang")
    s = inference.summarise(sel, ["script", "shots", "method"], boot=boot, seed=seed)
    n_langs = meta.groupby("script")["lang"].nunique()
    methods = method_order(set(s["method"]), roles)
    na = _na_keys(cells, budget)
    disp, bold = [], []
    for (script, k), grp in s.groupby(["script", "shots"], sort=True):
        g = grp.set_index("method")
        drow = {"script": script, "languages": str(n_langs.get(script, 0)),
                "K": shot_label(k)[2:]}
        brow = {key: False for key in drow}
        for method in methods:
            ok = method in g.index
            drow[method] = (_fmt(g.loc[method, "mean"], g.loc[method, "half"]) if ok
                            else "n/a" if (task, method, int(k)) in na else "—")
            brow[method] = ok and bool(np.isclose(g.loc[method, "mean"], g["mean"].max()))
        disp.append(drow)
        bold.append(brow)
    return Table(f"scripts-{task}", f"{task}: primary metric (%) by script (mean over the "
                 f"script's target languages); source budget {budget}", pd.DataFrame(disp),
                 s, pd.DataFrame(bold), "Bold: best mean per row; ± is the 95% bootstrap CI "
                 "half-width (cluster bootstrap: the script's languages, then episodes).")


def audit_table(audit: pd.DataFrame) -> Table:
    """What 'matched budget' cost each method: examples, steps, FLOPs, seconds vs the cap.

    Source rows are means over seeds. Adapt rows hold sums over ``episodes`` episodes with a
    per-episode cap; they are shown per episode (mean and max over languages, K and seeds).
    """
    a = audit.copy()
    eps = pd.to_numeric(a["episodes"], errors="coerce").fillna(1).clip(lower=1)
    for col in ("examples", "steps", "flops", "seconds"):
        a[col] = a[col].astype(float) / eps
    g = a.groupby(["task", "method", "budget", "phase"], sort=True)
    data = g.agg(examples=("examples", "mean"), examples_max=("examples", "max"),
                 steps=("steps", "mean"), flops=("flops", "mean"),
                 seconds=("seconds", "mean"), cap=("cap", "max")).reset_index()
    data["used"] = data["examples_max"] / data["cap"].where(data["cap"] > 0)
    data["phase"] = pd.Categorical(data["phase"], ["source", "adapt"])
    data = data.sort_values(["task", "budget", "phase", "method"]).reset_index(drop=True)
    data["phase"] = data["phase"].astype(str)
    display = pd.DataFrame({
        "task": data["task"], "budget": data["budget"].astype(int).astype(str),
        "phase": data["phase"], "method": data["method"],
        "examples": data["examples"].map(lambda x: f"{x:,.0f}"),
        "max / cap": [f"{m:,.0f} / {c:,.0f} ({u:.0%})" if pd.notna(u) else f"{m:,.0f} / 0"
                      for m, c, u in zip(data["examples_max"], data["cap"], data["used"])],
        "steps": data["steps"].map(lambda x: f"{x:,.1f}"),
        "FLOPs": data["flops"].map(lambda x: f"{x:.2e}"),
        "seconds": data["seconds"].map(lambda x: f"{x:.2f}"),
    })
    over = data[data["examples_max"] > data["cap"]]
    notes = tuple(f"OVER CAP: {r.task} {r.method} {r.phase} spent {r.examples_max:.0f} > "
                  f"{r.cap:.0f}" for r in over.itertuples())
    return Table("budget-audit", "Budget audit: what the matched budget cost each method",
                 display, data, None, "source: per (task, method, seed), mean over seeds; "
                 "adapt: per evaluation episode, mean (examples) and max over languages, K "
                 "and seeds; cap = the suite's budget for the phase.", notes)


def win_tie_loss_table(wtl: pd.DataFrame, budget: int, alpha: float = 0.05,
                       reference: str = stats.DEFAULT_REFERENCE, *, roles: Mapping[str, Role] | None = None) -> Table:
    """W/T/L of every method vs the reference over (task, language, K)."""
    w = wtl[wtl["budget"] == budget]
    tasks = sorted(w["task"].unique())
    disp = []
    for method in method_order(set(w["method"]), roles):
        row = {"method": method}
        tot = np.zeros(3, dtype=int)
        for task in tasks:
            hit = w[(w["task"] == task) & (w["method"] == method)]
            v = hit[["win", "tie", "loss"]].to_numpy()[0] if len(hit) else None
            row[task] = "—" if v is None else "/".join(str(x) for x in v)
            tot += 0 if v is None else v
        row["total"] = "/".join(str(x) for x in tot)
        disp.append(row)
    return Table("win-tie-loss", f"Win/tie/loss vs {reference} per (task, language, K); "
                 f"source budget {budget}", pd.DataFrame(disp), w, None,
                 f"A win (loss) is a per-language paired t-test over episodes significant after "
                 f"Holm over {inference.family('episode')} (p < {alpha:g}) in favour of "
                 f"(against) the method; else a tie.")


def na_table(cells: pd.DataFrame) -> Table:
    """Every absent (method, task, K) with its status and reason."""
    bad = cells[cells["status"] != "done"].copy()
    bad["reason"] = bad["reason"].fillna("").astype(str)
    bad["shots"] = pd.to_numeric(bad["shots"], errors="coerce").fillna(-999).astype(int)
    g = bad.groupby(["method", "task", "shots", "status", "reason"], sort=True)
    data = g.agg(cells=("lang", "size"), languages=("lang", lambda x: ",".join(sorted(
        {str(v) for v in x if pd.notna(v)}))), budgets=("budget", lambda x: ",".join(
            str(int(v)) for v in sorted(set(x))))).reset_index()
    display = pd.DataFrame({
        "method": data["method"], "task": data["task"],
        "K": data["shots"].map(lambda k: "any" if k == -999 else shot_label(k)[2:]),
        "status": data["status"],
        "reason": data["reason"].replace("", "(no reason recorded)"),
        "cells": data["cells"].astype(str), "languages": data["languages"],
        "budgets": data["budgets"]})
    return Table("absent", "Absent results: every (method, task, K) without a score and why",
                 display, data, None, "n/a: the method does not support the pair; other "
                 "statuses are runs that did not finish (see the run's cell files).")


def distance_correlation(rows: pd.DataFrame, languages: pd.DataFrame, budget: int,
                         shots: int = 1, reference: str = stats.DEFAULT_REFERENCE
                         ) -> pd.DataFrame:
    """Spearman rho of the reference's K=``shots`` per-language score vs language distance.

    Columns: task, shots, n, rho, p. Tasks with fewer than 3 languages with a distance
    are omitted.
    """
    from scipy.stats import permutation_test, spearmanr

    sel = rows[(rows["method"] == reference) & (rows["shots"] == shots)
               & (rows["budget"] == budget)]
    per = sel.groupby(["task", "lang"])["value"].mean().reset_index().merge(
        languages[["task", "lang", "distance"]], on=["task", "lang"]).dropna()
    out = []
    for task, g in per.groupby("task", sort=True):
        if len(g) >= 3 and g["distance"].nunique() > 1 and g["value"].nunique() > 1:
            x, y = g["distance"].to_numpy(), g["value"].to_numpy()
            res = spearmanr(x, y)
            p = float(res.pvalue)
            if len(g) <= 8:  # exact permutation p: the t approximation is wrong for tiny n
                p = float(permutation_test((x,), lambda a, y=y: spearmanr(a, y).statistic,
                                           permutation_type="pairings",
                                           n_resamples=np.inf).pvalue)
            out.append((task, shots, len(g), float(res.statistic), p))
    return pd.DataFrame(out, columns=["task", "shots", "n", "rho", "p"])


def ranking_table(rankings: dict[int, "stats.Ranking"]) -> Table:
    """Average ranks per K with the Friedman p-value and the Nemenyi CD."""
    disp, data = [], []
    for k, r in rankings.items():
        order = sorted(zip(r.ranks, r.methods))
        disp.append({"K": shot_label(k)[2:], "datasets": str(r.n_datasets),
                     "average rank (1 = best)": ", ".join(f"{m} {x:.2f}" for x, m in order),
                     "Friedman p": "—" if np.isnan(r.p_value) else f"{r.p_value:.3g}",
                     "CD (0.05)": f"{r.cd:.2f}",
                     "left out": ", ".join(r.dropped) or "—"})
        data += [{"shots": k, "method": m, "rank": x, "n_datasets": r.n_datasets,
                  "friedman_chi2": r.chi2, "friedman_p": r.p_value, "cd": r.cd}
                 for x, m in order]
    return Table("ranks", "Average ranks over (task, language) datasets", pd.DataFrame(disp),
                 pd.DataFrame(data), None, "Friedman test over datasets; methods whose average "
                 "ranks differ by more than CD differ significantly (Nemenyi, Demšar 2006). "
                 "Methods missing on some dataset are left out at that K.")
