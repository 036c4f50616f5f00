"""Do two runs reach the same conclusions? ``xlbench compare RUN_A RUN_B``.

Two runs of one suite on another machine, with another thread count or another seed set
give slightly different numbers (floating-point reductions differ, and training amplifies
the difference). What must not differ is what the report concludes. :func:`compare_runs`
recomputes, for each run, exactly what the main tables show — every method's mean with its
cluster-bootstrap CI and its mark against the pre-registered reference (paired t-test
over languages, Holm over all methods x K within a task; :mod:`bench.inference`) — and
checks, on the (task, method, budget, K) the runs share:

* **marks**: the same ↑ / ↓ / none for every comparison;
* **means**: each run's mean lies inside the other run's 95% CI.

The runs reach the same conclusions when both hold everywhere (exit status 0); otherwise
they differ (exit 1), and every differing mark is listed with both runs' differences,
CIs and Holm p-values, so a reader sees whether it lies inside the stated uncertainty.
Per-language marks (episode units, a much larger Holm family) are compared and listed as
information; they do not decide the exit status. Bad input (not a run folder, no shared
cells, no reference results) is exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench import inference, stats
from bench.errors import XlbenchError

MAIN_KEYS = ["task", "method", "budget", "shots"]
MARK = {1: "↑", -1: "↓", 0: "—"}


@dataclass(frozen=True)
class Agreement:
    """The comparison of two runs' conclusions (tables are tidy, one row per shared key)."""

    reference: str
    marks: pd.DataFrame  # MAIN_KEYS + direction/diff/lo/hi/p_holm _a and _b, agree, consistent
    means: pd.DataFrame  # MAIN_KEYS + mean/lo/hi _a and _b, within
    per_language: pd.DataFrame  # MAIN_KEYS + lang + direction _a and _b, agree
    only_a: int  # (task, method, budget, K) with scores in run A only
    only_b: int
    differences: tuple[str, ...] = field(default_factory=tuple)  # what differs in the manifests

    @property
    def same(self) -> bool:
        """Same marks and every mean inside the other run's CI."""
        return bool(self.marks["agree"].all() and self.means["within"].all())


def _primary(results: Any) -> pd.DataFrame:
    rows = stats.primary(results.scores)
    return rows.astype({"shots": int, "budget": int, "seed": int, "episode": int})


def compare_runs(a: Any, b: Any, reference: str | None = None, *, alpha: float = 0.05,
                 boot: int = 1000, seed: int = 0, methods: tuple[str, ...] = ()) -> Agreement:
    """Compare the conclusions of two :class:`bench.store.Results` (one run each).

    ``methods`` restricts the comparison to those methods (the reference and the trivial
    floors always stay), e.g. to the methods a partial rerun has finished; the Holm family
    is then the family of those methods.
    """
    ra, rb = _primary(a), _primary(b)
    if methods:
        keep = set(methods) | {reference or inference.reference_of(a.manifests)}
        ra = ra[ra["method"].isin(keep) | ra["method"].map(stats.role_of).eq("trivial")]
        rb = rb[rb["method"].isin(keep) | rb["method"].map(stats.role_of).eq("trivial")]
    for name, r in (("RUN_A", ra), ("RUN_B", rb)):
        if r.empty:
            raise XlbenchError(f"{name} has no finished scores; run it first "
                               "(`xlbench run`), or check `xlbench results --table cells`")
    ref_a = reference or inference.reference_of(a.manifests)
    ref_b = reference or inference.reference_of(b.manifests)
    if ref_a != ref_b:
        raise XlbenchError(f"the runs name different references ({ref_a!r} vs {ref_b!r}); "
                           "pass --reference to compare both against one method")
    for name, r in (("RUN_A", ra), ("RUN_B", rb)):
        if ref_a not in set(r["method"]):
            raise XlbenchError(f"{name} has no results for the reference {ref_a!r}; valid "
                               f"methods there: {', '.join(sorted(set(r['method'])))}. Pass "
                               "--reference NAME")
    keys_a = set(map(tuple, ra[MAIN_KEYS].drop_duplicates().to_numpy().tolist()))
    keys_b = set(map(tuple, rb[MAIN_KEYS].drop_duplicates().to_numpy().tolist()))
    if not keys_a & keys_b:
        raise XlbenchError("the runs share no (task, method, budget, K): nothing to compare. "
                           "Compare two runs of the same suite")
    opts: dict[str, Any] = dict(alpha=alpha, boot=boot, seed=seed)
    marks = _paired(inference.compare(ra, ref_a, level="language", **opts),
                    inference.compare(rb, ref_a, level="language", **opts), MAIN_KEYS)
    marks["agree"] = marks["direction_a"] == marks["direction_b"]
    marks["consistent"] = (((marks["lo_a"] <= marks["diff_b"]) & (marks["diff_b"] <= marks["hi_a"]))
                           | ((marks["lo_b"] <= marks["diff_a"]) & (marks["diff_a"] <= marks["hi_b"])))
    lang_keys = MAIN_KEYS + ["lang"]
    per_lang = _paired(inference.compare(ra, ref_a, level="episode", **opts),
                       inference.compare(rb, ref_a, level="episode", **opts), lang_keys)
    per_lang["agree"] = per_lang["direction_a"] == per_lang["direction_b"]
    by = ["task", "method", "shots", "budget"]
    means = inference.summarise(ra, by, boot=boot, seed=seed).merge(
        inference.summarise(rb, by, boot=boot, seed=seed), on=by, suffixes=("_a", "_b"))
    means["within"] = ((means["lo_b"] <= means["mean_a"]) & (means["mean_a"] <= means["hi_b"])
                       & (means["lo_a"] <= means["mean_b"]) & (means["mean_b"] <= means["hi_a"]))
    return Agreement(ref_a, marks, means[MAIN_KEYS + [c for c in means if c.endswith(("_a", "_b"))]
                                         + ["within"]], per_lang, len(keys_a - keys_b),
                     len(keys_b - keys_a), manifest_differences(a.manifests[0], b.manifests[0]))


