"""Cluster bootstrap over (language, episode) units, vectorised (Davison & Hinkley 1997, §3.8).

Scores are clustered: every episode of a language shares that language's difficulty, and
every method sees the same episodes. Resampling (seed, episode) rows as if independent
(what the first report did) ignores both and gives CIs 1.4-2.2x too narrow. Here a
replicate draws languages with replacement and then, inside each drawn language, its
episodes with replacement — the two-stage cluster bootstrap — and takes the mean over
languages of the per-language means (every language weighs the same). With one language
it is the ordinary bootstrap over episodes.

Seeds are averaged inside an episode before resampling: in xlbench a seed varies the
*method* (initialisation, source sampling), never the data — every seed sees the same
support and query sets — so the episode is the unit of the data.
"""

from __future__ import annotations

import numpy as np


def grid(lang_codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values of one group as a (languages, episodes) array, NaN-padded on the right.

    ``lang_codes`` are integer language ids 0..L-1 of each unit (one value per unit).
    """
    lang_codes = np.asarray(lang_codes, dtype=int)
    values = np.asarray(values, dtype=float)
    n_lang = int(lang_codes.max()) + 1 if len(lang_codes) else 0
    counts = np.bincount(lang_codes, minlength=n_lang)
    out = np.full((n_lang, int(counts.max()) if n_lang else 0), np.nan)
    order = np.argsort(lang_codes, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(order)) - np.repeat(starts, counts)
    out[lang_codes[order], pos] = values[order]
    return out


def point(values: np.ndarray) -> float:
    """The estimate: mean over languages (rows) of the mean over episodes (columns)."""
    v = np.asarray(values, dtype=float)
    if not np.any(~np.isnan(v)):
        return float("nan")
    lang_means = np.nanmean(v[np.any(~np.isnan(v), axis=1)], axis=1)
    return float(lang_means.mean())


def replicates(values: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """``b`` two-stage bootstrap replicates of :func:`point` for a (L, E) NaN-padded grid."""
    v = np.asarray(values, dtype=float)
    n_ep = np.sum(~np.isnan(v), axis=1)
    keep = n_ep > 0
    v, n_ep = v[keep], n_ep[keep]
    n_lang, width = v.shape
    li = rng.integers(0, n_lang, size=(b, n_lang))  # languages, with replacement
    n_pick = n_ep[li]  # (b, L): episodes available in each drawn language
    # episodes of each drawn language, with replacement; NaNs sit past n_ep, never drawn
    ei = np.floor(rng.random((b, n_lang, width)) * n_pick[..., None]).astype(int)
    vals = v[li[..., None], ei]
    mask = np.arange(width) < n_pick[..., None]  # a language draws n_ep of its episodes
    lang_means = np.where(mask, vals, 0.0).sum(axis=2) / n_pick
    return lang_means.mean(axis=1)


def expansion(n: int, level: float = 0.95) -> float:
    """Widening of a percentile interval resampling ``n`` top-level clusters.

    The percentile bootstrap of a mean is too narrow for few clusters: it estimates the
    variance with divisor n and uses normal quantiles. Expanding it by
    sqrt(n / (n - 1)) * t_{n-1} / z (Hesterberg 2015, "What teachers should know about the
    bootstrap", the expanded percentile interval) restores the nominal coverage: with 6
    languages 87% -> 95% in the clustered simulation of ``tests/clustered.py``.
    """
    from scipy.stats import norm
    from scipy.stats import t as student

    if n < 2:
        return 1.0
    q = 1 - (1 - level) / 2
    return float(np.sqrt(n / (n - 1)) * student.ppf(q, n - 1) / norm.ppf(q))


def interval(values: np.ndarray, b: int, seed: int, level: float = 0.95
             ) -> tuple[float, float, float]:
    """(estimate, lo, hi): the expanded percentile interval of the two-stage cluster
    bootstrap; the expansion counts languages, or episodes when there is one language."""
    est = point(values)
    v = np.asarray(values, dtype=float)
    if np.isnan(est):
        return est, np.nan, np.nan
    if np.sum(~np.isnan(v)) < 2:
        return est, est, est
    reps = replicates(v, b, np.random.default_rng(seed))
    lo, hi = np.quantile(reps, [(1 - level) / 2, 1 - (1 - level) / 2])
    rows = np.any(~np.isnan(v), axis=1)
    n = int(rows.sum()) if rows.sum() > 1 else int(np.sum(~np.isnan(v[rows][0])))
    f = expansion(n, level)
    return est, float(est - f * (est - lo)), float(est + f * (hi - est))
