"""Report figures are readable at paper size: nothing cut off, no overlapping text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from report_fixture import load_fixture

from bench import inference, stats
from bench.report import figures, heatmap, style


def _drawn(fig):  # noqa: ANN001, ANN202
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _inside(inner, outer, slack: float = 1.0) -> bool:  # noqa: ANN001
    return (inner.x0 >= outer.x0 - slack and inner.x1 <= outer.x1 + slack
            and inner.y0 >= outer.y0 - slack and inner.y1 <= outer.y1 + slack)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    r = stats.primary(load_fixture().scores)
    return r.astype({"shots": int, "budget": int, "seed": int, "episode": int})


def test_one_panel_legend_and_title_fit_the_figure(rows: pd.DataFrame) -> None:
    one = rows[rows["task"] == "synth-cls"]
    summary = inference.summarise(one, ["task", "method", "shots", "budget"], boot=50, seed=0)
    pooled = inference.compare(one, "finetune", level="language", boot=50, seed=0)
    vs_ft = inference.compare(one, "finetune", level="episode", boot=50, seed=0)
    langs = load_fixture().languages
    with style.rc():
        made = [figures.score_vs_shots(summary, pooled, {"synth-cls": "classification"}, 8000),
                figures.gain_vs_distance(vs_ft, langs, 8000, 1)]
        for fig in made:
            assert fig is not None and fig.get_figwidth() == style.SINGLE_COLUMN
            renderer = _drawn(fig)
            box = fig.bbox
            assert _inside(fig.legends[0].get_window_extent(renderer), box)
            assert _inside(fig._suptitle.get_window_extent(renderer), box)


def test_legend_columns_wrap_long_labels_to_the_width() -> None:
    short = ["maml", "protonet", "finetune", "logreg"]
    assert figures.legend_columns(short, style.DOUBLE_COLUMN) == 4
    long = short + ["significant vs finetune (Holm)", "not significant"]
    ncol = figures.legend_columns(long, style.SINGLE_COLUMN)
    assert 1 < ncol < len(long)
    assert figures.legend_columns(long, style.DOUBLE_COLUMN) > ncol


def _heatmap_input(n_langs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    out, langs = [], []
    for i in range(n_langs):
        lang = f"l{i:02d}"
        langs.append({"task": "t", "lang": lang, "role": "target", "script": "Latn"})
        for m in ("maml", "protonet", "logreg-tfidf"):
            for k in (0, 1, 5, 10):
                if m == "maml" or k > 0:
                    d = float(rng.normal(0, 20))
                    out.append({"task": "t", "method": m, "shots": k, "lang": lang,
                                "budget": 1, "diff": d, "significant": abs(d) > 15})
    return pd.DataFrame(out), pd.DataFrame(langs)


@pytest.mark.parametrize("n_langs", [4, 30])
def test_heatmap_text_never_overlaps_and_marks_significance(n_langs: int) -> None:
    c, langs = _heatmap_input(n_langs)
    with style.rc():
        fig = heatmap.gain_heatmap(c, c, 1, langs)
        renderer = _drawn(fig)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert len(axes) == 4  # one panel per K
    n_sig = 0
    for ax in axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        n_sig += sum(t.get_text().endswith("*") for t in ax.texts)
        assert all(_inside(b, ax.bbox) for b in boxes)
        for i, a in enumerate(boxes):
            assert not any(a.overlaps(b) for b in boxes[i + 1:])
        ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        for i, a in enumerate(ticks):
            assert not any(a.overlaps(b) for b in ticks[i + 1:])
    assert n_sig == int(c["significant"].sum())
    numbers = any(any(ch.isdigit() for ch in t.get_text()) for ax in axes for t in ax.texts)
    assert numbers == (n_langs == 4)  # numbers only where they fit; colour bar otherwise
    assert sum(a.get_label() == "<colorbar>" for a in fig.axes) == 1
