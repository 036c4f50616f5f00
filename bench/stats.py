"""Statistics primitives: bootstrap CIs, paired tests, power, Holm, Friedman + Nemenyi.

Everything is a pure function of arrays (or, for :func:`rank_datasets`, a tidy DataFrame)
with explicit seeds; nothing reads results from disk or keeps state. Which rows form a
unit, which method is the reference and which tests form a Holm family is decided in
:mod:`bench.inference`; the cluster bootstrap lives in :mod:`bench.bootstrap`.

* **CIs** are percentile bootstrap intervals (Efron & Tibshirani 1993), B = 1000 by default.
* **Paired tests**: the one-sample t-test of paired differences (Student 1908), which
  decides significance in the report, and the Wilcoxon signed-rank test (Wilcoxon 1945);
  :func:`mde` is the t-test's minimum detectable effect (noncentral t; Cohen 1988).
  p-values of one family are Holm-corrected (Holm 1979, "A simple sequentially rejective
  multiple test procedure").
* **Ranks** over (task, language) datasets use the Friedman test and the Nemenyi critical
  difference (Demsar 2006, "Statistical comparisons of classifiers over multiple data
  sets", JMLR 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence, cast

import numpy as np
import pandas as pd

from bench.errors import XlbenchError
from bench.floors import FLOORS
from bench.method import ROLES, MethodRole
from bench.seeding import derive_seed
from bench.types import PRIMARY_METRIC

Role = MethodRole

#: The roles of the built-in suite labels, used only for cell records written before records
#: stored their method's role (old runs render as they did); any other label is "meta".
LEGACY_ROLES: Mapping[str, MethodRole] = {
    "finetune": "transfer", "logreg": "transfer", "logreg-tfidf": "transfer",
    **{name: "trivial" for name in FLOORS},
}
#: The reference every other method is compared with when a suite names none.
FINETUNE = "finetune"
DEFAULT_REFERENCE = FINETUNE


def roles(cells: pd.DataFrame) -> dict[str, Role]:
    """Method label -> role, read from the cell records (the ``role`` column of ``cells``).

    A label's role is the one its records store; records without one (written before cell
    records stored roles) fall back to :data:`LEGACY_ROLES`, else ``meta``. A label stored
    with two different roles (merged runs whose same label names different classes) is an
    :class:`XlbenchError`.
    """
    stored: dict[str, set[str]] = {}
    if "role" in cells.columns:
        for method, role in zip(cells["method"], cells["role"]):
            if isinstance(role, str):
                stored.setdefault(method, set()).add(role)
    out: dict[str, Role] = {}
    for method in sorted(set(cells["method"])):
        found = stored.get(method, set())
        if len(found) > 1:
            raise XlbenchError(f"method label {method!r} has roles {sorted(found)} in these results: "
                               "two runs use the label for different methods; report them separately")
        role = next(iter(found), None) or LEGACY_ROLES.get(method, "meta")
        if role not in ROLES:
            raise XlbenchError(f"method label {method!r} has unknown role {role!r}; valid: {', '.join(ROLES)}")
        out[method] = role  # type: ignore[assignment]
    return out


def role_of(method: str, roles: Mapping[str, Role] | None = None) -> Role:
    """``roles[method]`` (:func:`roles`, read from the records); a label absent from it falls
    back to :data:`LEGACY_ROLES`, else a method under test (``meta``)."""
    found = (roles or {}).get(method)
    return found if found is not None else LEGACY_ROLES.get(method, "meta")


def _key_seed(seed: int, *key: object) -> int:
    """A seed for one group, independent of iteration order (numpy scalars made plain)."""
    plain = tuple(k.item() if isinstance(k, np.generic) else k for k in key)
    return derive_seed("bootstrap", seed, *plain)


# --------------------------------------------------------------------------- arrays


@dataclass(frozen=True)
class Interval:
    """A mean with its percentile-bootstrap confidence interval."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2


def bootstrap_means(values: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """``b`` bootstrap replicates of the mean of ``values`` (resampling with replacement)."""
    values = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(values), size=(b, len(values)))
    return values[idx].mean(axis=1)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, *, b: int = 1000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Percentile bootstrap CI of the mean of ``values`` (one value per resampled unit)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    if len(v) == 1:
        return Interval(float(v[0]), float(v[0]), float(v[0]), 1)
    lo, hi = _percentiles(bootstrap_means(v, b, np.random.default_rng(seed)), level)
    return Interval(float(v.mean()), lo, hi, len(v))


