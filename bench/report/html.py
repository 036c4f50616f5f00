"""The static report page: one self-contained ``index.html`` (no external assets).

Figures are embedded as base64 PNG data URIs, the stylesheet is inlined, so the page opens
from disk, offline, and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PROTOCOL = """
<p>Every method is trained on the source languages of each task under the same budget
(labelled-example passes; inner-loop passes count) and evaluated on fixed, shared episodes
of each target language: a K-shot support set for adaptation and a query set for scoring.
Because every method sees the identical episodes, comparisons are <em>paired</em>.</p>
<p><b>Statistics.</b> Means are over target languages, seeds and episodes; 95% confidence
intervals are percentile bootstrap intervals (B resamples) over (seed, episode) units.
Each method is compared with the best transfer baseline of each task and K (finetune,
logreg, logreg-tfidf; best by mean primary metric) on the matched episodes: paired
bootstrap CI of the mean difference and the Wilcoxon signed-rank test, Holm-corrected
(Holm 1979) across K (main tables) or languages &times; K (per-language tables).
Win/tie/loss counts use the same test against fine-tuning. Ranks over (task, language)
datasets use the Friedman test and the Nemenyi critical difference (Dem&scaron;ar 2006).
Absent results are listed with their reason; nothing is silently dropped.</p>
"""


@dataclass(frozen=True)
class Figure:
    """A rendered figure: its PNG on disk, a caption, and the PDF for download."""

    png: Path
    caption: str


def _img(fig: Figure, root: Path) -> str:
    data = base64.b64encode(fig.png.read_bytes()).decode("ascii")
    pdf = fig.png.with_suffix(".pdf").relative_to(root).as_posix()
    return (f'<figure><img alt="{html.escape(fig.caption)}" '
            f'src="data:image/png;base64,{data}">'
            f'<figcaption>{html.escape(fig.caption)} '
            f'<a href="{html.escape(pdf)}">PDF</a></figcaption></figure>')


def page(title: str, header: str, sections: list[tuple[str, list[str | Figure]]],
         root: Path) -> str:
    """The whole page. ``sections``: (heading, parts); a part is HTML or a Figure."""
    css = resources.files("bench.report").joinpath("report.css").read_text(encoding="utf-8")
    body = [f"<h1>{html.escape(title)}</h1>", header, "<h2>Protocol</h2>", PROTOCOL]
    for heading, parts in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body += [_img(p, root) if isinstance(p, Figure) else p for p in parts]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>\n{css}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
