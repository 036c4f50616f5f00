"""bench.report.detail: the every-metric tables and the gap over the trivial baseline, on
hand-built scores whose means and gaps are known."""

from __future__ import annotations

import pandas as pd

from bench import stats
from bench.report.detail import metrics_table, trivial_gap_table

LANGS = pd.DataFrame([
    {"task": "qa", "lang": "src", "role": "source", "script": "Latn", "family": "x", "distance": 0.0},
    {"task": "qa", "lang": "near", "role": "target", "script": "Latn", "family": "x", "distance": 0.1},
    {"task": "qa", "lang": "far", "role": "target", "script": "Cyrl", "family": "x", "distance": 0.9},
])
# (method, lang) -> (em, f1); the same at every K, seed and episode except where noted
F1 = {("maml", "near"): 70.0, ("maml", "far"): 30.0, ("finetune", "near"): 50.0,
      ("finetune", "far"): 50.0, ("overlap", "near"): 40.0, ("overlap", "far"): 40.0}


def _scores() -> pd.DataFrame:
    rows = []
    for (method, lang), f1 in F1.items():
        for shots in (0, 5):
            for seed in (0, 1):
                for episode in (0, 1):
                    bump = 2.0 * episode if shots == 5 else 0.0  # episodes differ at K=5
                    for metric, value in (("em", f1 - 10 + bump), ("f1", f1 + bump)):
                        rows.append({"run_id": "r", "suite": "s", "task": "qa", "kind": "qa",
                                     "method": method, "seed": seed, "lang": lang,
                                     "shots": shots, "episode": episode, "budget": 100,
                                     "metric": metric, "value": value})
    return pd.DataFrame(rows)


def _cells(extra: list[dict] | None = None) -> pd.DataFrame:
    base = [{"run_id": "r", "task": "qa", "kind": "qa", "method": m, "seed": s, "lang": lang,
             "shots": k, "budget": 100, "status": "done", "reason": "", "attempts": 1}
            for (m, lang) in F1 for s in (0, 1) for k in (0, 5)]
    return pd.DataFrame(base + (extra or []))


def test_metrics_table_lists_every_metric_with_its_mean():
    t = metrics_table("qa", _scores(), budget=100, boot=50)
    d = t.display.set_index(["method", "metric"])
    assert set(d.index) == {(m, x) for m in ("maml", "finetune", "overlap") for x in ("em", "f1")}
    assert d.loc[("maml", "f1"), "K=0"].startswith("50.0 ± ")  # (70 + 30) / 2
    assert d.loc[("maml", "em"), "K=5"].startswith("41.0 ± ")  # 50 - 10 + mean bump 1
    assert d.loc[("overlap", "f1"), "K=0"] == "40.0 ± 0.0"
    assert list(d.columns) == ["K=0", "K=5"] and t.name == "metrics-qa"


def test_trivial_gap_at_the_nearest_target_and_over_targets():
    rows = stats.primary(_scores())
    t = trivial_gap_table(rows, LANGS, _cells(), budget=100)
    d = t.display.set_index("method")
    assert set(d.index) == {"maml", "finetune"}  # the trivial baseline is the reference, not a row
    assert (d["K"] == "K=5").all() and (d["nearest target"] == "near").all()
    # K=5: maml near 70 + 1 (mean bump), overlap near 40 + 1 -> gap +30; far 31 - 41 = -10
    assert d.loc["maml", "score"] == "71.0" and d.loc["maml", "trivial"] == "overlap 41.0"
    assert d.loc["maml", "gap"] == "+30.0" and d.loc["maml", "mean gap over targets"] == "+10.0"
    assert d.loc["maml", "targets above trivial"] == "1/2"
    assert d.loc["finetune", "gap"] == "+10.0" and d.loc["finetune", "targets above trivial"] == "2/2"
    csv = t.data  # every K and language
    assert len(csv) == 2 * 2 * 2 and set(csv["shots"]) == {0, 5}
    assert csv.set_index(["method", "shots", "lang"]).loc[("maml", 0, "far"), "gap"] == -10.0


def test_trivial_gap_uses_the_best_supported_trivial_baseline():
    scores = _scores()
    # "lead" scored higher but is n/a on this task at every K: it must not be the reference
    lead = scores[scores["method"] == "overlap"].assign(method="lead", value=99.0)
    na = [{"run_id": "r", "task": "qa", "kind": "qa", "method": "lead", "seed": s, "lang": lang,
           "shots": k, "budget": 100, "status": "n/a", "reason": "no", "attempts": 1}
          for s in (0, 1) for lang in ("near", "far") for k in (0, 5)]
    t = trivial_gap_table(stats.primary(pd.concat([scores, lead])), LANGS, _cells(na), 100)
    assert set(t.display["trivial"].str.split().str[0]) == {"overlap"}
    # a supported, better trivial baseline does become the reference
    t2 = trivial_gap_table(stats.primary(pd.concat([scores, lead])), LANGS, _cells(), 100)
    assert set(t2.display["trivial"].str.split().str[0]) == {"lead"}


def test_no_trivial_baseline_still_lists_the_task_and_no_distance_gives_a_dash():
    rows = stats.primary(_scores())
    none = trivial_gap_table(rows[rows["method"] != "overlap"], LANGS, _cells(), 100)
    assert none is not None and list(none.display["task"]) == ["qa"]  # every task is covered
    assert none.display["trivial"].iat[0] == "none in these results" and none.notes
    t = trivial_gap_table(rows, LANGS.assign(distance=None), _cells(), 100)
    assert (t.display["nearest target"] == "—").all() and (t.display["gap"] == "—").all()
    assert t.display.set_index("method").loc["maml", "mean gap over targets"] == "+10.0"
