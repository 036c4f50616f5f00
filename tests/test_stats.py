"""bench.stats on constructed data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import PermutationMethod, friedmanchisquare, wilcoxon

from bench import stats


def test_roles_fall_back_to_the_builtin_labels_only_without_records() -> None:
    assert stats.role_of("finetune") == "transfer"
    assert stats.role_of("logreg-tfidf") == "transfer"
    assert stats.role_of("majority") == "trivial"
    assert stats.role_of("maml") == "meta"
    assert stats.role_of("my-plugin") == "meta"
    assert stats.role_of("my-plugin", {"my-plugin": "transfer"}) == "transfer"  # the records win
    assert stats.LEGACY_ROLES[stats.FINETUNE] == "transfer"


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    v = np.random.default_rng(1).normal(50, 5, 40)
    a = stats.bootstrap_ci(v, b=500, seed=3)
    assert a == stats.bootstrap_ci(v, b=500, seed=3)
    assert a != stats.bootstrap_ci(v, b=500, seed=4)
    assert a.mean == pytest.approx(v.mean())
    assert a.lo < a.mean < a.hi
    # the percentile CI of a mean is about +-1.96 standard errors
    assert a.half_width == pytest.approx(1.96 * v.std(ddof=1) / np.sqrt(40), rel=0.25)
    one = stats.bootstrap_ci([7.0])
    assert (one.mean, one.lo, one.hi, one.n) == (7.0, 7.0, 7.0, 1)
    assert np.isnan(stats.bootstrap_ci([]).mean)


def test_wilcoxon_matches_scipy_exact_and_permutation() -> None:
    rng = np.random.default_rng(0)
    for n in (3, 8, 15, 25):
        d = rng.normal(0.4, 1, n)  # no ties: scipy's exact distribution
        assert stats.wilcoxon_p(d) == pytest.approx(wilcoxon(d, method="exact").pvalue)
    d = np.round(rng.normal(0.5, 1, 10) * 2) / 2  # ties and zeros: exact permutation
    want = wilcoxon(d, method=PermutationMethod(n_resamples=np.inf)).pvalue
    assert stats.wilcoxon_p(d) == pytest.approx(want)
    big = rng.normal(0.1, 1, 400)  # normal approximation
    assert stats.wilcoxon_p(big) == pytest.approx(wilcoxon(big, method="asymptotic").pvalue)
    assert stats.wilcoxon_p(np.zeros(5)) == 1.0


def test_paired_test_detects_a_planted_difference() -> None:
    rng = np.random.default_rng(7)
    episode = rng.normal(60, 8, 30)  # shared episode difficulty: the pairing matters
    base = episode + rng.normal(0, 1, 30)
    better = episode + 2.0 + rng.normal(0, 1, 30)
    res = stats.paired_test(better, base, boot=1000, seed=0)
    assert res.n == 30
    assert res.diff == pytest.approx(2.0, abs=0.6)
    assert 0 < res.lo < res.diff < res.hi
    assert res.p_wilcoxon < 1e-4 and res.p_bootstrap < 0.01
    same = stats.paired_test(base, base)
    assert (same.diff, same.p_wilcoxon, same.p_bootstrap) == (0.0, 1.0, 1.0)


def test_holm_against_a_hand_computed_example() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    got = stats.holm([0.01, 0.04, 0.03, 0.005, np.nan])
    np.testing.assert_allclose(got[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(got[4])
    assert stats.holm([0.3, 0.2]).tolist() == pytest.approx([0.4, 0.4])  # monotone
    assert stats.holm([0.5, 0.6, 0.7]).max() <= 1.0


def _frame(diff: float, rng: np.random.Generator, n_ep: int = 15,
           langs: tuple[str, ...] = ("a", "b", "c"), shots: tuple[int, ...] = (0, 1, 5),
           extra: dict[str, float] | None = None) -> pd.DataFrame:
    """Scores of finetune, logreg and maml with a shared episode effect per row key."""
    rows = []
    methods = {"finetune": 0.0, "logreg": -1.0, "maml": diff, **(extra or {})}
    for lang in langs:
        for k in shots:
            for seed in (0, 1):
                for ep in range(n_ep):
                    e = rng.normal(50, 6)
                    for m, shift in methods.items():
                        rows.append(dict(task="t", kind="classification", method=m, lang=lang,
                                         shots=k, seed=seed, episode=ep, budget=100,
                                         metric="accuracy", value=e + shift + rng.normal(0, 1)))
    return pd.DataFrame(rows)


def test_compare_finds_planted_difference_against_the_named_reference() -> None:
    from bench import inference

    df = _frame(3.0, np.random.default_rng(0))
    cmp = inference.compare(df, stats.FINETUNE, level="episode", boot=200)
    maml = cmp[cmp["method"] == "maml"]
    assert len(maml) == 9 and (maml["reference"] == "finetune").all()
    assert maml["significant"].all() and (maml["direction"] == 1).all()
    logreg = cmp[cmp["method"] == "logreg"]
    assert (logreg["direction"] == -1).all()
    pooled = inference.compare(df, stats.FINETUNE, level="language", boot=200)
    assert set(pooled["shots"]) == {0, 1, 5} and (pooled["n"] == 3).all()  # 3 languages
    wtl = inference.win_tie_loss(cmp)
    row = wtl[wtl["method"] == "maml"].iloc[0]
    assert (row["win"], row["tie"], row["loss"]) == (9, 0, 0)


def test_identical_methods_are_not_declared_different() -> None:
    """Family-wise: in >= 95 of 100 simulated runs no (lang, K) test of a method that equals
    the baseline in distribution is significant after Holm."""
    false_runs = 0
    for run in range(100):
        rng = np.random.default_rng(1000 + run)
        d = rng.normal(0, 1, (9, 20))  # 3 langs x 3 K, 20 paired units each
        p = [stats.paired_test(row, np.zeros(20), boot=50, seed=run).p_wilcoxon for row in d]
        false_runs += bool((stats.holm(p) < 0.05).any())
    assert false_runs <= 5


def test_nemenyi_critical_difference_matches_demsar() -> None:
    # Demsar (2006), Table 5(a): q_0.05 for k = 2..10
    table = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
    for k, q in zip(range(2, 11), table):
        assert stats.nemenyi_q(k) == pytest.approx(q, abs=1e-3)
    # Demsar's worked example: k = 4 classifiers, N = 14 data sets, CD = 1.25
    assert stats.critical_difference(4, 14) == pytest.approx(1.25, abs=0.005)


def test_friedman_ranks_and_statistic() -> None:
    m = np.array([[90, 80, 70, 60], [85, 86, 70, 60], [70, 70, 60, 50], [91, 81, 71, 59.0]])
    r = stats.friedman_nemenyi(m, ["a", "b", "c", "d"])
    assert r.ranks == pytest.approx((1.375, 1.625, 3.0, 4.0))  # ties share ranks
    assert r.chi2 == pytest.approx(friedmanchisquare(*m.T).statistic)
    assert r.cd == pytest.approx(stats.critical_difference(4, 4))
    with pytest.raises(ValueError, match="complete"):
        stats.friedman_nemenyi(np.array([[1.0, np.nan, 2.0]]), ["a", "b", "c"])


def test_rank_datasets_drops_incomplete_methods() -> None:
    df = _frame(3.0, np.random.default_rng(2), n_ep=2)
    df = df[~((df["method"] == "logreg") & (df["lang"] == "a"))]
    r = stats.rank_datasets(df, shots=1, budget=100)
    assert r is not None and r.dropped == ("logreg",) and r.n_datasets == 3
    assert r.methods == ("finetune", "maml") and r.ranks == (2.0, 1.0)
    assert stats.rank_datasets(df, shots=99, budget=100) is None


def test_summarise_averages_languages_and_counts_language_units() -> None:
    from bench import inference

    df = _frame(0.0, np.random.default_rng(3), n_ep=4)
    s = inference.summarise(df, ["task", "method", "shots"], boot=100)
    assert (s["n"] == 3).all() and (s["n_episode"] == 3 * 4).all()  # languages are units
    want = df.groupby(["task", "method", "shots"])["value"].mean().to_numpy()  # balanced
    np.testing.assert_allclose(s["mean"].to_numpy(), want)
    assert (s["lo"] <= s["mean"]).all() and (s["mean"] <= s["hi"]).all()
