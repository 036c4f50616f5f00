"""bench.inference and bench.bootstrap: the right units, one reference, stated families.

The simulations use the clustered design of :mod:`tests.clustered` (episodes shared by
every method, test items shared by every language, a method's advantage varying by
language, support set and seed), vectorised so that each test runs in seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import nct, ttest_1samp
from scipy.stats import t as student

from bench import bootstrap, inference, stats
from bench.errors import XlbenchError
from tests.clustered import Design, simulate

SIMS = 200


def _fwer(c: pd.DataFrame) -> float:
    """Share of simulations (tasks) with at least one significant mark."""
    return float(c.groupby("task")["significant"].any().mean())


def _naive_rate(rows: pd.DataFrame, method: str) -> float:
    """The first report's unit: every (language, seed, episode) pair as independent."""
    keys = ["task", "shots", "lang", "seed", "episode"]
    ref = rows[rows["method"] == "finetune"].set_index(keys)["value"]
    d = (rows[rows["method"] == method].set_index(keys)["value"] - ref)
    p = [stats.wilcoxon_p(g.to_numpy()) for _, g in d.groupby(level=["task", "shots"])]
    return float(np.mean(np.array(p) < 0.05))


def test_language_unit_holds_its_level_where_pooled_pairs_do_not() -> None:
    """No effect: <= 5% of 200 simulated runs get any mark across languages (Holm over
    2 methods x 2 K); the pooled-pairs test of the first report flags most of them."""
    rows = simulate(Design(), {"maml": 0.0, "reptile": 0.0}, SIMS, seed=1)
    c = inference.compare(rows, "finetune", level="language", boot=0)
    assert len(c) == SIMS * 4 and (c["unit"] == "language").all() and (c["n"] == 6).all()
    assert (c["family_size"] == 4).all()
    assert _fwer(c) <= 0.05
    assert float((c["p"] < 0.05).mean()) <= 0.06  # each test near its level too
    assert _naive_rate(rows[rows["task"].isin([f"sim{i}" for i in range(40)])], "maml") > 0.3


#: No effect in any language: a method x language or a method x seed term (the trained
#: models of a seed are better in a language, on every episode) is a real per-language
#: difference of these models, so the per-language null has neither.
PER_LANGUAGE_NULL = dataclasses.replace(Design(), method_lang_sd=0.0, method_seed_sd=0.0)


def test_per_language_episode_unit_holds_its_level() -> None:
    """No effect in any language: <= 5% of 200 simulated runs get any per-language mark
    (Holm over 2 methods x 6 languages x 2 K)."""
    design = PER_LANGUAGE_NULL
    rows = simulate(design, {"maml": 0.0, "reptile": 0.0}, SIMS, seed=2)
    c = inference.compare(rows, "finetune", level="episode", boot=0)
    assert (c["unit"] == "episode").all() and (c["n"] == 20).all()
    assert (c["family_size"] == 24).all()
    assert _fwer(c) <= 0.05


def _null_sd(design: Design, level: inference.Level, sims: int = 200) -> float:
    """The population sd of the test's unit differences, from null simulations."""
    rows = simulate(design, {"maml": 0.0}, sims, seed=99)
    c = inference.compare(rows, "finetune", level=level, boot=0)
    return float(np.sqrt(np.mean(c["sd"] ** 2)))


def test_language_unit_test_finds_a_planted_effect_at_the_stated_power() -> None:
    """An effect the size of the stated MDE (80% power, one test) is found in ~80% of runs,
    and the MDE the report states from each run's own spread is close to the true one."""
    design = dataclasses.replace(Design(), shots=(5,))
    sd = _null_sd(design, "language")
    effect = stats.mde(sd, design.langs, 0.05, 0.8)
    assert 0.5 < effect < 5  # points: a realistic, not a trivial, effect
    rows = simulate(design, {"maml": effect}, SIMS, seed=3)
    c = inference.compare(rows, "finetune", level="language", boot=0)
    power = float(((c["direction"] == 1)).mean())
    assert 0.72 <= power <= 0.88, power
    assert float(c["mde"].median()) == pytest.approx(effect, rel=0.2)


