"""XQuAD: article split for all languages at once, answers with offsets."""

from tasks.xquad import XQuAD, split_articles
from tests.realdata import real, write_xquad


def _task(root, **over):
    config = dict(source_langs=("en",), target_langs=("de", "zh"), source_articles=3, pool_articles=1) | over
    return XQuAD(XQuAD.Config(**config), root)


def test_split_articles_by_position():
    roles = split_articles([f"a{i}" for i in range(6)], source=3, pool=1)
    assert [roles[f"a{i}"] for i in range(6)] == ["source"] * 3 + ["pool"] + ["test"] * 2
    roles = split_articles([f"a{i}" for i in range(8)], source=3, pool=1, dev=3)
    assert [roles[f"a{i}"] for i in range(8)] == ["source"] * 3 + ["pool"] + ["dev"] * 3 + ["test"]


def test_articles_split_identically_in_every_language(tmp_path):
    write_xquad(tmp_path)
    task = _task(tmp_path)
    task.validate()
    assert task.info().kind == "qa" and task.info().languages["zh"].script == "Hans"
    source = task.source().train["en"]
    assert {ex.group for ex in source} == {"Article_0", "Article_1", "Article_2"}
    for lang in ("de", "zh"):
        target = task.target(lang)
        assert {ex.group for ex in target.pool} == {"Article_3"}
        assert {ex.group for ex in target.test} == {"Article_7"}
    for lang in ("es", "vi"):  # the default dev languages: pool articles, dev articles as queries
        dev = task.dev(lang)
        assert {ex.group for ex in dev.pool} == {"Article_3"}
        assert {ex.group for ex in dev.test} == {"Article_4", "Article_5", "Article_6"}
    ex = task.target("zh").test[0]
    assert ex.text[ex.answers[0].start:].startswith(ex.answers[0].text)
    assert ex.question and ex.item_id == "xquad-q7-0"


def test_real_xquad_split_sizes():
    task = XQuAD(XQuAD.Config(), real("xquad"))
    task.validate()
    source = task.source().train["en"]
    assert len({ex.group for ex in source}) == 32
    target = task.target("th")
    dev = task.dev("es")
    assert len({ex.group for ex in target.pool}) == 4 and len({ex.group for ex in target.test}) == 9
    assert len({ex.group for ex in dev.test}) == 3 and not {ex.group for ex in dev.test} & {ex.group for ex in target.test}
    assert len(source) + len(target.pool) + len(dev.test) + len(target.test) == 1190
