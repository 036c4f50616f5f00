"""SIB-200 on a written fixture (always) and on the real data (when present)."""

from tasks.sib200 import Sib200
from tests.realdata import SIB_LABELS, real, write_sib


def _task(root, **over):
    config = dict(source_langs=("eng_Latn", "fra_Latn"), target_langs=("hau_Latn", "amh_Ethi")) | over
    return Sib200(Sib200.Config(**config), root)


def test_official_splits_feed_source_pool_and_test(tmp_path):
    write_sib(tmp_path)
    task = _task(tmp_path)
    task.validate()
    info = task.info()
    assert info.labels == tuple(SIB_LABELS) and info.kind == "classification"
    assert info.languages["amh_Ethi"].script == "Ethi"
    assert info.languages["hau_Latn"].family == "Afro-Asiatic"
    source = task.source()
    assert set(source.train) == {"eng_Latn", "fra_Latn"}
    assert [ex.item_id for ex in source.train["eng_Latn"]][:2] == ["sib200-0", "sib200-1"]
    target = task.target("hau_Latn")
    assert {ex.item_id for ex in target.test} == {f"sib200-{i}" for i in range(200, 214)}
    assert {ex.item_id for ex in target.pool} == {f"sib200-{i}" for i in range(0, 14)}
    assert target.test[0].label == 200 % 7 and target.test[0].lang == "hau_Latn"


def test_dev_pool_and_caps(tmp_path):
    write_sib(tmp_path)
    task = _task(tmp_path, target_pool="dev", max_source_per_lang=5, max_pool_per_lang=3, max_test_per_lang=4)
    assert all(len(v) == 5 for v in task.source().train.values())
    target = task.target("amh_Ethi")
    assert len(target.pool) == 3 and len(target.test) == 4
    ids = [ex.item_id for ex in target.pool]
    assert ids == sorted(ids, key=lambda i: int(i.split("-")[1]))  # file order kept
    # a hash sample, not a prefix (upstream test files are sorted by category), and the
    # same items in every language (ids are aligned)
    assert [ex.item_id for ex in task.target("hau_Latn").pool] == ids


def test_caps_do_not_take_a_label_sorted_prefix():
    from bench.types import Example
    from tasks.local import hash_sample

    rows = [Example(f"x{i}", "l", "t", label=i // 50) for i in range(200)]  # sorted by label
    assert len({ex.label for ex in hash_sample(rows, 40)}) == 4


def test_yaml_lists_become_tuples(tmp_path):
    config = Sib200.Config(source_langs=["eng_Latn"], target_langs=["hau_Latn"])
    assert config.source_langs == ("eng_Latn",) and hash(config)


def test_real_sib200_default_languages_load_with_official_sizes():
    task = Sib200(Sib200.Config(), real("sib-200"))
    task.validate()
    info = task.info()
    assert len(info.labels) == 7
    assert len({info.languages[l].script for l in info.target_langs}) >= 8
    target = task.target("tha_Thai")
    assert (len(target.pool), len(target.test)) == (701, 204)
    assert all(len(v) == 701 for v in task.source().train.values())