def test_per_language_test_finds_a_planted_effect_at_the_stated_power() -> None:
    """Per language, with the MDE at the family's Bonferroni level alpha/m (m = 6
    languages): each language finds the planted effect ~80% of the time, Holm at least."""
    design = dataclasses.replace(PER_LANGUAGE_NULL, shots=(5,))
    sd = _null_sd(design, "episode", sims=100)
    m = design.langs
    effect = stats.mde(sd, design.episodes, 0.05 / m, 0.8)
    rows = simulate(design, {"maml": effect}, SIMS // 2, seed=4)
    c = inference.compare(rows, "finetune", level="episode", boot=0)
    assert (c["family_size"] == m).all()
    bonferroni = float((c["p"] < 0.05 / m).mean())
    assert 0.72 <= bonferroni <= 0.88, bonferroni
    assert float(c["significant"].mean()) >= bonferroni  # Holm is never less powerful
    assert float(c["mde"].median()) == pytest.approx(effect, rel=0.2)


# ------------------------------------------------------------------- primitives


def test_ttest_matches_scipy_and_handles_constant_differences() -> None:
    rng = np.random.default_rng(0)
    for n in (2, 6, 20):
        d = rng.normal(0.5, 1, n)
        assert stats.ttest_p(d) == pytest.approx(ttest_1samp(d, 0).pvalue, rel=1e-9)
    assert stats.ttest_p([1.0]) == 1.0
    assert stats.ttest_p([0.0, 0.0, 0.0]) == 1.0 and stats.ttest_p([2.0, 2.0]) == 0.0


def test_mde_has_the_stated_power() -> None:
    for n, alpha in ((6, 0.05), (6, 0.05 / 36), (20, 0.05 / 192), (60, 0.01)):
        effect = stats.mde(3.0, n, alpha, 0.8)
        ncp = effect / (3.0 / np.sqrt(n))
        crit = student.ppf(1 - alpha / 2, n - 1)
        assert nct.sf(crit, n - 1, ncp) == pytest.approx(0.8, abs=1e-3)
    # large n: the normal approximation (z_{1-a/2} + z_{0.8}) sd / sqrt(n)
    assert stats.mde(1.0, 10_000) == pytest.approx((1.959964 + 0.841621) / 100, rel=2e-3)
    assert np.isnan(stats.mde(1.0, 1))


def test_cluster_bootstrap_resamples_languages_then_episodes() -> None:
    rng = np.random.default_rng(5)
    one = rng.normal(0, 1, (1, 30))  # one language: the ordinary bootstrap of the mean
    reps = bootstrap.replicates(one, 4000, np.random.default_rng(0))
    assert reps.mean() == pytest.approx(one.mean(), abs=0.02)
    assert reps.std() == pytest.approx(one.std() / np.sqrt(30), rel=0.08)
    # heterogeneous languages: language means drive the spread, not the 6 x 20 values
    grid = rng.normal(0, 5, (6, 1)) + rng.normal(0, 1, (6, 20))
    reps = bootstrap.replicates(grid, 4000, np.random.default_rng(1))
    lang_se = grid.mean(axis=1).std() / np.sqrt(6)
    assert reps.std() == pytest.approx(lang_se, rel=0.15)
    assert reps.std() > 3 * grid.std() / np.sqrt(grid.size)
    # unbalanced languages (NaN padding): every language weighs the same in the estimate
    ragged = np.array([[1.0, 1.0, 1.0, 1.0], [3.0, np.nan, np.nan, np.nan]])
    assert bootstrap.point(ragged) == 2.0
    assert set(np.round(bootstrap.replicates(ragged, 200, np.random.default_rng(2)), 6)) \
        <= {1.0, 2.0, 3.0}
    est, lo, hi = bootstrap.interval(grid, 500, seed=3)
    assert lo < est < hi and (est, lo, hi) == bootstrap.interval(grid, 500, seed=3)


# ------------------------------------------------------------ reference and family


def _rows(effects: dict[str, float], floor: float | None = None, seed: int = 0) -> pd.DataFrame:
    rows = simulate(dataclasses.replace(Design(), langs=4, episodes=6), effects, 1, seed)
    if floor is not None:  # a trivial floor at a fixed score
        triv = rows[rows["method"] == "finetune"].assign(method="majority", value=floor)
        rows = pd.concat([rows, triv], ignore_index=True)
    return rows


def test_every_method_is_compared_with_the_named_reference_and_the_family_is_stated() -> None:
    rows = _rows({"maml": 8.0, "logreg": 4.0})
    c = inference.compare(rows, "logreg", level="language", boot=50)
    assert set(c["reference"]) == {"logreg"}  # the named one, not the best of a column
    assert set(c["method"]) == {"maml", "finetune"}
    assert (c["family_size"] == 4).all()  # all methods x K within the task
    e = inference.compare(rows, "logreg", level="episode", boot=0)
    assert (e["family_size"] == 2 * 2 * 4).all()  # methods x K x languages
    assert inference.family("language") == "all methods x K within a task"
    assert "target languages" in inference.family("episode")


def test_trivial_floors_are_not_tested_and_low_comparisons_are_flagged() -> None:
    rows = _rows({"maml": 1.0}, floor=99.0)  # every method sits below the floor
    c = inference.compare(rows, "finetune", level="language", boot=0)
    assert "majority" not in set(c["method"]) and (c["family_size"] == 2).all()
    assert c["below_floor"].all() and (c["floor"] == 99.0).all()
    c = inference.compare(_rows({"maml": 1.0}, floor=0.0), "finetune", boot=0)
    assert not c["below_floor"].any()


def test_fewer_than_three_languages_fall_back_to_episode_units() -> None:
    rows = simulate(dataclasses.replace(Design(), langs=2, episodes=8), {"maml": 0.0}, 1, 0)
    c = inference.compare(rows, "finetune", level="language", boot=0)
    assert (c["unit"] == "episode").all() and (c["n"] == 16).all()


def test_summarise_weighs_languages_equally_and_counts_units() -> None:
    rows = _rows({"maml": 0.0})
    rows = rows[~((rows["lang"] == "l0") & (rows["episode"] >= 3))]  # l0 keeps 3 episodes
    s = inference.summarise(rows, ["task", "method", "shots"], boot=100)
    lang_means = rows.groupby(["task", "method", "shots", "lang"])["value"].mean()
    want = lang_means.groupby(level=[0, 1, 2]).mean().to_numpy()
    np.testing.assert_allclose(s["mean"].to_numpy(), want, rtol=1e-12)
    assert (s["n_lang"] == 4).all() and (s["n"] == 4).all() and (s["n_episode"] == 21).all()
    per = inference.summarise(rows, ["task", "method", "shots", "lang"], boot=100)
    assert set(per["n"]) == {3, 6}


def test_reference_comes_from_the_manifest_else_finetune() -> None:
    assert inference.reference_of([{"suite": {}}]) == "finetune"
    assert inference.reference_of([{"suite": {"reference": "logreg"}}]) == "logreg"
    with pytest.raises(XlbenchError, match="different reference"):
        inference.reference_of([{"suite": {"reference": "a"}}, {"suite": {"reference": "b"}}])


def test_shots_meaning_says_per_class_or_items() -> None:
    assert inference.shots_meaning(["classification"]) == "K = labelled examples per class"
    assert inference.shots_meaning(["qa", "summarization"]) == "K = labelled support items"
    both = inference.shots_meaning(["qa", "classification"])
    assert "per class (classification)" in both and "support items (qa)" in both


def test_cluster_bootstrap_ci_covers_at_its_level_with_six_languages() -> None:
    """No effect: the 95% CI of the difference covers 0 in >= 92% of 300 simulated
    comparisons (the plain percentile interval, without the small-sample expansion,
    covers about 87% with 6 languages)."""
    rows = simulate(Design(), {"maml": 0.0}, 150, seed=7)
    c = inference.compare(rows, "finetune", level="language", boot=400)
    assert float(((c["lo"] <= 0) & (c["hi"] >= 0)).mean()) >= 0.92
    assert bootstrap.expansion(6) == pytest.approx(np.sqrt(6 / 5) * 2.5706 / 1.95996, rel=1e-4)
    assert bootstrap.expansion(1) == 1.0
