"""Report figures: pure functions from summaries/comparisons to matplotlib Figures.

Each function returns a ``Figure`` (built without pyplot) or ``None`` when its data are
absent; :func:`bench.report.style.save` writes PDF + PNG. Call them inside
``style.rc()`` so the shared rcParams apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, cast

import numpy as np
import pandas as pd

from bench import stats
from bench.report.heatmap import gain_heatmap
from bench.report.style import DOUBLE_COLUMN, RC, SINGLE_COLUMN, look, method_order, new_figure, suptitle, text_width
from bench.report.tables import shot_label, shot_order
from bench.types import PRIMARY_METRIC

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.stats import Role  # pragma: no cover

__all__ = ["critical_difference", "gain_heatmap", "gain_vs_distance", "legend_columns",
           "score_vs_budget", "score_vs_shots"]

FLOOR_LABEL = "trivial floor (best trivial baseline)"


def _floor(s: pd.DataFrame, task: str, x: str, *, roles: Mapping[str, Role] | None = None) -> pd.DataFrame:
    """The best trivial baseline's mean per ``x`` (shots or budget) of one task."""
    t = s[(s["task"] == task) & (s["method"].map(lambda m: stats.role_of(m, roles)) == "trivial")]
    return t.groupby(x, sort=True)["mean"].max().reset_index()


def _floor_handle() -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], color="black", linestyle=(0, (1, 1.5)), lw=1.0, label=FLOOR_LABEL)]


def _width(panels: int) -> float:
    return SINGLE_COLUMN if panels == 1 else DOUBLE_COLUMN


def _panels(n: int, height: float) -> tuple["Figure", list]:
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = new_figure(_width(cols), height * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _method_legend(fig: "Figure", methods: list[str], extra: list | None = None, *, roles: Mapping[str, Role] | None = None) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=look(m, roles).color, marker=look(m, roles).marker,
                      linestyle=look(m, roles).linestyle, label=m) for m in methods]
    handles += extra or []
    fig.legend(handles=handles, loc="outside lower center", frameon=False,
               ncol=legend_columns([cast(str, h.get_label()) for h in handles], fig.get_figwidth()))


