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
