"""One figure style for every plot: palette, a fixed look per method, sizes, saving.

* Colours are the Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008, "Color Universal
  Design"); each built-in method has a fixed colour + marker, others get a deterministic
  one from a SHA-256 of the name, so a method looks the same in every figure and report.
* Line style encodes the role: solid = method under test, dashed = transfer baseline,
  dotted = trivial baseline (each method class declares its role; cell records store it).
* Widths: single column 3.4 in, double column 7.0 in.
* Files are byte-identical across renders: no creation date, fixed producer, fixed SVG
  hash salt, TrueType fonts embedded (``pdf.fonttype`` 42).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state) and the
rcParams below are applied with ``rc_context`` around each figure.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from bench.stats import Role, role_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

SINGLE_COLUMN = 3.4  # inches
DOUBLE_COLUMN = 7.0
DPI = 300
PRODUCER = "xlbench report"

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "skyblue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#7F7F7F"


@dataclass(frozen=True)
class Look:
    """How one method is drawn in every figure."""

    color: str
    marker: str
    linestyle: Any  # a matplotlib line style: "-", "--" or ":"


#: Built-in methods: a fixed colour and marker each (the line style comes from the role).
BUILTIN_LOOKS: dict[str, tuple[str, str]] = {
    "finetune": (OKABE_ITO["blue"], "o"),
    "logreg": (OKABE_ITO["skyblue"], "s"),
    "logreg-tfidf": (OKABE_ITO["green"], "D"),
    "protonet": (OKABE_ITO["orange"], "^"),
    "maml": (OKABE_ITO["vermillion"], "v"),
    "fomaml": (OKABE_ITO["purple"], "<"),
    "reptile": (OKABE_ITO["yellow"], ">"),
    "anil": (OKABE_ITO["black"], "P"),
    "metasgd": (OKABE_ITO["purple"], "X"),
    "majority": (GREY, "x"),
    "lead": (GREY, "+"),
    "overlap": (GREY, "1"),
}
_FALLBACK_COLORS = tuple(OKABE_ITO[c] for c in
                         ("orange", "vermillion", "purple", "green", "skyblue", "blue", "black"))
_FALLBACK_MARKERS = ("h", "p", "*", "d", "8", "H", "X", "P")
_LINESTYLES = {"meta": "-", "transfer": "--", "trivial": ":"}


def look(method: str, roles: Mapping[str, Role] | None = None) -> Look:
    """The fixed colour, marker and line style of ``method`` (deterministic for any name;
    the line style from its role in ``roles``, :func:`bench.stats.roles`)."""
    if method in BUILTIN_LOOKS:
        color, marker = BUILTIN_LOOKS[method]
    else:
        h = int.from_bytes(hashlib.sha256(method.encode()).digest()[:8], "little")
        color = _FALLBACK_COLORS[h % len(_FALLBACK_COLORS)]
        marker = _FALLBACK_MARKERS[(h // len(_FALLBACK_COLORS)) % len(_FALLBACK_MARKERS)]
    return Look(color, marker, _LINESTYLES[role_of(method, roles)])


def method_order(methods: list[str] | set[str] | tuple[str, ...], roles: Mapping[str, Role] | None = None) -> list[str]:
    """A stable display order: methods under test, then transfer, then trivial baselines."""
    rank = {"meta": 0, "transfer": 1, "trivial": 2}
    return sorted(set(methods), key=lambda m: (rank[role_of(m, roles)], m))


RC: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.labelsize": 7.5,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "xlbench",
    "path.simplify": False,
    "savefig.dpi": DPI,
}


def new_figure(width: float, height: float) -> "Figure":
    """A pyplot-free Figure of ``width`` x ``height`` inches (call inside :func:`rc`)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def text_width(text: str, size: float) -> float:
    """Width in points of ``text`` (widest line) in the report font at ``size`` points.

    Measured with the Agg renderer at 72 dpi: deterministic, no figure needed; used to fit
    legends, titles and heatmap numbers to the figure before it is drawn.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=str(RC["font.family"]), size=size)
    renderer = RendererAgg(1, 1, 72)
    return float(max(renderer.get_text_width_height_descent(line, prop, ismath=False)[0]
                     for line in text.split("\n")))


def suptitle(fig: "Figure", text: str, size: float = 8) -> None:
    """A figure title wrapped at word boundaries to the figure width (never cut off)."""
    room = fig.get_figwidth() * 72 - 8
    lines = [""]
    for word in text.split():
        trial = f"{lines[-1]} {word}".strip()
        if lines[-1] and text_width(trial, size) > room:
            lines.append(word)
        else:
            lines[-1] = trial
    fig.suptitle("\n".join(lines), fontsize=size)


def rc():  # noqa: ANN201 - a context manager
    """The rcParams context every figure is built and saved in."""
    import matplotlib

    return matplotlib.rc_context(RC)


def save(fig: "Figure", stem: Path) -> list[Path]:
    """Write ``stem``.pdf (vector) and ``stem``.png (300 dpi), byte-identical across runs."""
    out = []
    meta = {
        ".pdf": {"CreationDate": None, "Producer": PRODUCER, "Creator": PRODUCER},
        ".png": {"Software": PRODUCER},
    }
    for ext, fmt in ((".png", "png"), (".pdf", "pdf")):
        buf = io.BytesIO()
        with rc():
            fig.savefig(buf, format=fmt, dpi=DPI, metadata=meta[ext])
        fig.set_layout_engine("none")  # keep the layout of the first draw: one solve only
        path = stem.with_suffix(ext)
        path.write_bytes(buf.getvalue())
        out.append(path)
    return out
