"""Every malformed-data case is found by Task.validate() and names the file, the record and
the problem (one test per case, each on a small broken file written here)."""

import json

import pytest

from bench.errors import DataError
from tasks.masakhanews import MasakhaNews
from tasks.nusax import NusaX
from tasks.sib200 import Sib200
from tasks.xquad import XQuAD
from tests.realdata import squad_doc, write_masakhane, write_nusax, write_sib, write_xquad


def _sib(root):
    return Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn",)), root)


def _fail(task) -> str:
    with pytest.raises(DataError) as err:
        task.validate()
    return str(err.value)


def test_missing_file(tmp_path):
    base = write_sib(tmp_path)
    path = base / "data" / "annotated" / "hau_Latn" / "test.tsv"
    path.unlink()
    message = _fail(_sib(tmp_path))
    assert f"missing file {path}" in message and "train.tsv" in message


def test_missing_column(tmp_path):
    base = write_sib(tmp_path)
    path = base / "data" / "annotated" / "eng_Latn" / "train.tsv"
    path.write_text("index_id\ttext\n1\thello\n")
    message = _fail(_sib(tmp_path))
    assert f"{path}:1: missing column(s) ['category']" in message


def test_empty_language(tmp_path):
    base = write_nusax(tmp_path)
    path = base / "datasets" / "sentiment" / "javanese" / "test.csv"
    path.write_text("id,text,label\n")
    message = _fail(NusaX(NusaX.Config(target_langs=("javanese",)), tmp_path))
    assert f"{path}: no records" in message


def test_label_outside_the_label_set(tmp_path):
    base = write_sib(tmp_path)
    path = base / "data" / "annotated" / "hau_Latn" / "train.tsv"
    lines = path.read_text().splitlines()
    lines[3] = "2\tweather\tsome text"
    path.write_text("\n".join(lines) + "\n")
    message = _fail(_sib(tmp_path))
    assert f"{path}:4: label 'weather' is not in the label set" in message


def test_label_outside_its_own_language_labels_is_an_error_even_if_in_the_union(tmp_path):
    base = write_masakhane(tmp_path)
    path = base / "data" / "amh" / "test.tsv"
    lines = path.read_text().splitlines()
    lines[2] = "religion\tamh headline x\tamh story x.\thttp://x"  # religion: hau's label, not amh's
    path.write_text("\n".join(lines) + "\n")
    task = MasakhaNews(MasakhaNews.Config(source_langs=("ibo",), target_langs=("amh", "hau")), tmp_path)
    message = _fail(task)
    assert f"{path}:3" in message and "'religion'" in message and "amh/labels.txt" in message


def test_wrong_number_of_fields(tmp_path):
    base = write_nusax(tmp_path)
    path = base / "datasets" / "sentiment" / "english" / "train.csv"
    lines = path.read_text().splitlines()
    lines[2] = "1,a text,positive,extra"
    path.write_text("\n".join(lines) + "\n")
    message = _fail(NusaX(NusaX.Config(target_langs=("javanese",)), tmp_path))
    assert f"{path}:3: 4 fields, expected 3" in message


def test_empty_text(tmp_path):
    base = write_sib(tmp_path)
    path = base / "data" / "annotated" / "eng_Latn" / "dev.tsv"
    path.write_text("index_id\tcategory\ttext\n1\ttravel\t  \n")
    task = Sib200(Sib200.Config(source_langs=("hau_Latn",), target_langs=("eng_Latn",), target_pool="dev"), tmp_path)
    assert f"{path}:2: empty value in column 'text'" in _fail(task)


def test_bad_json(tmp_path):
    base = write_xquad(tmp_path)
    path = base / "xquad.de.json"
    path.write_text('{"data": [\n  {"title": "A",}\n]}')
    message = _fail(XQuAD(XQuAD.Config(target_langs=("de",), source_articles=3, pool_articles=1), tmp_path))
    assert f"{path}:2:" in message and "bad JSON" in message


def test_bad_answer_offset(tmp_path):
    base = write_xquad(tmp_path)
    doc = squad_doc("de")
    doc["data"][1]["paragraphs"][2]["qas"][0]["answers"][0]["answer_start"] += 3
    (base / "xquad.de.json").write_text(json.dumps(doc))
    message = _fail(XQuAD(XQuAD.Config(target_langs=("de",), source_articles=3, pool_articles=1), tmp_path))
    assert "xquad.de.json: data[1].paragraphs[2].qas[0] (id q1-2).answers[0]: bad answer offset" in message
    assert "'word12'" in message


def test_missing_json_field(tmp_path):
    base = write_xquad(tmp_path)
    doc = squad_doc("zh")
    del doc["data"][0]["paragraphs"][1]["qas"][0]["question"]
    (base / "xquad.zh.json").write_text(json.dumps(doc))
    message = _fail(XQuAD(XQuAD.Config(target_langs=("zh",), source_articles=3, pool_articles=1), tmp_path))
    assert "data[0].paragraphs[1].qas[0] (id q0-1): missing 'question'" in message


def test_unknown_language_suggests_near_names(tmp_path):
    write_sib(tmp_path)
    task = Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_latn",)), tmp_path)
    message = _fail(task)
    assert "unknown language(s) ['hau_latn']" in message and "hau_Latn" in message


def test_target_language_in_training_is_refused(tmp_path):
    write_sib(tmp_path)
    task = Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("eng_Latn",)), tmp_path)
    assert "both source and target" in _fail(task)


def test_masakhanews_source_language_without_train_split(tmp_path):
    write_masakhane(tmp_path)
    task = MasakhaNews(MasakhaNews.Config(source_langs=("amh",), target_langs=("hau",)), tmp_path)
    message = _fail(task)
    assert "['amh'] have no" in message and "train.tsv" in message and "use them as targets" in message
