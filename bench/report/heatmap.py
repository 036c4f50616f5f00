"""The per-language gain heatmap: gain over the reference per (task, K, method, language).

Layout: one panel per (task, K), each methods (rows) x target languages (columns), with the
K panels of a task side by side (wrapped onto more rows when a task has many languages, so a
cell never gets narrower than :data:`MIN_CELL_PT`). The colour map is the colour-blind-safe
diverging PuOr centred at 0 with one symmetric scale for the whole figure; numbers are
printed only when the widest one fits its cell, otherwise the colour bar carries the values.
``*`` marks a Holm-significant gain (:func:`bench.inference.compare`); hatched cells are n/a
(the method has no score at that K, e.g. K = 0 for methods that need a support set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from bench.report.style import DOUBLE_COLUMN, method_order, new_figure, suptitle, text_width
from bench.report.tables import shot_label, shot_order
from bench.stats import Role

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

ROW_IN = 0.17  # height of one method row (inches)
FONT = 5.5  # cell numbers and language labels (points)
MIN_FONT = 4.0  # language labels never get smaller than this (points)
MIN_CELL_PT = 9.0  # narrowest cell before K panels wrap onto another row (points)
GAP_IN = 0.1  # horizontal space between panels (inches)


def gain_heatmap(summary_lang: pd.DataFrame, per_lang_ft: pd.DataFrame, budget: int,
                 languages: pd.DataFrame, reference: str = "finetune", *, roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Gain over the reference (points) per task, K, method and target language.

    ``per_lang_ft`` is ``inference.compare(rows, reference, level="episode")``;
    ``summary_lang`` gives the K values of the run. None when there is no comparison.
    """
    from matplotlib.colors import TwoSlopeNorm

    c = per_lang_ft[per_lang_ft["budget"] == budget]
    if c.empty:
        return None
    tasks = sorted(c["task"].unique())
    ks = shot_order(summary_lang.loc[summary_lang["budget"] == budget, "shots"])
    lim = max(1.0, float(np.nanmax(np.abs(c["diff"]))))
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    methods = {t: method_order(set(c.loc[c["task"] == t, "method"]), roles) for t in tasks}
    langs = {t: sorted(c.loc[c["task"] == t, "lang"].unique()) for t in tasks}
    label_in = max(text_width(m, 6.5) for t in tasks for m in methods[t]) / 72 + 0.15
    ncol = _columns(len(ks), max(len(v) for v in langs.values()), label_in)
    panel_in = _panel_in(ncol, label_in)
    ticks = {t: _lang_ticks(t, langs[t], languages, panel_in / len(langs[t])) for t in tasks}
    layout = [(t, ks[i:i + ncol]) for t in tasks for i in range(0, len(ks), ncol)]
    height = sum(len(methods[t]) * ROW_IN + 0.3 + ticks[t].inches for t, _ in layout) + 0.7
    fig = new_figure(DOUBLE_COLUMN, height)
    axes = fig.subplots(len(layout), ncol, squeeze=False,
                        gridspec_kw={"height_ratios": [len(methods[t]) for t, _ in layout]})
    image = None
    for row, (task, row_ks) in zip(axes, layout):
        fmt = _cell_format(panel_in / len(langs[task]) * 72, lim)
        for j, ax in enumerate(row):
            if j >= len(row_ks):
                ax.set_visible(False)
                continue
            image = _panel(ax, c[c["task"] == task], task, row_ks[j], methods[task],
                           langs[task], fmt, norm, lim, ticks[task], first=j == 0)
    if image is not None:
        bar = fig.colorbar(image, ax=[a for a in axes.ravel() if a.get_visible()],
                           location="bottom", shrink=0.45, aspect=45, pad=0.02)
        bar.set_label(f"gain over {reference} (points); * = significant (Holm)", fontsize=6.5)
    suptitle(fig, f"Gain over {reference} per target language (* = significant, Holm; "
             f"hatched = n/a; source budget {budget})")
    return fig


