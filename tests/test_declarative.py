"""Declarative (YAML) tasks: the NusaX re-expression equals the built-in task, strict specs,
readers for every format, and a display label that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bench import store
from bench.cli import main
from bench.episodes import build_episodes
from bench.errors import DataError, SuiteError
from bench.suite import parse_suite
from tasks.declarative import YamlTask
from tasks.nusax import NusaX
from tasks.taskspec import parse_spec, suite_entry
from tests.realdata import real, write_nusax, write_table

ROOT = Path(__file__).resolve().parents[1]
NUSAX_YAML = ROOT / "examples" / "tasks" / "nusax.yaml"


def yaml_task(data_dir: Path | None, **over) -> YamlTask:
    entry = suite_entry({"file": str(NUSAX_YAML), "config": over}, "<test>")
    return YamlTask(YamlTask.Config(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in entry["config"].items()}), data_dir)


def assert_same_task(builtin, declared, shots=(0, 1, 2), labels=("nusax", "nusax")):
    """Same info (name, labels, languages), same source and target examples, same episodes."""
    a, b = builtin.info(), declared.info()
    assert (a.name, a.kind, a.labels, a.source_langs, a.target_langs) == (
        b.name, b.kind, b.labels, b.source_langs, b.target_langs)
    assert builtin.source().train == declared.source().train
    for lang in a.target_langs:
        ta, tb = builtin.target(lang), declared.target(lang)
        assert ta == tb
        for k in shots:
            ea = build_episodes(labels[0], a, ta, k, 3, 5)
            eb = build_episodes(declared.episode_key(labels[1]), b, tb, k, 3, 5)
            assert [(e.episode.support, e.episode.query, e.gold) for e in ea] == \
                   [(e.episode.support, e.episode.query, e.gold) for e in eb]


FIXTURE_LANGS = {"source": ["english", "indonesian"], "target": ["javanese", "sundanese"]}


def test_nusax_yaml_gives_the_builtin_examples_and_episodes(tmp_path):
    write_nusax(tmp_path)
    builtin = NusaX(NusaX.Config(target_langs=("javanese", "sundanese"), max_test_per_lang=7), tmp_path)
    declared = yaml_task(tmp_path, languages=FIXTURE_LANGS, caps={"test": 7})
    builtin.validate()
    declared.validate()
    assert_same_task(builtin, declared)


def test_display_label_changes_no_episode(tmp_path):
    """Same spec, other label: the episode key is the spec's name."""
    write_nusax(tmp_path)
    declared = yaml_task(tmp_path, languages=FIXTURE_LANGS)
    assert declared.episode_key("nusax-as-yaml") == declared.episode_key("another label") == "nusax"
    info, data = declared.info(), declared.target("javanese")
    a = build_episodes(declared.episode_key("nusax-as-yaml"), info, data, 1, 3, 4)
    b = build_episodes(declared.episode_key("x"), info, data, 1, 3, 4)
    assert [e.episode.support for e in a] == [e.episode.support for e in b]
    # the built-in default (the label) would have changed them: the key matters
    c = build_episodes("x", info, data, 1, 3, 4)
    assert [e.episode.support for e in a] != [e.episode.support for e in c]


