"""Declarative QA and summarization: the robust SQuAD/JSONL reader skips and counts bad
records (up to a threshold), XQuAD as YAML equals the built-in task, non-parallel QA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.errors import DataError
from tasks.declarative import YamlTask
from tasks.taskspec import parse_spec, suite_entry
from tasks.xquad import XQuAD
from tests.realdata import real, write_xquad
from tests.test_declarative import ROOT

XQUAD_YAML = ROOT / "examples" / "tasks" / "xquad.yaml"


def _task(data_dir: Path | None, path: Path, **over) -> YamlTask:
    entry = suite_entry({"file": str(path), "config": over}, "<test>")
    return YamlTask(YamlTask.Config(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in entry["config"].items()}), data_dir)


def test_xquad_yaml_gives_the_builtin_examples(tmp_path):
    write_xquad(tmp_path)
    builtin = XQuAD(XQuAD.Config(target_langs=("de", "zh"), source_articles=3, pool_articles=1,
                                       dev_articles=1), tmp_path)
    declared = _task(tmp_path, XQUAD_YAML, languages={"source": ["en"], "target": ["de", "zh"]},
                     split_by_group={"source": 3, "pool": 1, "dev": 1})
    builtin.validate()
    declared.validate()
    assert builtin.source().train == declared.source().train
    for lang in ("de", "zh"):
        assert builtin.target(lang) == declared.target(lang)


def test_xquad_yaml_matches_builtin_on_the_real_data():
    root = real("xquad")
    builtin = XQuAD(XQuAD.Config(target_langs=("de", "zh"), max_source_per_lang=200, max_test_per_lang=50), root)
    declared = _task(root, XQUAD_YAML, languages={"source": ["en"], "target": ["de", "zh"]},
                     caps={"source": 200, "test": 50})
    declared.validate()
    assert builtin.source().train == declared.source().train
    assert builtin.target("zh") == declared.target("zh")


def _qa_record(i: int, lang: str, bad: str | None = None) -> dict:
    context = f"{lang} passage {i}: the capital is city{i} by the river."
    answer = {"text": f"city{i}", "answer_start": context.index(f"city{i}")}
    record = {"qid": f"q{i}", "article": f"a{i // 4}", "question": f"{lang} where {i}?", "context": context,
              "answers": [answer]}
    if bad == "null context":
        record["context"] = None
    elif bad == "empty answer":
        record["answers"] = [{"text": "", "answer_start": 0}]
    elif bad == "minus one":
        record["answers"] = [{"text": f"city{i}", "answer_start": -1}]
    elif bad == "offset":
        record["answers"] = [{"text": f"city{i}", "answer_start": answer["answer_start"] + 3}]
    return record


BAD = {3: "null context", 7: "empty answer", 11: "minus one", 15: "offset", 19: "offset"}


def _write_qa(root: Path, langs=("en", "de"), bad=BAD, n=40) -> Path:
    for lang in langs:
        for split in ("train", "test"):
            lines = [json.dumps(_qa_record(i, lang, bad.get(i))) if split == "test" and lang == "de"
                     else json.dumps(_qa_record(i, lang)) for i in (range(n) if split == "test" else range(100, 100 + n))]
            path = root / split / f"{lang}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
    return root


def qa_spec(root: Path, **over) -> dict:
    base = {"name": "qa-toy", "kind": "qa", "format": "jsonl", "root": str(root), "path": "{split}/{lang}.jsonl",
            "fields": {"id": "qid", "question": "question", "context": "context", "answers": "answers",
                       "group": "article"},
            "languages": {"source": ["en"], "target": ["de"]}, "target_pool": "train", "max_skipped": 0.2}
    return base | over


@pytest.mark.fault(area="data", case="QA file with null contexts, empty/-1 answers, bad offsets",
                   behaviour="skips and counts them; logs the counts")
def test_bad_qa_records_are_skipped_and_counted(tmp_path, capsys):
    task = YamlTask(parse_spec(qa_spec(_write_qa(tmp_path)), "t"))
    task.validate()
    path = str(tmp_path / "test" / "de.jsonl")
    assert task.skipped() == {path: {"answer_start -1": 1, "no answer": 1, "no context": 1,
                                     "offset mismatch": 2, "records": 40}}
    assert len(task.target("de").test) == 35
    assert all(ex.text[ex.answers[0].start:].startswith(ex.answers[0].text) for ex in task.target("de").test)
    assert f"skipped 5 of 40 records in {path}" in capsys.readouterr().err


@pytest.mark.fault(area="data", case="QA file with more bad records than max_skipped",
                   behaviour="exit 2 with the counts, before any work")
def test_too_many_bad_qa_records_stop_the_run(tmp_path):
    task = YamlTask(parse_spec(qa_spec(_write_qa(tmp_path), max_skipped=0.1), "t"))
    with pytest.raises(DataError, match=r"de.jsonl: 5 of 40 records skipped .*max_skipped=0.1"):
        task.validate()


def test_one_answer_per_record_fields_and_non_parallel_languages(tmp_path):
    """Questions in one language, contexts in another: a language key names the pair."""
    root = tmp_path / "xl"
    for lang in ("en", "q-de_c-en"):
        for split in ("train", "test"):
            rows = []
            for i in range(10) if split == "test" else range(100, 110):
                r = _qa_record(i, lang)
                rows.append({"question": r["question"], "passage": r["context"],
                             "answer": r["answers"][0]["text"], "start": r["answers"][0]["answer_start"]})
            (root / split).mkdir(parents=True, exist_ok=True)
            (root / split / f"{lang}.json").write_text(json.dumps(rows))
    spec = qa_spec(root, format="json", path="{split}/{lang}.json", parallel="none",
                   fields={"question": "question", "context": "passage", "answer": "answer", "answer_start": "start"},
                   languages={"source": ["en"], "target": ["q-de_c-en"]})
    task = YamlTask(parse_spec(spec, "t"))
    task.validate()
    test = task.target("q-de_c-en").test
    assert len(test) == 10 and test[0].question.startswith("q-de_c-en") and test[0].answers[0].text == "city0"


def test_summarization_from_jsonl(tmp_path):
    root = tmp_path / "summ"
    for lang in ("en", "sw"):
        for split in ("train", "test"):
            rows = [{"doc": f"{lang} story {i} starts. It goes on for a while. It ends {i}.", "title": f"{lang} story {i}"}
                    for i in (range(6) if split == "test" else range(10, 16))]
            (root / lang).mkdir(parents=True, exist_ok=True)
            (root / lang / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    task = YamlTask(parse_spec({"name": "summ", "kind": "summarization", "format": "jsonl", "root": str(root),
                                "path": "{lang}/{split}.jsonl", "fields": {"document": "doc", "summary": "title"},
                                "languages": {"source": ["en"], "target": ["sw"]}, "max_sentences": 2}, "t"))
    task.validate()
    ex = task.target("sw").test[0]
    assert ex.summary == "sw story 0" and len(ex.sentences) == 2
