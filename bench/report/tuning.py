"""The report's tuning section: which tuned file a run used, the trials, the choices.

Pure functions of the run manifests (``suite.tuned``, written by :func:`bench.trials.attach`):
a table (trials per method, best dev score, chosen config per task), a figure of dev score
vs trial index per method (does one method need more trials than another to find a good
config? that is a result too), and the header sentence.
"""

from __future__ import annotations

import html as html_lib
from typing import TYPE_CHECKING, Mapping, Sequence

import pandas as pd

from bench.report.style import DOUBLE_COLUMN, look, method_order, new_figure
from bench.report.tables import Table
from bench.stats import Role

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _tuned(manifests: Sequence[dict]) -> list[dict]:
    return [m["suite"]["tuned"] for m in manifests if (m.get("suite") or {}).get("tuned")]


def _entries(manifests: Sequence[dict]) -> list[dict]:
    seen, out = set(), []
    for tuned in _tuned(manifests):
        for e in tuned.get("entries", []):
            if (e["task"], e["method"]) not in seen:
                seen.add((e["task"], e["method"]))
                out.append(e)
    return out


def _config_text(e: dict) -> str:
    if e["trials"] == 0:
        return "untuned (no entry in the tuned file): suite config"
    if not e.get("space"):
        return "defaults (no search space: tuned over nothing)"
    text = ", ".join(f"{k}={v}" for k, v in sorted((e.get("overrides") or {}).items()))
    return text or "defaults (trial 0 won)"


def tuning_table(manifests: Sequence[dict]) -> Table | None:
    """Trials, best dev score and chosen config per (task, method); None when untuned."""
    entries = _entries(manifests)
    if not entries:
        return None
    rows = []
    for e in entries:
        rows.append({
            "task": e["task"], "method": e["method"], "trials": int(e["trials"]),
            "metric": e.get("metric") or "-",
            "best_dev": e.get("best"),
            "chosen": e.get("chosen"),
            "config": _config_text(e),
        })
    data = pd.DataFrame(rows)
    display = pd.DataFrame({
        "task": data["task"], "method": data["method"], "trials": data["trials"].astype(str),
        "metric": data["metric"],
        "best dev": [("-" if v is None or pd.isna(v) else f"{v:.1f}") for v in data["best_dev"]],
        "chosen trial": [("-" if v is None or pd.isna(v) else str(int(v))) for v in data["chosen"]],
        "chosen config": data["config"],
    })
    files = sorted({t["file"] for t in _tuned(manifests)})
    return Table("tuning", "Tuning on dev languages (same trial budget for every method)", display,
                 data, legend=f"tuned file {', '.join(files)}; trial 0 is each method's default config; "
                 "best dev = mean dev-language score of the chosen trial (no target data).")


def tuning_figure(manifests: Sequence[dict], roles: Mapping[str, Role] | None = None) -> "Figure | None":
    """Dev score vs trial index per method, one panel per task (dots: trials; line: best so far)."""
    entries = [e for e in _entries(manifests) if len([s for s in e.get("scores") or () if s is not None]) > 1]
    if not entries:
        return None
    from matplotlib.ticker import MaxNLocator

    tasks = list(dict.fromkeys(e["task"] for e in entries))
    cols = min(len(tasks), 3)
    rows = -(-len(tasks) // cols)
    fig = new_figure(DOUBLE_COLUMN if cols > 1 else DOUBLE_COLUMN / 2, 2.2 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    for ax, task in zip(axes, tasks):
        mine = {e["method"]: e for e in entries if e["task"] == task}
        for method in method_order(list(mine), roles or {}):
            e, lk = mine[method], look(method, roles or {})
            xs = [i for i, s in enumerate(e["scores"]) if s is not None]
            ys = [e["scores"][i] for i in xs]
            best, running = float("-inf"), []
            for y in ys:
                best = max(best, y)
                running.append(best)
            ax.plot(xs, ys, linestyle="none", marker=lk.marker, color=lk.color, alpha=0.5, markersize=3)
            ax.plot(xs, running, color=lk.color, linestyle=lk.linestyle, label=method,
                    drawstyle="steps-post")
        ax.set_title(task)
        ax.set_xlabel("trial index")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        metrics = {e.get("metric") for e in mine.values()}
        ax.set_ylabel(f"dev {metrics.pop()}" if len(metrics) == 1 else "dev score")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1 : len(tasks)]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), frameon=False)
    return fig


def header_text(manifests: Sequence[dict], roles: Mapping[str, Role] | None = None) -> str:
    """One sentence for the report header: the tuned file and the trials each method got."""
    tuned = _tuned(manifests)
    if any((m.get("suite") or {}).get("role") == "dev" for m in manifests):
        return ("These are tuning trials (`xlbench tune`): the scores are on DEV languages, "
                "used only to choose configs; they are not results.")
    if not tuned:
        return ("Configs were not tuned for this run (no tuned file: every method ran its suite "
                "config / Config defaults). Run `xlbench tune` to give every method the same "
                "trial budget on dev languages.")
    counts: dict[str, int] = {}
    spaceless: set[str] = set()
    for e in _entries(manifests):
        counts[e["method"]] = max(counts.get(e["method"], 0), int(e["trials"]))
        if e["trials"] and not e.get("space"):
            spaceless.add(e["method"])
    files = ", ".join(f"{t['file']} (sha256 {t['sha256']})" for t in tuned)
    trials = ", ".join(f"{m} {counts[m]}" for m in method_order(list(counts), roles or {}))
    text = f"Configs tuned on dev languages only, from {files}; trials per method: {trials}."
    if spaceless:
        text += (f" {', '.join(method_order(list(spaceless), roles or {}))} "
                 f"{'declares' if len(spaceless) == 1 else 'declare'} no search space: tuned over "
                 "nothing (1 trial, the defaults).")
    untuned = sorted(m for m, n in counts.items() if n == 0)
    if untuned:
        text += f" Untuned (not in the tuned file): {', '.join(untuned)}."
    return text


def header_html(manifests: Sequence[dict]) -> str:
    return f"<p class=\"files\">{html_lib.escape(header_text(manifests))}</p>"


__all__ = ["header_html", "header_text", "tuning_figure", "tuning_table"]