def _suite(tmp_path: Path, tasks: list, name: str) -> Path:
    suite = {"name": name, "seeds": [0], "shots": [0, 2], "episodes": 2, "queries": 5,
             "budget": {"source_examples": 40, "adapt_examples": 40},
             "backbone": {"name": "ngram", "config": {"buckets": 4096, "hidden": 16}},
             "tasks": tasks, "methods": ["finetune", "majority"], "executor": {"name": "inline"}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def _scores(results: Path, name: str):
    (run_dir,) = store.run_dirs(results, name)
    frame = store.load([run_dir]).scores
    return frame.drop(columns=[c for c in ("run_id", "suite", "task") if c in frame]).sort_values(
        [c for c in ("method", "seed", "lang", "shots", "episode", "metric") if c in frame]).reset_index(drop=True)


def test_nusax_yaml_gives_the_builtin_scores(tmp_path):
    """Through the real runner: identical scores, and a relabelled YAML task scores the same."""
    data = tmp_path / "data"
    write_nusax(data)
    results = tmp_path / "results"
    builtin = {"name": "nusax", "config": {"target_langs": ["javanese", "sundanese"]}}
    declared = {"file": str(NUSAX_YAML), "label": "nusax-yaml", "config": {"languages": FIXTURE_LANGS}}
    for name, task in (("builtin", builtin), ("declared", declared)):
        assert main(["run", "--suite", str(_suite(tmp_path, [task], name)), "--results-dir", str(results),
                     "--data-dir", str(data)]) == 0
    a, b = _scores(results, "builtin"), _scores(results, "declared")
    assert len(a) == len(b) > 0
    assert a[["method", "lang", "shots", "episode", "metric"]].equals(b[["method", "lang", "shots", "episode", "metric"]])
    assert list(b["value"]) == pytest.approx(list(a["value"]), abs=1e-9)


def test_nusax_yaml_matches_builtin_on_the_real_data():
    root = real("nusax")
    over = {"caps": {"source": 120, "pool": 200, "test": 60}}
    builtin = NusaX(NusaX.Config(max_source_per_lang=120, max_pool_per_lang=200, max_test_per_lang=60), root)
    declared = yaml_task(root, **over)
    declared.validate()
    assert_same_task(builtin, declared, shots=(1, 5))


# -- strict specs ----------------------------------------------------------------------


def spec(**over) -> dict:
    base = {"name": "toy", "kind": "classification", "format": "tsv", "path": "{lang}/{split}.tsv",
            "fields": {"text": "text", "label": "label"},
            "languages": {"source": ["aa"], "target": ["bb"]}}
    return base | over


@pytest.mark.fault(area="preflight", case="typo in a task spec key", behaviour="exit 2 with did-you-mean")
@pytest.mark.parametrize("bad, message", [
    ({"fromat": "tsv"}, r"'fromat' \(did you mean 'format'\?\)"),
    ({"fields": {"txt": "text", "label": "label"}}, r"'txt' \(did you mean 'text'\?\)"),
    ({"languages": {"sources": ["aa"], "target": ["bb"]}}, r"'sources' \(did you mean 'source'\?\)"),
    ({"caps": {"test": 0}}, "caps.test must be a positive integer"),
    ({"kind": "ranking"}, "kind 'ranking' is not one of"),
    ({"format": "xml"}, "format 'xml' is not one of"),
    ({"path": "{language}/{split}.tsv"}, "must use {lang}"),
    ({"path": "{lang}.tsv"}, "add split_by_group"),
    ({"fields": {"text": "text"}}, r"needs fields.label"),
    ({"parallel": "id"}, r"needs fields.id"),
    ({"languages": {"source": ["aa"], "target": ["aa"]}}, "both source and target"),
    ({"languages": {"source": ["aa"], "dev": ["bb"], "target": ["bb"]}}, "both dev and target"),
    ({"languages": {"source": ["aa"]}}, "languages.target is empty"),
    ({"labels": ["x", "x"]}, "labels must be 2"),
])
def test_bad_specs_are_refused_before_reading(bad, message):
    with pytest.raises(SuiteError, match=message):
        parse_spec(spec(**bad), "toy.yaml")


@pytest.mark.fault(area="preflight", case="unknown key in a suite's YAML task", behaviour="exit 2 naming the key")
def test_suite_with_yaml_task_typo_exits_2(tmp_path, capsys):
    task = tmp_path / "toy.yaml"
    task.write_text(yaml.safe_dump(spec(lables=["a", "b"])))
    suite = _suite(tmp_path, [str(task)], "typo")
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "'lables' (did you mean 'labels'?)" in err and str(task) in err
    assert not (tmp_path / "r" / "typo").exists()


def test_dev_languages_are_kept_and_validated(tmp_path):
    data = _toy_tables(tmp_path, ("aa", "bb", "cc"))
    task = YamlTask(parse_spec(spec(root=str(data), languages={"source": ["aa"], "dev": ["cc"], "target": ["bb"]}), "t"))
    task.validate()
    assert task.config.languages.dev == ("cc",)
    dev = task.dev("cc")
    assert {ex.lang for ex in dev.pool + dev.test} == {"cc"} and dev.test
    assert "cc" not in task.info().target_langs
    with pytest.raises(DataError, match="unknown language"):
        YamlTask(parse_spec(spec(root=str(data), languages={"source": ["aa"], "dev": ["zz"], "target": ["bb"]}), "t")).validate()


# -- readers and data errors -----------------------------------------------------------


def _toy_tables(tmp_path: Path, langs=("aa", "bb"), fmt="tsv", bad_label_at: tuple[str, str, int] | None = None) -> Path:
    root = tmp_path / "toy"
    for lang in langs:
        for split, ids in (("train", range(0, 12)), ("dev", range(50, 56)), ("test", range(100, 112))):
            rows = [[f"{lang}-{split}-{i}", ("pos", "neg")[i % 2], f"{lang} {split} words {i} {('good', 'bad')[i % 2]}"]
                    for i in ids]
            if bad_label_at == (lang, split, 0):
                rows[3][1] = "neutral"
            path = root / lang / f"{split}.{fmt}"
            if fmt in ("csv", "tsv"):
                write_table(path, ["id", "label", "text"], rows, "," if fmt == "csv" else "\t")
            else:
                records = [{"id": r[0], "meta": {"label": r[1]}, "text": r[2]} for r in rows]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(json.dumps(r) for r in records) + "\n" if fmt == "jsonl"
                                else json.dumps({"rows": records}))
    return root


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_every_table_format_reads_the_same_items(tmp_path, fmt):
    root = _toy_tables(tmp_path, fmt=fmt)
    label = "label" if fmt in ("csv", "tsv") else "meta.label"
    extra = {"records": "rows"} if fmt == "json" else {}
    task = YamlTask(parse_spec(spec(format=fmt, root=str(root), path="{lang}/{split}." + fmt,
                                    fields={"text": "text", "label": label, "id": "id"}, **extra), "t"))
    task.validate()
    assert task.info().labels == ("neg", "pos")  # read from the data, sorted
    assert [ex.text for ex in task.target("bb").test][:2] == ["bb test words 100 good", "bb test words 101 bad"]
    assert task.source().train["aa"][0].item_id == "toy-aa-train-aa-train-0"


