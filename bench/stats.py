"""Statistics for the report: bootstrap CIs, paired tests, Holm, Friedman + Nemenyi.

Everything is a pure function of arrays or tidy DataFrames with explicit seeds; nothing
reads results from disk or keeps state. Conventions:

* **Units.** A score row is one (task, method, seed, lang, shots, budget, episode). Episodes
  are shared by every method (docs/architecture.md, "The protocol"), so rows matched on
  :data:`PAIR_KEYS` are paired observations. CIs resample (seed, episode) units, averaging
  over the languages inside a unit when a table pools languages.
* **CIs** are percentile bootstrap intervals (Efron & Tibshirani 1993), B = 1000 by default.
* **Paired tests** compare a method with a reference on the matched rows: the paired
  bootstrap CI of the mean difference, and the Wilcoxon signed-rank test (Wilcoxon 1945),
  whose p-value decides significance. p-values of one (task, method, budget) are
  Holm-corrected across languages x shots (Holm 1979, "A simple sequentially rejective
  multiple test procedure").
* **Roles** (transfer baseline, method under test, trivial floor) are declared by each
  method class and stored in every cell record; :func:`roles` reads them from the cells
  table. "The best transfer baseline" is the best method whose role is ``transfer``.
* **Ranks** over (task, language) datasets use the Friedman test and the Nemenyi critical
  difference (Demsar 2006, "Statistical comparisons of classifiers over multiple data
  sets", JMLR 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from bench.errors import XlbenchError
from bench.method import ROLES, MethodRole
from bench.seeding import derive_seed
from bench.types import PRIMARY_METRIC

Role = MethodRole

#: The roles of the built-in suite labels, used only for cell records written before records
#: stored their method's role (old runs render as they did); any other label is "meta".
LEGACY_ROLES: Mapping[str, MethodRole] = {
    "finetune": "transfer", "logreg": "transfer", "logreg-tfidf": "transfer",
    "majority": "trivial", "lead": "trivial", "overlap": "trivial",
}

#: Columns that identify one paired observation (the same episode seen by two methods).
PAIR_KEYS: tuple[str, ...] = ("task", "lang", "shots", "seed", "episode", "budget")
Test = Literal["wilcoxon", "bootstrap"]


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


def role_of(method: str, roles: Mapping[str, Role]) -> Role:
    """``roles[method]``; a label absent from the records is a method under test (``meta``)."""
    return roles.get(method, "meta")


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
    p_boot = min(1.0, 2 * min(float(np.mean(reps <= 0)), float(np.mean(reps >= 0))))
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
    arr = np.asarray(d, dtype=float)
    nz = arr[(arr != 0) & ~np.isnan(arr)]
    n = len(nz)
    if n == 0:
        return 1.0
    r = midranks(np.abs(nz))
    if n > EXACT_WILCOXON_MAX_N:
        from scipy.stats import norm

        t = r[nz > 0].sum()
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
    t = int(r2[nz > 0].sum())
    cdf = np.cumsum(dist)
    lower, upper = cdf[t], 1.0 - (cdf[t - 1] if t > 0 else 0.0)
    return float(min(1.0, 2 * min(lower, upper)))


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


def summarise(
    rows: pd.DataFrame, by: Sequence[str], *, boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Mean and bootstrap CI per group of ``by``, resampling (seed, episode) units.

    Within a unit, values are averaged over the remaining keys (e.g. languages).
    Columns: ``by`` + mean, lo, hi, half, n (number of units).
    """
    by = list(by)
    units = rows.groupby(by + ["seed", "episode"], sort=True)["value"].mean().reset_index()
    out = []
    for key, grp in units.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ci = bootstrap_ci(grp["value"].to_numpy(), b=boot, seed=_key_seed(seed, *key))
        out.append((*key, ci.mean, ci.lo, ci.hi, ci.half_width, ci.n))
    return pd.DataFrame(out, columns=by + ["mean", "lo", "hi", "half", "n"])


