"""MasakhaNEWS classification and headline summarization."""

from tasks.masakhanews import MasakhaNews, MasakhaNewsHeadline, item_id
from tests.realdata import real, write_masakhane


def _config(cls, **over):
    return cls.Config(**(dict(source_langs=("ibo", "yor"), target_langs=("amh", "hau")) | over))


def test_union_label_set_and_per_language_labels(tmp_path):
    write_masakhane(tmp_path)
    task = MasakhaNews(_config(MasakhaNews), tmp_path)
    task.validate()
    labels = task.info().labels
    assert labels == ("business", "health", "politics", "religion", "sports")
    amh = task.target("amh")
    assert {labels[ex.label] for ex in amh.test} == {"business", "politics", "sports"}
    assert task.info().languages["amh"].script == "Ethi"


def test_few_shot_pool_drops_items_that_are_in_the_test_set(tmp_path):
    write_masakhane(tmp_path)
    task = MasakhaNews(_config(MasakhaNews, target_pool="few_shot", few_shot_size=5), tmp_path)
    pool = task.target("hau").pool
    # the written few-shot set holds items 300, 301 and a copy of test item 200
    assert len(pool) == 2
    assert item_id("hau story 200 begins here. It goes on. The end of 200.") not in {ex.item_id for ex in pool}


def test_headline_task_splits_sentences_and_keeps_the_headline(tmp_path):
    write_masakhane(tmp_path)
    task = MasakhaNewsHeadline(_config(MasakhaNewsHeadline, max_sentences=2), tmp_path)
    task.validate()
    info = task.info()
    assert info.kind == "summarization" and info.labels == () and info.summary_sentences == 1
    ex = task.target("amh").test[0]
    assert ex.summary == "amh headline 200" and ex.label is None
    assert ex.sentences == ("amh story 200 begins here.", "It goes on.")


def test_real_masakhanews_defaults_validate():
    task = MasakhaNews(MasakhaNews.Config(max_source_per_lang=200), real("masakhane-news"))
    task.validate()
    assert len(task.info().labels) == 7
    assert {len(task.target(lang).test) > 100 for lang in task.info().target_langs} == {True}


def test_max_chars_truncates_the_text_but_not_the_id(tmp_path):
    write_masakhane(tmp_path)
    task = MasakhaNews(_config(MasakhaNews, max_chars=9), tmp_path)
    ex = task.target("amh").test[0]
    assert ex.text == "amh story" and ex.item_id == item_id("amh story 200 begins here. It goes on. The end of 200.")