def _paired(ca: pd.DataFrame, cb: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    cols = ["direction", "diff", "lo", "hi", "p_holm", "mean", "ref_mean"]
    return ca[keys + cols].merge(cb[keys + cols], on=keys, suffixes=("_a", "_b"))


def manifest_differences(a: dict, b: dict) -> tuple[str, ...]:
    """Dotted manifest keys whose values differ (run ids, dates and fingerprints aside)."""
    from bench.suite import diff

    ignore = ("run_id", "created", "fingerprint")
    keys = diff({k: v for k, v in a.items() if k not in ignore},
                {k: v for k, v in b.items() if k not in ignore})
    return tuple(f"{k}: {_get(a, k)!r} vs {_get(b, k)!r}" for k in keys)


def _get(d: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        d = d.get(part) if isinstance(d, dict) else None  # type: ignore[assignment]
    return d


def _k(k: int) -> str:
    return "K=all" if k < 0 else f"K={k}"


def lines(ag: Agreement, label_a: str, label_b: str, show: int = 10) -> list[str]:
    """The human-readable verdict: what differs, each differing mark, the conclusion."""
    out = [f"A = {label_a}", f"B = {label_b}"]
    if ag.differences:
        out.append("the runs differ in: " + "; ".join(ag.differences))
    out.append(f"reference: {ag.reference}; marks: paired t-test over target languages, Holm "
               f"over {inference.family('language')}")
    m = ag.marks
    bad = m[~m["agree"]]
    out.append(f"main-table marks: {len(m)} compared, {int(m['agree'].sum())} agree, "
               f"{len(bad)} differ")
    for r in bad.itertuples():
        inside = ("inside each other's CI" if r.consistent else "OUTSIDE each other's CI")
        out.append(f"  {r.task} {r.method} {_k(r.shots)}: A {MARK[r.direction_a]} diff "
                   f"{r.diff_a:+.2f} [{r.lo_a:+.2f}, {r.hi_a:+.2f}] p_holm {r.p_holm_a:.3g}; "
                   f"B {MARK[r.direction_b]} diff {r.diff_b:+.2f} [{r.lo_b:+.2f}, "
                   f"{r.hi_b:+.2f}] p_holm {r.p_holm_b:.3g} ({inside})")
    mm = ag.means
    shift = (mm["mean_a"] - mm["mean_b"]).abs()
    out.append(f"means: {len(mm)} compared, {int(mm['within'].sum())} inside the other run's "
               f"95% CI; largest shift {shift.max():.2f} points"
               + (f" ({mm.loc[shift.idxmax(), 'task']} {mm.loc[shift.idxmax(), 'method']} "
                  f"{_k(int(mm.loc[shift.idxmax(), 'shots']))})" if len(mm) else ""))
    for r in mm[~mm["within"]].head(show).itertuples():
        out.append(f"  {r.task} {r.method} {_k(r.shots)}: A {r.mean_a:.2f} [{r.lo_a:.2f}, "
                   f"{r.hi_a:.2f}] vs B {r.mean_b:.2f} [{r.lo_b:.2f}, {r.hi_b:.2f}]")
    p = ag.per_language
    flips = p[~p["agree"]]
    out.append(f"per-language marks (information, not part of the verdict): {len(p)} compared, "
               f"{int(p['agree'].sum())} agree, {len(flips)} differ")
    for r in flips.head(show).itertuples():
        out.append(f"  {r.task} {r.method} {_k(r.shots)} {r.lang}: A {MARK[r.direction_a]} "
                   f"p_holm {r.p_holm_a:.3g} vs B {MARK[r.direction_b]} p_holm {r.p_holm_b:.3g}")
    if len(flips) > show:
        out.append(f"  ... and {len(flips) - show} more")
    if ag.only_a or ag.only_b:
        out.append(f"not compared: {ag.only_a} (task, method, budget, K) only in A, "
                   f"{ag.only_b} only in B")
    out.append("conclusion: " + ("SAME conclusions (exit 0)" if ag.same
                                 else "conclusions DIFFER (exit 1)"))
    return out

