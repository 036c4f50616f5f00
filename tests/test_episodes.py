from bench.episodes import build_episodes
from tests.corefakes import ToyConfig, ToyTask


def _eps(shots, lang="aa", episodes=3, queries=10):
    task = ToyTask(ToyConfig())
    return build_episodes("toy", task.info(), task.target(lang), shots, episodes, queries)


def test_episodes_are_fixed_and_shared():
    a, b = _eps(5), _eps(5)
    assert [e.episode for e in a] == [e.episode for e in b]
    assert len({tuple(x.item_id for x in e.episode.support) for e in a}) == 3  # episodes differ


def test_k_per_class_and_queries_without_targets():
    ep = _eps(2)[0].episode
    labels = sorted(x.label for x in ep.support)
    assert labels == [0, 0, 1, 1, 2, 2]
    assert len(ep.query) == 10 and not hasattr(ep.query[0], "label")


def test_same_queries_at_every_k_and_gold_aligned():
    k1, k5 = _eps(1), _eps(5)
    for a, b in zip(k1, k5):
        assert a.episode.query == b.episode.query
        assert [g.item_id for g in a.gold] == [q.item_id for q in a.episode.query]


def test_zero_and_all_shots():
    assert _eps(0)[0].episode.support == ()
    everything = _eps(-1, queries=None)
    assert len(everything) == 1 and len(everything[0].episode.support) == 40 and len(everything[0].gold) == 40


def test_support_sets_are_nested_across_k():
    """The K=5 set of an episode contains its K=1 set (paired learning curves)."""
    for index, (k1, k2, k5) in enumerate(zip(_eps(1), _eps(2), _eps(5))):
        ids = [{x.item_id for x in e.episode.support} for e in (k1, k2, k5)]
        assert ids[0] < ids[1] < ids[2], index


def test_support_nested_for_item_kinds_and_realised_shots_recorded():
    from dataclasses import replace

    from bench.episodes import realised_shots, support_set
    task = ToyTask(ToyConfig())
    info = replace(task.info(), kind="qa")
    data = task.target("aa")
    sets = [{x.item_id for x in support_set("toy", info, data, k, 0)} for k in (1, 3, 7)]
    assert [len(s) for s in sets] == [1, 3, 7] and sets[0] < sets[1] < sets[2]
    assert _eps(2)[0].realised == (2, 2, 2)  # per class, index = label id
    # a class with fewer pool examples than K gives what it has, and the record says so
    short = (data.pool[0], data.pool[3], data.pool[1])  # labels 0, 0, 1
    assert realised_shots(task.info(), short) == (2, 1, 0)
    assert realised_shots(info, short) == (3,)


def test_every_cell_record_says_what_k_gave_each_episode(tmp_path):
    import json

    import yaml

    from bench.cli import main

    suite = {"name": "toy", "seeds": [0], "shots": [0, 2], "episodes": 2, "queries": 6,
             "budget": {"source_examples": 20, "adapt_examples": 100},
             "tasks": ["tests.corefakes:ToyTask"], "methods": ["tests.corefakes:Echo"],
             "executor": {"name": "inline"}, "floors": False}
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", "--suite", str(path), "--results-dir", str(tmp_path / "r")]) == 0
    recs = [json.loads(p.read_text()) for p in (tmp_path / "r").glob("toy/*/cells/*.json")]
    got = {rec["key"]["shots"]: rec["realised_shots"] for rec in recs if rec["key"]["lang"] == "aa"}
    assert got == {0: [[0, 0, 0], [0, 0, 0]], 2: [[2, 2, 2], [2, 2, 2]]}  # per class, per episode