def _panel(ax, c: pd.DataFrame, task: str, k: int, ms: list[str], ls: list[str],  # noqa: ANN001
           fmt: str | None, norm, lim: float, ticks: "Ticks",  # noqa: ANN001
           first: bool):  # noqa: ANN202 - the AxesImage
    t = c.set_index(["method", "shots", "lang"])
    grid = np.full((len(ms), len(ls)), np.nan)
    for i, m in enumerate(ms):
        for q, lang in enumerate(ls):
            if (m, k, lang) not in t.index:
                _na_cell(ax, q, i)
                continue
            r = t.loc[(m, k, lang)]
            grid[i, q] = r["diff"]
            star = "*" if r["significant"] else ""
            text = star if fmt is None else fmt.format(r["diff"]) + star
            if text:
                ax.text(q, i, text, ha="center", va="center",
                        fontsize=FONT + (1.5 if fmt is None else 0),
                        fontweight="bold" if star else "normal",
                        color="white" if abs(r["diff"]) > 0.55 * lim else "black")
    image = ax.imshow(grid, cmap="PuOr", norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(ls)), ticks.labels, fontsize=ticks.size,
                  rotation=90 if ticks.rotated else 0)
    ax.set_yticks(range(len(ms)), ms if first else [""] * len(ms))
    ax.set_xticks(np.arange(len(ls) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(ms) + 1) - 0.5, minor=True)
    ax.grid(False)
    ax.grid(True, which="minor", color="white", lw=0.8)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"{task}, {shot_label(k)}", fontsize=7)
    return image


def _panel_in(ncol: int, label_in: float) -> float:
    return (DOUBLE_COLUMN - label_in - GAP_IN - GAP_IN * (ncol - 1)) / ncol


def _columns(n_ks: int, n_langs: int, label_in: float) -> int:
    """The most K panels per row that keep every cell at least MIN_CELL_PT wide."""
    for ncol in range(n_ks, 1, -1):
        if _panel_in(ncol, label_in) * 72 / n_langs >= MIN_CELL_PT:
            return ncol
    return 1


def _cell_format(cell_pt: float, lim: float) -> str | None:
    """The most precise number format whose widest value fits a cell, or None."""
    for fmt in ("{:+.1f}", "{:+.0f}"):
        if text_width(fmt.format(-lim) + "*", FONT) + 3 <= cell_pt:
            return fmt
    return None


def _na_cell(ax, x: int, y: int) -> None:  # noqa: ANN001
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor="#F4F4F4", edgecolor="#B0B0B0",
                           hatch="////", lw=0, zorder=0.5))


@dataclass(frozen=True)
class Ticks:
    """The language labels under a task's panels."""

    labels: list[str]  # language codes, with the script unless the code already names it
    inches: float  # the height they need below the panel
    size: float  # font size (points); smaller when cells are narrow
    rotated: bool  # vertical labels (cells too narrow for horizontal ones)


def _lang_ticks(task: str, langs: list[str], languages: pd.DataFrame, cell_in: float
                ) -> Ticks:
    meta = languages[languages["task"] == task].drop_duplicates("lang").set_index("lang")
    scripts = {lang: str(meta.loc[lang, "script"]) for lang in langs if lang in meta.index
               and pd.notna(meta.loc[lang, "script"])
               and str(meta.loc[lang, "script"]) not in lang}
    flat = [f"{lang}\n{scripts[lang]}" if lang in scripts else lang for lang in langs]
    if max(text_width(x, FONT) for x in flat) + 2 <= cell_in * 72:
        return Ticks(flat, 0.25, FONT, False)
    rot = [f"{lang} ({scripts[lang]})" if lang in scripts else lang for lang in langs]
    size = max(MIN_FONT, min(FONT, cell_in * 72 - 2))
    return Ticks(rot, max(text_width(x, size) for x in rot) / 72 + 0.05, size, True)
