"""Which rows are a unit, who is the reference, which tests form a family: the report's claims.

Score rows are (task, method, seed, lang, shots, budget, episode, value). Every method sees
the same episodes, and every seed of a method sees the same episodes too (a seed varies the
method, not the data), so the rows are clustered, not independent:

* **Claims across languages** (the main tables): the unit is the *language*. A method's
  score in a language is its mean over episodes and seeds; the paired test compares the
  per-language means of a method and the reference over the languages (one-sample t-test
  of the per-language differences, n = number of languages). Fewer than
  :data:`MIN_LANGUAGES` languages cannot carry such a claim; there the unit falls back to
  the (language, episode) and the ``unit`` column says so.
* **Claims about one language** (per-language tables, heatmaps, win/tie/loss): the unit is
  the *episode*, its value the mean over seeds; the paired t-test runs over episodes. Such
  a claim is about the trained models of the run's seeds: a seed whose model is better in
  that language on every episode counts as a difference (three seeds cannot estimate a
  method x seed x language variance).
* **CIs** come from the two-stage cluster bootstrap of :mod:`bench.bootstrap` (languages,
  then episodes inside each language), expanded for few clusters (Hesterberg 2015).
* **One pre-registered reference.** Every other method is compared with the suite's
  ``reference`` (default :data:`bench.stats.DEFAULT_REFERENCE`), named before any score
  exists — never with the best baseline of a column, which is chosen on the same data.
* **Stated families.** Holm's correction runs over every (method, K) of a task and budget
  for claims across languages, and over every (method, language, K) for per-language
  claims; trivial floors are not tested (they are floors, not claims). :func:`family`
  states it in words for the captions.
* **Floors.** A comparison where both the method and the reference score below the best
  trivial floor of that (task, K[, language]) is flagged ``below_floor``: neither has
  learned anything usable there, so its mark says nothing.
* **Power.** Every comparison carries ``mde``: the difference the test detects with 80%
  power at the family's Bonferroni level alpha/m, given the spread of its units
  (:func:`bench.stats.mde`).

Inference is conditional on the benchmark's test items: items shared by the languages of a
parallel dataset are not resampled (the scores are stored per episode, not per item).
"""

from __future__ import annotations

import warnings
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from bench import bootstrap, stats

Level = Literal["language", "episode"]
Test = Literal["t", "wilcoxon"]

#: Columns that identify one paired observation (the same episode seen by two methods).
PAIR_KEYS: tuple[str, ...] = ("task", "lang", "shots", "seed", "episode", "budget")
#: The fewest languages a claim across languages is tested over (else episodes are units).
MIN_LANGUAGES = 3
#: Power at which the minimum detectable effect is stated.
POWER = 0.8


def family(level: Level) -> str:
    """The Holm family of a level, in words (every caption states it)."""
    if level == "language":
        return "all methods x K within a task"
    return "all methods x target languages x K within a task"


def shots_meaning(kinds: Sequence[str]) -> str:
    """What K counts for these task kinds (every caption with K states it)."""
    from bench.episodes import shot_unit

    kinds = sorted(set(kinds))
    per_class = [k for k in kinds if shot_unit(k) == "per class"]
    items = [k for k in kinds if shot_unit(k) != "per class"]
    if not (per_class and items):
        return "K = labelled examples per class" if per_class else "K = labelled support items"
    return (f"K = labelled examples per class ({', '.join(per_class)}) or support items "
            f"({', '.join(items)})")


def reference_of(manifests: Sequence[dict], default: str = stats.DEFAULT_REFERENCE) -> str:
    """The reference method the runs' suites name (``suite.reference``), else ``default``.

    Raises :class:`bench.errors.XlbenchError` when merged runs name different references.
    """
    from bench.errors import XlbenchError

    named = sorted({str(r) for m in manifests
                    if (r := (m.get("suite") or {}).get("reference"))})
    if len(named) > 1:
        raise XlbenchError(f"the runs name different reference methods {named}; report them "
                           "separately, or pass one reference explicitly")
    return named[0] if named else default


def trivial_methods(rows: pd.DataFrame, roles: Mapping[str, stats.Role] | None = None) -> set[str]:
    """Method labels of the rows that are trivial floors (their declared role,
    :func:`bench.stats.roles`; labels without a record fall back to the built-in names)."""
    return {m for m in rows["method"].unique() if stats.role_of(str(m), roles) == "trivial"}


