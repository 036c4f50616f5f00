"""No parallel leakage (docs/architecture.md): no source-training item id or article in a target test set.

Checked on the real data for every task (skipped when it is absent), on written fixtures,
and shown to fail when a split is deliberately broken.
"""

import pytest

from bench import leakage
from bench.errors import DataError
from bench.task import TargetData
from bench.types import Example, SourceData, TaskInfo
from tasks.masakhanews import MasakhaNews, MasakhaNewsHeadline
from tasks.nusax import NusaX
from tasks.sib200 import Sib200
from tasks.xquad import XQuAD
from tests.realdata import real, write_masakhane, write_nusax, write_sib, write_xquad


def _leaks(task):
    source = task.source()
    return leakage.leaks(source, [task.target(lang) for lang in task.info().target_langs])


@pytest.mark.parametrize(
    "cls, folder, config",
    [
        (Sib200, "sib-200", {}),
        (NusaX, "nusax", {}),
        (MasakhaNews, "masakhane-news", {"max_source_per_lang": 300}),
        (MasakhaNewsHeadline, "masakhane-news", {"max_source_per_lang": 30, "max_pool_per_lang": 30, "max_test_per_lang": 30}),
        (XQuAD, "xquad", {}),
    ],
)
def test_real_data_has_no_leaks(cls, folder, config):
    task = cls(cls.Config(**config), real(folder))
    assert _leaks(task) == []


def test_real_sib200_many_languages_share_no_ids_between_source_train_and_target_test():
    root = real("sib-200")
    langs = sorted(p.name for p in (root / "sib-200" / "data" / "annotated").iterdir())
    task = Sib200(Sib200.Config(source_langs=tuple(langs[:20]), target_langs=tuple(langs[-30:])), root)
    source_ids = {ex.item_id for ex in task.source().all()}
    assert len(source_ids) == 701
    for lang in task.info().target_langs:
        assert source_ids.isdisjoint(ex.item_id for ex in task.target(lang).test)


def test_real_xquad_source_articles_never_reach_a_test_set():
    task = XQuAD(XQuAD.Config(source_langs=("en", "de", "ru"), target_langs=("zh", "th", "ar")), real("xquad"))
    articles = {ex.group for ex in task.source().all()}
    for lang in task.info().target_langs:
        assert articles.isdisjoint(ex.group for ex in task.target(lang).test)


def test_fixture_tasks_validate_without_leaks(tmp_path):
    write_sib(tmp_path), write_nusax(tmp_path), write_xquad(tmp_path), write_masakhane(tmp_path)
    tasks = [
        Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn", "amh_Ethi")), tmp_path),
        NusaX(NusaX.Config(target_langs=("javanese",)), tmp_path),
        XQuAD(XQuAD.Config(target_langs=("de", "zh"), source_articles=3, pool_articles=1), tmp_path),
        MasakhaNews(MasakhaNews.Config(source_langs=("ibo", "yor"), target_langs=("amh",)), tmp_path),
    ]
    for task in tasks:
        task.validate()
        assert _leaks(task) == []


def _ex(item, lang, group=None):
    return Example(item_id=item, lang=lang, text="t", label=0, group=group)


def test_leaks_reports_source_ids_articles_and_pool_overlap():
    info = TaskInfo(name="t", kind="classification", labels=("a",))
    source = SourceData(info, {"en": (_ex("1", "en", "A"), _ex("2", "en", "B"))})
    clean = TargetData("de", pool=(_ex("3", "de", "C"),), test=(_ex("4", "de", "D"),))
    assert leakage.leaks(source, [clean]) == []
    dirty = TargetData("fr", pool=(_ex("5", "fr", "E"),), test=(_ex("2", "fr", "F"), _ex("5", "fr", "B")))
    found = leakage.leaks(source, [clean, dirty])
    assert len(found) == 3
    assert "source item id(s) in the fr test set" in found[0] and "'2'" in found[0]
    assert "source article(s)" in found[1] and "support-pool" in found[2]


def test_a_broken_sib200_split_is_caught(tmp_path, monkeypatch):
    write_sib(tmp_path)
    task = Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn",)), tmp_path)
    task.validate()
    # break it: source training reads the test split, whose ids are every target's test ids
    monkeypatch.setattr(Sib200, "splits", {"train": "test", "dev": "dev", "test": "test"})
    with pytest.raises(DataError, match="split leaks test items into training: 14 source item id"):
        leakage.check_task(task)  # what the runner's preflight runs for every task


def test_a_broken_xquad_article_split_is_caught(tmp_path, monkeypatch):
    write_xquad(tmp_path)
    task = XQuAD(XQuAD.Config(target_langs=("de",), source_articles=3, pool_articles=1), tmp_path)
    task.validate()
    # break it: every role reads every article (no split at all)
    monkeypatch.setattr(XQuAD, "role", lambda self, lang, role: self.read(lang))
    with pytest.raises(DataError, match="source item id.*source article.*support-pool"):
        leakage.check_task(task)