def best_transfer(rows: pd.DataFrame, roles: Mapping[str, Role]) -> pd.DataFrame:
    """The best transfer baseline (role ``transfer``, see :func:`roles`) per (task, shots,
    budget) by mean primary score.

    Columns: task, shots, budget, reference. Ties go to the alphabetically first name.
    """
    t = rows[rows["method"].isin([m for m, r in roles.items() if r == "transfer"])]
    means = t.groupby(["task", "shots", "budget", "method"])["value"].mean().reset_index()
    means = means.sort_values(
        ["task", "shots", "budget", "value", "method"], ascending=[True, True, True, False, True]
    )
    best = means.drop_duplicates(["task", "shots", "budget"], keep="first")
    return best.rename(columns={"method": "reference"})[["task", "shots", "budget", "reference"]]


def compare(
    rows: pd.DataFrame,
    reference: str | None = None,
    *,
    roles: Mapping[str, Role] | None = None,
    per_language: bool = True,
    test: Test = "wilcoxon",
    alpha: float = 0.05,
    boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparison of every method with a reference, Holm-corrected.

    ``rows`` are primary-metric score rows. ``reference`` is a method name, or None for the
    best transfer baseline per (task, shots, budget), which needs the method ``roles``. Pairs are rows matched on
    :data:`PAIR_KEYS`. With ``per_language`` one test per (task, method, budget, shots,
    lang) and Holm across languages x shots; otherwise languages are pooled (units are
    (lang, seed, episode)) and Holm runs across shots. The ``test`` p-value decides.

    Columns: task, method, budget, shots[, lang], reference, n, mean, ref_mean, diff, lo, hi,
    p_bootstrap, p_wilcoxon, p_holm, significant, direction (+1 better, -1 worse, 0 n.s.).
    """
    if reference is None:
        if roles is None:
            raise ValueError("compare(reference=None) picks the best transfer baseline: pass roles=")
        refs = best_transfer(rows, roles)
    else:
        refs = rows[["task", "shots", "budget"]].drop_duplicates().assign(reference=reference)
    keys = ["task", "method", "budget", "shots"] + (["lang"] if per_language else [])
    ref_rows = rows.merge(refs, on=["task", "shots", "budget"])
    ref_rows = ref_rows[ref_rows["method"] == ref_rows["reference"]]
    ref_rows = ref_rows[list(PAIR_KEYS) + ["reference", "value"]]
    pairs = rows.merge(ref_rows, on=list(PAIR_KEYS), suffixes=("", "_ref"))
    pairs = pairs[pairs["method"] != pairs["reference"]]
    pairs = pairs.sort_values(keys + ["lang", "seed", "episode"]).reset_index(drop=True)
    val = pairs["value"].to_numpy(dtype=float)
    ref = pairs["value_ref"].to_numpy(dtype=float)
    ref_name = pairs["reference"].to_numpy()
    out = []
    for key, idx in sorted(pairs.groupby(keys, sort=True).indices.items()):
        res = paired_test(val[idx], ref[idx], boot=boot, seed=_key_seed(seed, *key))
        out.append((*key, ref_name[idx[0]], res.n, val[idx].mean(), ref[idx].mean(),
                    res.diff, res.lo, res.hi, res.p_bootstrap, res.p_wilcoxon))
    cols = keys + ["reference", "n", "mean", "ref_mean", "diff", "lo", "hi",
                   "p_bootstrap", "p_wilcoxon"]
    df = pd.DataFrame(out, columns=cols)
    p_col = "p_wilcoxon" if test == "wilcoxon" else "p_bootstrap"
    df["p_holm"] = np.nan
    for _, idx in df.groupby(["task", "method", "budget"], sort=True).groups.items():
        df.loc[idx, "p_holm"] = holm(df.loc[idx, p_col].to_numpy())
    df["significant"] = df["p_holm"] < alpha
    df["direction"] = np.where(df["significant"], np.sign(df["diff"]), 0).astype(int)
    return df


def win_tie_loss(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Wins/ties/losses per (task, method, budget) from per-language :func:`compare` rows.

    Pass ``compare(rows, reference, per_language=True)``: a win is a Holm-significant
    positive paired difference, a loss a significant negative one, a tie anything else.
    Columns: task, method, budget, win, tie, loss.
    """
    c = comparisons.assign(win=comparisons["direction"] > 0,
                           loss=comparisons["direction"] < 0)
    c["tie"] = ~(c["win"] | c["loss"])
    return (
        c.groupby(["task", "method", "budget"], sort=True)[["win", "tie", "loss"]]
        .sum().astype(int).reset_index()
    )


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
