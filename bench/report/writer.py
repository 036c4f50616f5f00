"""Render a whole report: every table (md/tex/csv), figure (pdf/png) and ``index.html``.

:func:`render` is a pure function of the results (plus explicit ``boot``/``seed``): it
never reads runs or retrains, and rendering twice writes byte-identical files. Files are
written into a temporary sibling folder first and then renamed into ``out_dir``.
"""

from __future__ import annotations

import html as html_lib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench import inference, stats
from bench.errors import XlbenchError
from bench.report import detail, figures, formats, html, power, style, tables, tuning
from bench.report.tables import Table, shot_label, shot_order


@dataclass(frozen=True)
class Options:
    """Statistics settings of a report."""

    boot: int = 1000  # bootstrap resamples for every CI and paired bootstrap
    seed: int = 0  # seed of every bootstrap (each group derives its own from this)
    alpha: float = 0.05  # family-wise level of the Holm-corrected tests
    reference: str | None = None  # the method every other is compared with; None: the suite's


def render(results: Any, out_dir: Path, options: Options = Options()) -> list[Path]:
    """Write the report of ``results`` (a :class:`bench.store.Results`) into ``out_dir``.

    Returns the written paths (sorted). Raises :class:`XlbenchError` when there is no
    score to report.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _render_into(results, tmp, options)
        written = []
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
            dst = out_dir / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            written.append(dst)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _render_into(results: Any, root: Path, opt: Options) -> None:
    rows = stats.primary(results.scores)
    if rows.empty:
        raise XlbenchError("no scores to report: the results hold no finished cell. Run "
                           "`xlbench run` first, or check `xlbench results --table cells`.")
    rows = rows.astype({"shots": int, "budget": int, "seed": int, "episode": int})
    kinds = dict(zip(rows["task"], rows["kind"]))
    budget = int(rows["budget"].max())
    ks = shot_order(rows["shots"])
    headline = next((k for k in ks if k > 0), ks[0])
    b, seed, alpha = opt.boot, opt.seed, opt.alpha

    reference = opt.reference or inference.reference_of(results.manifests)
    roles = stats.roles(results.cells)  # declared by each method class, stored in its records
    summary = inference.summarise(rows, ["task", "method", "shots", "budget"], boot=b, seed=seed)
    summary_lang = inference.summarise(rows, ["task", "method", "shots", "lang", "budget"],
                                       boot=b, seed=seed)
    pooled = inference.compare(rows, reference, level="language", alpha=alpha, boot=b,
                               seed=seed, roles=roles)
    per_lang = inference.compare(rows, reference, level="episode", alpha=alpha, boot=b,
                                 seed=seed, roles=roles)
    has_ref = reference in set(rows["method"])
    rankings = {k: r for k in ks
                if (r := stats.rank_datasets(rows, shots=k, budget=budget, alpha=alpha))}
    langs = results.languages.copy()
    langs["distance"] = pd.to_numeric(langs["distance"], errors="coerce")

    notes: list[str] = []
    if not has_ref:
        notes.append(f"no results for the reference {reference!r}: no significance marks, "
                     "win/tie/loss or gain figures.")
    main = [tables.main_table(kind, rows, results.cells, summary, pooled, budget, alpha,
                              reference, roles=roles) for kind in sorted(set(kinds.values()))]
    gap = detail.trivial_gap_table(rows, langs, results.cells, budget, roles=roles)
    gaps = [gap] if gap is not None else []
    metric_ts = [detail.metrics_table(kind, results.scores, budget, b, seed, roles=roles)
                 for kind in sorted(set(kinds.values()))]
    lang_ts = [tables.language_table(rows, langs, summary_lang, per_lang, results.cells,
                                     budget, alpha, kind, reference, roles=roles)
               for kind in sorted(set(kinds.values()))]
    targets = langs[langs["role"] == "target"]
    multi = sorted(t for t, g in targets.groupby("task") if g["script"].nunique() > 1
                   and t in kinds)
    script_ts = [tables.script_table(t, rows, langs, results.cells, budget, b, seed, roles=roles)
                 for t in multi]
    power_t = power.power_table(pooled, per_lang, budget, kinds, alpha)
    extra: list[Table] = [tables.audit_table(results.audit)] if len(results.audit) else []
    if power_t is not None:
        extra.append(power_t)
    if has_ref:
        extra.append(tables.win_tie_loss_table(inference.win_tie_loss(per_lang), budget, alpha,
                                               reference, roles=roles))
    if rankings:
        extra.append(tables.ranking_table(rankings))
    extra.append(tables.na_table(results.cells))
    tuned_t = tuning.tuning_table(results.manifests)
    if tuned_t is not None:
        extra.append(tuned_t)
    else:
        notes.append(tuning.header_text(results.manifests, roles))
    corr = (tables.distance_correlation(rows, langs, budget, shots=1, reference=reference)
            if has_ref else None)
    corr_text = _correlation_text(corr, reference)
    vs_ft = per_lang

    tdir, fdir = root / "tables", root / "figures"
    tdir.mkdir()
    fdir.mkdir()
    all_tables = main + gaps + metric_ts + lang_ts + script_ts + extra
    for t in all_tables:
        stem = formats.file_stem(t.name)  # a task label never leaves tables/
        (tdir / f"{stem}.md").write_text(formats.markdown(t), encoding="utf-8")
        (tdir / f"{stem}.tex").write_text(formats.latex(t), encoding="utf-8")
        (tdir / f"{stem}.csv").write_text(formats.csv(t), encoding="utf-8")
    if corr is not None and len(corr):
        corr.to_csv(tdir / "distance-correlation.csv", index=False, float_format="%.6g",
                    lineterminator="\n")

    figs: list[tuple[str, html.Figure]] = []
    with style.rc():
        specs = [
            ("score-vs-shots", figures.score_vs_shots(summary, pooled, kinds, budget, reference, roles=roles),
             f"Primary metric vs K per task ({inference.shots_meaning(sorted(set(kinds.values())))}"
             f"); filled markers differ significantly from the reference {reference} (paired "
             f"t-test over languages, Holm over {inference.family('language')}); the dotted "
             "line is the trivial floor (the best trivial baseline at each K)."),
            ("gain-heatmap", figures.gain_heatmap(summary_lang, vs_ft, budget, langs, reference, roles=roles)
             if has_ref else None, f"Gain over {reference} per target language, method and K "
             f"(points; * = significant: paired t-test over episodes, Holm over "
             f"{inference.family('episode')})."),
            ("gain-vs-distance", figures.gain_vs_distance(vs_ft, langs, budget, headline,
                                                          reference, roles=roles)
             if has_ref else None, f"Gain over {reference} at {shot_label(headline)} vs "
             "language distance (synthetic tasks) or script (real data)."),
            ("critical-difference", figures.critical_difference(rankings, roles=roles),
             "Critical-difference diagrams (Demšar 2006): methods joined by a bar are not "
             "significantly different (Nemenyi, alpha 0.05)."),
            ("score-vs-budget", figures.score_vs_budget(summary, kinds, headline, roles=roles),
             f"Primary metric vs source budget cap at {shot_label(headline)}; the dotted line "
             "is the trivial floor."),
            ("tuning-trials", tuning.tuning_figure(results.manifests, roles),
             "Dev-language score of every tuning trial (dots) and the best so far (line) per "
             "method; trial 0 is the default config. No target data is used."),
        ]
        for name, fig, caption in specs:
            if fig is None:
                why = ("only one budget in these results (run a suite with `budgets:`)"
                       if name == "score-vs-budget" else "no tuned file with more than one trial"
                       if name == "tuning-trials" else "no data for it")
                notes.append(f"figure {name} skipped: {why}.")
                continue
            style.save(fig, fdir / name)
            figs.append((name, html.Figure(fdir / f"{name}.png", caption)))
    for t in all_tables:
        notes += list(t.notes)

    fig_by = dict(figs)
    sections: list[tuple[str, list[Any]]] = [
        ("Main results", [formats.html_table(t) for t in main + gaps]
         + [fig_by[n] for n in ("score-vs-shots",) if n in fig_by]),
        ("Every metric", [formats.html_table(t) for t in metric_ts]),
        ("Per language", [formats.html_table(t) for t in lang_ts]
         + [formats.html_table(t) for t in script_ts]
         + [fig_by[n] for n in ("gain-heatmap", "gain-vs-distance") if n in fig_by]
         + ([f"<p>{html_lib.escape(corr_text)}</p>"] if corr_text else [])),
        ("Ranks", [formats.html_table(t) for t in extra if t.name == "ranks"]
         + [fig_by[n] for n in ("critical-difference",) if n in fig_by]),
        ("Power", [formats.html_table(t) for t in extra if t.name == "power"]),
        ("Budget", [formats.html_table(t) for t in extra if t.name == "budget-audit"]
         + [fig_by[n] for n in ("score-vs-budget",) if n in fig_by]),
        ("Win / tie / loss", [formats.html_table(t) for t in extra if t.name == "win-tie-loss"]),
        ("Absent results", [formats.html_table(t) for t in extra if t.name == "absent"]),
        ("Tuning", [formats.html_table(t) for t in extra if t.name == "tuning"]
         + [fig_by[n] for n in ("tuning-trials",) if n in fig_by]),
    ]
    if notes:
        sections.append(("Notes", ["<ul>" + "".join(f"<li>{html_lib.escape(n)}</li>"
                                                    for n in notes) + "</ul>"]))
    suite = _suite_name(results)
    header = _header(results, budget, opt, reference)
    (root / "index.html").write_text(html.page(f"xlbench report: {suite}", header, sections,
                                               root), encoding="utf-8")
    md = [f"# xlbench report: {suite}", "", tuning.header_text(results.manifests, roles), ""]
    for t in all_tables:
        md += [formats.markdown(t)]
    if corr_text:
        md += [corr_text, ""]
    md += [f"![{n}](figures/{n}.png)\n" for n, _ in figs]
    md += [f"- {n}" for n in notes]
    (root / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def _correlation_text(corr: pd.DataFrame | None, reference: str) -> str:
    if corr is None or corr.empty:
        return ""
    parts = [f"{r.task}: rho = {r.rho:+.2f} (p = {r.p:.3g}, n = {r.n} languages)"
             for r in corr.itertuples()]
    return (f"Spearman rank correlation of {reference}'s K=1 per-language score with language "
            "distance: " + "; ".join(parts) + ".")


def _suite_name(results: Any) -> str:
    names = sorted({str(m.get("suite", {}).get("name", "?")) for m in results.manifests})
    return ", ".join(names) or "results"


def _header(results: Any, budget: int, opt: Options, reference: str) -> str:
    items = []
    for m in results.manifests:
        s = m.get("suite", {})
        items.append(
            f"<li>run <code>{html_lib.escape(str(m.get('run_id', '?')))}</code>, git "
            f"<code>{html_lib.escape(str(m.get('git_sha', '?'))[:12])}</code>"
            f"{' with uncommitted changes' if m.get('git_dirty') else ''}: seeds "
            f"{html_lib.escape(str(s.get('seeds')))}, shots {html_lib.escape(str(s.get('shots')))}"
            f", {html_lib.escape(str(s.get('episodes')))} episodes x "
            f"{html_lib.escape(str(s.get('queries')))} queries</li>")
    return (f"<ul class=\"files\">{''.join(items)}</ul><p class=\"files\">Tables use source "
            f"budget {budget} (the largest of the run); bootstrap B = {opt.boot}, seed "
            f"{opt.seed}; alpha = {opt.alpha:g}; every method is compared with the reference "
            f"<code>{html_lib.escape(reference)}</code>. Files: <code>tables/</code> (md, tex, csv), "
            f"<code>figures/</code> (pdf, png), <code>report.md</code>.</p>"
            + tuning.header_html(results.manifests))