def episode_units(rows: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean over seeds per ``by`` + (lang, episode): one row per episode unit."""
    keys = list(dict.fromkeys([*by, "lang", "episode"]))
    return rows.groupby(keys, sort=True)["value"].mean().reset_index()


def _key_seed(seed: int, key: tuple) -> int:
    return stats._key_seed(seed, *key)


def _dense(units: pd.DataFrame, keys: list[str], columns: Sequence[str], pooled: bool
           ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Unit rows as (groups, languages, episodes) arrays, NaN where a unit is missing.

    ``pooled``: languages are a cluster level (columns of the middle axis); otherwise each
    group has one language. Returns the group keys (one row per group, sorted) and one
    array per column.
    """
    gid = units.groupby(keys, sort=True).ngroup().to_numpy()
    groups = units[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    lang = (pd.factorize(units["lang"], sort=True)[0] if pooled
            else np.zeros(len(units), dtype=int))
    pos = units.groupby([gid, lang], sort=False).cumcount().to_numpy()
    shape = (len(groups), int(lang.max()) + 1 if len(lang) else 0,
             int(pos.max()) + 1 if len(pos) else 0)
    out = {}
    for col in columns:
        arr = np.full(shape, np.nan)
        arr[gid, lang, pos] = units[col].to_numpy(dtype=float)
        out[col] = arr
    return groups, out


def _points(arr: np.ndarray) -> np.ndarray:
    """Per group: mean over languages of the per-language mean over episodes."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.nanmean(arr, axis=2), axis=1)


def _intervals(arr: np.ndarray, groups: pd.DataFrame, boot: int, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-bootstrap (lo, hi) per group; each group's draws come from its own key seed."""
    lo, hi = np.full(len(groups), np.nan), np.full(len(groups), np.nan)
    if boot <= 0:
        return lo, hi
    for g, key in enumerate(groups.itertuples(index=False, name=None)):
        _, lo[g], hi[g] = bootstrap.interval(arr[g], boot, _key_seed(seed, tuple(key)))
    return lo, hi


def summarise(rows: pd.DataFrame, by: Sequence[str], *, boot: int = 1000, seed: int = 0
              ) -> pd.DataFrame:
    """Mean and cluster-bootstrap CI per group of ``by``.

    The estimate is the mean over languages of the per-language mean over episodes (and
    seeds, averaged first). Languages not in ``by`` are resampled, then episodes inside
    each language. Columns: ``by`` + mean, lo, hi, half, n_lang, n_episode, n (= languages
    when pooled, else episodes).
    """
    by = list(by)
    units = episode_units(rows, by)
    pooled = "lang" not in by
    groups, arr = _dense(units, by, ["value"], pooled)
    v = arr["value"]
    lo, hi = _intervals(v, groups, boot, seed)
    n_ep = np.sum(~np.isnan(v), axis=(1, 2))
    n_lang = np.sum(np.any(~np.isnan(v), axis=2), axis=1)
    single = n_ep == 1
    mean = _points(v)
    lo, hi = np.where(single, mean, lo), np.where(single, mean, hi)
    return groups.assign(mean=mean, lo=lo, hi=hi, half=(hi - lo) / 2, n_lang=n_lang,
                         n_episode=n_ep, n=np.where(pooled & (n_lang > 1), n_lang, n_ep))


def floors(rows: pd.DataFrame, level: Level, roles: Mapping[str, stats.Role] | None = None) -> pd.DataFrame:
    """The best trivial floor per (task, budget, shots[, lang]): columns + floor, floor_method."""
    triv = rows[rows["method"].isin(trivial_methods(rows, roles))]
    keys = ["task", "budget", "shots"] + (["lang"] if level == "episode" else [])
    if triv.empty:
        return pd.DataFrame(columns=keys + ["floor", "floor_method"])
    per_lang = triv.groupby(keys + ["method"] + ([] if level == "episode" else ["lang"]),
                            sort=True)["value"].mean().reset_index()
    means = per_lang.groupby(keys + ["method"], sort=True)["value"].mean().reset_index()
    means = means.sort_values(keys + ["value", "method"],
                              ascending=[True] * len(keys) + [False, True])
    best = means.drop_duplicates(keys, keep="first")
    return best.rename(columns={"value": "floor", "method": "floor_method"}).reset_index(drop=True)


def compare(
    rows: pd.DataFrame,
    reference: str,
    *,
    level: Level = "language",
    test: Test = "t",
    alpha: float = 0.05,
    boot: int = 1000,
    seed: int = 0,
    roles: Mapping[str, stats.Role] | None = None,
) -> pd.DataFrame:
    """Paired comparison of every non-trivial method with ``reference``, Holm-corrected.

    ``rows`` are primary-metric score rows; pairs are rows matched on :data:`PAIR_KEYS`
    (so only the seeds both methods ran count), averaged over seeds inside an episode.
    ``level="language"``: one test per (task, method, budget, shots) over per-language
    means; ``level="episode"``: one per (task, method, budget, shots, lang) over episodes.
    ``test`` decides: the paired t-test (default) or the Wilcoxon signed-rank test of the
    same units. Holm runs over the family of :func:`family` (per task and budget).
    ``boot = 0`` skips the bootstrap (lo, hi are NaN; the tests do not use it).

    Columns: task, method, budget, shots[, lang], reference, unit, n, mean, ref_mean, diff,
    lo, hi (cluster-bootstrap CI of the difference), sd (of the unit differences), p,
    p_holm, family_size, mde, floor, below_floor, significant, direction (+1 better, -1
    worse, 0 not significant).
    """
    from scipy.stats import t as student

    keys = ["task", "method", "budget", "shots"] + (["lang"] if level == "episode" else [])
    cols = keys + ["reference", "unit", "n", "mean", "ref_mean", "diff", "lo", "hi", "sd", "p",
                   "p_holm", "family_size", "mde", "floor", "below_floor", "significant",
                   "direction"]
    skip = trivial_methods(rows, roles) | {reference}
    ref_rows = rows.loc[rows["method"] == reference, list(PAIR_KEYS) + ["value"]]
    pairs = rows.loc[~rows["method"].isin(skip), list(PAIR_KEYS) + ["method", "value"]].merge(
        ref_rows, on=list(PAIR_KEYS), suffixes=("", "_ref"))
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    pairs["d"] = pairs["value"] - pairs["value_ref"]
    ep_keys = list(dict.fromkeys(keys + ["lang", "episode"]))
    ep = pairs.groupby(ep_keys, sort=True)[["value", "value_ref", "d"]].mean().reset_index()
    groups, arr = _dense(ep, keys, ["value", "value_ref", "d"], level == "language")
    d = arr["d"]
    lo, hi = _intervals(d, groups, boot, seed)
    n_lang = np.sum(np.any(~np.isnan(d), axis=2), axis=1)
    by_lang = (level == "language") & (n_lang >= MIN_LANGUAGES)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lang_means = np.nanmean(d, axis=2)  # (G, L)
    # the test's units: per-language means, or every (language, episode) value
    units = [lm[~np.isnan(lm)] if ok else g[~np.isnan(g)]
             for lm, g, ok in zip(lang_means, d, by_lang)]
    n = np.array([len(u) for u in units])
    mu = np.array([u.mean() if len(u) else np.nan for u in units])
    sd = np.array([u.std(ddof=1) if len(u) > 1 else np.nan for u in units])
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = mu / (sd / np.sqrt(n))
        p_t = np.where(n < 2, 1.0, 2 * student.sf(np.abs(tstat), np.maximum(n - 1, 1)))
    constant = (n >= 2) & (sd == 0)
    p_t = np.where(constant, np.where(mu == 0, 1.0, 0.0), p_t)
    p = p_t if test == "t" else np.array([stats.wilcoxon_p(u) for u in units])
    df = groups.assign(reference=reference, unit=np.where(by_lang, "language", "episode"), n=n,
                       mean=_points(arr["value"]), ref_mean=_points(arr["value_ref"]),
                       diff=_points(d), lo=lo, hi=hi, sd=sd, p=np.minimum(p, 1.0))
    df["p_holm"], df["family_size"], df["mde"] = np.nan, 0, np.nan
    for _, idx in df.groupby(["task", "budget"], sort=True).groups.items():
        pv = df.loc[idx, "p"].to_numpy(dtype=float)
        df.loc[idx, "p_holm"] = stats.holm(pv)
        m = int(np.sum(~np.isnan(pv)))
        df.loc[idx, "family_size"] = m
        df.loc[idx, "mde"] = [stats.mde(s_, int(n_), alpha / max(m, 1), POWER)
                              for s_, n_ in zip(df.loc[idx, "sd"], df.loc[idx, "n"])]
    fl = floors(rows, level, roles)
    fkeys = [k for k in keys if k != "method"]
    df = df.merge(fl[fkeys + ["floor"]], on=fkeys, how="left") if len(fl) else \
        df.assign(floor=np.nan)
    df["below_floor"] = (df["mean"] < df["floor"]) & (df["ref_mean"] < df["floor"])
    df["significant"] = df["p_holm"] < alpha
    df["direction"] = np.where(df["significant"], np.sign(df["diff"]), 0).astype(int)
    df["family_size"] = df["family_size"].astype(int)
    return df[cols].sort_values(keys).reset_index(drop=True)


def win_tie_loss(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Wins/ties/losses per (task, method, budget) from ``level="episode"`` comparisons.

    A win is a Holm-significant positive paired difference, a loss a significant negative
    one, a tie anything else. Columns: task, method, budget, reference, win, tie, loss.
    """
    c = comparisons.assign(win=comparisons["direction"] > 0,
                           loss=comparisons["direction"] < 0)
    c["tie"] = ~(c["win"] | c["loss"])
    return (
        c.groupby(["task", "method", "budget", "reference"], sort=True)[["win", "tie", "loss"]]
        .sum().astype(int).reset_index()
    )
