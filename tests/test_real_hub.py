"""The hub path: row -> Example mappers on rows written here, and the offline failure modes.

The hub is unreachable from the test machines, so ``datasets.load_dataset`` is replaced by
a fake that records its arguments (trust_remote_code must never be passed) and serves rows.
"""

import sys
import types

import pytest

from bench.errors import DataError
from tasks import hub
from tasks.masakhanews import MasakhaNews, hub_record, item_id
from tasks.nusax import NusaX
from tasks.nusax import hub_example as nusax_row
from tasks.sib200 import HUB_LABELS, Sib200
from tasks.sib200 import hub_example as sib_row
from tasks.xquad import XQuAD, hub_examples

SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeSplit(list):
    def __init__(self, rows, names=None):
        super().__init__(rows)
        label = types.SimpleNamespace(names=list(names)) if names else None
        self.features = {"label": label} if label else {}


@pytest.fixture
def fake_hub(monkeypatch):
    calls = []
    tables = {}

    def load_dataset(path, name=None, **kwargs):
        calls.append((path, name, kwargs))
        return tables[(path, name, kwargs["split"])]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    return tables, calls


def test_sib_row_to_example():
    ex = sib_row({"index_id": 7, "category": "travel", "text": " hi "}, "hau_Latn", HUB_LABELS, None, "r")
    assert (ex.item_id, ex.text, ex.label) == ("sib200-7", "hi", HUB_LABELS.index("travel"))
    with pytest.raises(DataError, match="r: label 'weather' is not in the label set"):
        sib_row({"index_id": 7, "category": "weather", "text": "x"}, "hau_Latn", HUB_LABELS, None, "r")
    with pytest.raises(DataError, match=r"missing column\(s\) \['category'\]"):
        sib_row({"index_id": 7, "text": "x"}, "hau_Latn", HUB_LABELS, None, "r")


def test_nusax_row_with_classlabel_index():
    ex = nusax_row({"id": "3", "text": "enak", "label": 2}, "javanese", ("negative", "neutral", "positive"), "r")
    assert (ex.item_id, ex.label) == ("nusax-3", 2)
    with pytest.raises(DataError, match="label 5 is neither"):
        nusax_row({"id": "3", "text": "enak", "label": 5}, "javanese", ("negative", "neutral", "positive"), "r")


def test_masakhanews_row():
    record = hub_record({"label": 1, "headline": "H", "text": "T. U.", "url": "u"}, ("business", "health"), "r")
    assert (record.category, record.headline, record.text) == ("health", "H", "T. U.")
    with pytest.raises(DataError, match="empty headline"):
        hub_record({"label": 1, "headline": " ", "text": "T"}, ("business", "health"), "r")


def test_xquad_rows_group_by_paragraph_ordinal_and_check_offsets():
    rows = [
        {"id": f"q{i}", "context": f"context {i // 2} has word{i // 2}", "question": "?",
         "answers": {"text": [f"word{i // 2}"], "answer_start": [len(f"context {i // 2} has ")]}}
        for i in range(14)
    ]
    examples = hub_examples(rows, "de", "hub")
    assert [ex.group for ex in examples[::2]] == ["article-00"] * 5 + ["article-01"] * 2
    rows[3]["answers"]["answer_start"] = [0]
    with pytest.raises(DataError, match="hub row 3 answer 0: bad answer offset"):
        hub_examples(rows, "de", "hub")


def test_unpinned_revision_is_refused_before_any_download():
    with pytest.raises(DataError, match="needs a pinned revision.*hub_revision"):
        hub.load_split("Davlan/sib200", "hau_Latn", "train", None, local_hint="use local files")


def test_unreachable_hub_says_how_to_predownload_or_use_local_files(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'Davlan/sib200' on the Hub")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=offline))
    with pytest.raises(DataError) as err:
        hub.load_split("Davlan/sib200", "hau_Latn", "train", SHA, local_hint="use `source: local`")
    message = str(err.value)
    assert "ConnectionError" in message and "HF_HUB_OFFLINE=1" in message
    assert f"huggingface-cli download Davlan/sib200 --repo-type dataset --revision {SHA}" in message
    assert "use `source: local`" in message


def test_sib200_from_the_hub_end_to_end(fake_hub):
    tables, calls = fake_hub
    for lang in ("eng_Latn", "hau_Latn"):
        for split, base in (("train", 0), ("validation", 100), ("test", 200)):
            tables[("Davlan/sib200", lang, split)] = FakeSplit(
                [{"index_id": base + i, "category": HUB_LABELS[i % 7], "text": f"{lang} {i}"} for i in range(3)]
            )
    task = Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn",), source="hub", hub_revision=SHA, dev_langs=()))
    task.validate()
    assert [ex.item_id for ex in task.target("hau_Latn").test] == ["sib200-200", "sib200-201", "sib200-202"]
    assert all(kwargs == {"split": kwargs["split"], "revision": SHA} for _, _, kwargs in calls)
    assert not any("trust_remote_code" in kwargs for _, _, kwargs in calls)


def test_nusax_and_masakhanews_hub_configs(fake_hub):
    tables, calls = fake_hub
    names = ("negative", "neutral", "positive")
    for code in ("eng", "ind", "jav"):
        for split, base in (("train", 0), ("validation", 100), ("test", 200)):
            tables[("indonlp/NusaX-senti", code, split)] = FakeSplit(
                [{"id": str(base + i), "text": f"{code} {split} {i}", "label": i % 3} for i in range(3)], names
            )
    task = NusaX(NusaX.Config(target_langs=("javanese",), source="hub", hub_revision=SHA, dev_langs=()))
    task.validate()
    assert {name for _, name, _ in calls} == {"eng", "ind", "jav"}

    labels = ("business", "health", "sports")
    for lang in ("ibo", "amh"):
        for split in ("train", "validation", "test"):
            tables[("masakhane/masakhanews", lang, split)] = FakeSplit(
                [{"label": i % 3, "headline": "h", "text": f"{lang} {split} {i}.", "url": ""} for i in range(3)], labels
            )
    news = MasakhaNews(MasakhaNews.Config(source_langs=("ibo",), target_langs=("amh",), source="hub", hub_revision=SHA, dev_langs=()))
    news.validate()
    assert news.info().labels == labels
    assert news.target("amh").test[0].item_id == item_id("amh test 0.")


def test_xquad_from_the_hub(fake_hub):
    tables, _ = fake_hub
    for lang in ("en", "de"):
        tables[("google/xquad", f"xquad.{lang}", "validation")] = FakeSplit([
            {"id": f"q{p}", "context": f"{lang} paragraph {p} word", "question": "?",
             "answers": {"text": ["word"], "answer_start": [len(f"{lang} paragraph {p} ")]}}
            for p in range(30)
        ])
    task = XQuAD(XQuAD.Config(target_langs=("de",), source_articles=3, pool_articles=1, dev_articles=0, source="hub", hub_revision=SHA, dev_langs=()))
    task.validate()
    assert {ex.group for ex in task.target("de").test} == {"article-04", "article-05"}