def test_labels_read_from_the_data_are_logged(tmp_path, capsys):
    task = YamlTask(parse_spec(spec(root=str(_toy_tables(tmp_path))), "t"))
    task.validate()
    assert "labels read from the data (sorted): ['neg', 'pos']" in capsys.readouterr().err


@pytest.mark.fault(area="data", case="YAML task label outside its label set", behaviour="exit 2 naming file and line")
def test_label_outside_the_declared_set_names_file_and_line(tmp_path):
    root = _toy_tables(tmp_path, bad_label_at=("bb", "test", 0))
    task = YamlTask(parse_spec(spec(root=str(root), labels=["neg", "pos"]), "t"))
    with pytest.raises(DataError, match=r"bb/test.tsv:5: label 'neutral' is not in the label set"):
        task.validate()


@pytest.mark.fault(area="data", case="YAML task names a missing column", behaviour="exit 2 naming file and header")
def test_missing_column_names_file(tmp_path):
    task = YamlTask(parse_spec(spec(root=str(_toy_tables(tmp_path)), fields={"text": "sentence", "label": "label"}), "t"))
    with pytest.raises(DataError, match=r"aa/train.tsv:1: missing column\(s\) \['sentence'\]"):
        task.validate()


@pytest.mark.fault(area="data", case="YAML task file missing", behaviour="exit 2 naming the file")
def test_missing_file_names_it(tmp_path):
    root = _toy_tables(tmp_path)
    (root / "bb" / "test.tsv").unlink()
    task = YamlTask(parse_spec(spec(root=str(root)), "t"))
    with pytest.raises(DataError, match=r"missing file .*bb/test.tsv"):
        task.validate()