@dataclass(frozen=True)
class Paired:
    """A paired comparison of a method (a) with a reference (b) on matched units."""

    n: int
    diff: float  # mean of a - b
    lo: float  # percentile-bootstrap CI of the mean difference
    hi: float
    p_bootstrap: float  # two-sided: 2 * min(P*(mean <= 0), P*(mean >= 0))
    p_wilcoxon: float  # Wilcoxon signed-rank, zero differences dropped


def paired_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Paired:
    """Paired bootstrap of the mean difference and the Wilcoxon signed-rank test of a - b."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return Paired(0, np.nan, np.nan, np.nan, np.nan, np.nan)
    if np.all(d == 0):
        return Paired(len(d), 0.0, 0.0, 0.0, 1.0, 1.0)
    reps = bootstrap_means(d, boot, np.random.default_rng(seed))
    lo, hi = _percentiles(reps, level)
    p_boot = cast(float, min(1.0, 2 * min(np.mean(reps <= 0), np.mean(reps >= 0))))
    p_wil = wilcoxon_p(d)
    return Paired(len(d), float(d.mean()), float(lo), float(hi), float(p_boot), p_wil)


def midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, ties sharing their average rank (as ``scipy.stats.rankdata``)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _percentiles(reps: np.ndarray, level: float) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap replicates (linear interpolation)."""
    lo, hi = np.quantile(reps, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


#: Up to this many non-zero differences the Wilcoxon null is computed exactly.
EXACT_WILCOXON_MAX_N = 200


def wilcoxon_p(d: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test of the differences ``d``.

    Zero differences are dropped (Wilcoxon's convention, scipy's ``zero_method="wilcox"``);
    tied |d| get mid-ranks. Up to :data:`EXACT_WILCOXON_MAX_N` non-zero differences the
    null distribution of the positive rank sum given those ranks is exact (a dynamic
    programme over the 2^n sign flips, what ``scipy.stats.wilcoxon`` approximates by a
    permutation test when there are ties, at a fraction of the cost); above, the normal
    approximation with tie correction.
    """
    d = np.asarray(d, dtype=float)
    d = cast(np.ndarray, d[(d != 0) & ~np.isnan(d)])
    n = len(d)
    if n == 0:
        return 1.0
    r = midranks(np.abs(d))
    if n > EXACT_WILCOXON_MAX_N:
        from scipy.stats import norm

        t = r[d > 0].sum()
        mean = n * (n + 1) / 4
        var = (r**2).sum() / 4
        z = (t - mean) / np.sqrt(var)
        return float(min(1.0, 2 * norm.sf(abs(z))))
    r2 = np.rint(2 * r).astype(int)  # mid-ranks are multiples of 1/2
    dist = np.zeros(int(r2.sum()) + 1)
    dist[0] = 1.0
    for w in r2:  # each rank joins the positive sum with probability 1/2
        dist[w:] = 0.5 * dist[w:] + 0.5 * dist[:-w].copy()
        dist[:w] *= 0.5
    t = int(r2[d > 0].sum())
    cdf = np.cumsum(dist)
    lower, upper = cdf[t], 1.0 - (cdf[t - 1] if t > 0 else 0.0)
    return float(min(1.0, 2 * min(lower, upper)))


def ttest_p(d: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the one-sample t-test that the mean of ``d`` is 0.

    NaNs are dropped. Fewer than 2 values: 1.0. Zero spread: 1.0 if every value is 0,
    else 0.0 (a constant non-zero difference).
    """
    from scipy.stats import t as student

    d = np.asarray(d, dtype=float)
    d = cast(np.ndarray, d[~np.isnan(d)])
    n = len(d)
    if n < 2:
        return 1.0
    sd = d.std(ddof=1)
    if sd == 0 or not np.isfinite(sd):
        return 1.0 if np.all(d == 0) else 0.0
    stat = d.mean() / (sd / np.sqrt(n))
    return float(min(1.0, 2 * student.sf(abs(stat), n - 1)))


@lru_cache(maxsize=4096)
def _noncentrality(n: int, alpha: float, power: float) -> float:
    """The noncentrality at which the two-sided t-test with n units has ``power``."""
    from scipy.optimize import brentq
    from scipy.stats import nct
    from scipy.stats import t as student

    df = n - 1
    crit = student.ppf(1 - alpha / 2, df)

    def gap(ncp: float) -> float:
        lower = nct.cdf(-crit, df, ncp)  # the far tail: tiny, and NaN where scipy underflows
        return float(nct.sf(crit, df, ncp) + np.nan_to_num(lower) - power)

    hi = crit + 4.0
    while gap(hi) < 0:  # power grows with the noncentrality: widen until it brackets
        hi *= 2
    return float(brentq(gap, 0.0, hi))


def mde(sd: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect of the two-sided paired t-test: the true mean difference
    detected with probability ``power`` at level ``alpha`` by ``n`` units whose differences
    have standard deviation ``sd`` (exact, via the noncentral t distribution). NaN for
    n < 2 or an unknown sd."""
    if n < 2 or not np.isfinite(sd):
        return float("nan")
    return _noncentrality(int(n), float(alpha), float(power)) * float(sd) / float(np.sqrt(n))



def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaNs stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


@lru_cache(maxsize=64)
def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """Critical value q_alpha of the Nemenyi test: studentized range / sqrt(2) (Demsar 2006)."""
    from scipy.stats import studentized_range

    if k < 2:
        raise ValueError(f"the Nemenyi test needs at least 2 methods, got k={k}")
    return float(studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi CD = q_alpha * sqrt(k (k + 1) / (6 N)) for k methods over N datasets."""
    return nemenyi_q(k, alpha) * float(np.sqrt(k * (k + 1) / (6 * n)))


@dataclass(frozen=True)
class Ranking:
    """Average ranks (1 = best) over datasets, the Friedman test and the Nemenyi CD."""

    methods: tuple[str, ...]
    ranks: tuple[float, ...]
    n_datasets: int
    chi2: float  # Friedman statistic (scipy, tie-corrected)
    p_value: float
    cd: float  # Nemenyi critical difference at alpha
    alpha: float
    dropped: tuple[str, ...] = ()  # methods left out because they miss some dataset


def friedman_nemenyi(
    matrix: np.ndarray, methods: Sequence[str], *, alpha: float = 0.05
) -> Ranking:
    """Rank ``methods`` (columns; higher score = better) over datasets (rows)."""
    from scipy.stats import friedmanchisquare, rankdata

    m = np.asarray(matrix, dtype=float)
    n, k = m.shape
    if k != len(methods) or n == 0 or np.isnan(m).any():
        raise ValueError(f"need a complete datasets x methods matrix, got shape {m.shape}")
    ranks = rankdata(-m, axis=1).mean(axis=0)
    chi2, p = np.nan, np.nan
    if k >= 3 and n >= 2:
        res = friedmanchisquare(*m.T)
        chi2, p = float(res.statistic), float(res.pvalue)
    cd = critical_difference(k, n, alpha) if k >= 2 else np.nan
    return Ranking(tuple(methods), tuple(float(r) for r in ranks), n, chi2, p, cd, alpha)


# ----------------------------------------------------------------------- dataframes


def primary(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of each kind's primary metric (:data:`bench.types.PRIMARY_METRIC`)."""
    want = scores["kind"].map(PRIMARY_METRIC)
    return scores[scores["metric"] == want].reset_index(drop=True)


def rank_datasets(
    rows: pd.DataFrame, *, shots: int, budget: int, alpha: float = 0.05
) -> Ranking | None:
    """Friedman + Nemenyi over (task, lang) datasets at one K and budget, or None.

    A dataset's score per method is its mean over seeds and episodes. Methods missing on
    some dataset are dropped (listed in ``Ranking.dropped``); None when fewer than 2 methods
    or 2 datasets remain.
    """
    sel = rows[(rows["shots"] == shots) & (rows["budget"] == budget)]
    table = sel.pivot_table(index=["task", "lang"], columns="method", values="value",
                            aggfunc="mean").sort_index(axis=0).sort_index(axis=1)
    complete = [m for m in table.columns if table[m].notna().all()]
    table = table[complete]
    if len(complete) < 2 or len(table) < 2:
        return None
    r = friedman_nemenyi(table.to_numpy(), complete, alpha=alpha)
    dropped = tuple(sorted(set(sel["method"]) - set(complete)))
    return Ranking(r.methods, r.ranks, r.n_datasets, r.chi2, r.p_value, r.cd, r.alpha, dropped)