def legend_columns(labels: list[str], width_in: float) -> int:
    """The most legend columns whose entries fit ``width_in`` inches (matplotlib fills a
    legend column by column, so each column is as wide as its widest label)."""
    size = float(RC["legend.fontsize"])  # type: ignore[arg-type]
    entry = [text_width(x, size) + (2.0 + 0.8) * size for x in labels]  # handle + pad
    room = width_in * 72 - 2 * 0.4 * size - 4  # border pads and a little slack
    for ncol in range(len(labels), 1, -1):
        rows = -(-len(labels) // ncol)
        cols = [max(entry[i:i + rows]) for i in range(0, len(labels), rows)]
        if sum(cols) + 2.0 * size * (len(cols) - 1) <= room:
            return len(cols)
    return 1


def score_vs_shots(summary: pd.DataFrame, pooled: pd.DataFrame, kinds: dict[str, str],
                   budget: int, reference: str = stats.DEFAULT_REFERENCE, *, roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Primary metric vs K per task (CI bands); filled markers where significantly different
    from ``reference``; the trivial floor (best trivial baseline per K) as a dotted line."""
    from matplotlib.lines import Line2D

    s = summary[summary["budget"] == budget]
    if s.empty:
        return None
    tasks = sorted(s["task"].unique())
    ks = shot_order(s["shots"])
    pos = {k: i for i, k in enumerate(ks)}
    sig = pooled[(pooled["budget"] == budget) & pooled["significant"]]
    sig_keys = set(zip(sig["task"], sig["method"], sig["shots"]))
    fig, axes = _panels(len(tasks), 2.4)
    methods = method_order({m for m in s["method"] if stats.role_of(m, roles) != "trivial"}, roles)
    for ax, task in zip(axes, tasks):
        fl = _floor(s, task, "shots", roles=roles)
        if len(fl):
            fl = fl.assign(x=fl["shots"].map(pos)).sort_values("x")
            ax.plot(fl["x"], fl["mean"], color="black", linestyle=(0, (1, 1.5)), lw=1.0,
                    zorder=1)
        for method in methods:
            g = s[(s["task"] == task) & (s["method"] == method)]
            if g.empty:
                continue
            g = g.assign(x=g["shots"].map(pos)).sort_values("x")
            lk = look(method, roles)
            ax.fill_between(g["x"], g["lo"], g["hi"], color=lk.color, alpha=0.15, lw=0)
            ax.plot(g["x"], g["mean"], color=lk.color, linestyle=lk.linestyle, lw=1.2)
            for x, y, k in zip(g["x"], g["mean"], g["shots"]):
                filled = (task, method, k) in sig_keys
                ax.plot([x], [y], marker=lk.marker, color=lk.color, ms=5 if filled else 4.5,
                        mfc=lk.color if filled else "white", mew=1.0, linestyle="none")
        ax.set_xticks(range(len(ks)), [shot_label(k) for k in ks])
        ax.set_title(task)
        ax.set_ylabel(f"{PRIMARY_METRIC[kinds[task]]} (%)")  # type: ignore[index]
        ax.set_xlim(-0.2, len(ks) - 0.8)
    extra = [Line2D([], [], color="black", marker="o", mfc="black", linestyle="none",
                    label=f"significant vs {reference} (Holm)"),
             Line2D([], [], color="black", marker="o", mfc="white", linestyle="none",
                    label="not significant")] + _floor_handle()
    _method_legend(fig, methods, extra, roles=roles)
    suptitle(fig, f"Score vs shots (95% CI bands; source budget {budget})")
    return fig


def gain_vs_distance(per_lang_ft: pd.DataFrame, languages: pd.DataFrame, budget: int,
                     shots: int, reference: str = stats.DEFAULT_REFERENCE, *, roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Gain over the reference vs language distance (synthetic) or by script (real data)."""
    c = per_lang_ft[(per_lang_ft["budget"] == budget) & (per_lang_ft["shots"] == shots)]
    if c.empty:
        return None
    meta = languages[languages["role"] == "target"][["task", "lang", "script", "family",
                                                    "distance"]]
    c = c.merge(meta, on=["task", "lang"], how="left")
    tasks = sorted(c["task"].unique())
    fig, axes = _panels(len(tasks), 2.3)
    methods = method_order(set(c["method"]), roles)
    for ax, task in zip(axes, tasks):
        t = c[c["task"] == task]
        numeric = t["distance"].notna().all()
        if numeric:
            t = t.assign(x=t["distance"])
            ax.set_xlabel("language distance from source")
        else:
            cats = sorted(t["script"].fillna("?").unique())
            t = t.assign(x=t["script"].fillna("?").map({s: i for i, s in enumerate(cats)}))
            ax.set_xticks(range(len(cats)), cats)
            ax.set_xlabel("script")
        spread = 0.15 if not numeric else 0.01 * max(float(np.ptp(t["x"])), 1e-9)
        offsets = np.linspace(-spread, spread, len(methods))
        for off, method in zip(offsets, methods):
            g = t[t["method"] == method].sort_values("x")
            if g.empty:
                continue
            lk = look(method, roles)
            ax.errorbar(g["x"] + off, g["diff"], yerr=[g["diff"] - g["lo"], g["hi"] - g["diff"]],
                        color=lk.color, marker=lk.marker, linestyle=lk.linestyle if numeric
                        else "none", lw=1, ms=4, capsize=1.5, elinewidth=0.7)
        ax.axhline(0, color="black", lw=0.7)
        ax.set_ylabel(f"gain over {reference} (points)")
        ax.set_title(task)
    _method_legend(fig, methods, roles=roles)
    suptitle(fig, f"Gain over {reference} at {shot_label(shots)} vs language "
              f"(95% paired CI; source budget {budget})")
    return fig


def critical_difference(rankings: dict[int, stats.Ranking], *, roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Demšar (2006) critical-difference diagrams, one row per K."""
    usable = {k: r for k, r in rankings.items() if len(r.methods) >= 2}
    if not usable:
        return None
    kmax = max(len(r.methods) for r in usable.values())
    row_h = 0.55 + 0.16 * ((kmax + 1) // 2)
    fig = new_figure(SINGLE_COLUMN * 1.6, row_h * len(usable) + 0.3)
    axes = np.atleast_1d(fig.subplots(len(usable), 1, squeeze=False)).ravel()
    for ax, (k, r) in zip(axes, usable.items()):
        _cd_axis(ax, r, k, kmax, roles=roles)
    return fig


def _cd_axis(ax, r: stats.Ranking, shots: int, kmax: int, *, roles: Mapping[str, Role] | None = None) -> None:  # noqa: ANN001
    order = sorted(zip(r.ranks, r.methods))
    n = len(order)
    ax.set_xlim(0.3, kmax + 0.7)
    lines = (n + 1) // 2
    ax.set_ylim(-(lines + 1.2), 1.6)
    ax.axis("off")
    ax.plot([1, kmax], [0, 0], color="black", lw=0.8)
    for t in range(1, kmax + 1):
        ax.plot([t, t], [0, 0.15], color="black", lw=0.8)
        ax.text(t, 0.3, str(t), ha="center", va="bottom", fontsize=6)
    if np.isfinite(r.cd):
        ax.plot([1, 1 + r.cd], [1.2, 1.2], color="black", lw=1.2)
        ax.text(1 + r.cd / 2, 1.3, f"CD = {r.cd:.2f}", ha="center", va="bottom", fontsize=6)
    for i, (rank, m) in enumerate(order):
        left = i < lines
        level = -(i + 1) if left else -(n - i)
        x_text = 0.35 if left else kmax + 0.65
        lk = look(m, roles)
        ax.plot([rank, rank, x_text], [0, level, level], color=lk.color, lw=0.9)
        ax.plot([rank], [0], marker=lk.marker, color=lk.color, ms=4)
        ax.text(x_text, level + 0.12, f"{m} ({rank:.2f})", ha="left" if left else "right",
                va="bottom", fontsize=6)
    # cliques: maximal runs of methods whose average ranks differ by less than the CD
    ranks = [x for x, _ in order]
    cliques, last_end = [], -1
    for i in range(n):
        j = max(j for j in range(i, n) if ranks[j] - ranks[i] < r.cd) if np.isfinite(r.cd) \
            else i
        if j > i and j > last_end:
            cliques.append((i, j))
            last_end = j
    for c, (i, j) in enumerate(cliques):
        y = -0.35 - 0.25 * c
        ax.plot([ranks[i] - 0.03, ranks[j] + 0.03], [y, y], color="black", lw=2.2,
                solid_capstyle="butt")
    p = "n/a" if np.isnan(r.p_value) else f"{r.p_value:.3g}"
    ax.set_title(f"{shot_label(shots)}: average rank over {r.n_datasets} (task, language) "
                 f"datasets; Friedman p = {p}", fontsize=7)


def score_vs_budget(summary: pd.DataFrame, kinds: dict[str, str], shots: int, *, roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Primary metric vs source budget cap per task at one K; None with < 2 budgets. The
    trivial floor is a dotted line."""
    s = summary[summary["shots"] == shots]
    if s["budget"].nunique() < 2:
        return None
    tasks = sorted(s["task"].unique())
    fig, axes = _panels(len(tasks), 2.3)
    methods = method_order({m for m in s["method"] if stats.role_of(m, roles) != "trivial"}, roles)
    budgets = sorted(s["budget"].unique())
    for ax, task in zip(axes, tasks):
        fl = _floor(s, task, "budget", roles=roles)
        if len(fl):
            ax.plot(fl["budget"], fl["mean"], color="black", linestyle=(0, (1, 1.5)), lw=1.0,
                    zorder=1)
        for method in methods:
            g = s[(s["task"] == task) & (s["method"] == method)].sort_values("budget")
            if g.empty:
                continue
            lk = look(method, roles)
            ax.fill_between(g["budget"], g["lo"], g["hi"], color=lk.color, alpha=0.15, lw=0)
            ax.plot(g["budget"], g["mean"], color=lk.color, linestyle=lk.linestyle,
                    marker=lk.marker, mfc="white")
        ax.set_xscale("log")
        ax.set_xticks(budgets, [f"{b:,}" for b in budgets])
        ax.minorticks_off()
        ax.set_xlabel("source budget (labelled-example passes)")
        ax.set_ylabel(f"{PRIMARY_METRIC[kinds[task]]} (%)")  # type: ignore[index]
        ax.set_title(task)
    _method_legend(fig, methods, _floor_handle(), roles=roles)
    suptitle(fig, f"Score vs source budget at {shot_label(shots)} (95% CI bands)")
    return fig