@pytest.mark.fault(area="data", case="jsonl record missing a mapped field", behaviour="exit 2 naming file and line")
def test_jsonl_missing_field_names_line(tmp_path):
    root = _toy_tables(tmp_path, fmt="jsonl")
    path = root / "aa" / "train.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = json.dumps({"id": "x", "meta": {}, "text": "t"})
    path.write_text("\n".join(lines) + "\n")
    task = YamlTask(parse_spec(spec(format="jsonl", root=str(root), path="{lang}/{split}.jsonl",
                                    fields={"text": "text", "label": "meta.label"}), "t"))
    with pytest.raises(DataError, match=r"aa/train.jsonl:3: missing field 'meta.label'"):
        task.validate()


@pytest.mark.fault(area="preflight", case="non-parallel YAML task repeats a training text in a test set",
                   behaviour="exit 2 naming the items")
def test_duplicate_text_across_training_and_test_is_refused(tmp_path):
    root = _toy_tables(tmp_path)
    rows = (root / "aa" / "train.tsv").read_text().splitlines()
    test = (root / "bb" / "test.tsv").read_text().splitlines()
    test[4] = "dup\t" + rows[3].split("\t", 1)[1]  # a copy of a source training text
    (root / "bb" / "test.tsv").write_text("\n".join(test) + "\n")
    task = YamlTask(parse_spec(spec(root=str(root)), "t"))
    with pytest.raises(DataError, match=r"1 bb test item\(s\) repeat a source-training text"):
        task.validate()


@pytest.mark.fault(area="preflight", case="parallel YAML task whose test ids are in training",
                   behaviour="exit 2: leakage")
def test_parallel_ids_shared_between_training_and_test_are_refused(tmp_path):
    write_nusax(tmp_path)
    base = tmp_path / "nusax" / "datasets" / "sentiment"
    for lang in ("javanese", "sundanese"):  # the test split re-uses the train ids
        (base / lang / "test.csv").write_text((base / lang / "train.csv").read_text())
    with pytest.raises(DataError, match="split leaks test items into training"):
        yaml_task(tmp_path, languages=FIXTURE_LANGS).validate()


def test_example_task_specs_parse():
    for path in sorted((ROOT / "examples" / "tasks").glob("*.yaml")):
        entry = suite_entry(str(path), "<test>")
        assert entry["name"] == "yaml" and entry["config"]["name"]


def test_suite_accepts_path_file_entry_and_inline_task(tmp_path):
    task = tmp_path / "toy.yaml"
    task.write_text(yaml.safe_dump(spec(root="toy")))
    raw = {"name": "s", "methods": ["majority"], "tasks": [
        "toy.yaml", {"file": "toy.yaml", "label": "toy-b"}, {**spec(name="inline"), "root": "toy"}]}
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text(yaml.safe_dump(raw))
    from bench.suite import load_suite

    s = load_suite(str(suite_file))
    assert [t.label for t in s.tasks] == ["toy", "toy-b", "inline"]
    assert {t.name for t in s.tasks} == {"yaml"}
    assert s.tasks[0].config["root"] == str((tmp_path / "toy").resolve())
    # the resolved suite parses again (what a worker does with the manifest)
    again = parse_suite({**raw, "tasks": [{"name": t.name, "label": t.label, "config": t.config} for t in s.tasks]})
    assert again.tasks == s.tasks


@pytest.mark.fault(area="preflight", case="suite's YAML task names a column the files lack",
                   behaviour="exit 2 naming file and line, no run folder")
def test_run_with_a_bad_yaml_task_column_exits_2_before_any_work(tmp_path, capsys):
    root = _toy_tables(tmp_path)
    task = tmp_path / "toy.yaml"
    task.write_text(yaml.safe_dump(spec(root=str(root), fields={"text": "sentence", "label": "label"})))
    suite = _suite(tmp_path, [str(task)], "badcol")
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "r")]) == 2
    assert "aa/train.tsv:1: missing column(s) ['sentence']" in capsys.readouterr().err
    assert not (tmp_path / "r" / "badcol").exists()
