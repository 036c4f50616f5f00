"""Three language roles and `xlbench tune`: equal trials per method, on dev languages only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bench import store
from bench.cli import main
from bench.episodes import build_episodes
from bench.errors import DataError
from bench.method import Method
from bench.searchspace import Choice, IntRange, LogUniform, Uniform, sample
from bench.task import TargetData, Task, check_roles
from bench.types import Example, LanguageInfo, Prediction, SourceData, TaskInfo


@dataclass(frozen=True)
class RoleToyConfig:
    items: int = 24  # items per language and split


class RoleToy(Task):
    """Source ``src``, dev ``dv1``/``dv2``, targets ``tg1``/``tg2``. Every label is 0.

    Target data lives in ``<data_dir>/targets/<lang>.txt``: a test passes a data_dir without
    it, so any read of target data fails; dev data is generated in memory."""

    Config = RoleToyConfig
    kind = "classification"

    def info(self) -> TaskInfo:
        langs = ("src", "dv1", "dv2", "tg1", "tg2")
        return TaskInfo(name="roletoy", kind="classification", labels=("a", "b"),
                        source_langs=("src",), dev_langs=("dv1", "dv2"), target_langs=("tg1", "tg2"),
                        languages={lang: LanguageInfo(lang) for lang in langs})

    def _items(self, lang: str, prefix: str) -> tuple[Example, ...]:
        return tuple(Example(f"{prefix}{i}", lang, f"w x{i}", label=0) for i in range(self.config.items))

    def source(self) -> SourceData:
        return SourceData(self.info(), {"src": self._items("src", "train")})

    def dev(self, lang: str) -> TargetData:
        return TargetData(lang, self._items(lang, "pool"), self._items(lang, "dev"))

    def target(self, lang: str) -> TargetData:
        path = Path(self.data_dir or ".") / "targets" / f"{lang}.txt"
        if not path.is_file():
            raise DataError(f"roletoy: target file {path} is missing")
        return TargetData(lang, self._items(lang, "pool"), self._items(lang, "test"))


@dataclass(frozen=True)
class DialConfig:
    level: float = 0.0  # predicts label 0 (always right here) when level > 0.5, else label 1


class Dial(Method):
    """A method whose score is a step function of its one tunable field."""

    Config = DialConfig
    role = "meta"
    kinds = frozenset({"classification"})
    search_space = {"level": Uniform(0.0, 1.0)}

    def train(self, source, meter):
        while True:
            meter.step(8)

    def predict(self, episode, meter):
        meter.step(len(episode.support))
        return [Prediction(label=0 if self.config.level > 0.5 else 1) for _ in episode.query]


@dataclass(frozen=True)
class FlatConfig:
    bias: int = 1  # the label always predicted


class Flat(Method):
    """No search space: tuned over nothing (one trial, its defaults)."""

    Config = FlatConfig
    role = "meta"
    kinds = frozenset({"classification"})

    def train(self, source, meter):
        while True:
            meter.step(8)

    def predict(self, episode, meter):
        meter.step(len(episode.support))
        return [Prediction(label=self.config.bias) for _ in episode.query]


SUITE = {
    "name": "roles", "seeds": [0], "shots": [0, 2], "episodes": 2, "queries": 6,
    "budget": {"source_examples": 40, "adapt_examples": 100},
    "tasks": [{"name": "tests.test_tune:RoleToy", "label": "roletoy"}],
    "methods": [{"name": "tests.test_tune:Dial", "label": "Dial"}, {"name": "tests.test_tune:Flat", "label": "Flat"}],
    "executor": {"name": "inline"},
    "tuning": {"trials": 6, "episodes": 1, "shots": [2]},
}


def _suite(tmp_path: Path, **over) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(SUITE | over))
    return path


def _tune(tmp_path: Path, suite: Path, data: Path) -> dict:
    args = ["tune", "--suite", str(suite), "--results-dir", str(tmp_path / "results"), "--data-dir", str(data)]
    assert main(args) == 0
    return yaml.safe_load((suite.parent / "tuned" / "roles.yaml").read_text())


def test_tune_never_reads_target_data(tmp_path, capsys):
    """By construction: the task's target files are absent and tuning still succeeds; the
    run, which needs them, refuses before any work (so the files really are needed)."""
    suite, data = _suite(tmp_path), tmp_path / "data"
    data.mkdir()
    doc = _tune(tmp_path, suite, data)
    assert {e["method"] for e in doc["entries"]} == {"Dial", "Flat"}
    assert doc["dev_langs"] == {"roletoy": ["dv1", "dv2"]}
    (trial_run,) = store.run_dirs(tmp_path / "results", "roles~tune")
    cells = store.load([trial_run]).cells
    assert set(cells["lang"]) == {"dv1", "dv2"}  # only dev languages were evaluated
    langs = json.loads((trial_run / "languages.json").read_text())
    assert {r["role"] for r in langs} == {"source", "dev"}
    assert main(["report", "--results", str(trial_run), "--out", str(tmp_path / "trial-report")]) == 0
    assert "scores are on DEV languages" in (tmp_path / "trial-report" / "report.md").read_text()
    capsys.readouterr()
    args = ["run", "--suite", str(suite), "--results-dir", str(tmp_path / "results"), "--data-dir", str(data)]
    assert main(args) == 2
    assert "target file" in capsys.readouterr().err


def test_tuned_file_is_picked_up_by_run_and_reported(tmp_path, capsys):
    suite, data = _suite(tmp_path), tmp_path / "data"
    (data / "targets").mkdir(parents=True)
    for lang in ("tg1", "tg2"):
        (data / "targets" / f"{lang}.txt").write_text("present")
    doc = _tune(tmp_path, suite, data)
    dial = next(e for e in doc["entries"] if e["method"] == "Dial")
    flat = next(e for e in doc["entries"] if e["method"] == "Flat")
    assert dial["trials"] == 6 and len(dial["history"]) == 6 and dial["history"][0]["overrides"] == {}
    assert dial["overrides"]["level"] > 0.5 and dial["best"] == pytest.approx(100.0)
    assert flat["trials"] == 1 and flat["space"] == {} and flat["chosen"] == 0
    results = tmp_path / "results"
    assert main(["run", "--suite", str(suite), "--results-dir", str(results), "--data-dir", str(data)]) == 0
    (run_dir,) = store.run_dirs(results, "roles")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tuned = manifest["suite"]["tuned"]
    assert tuned["file"].endswith("tuned/roles.yaml")
    assert {e["method"]: e["trials"] for e in tuned["entries"]} == {"Dial": 6, "Flat": 1}
    scores = store.load([run_dir]).scores
    dial_acc = scores[(scores["method"] == "Dial") & (scores["metric"] == "accuracy")]["value"]
    assert set(dial_acc) == {100.0}  # the chosen level; the default (0.0) scores 0
    assert set(scores["lang"]) == {"tg1", "tg2"}
    out = tmp_path / "report"
    assert main(["report", "--results", str(run_dir), "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "trials per method: Dial 6, Flat 1" in md
    assert "Flat declares no search space: tuned over nothing" in md
    assert (out / "tables" / "tuning.md").is_file() and (out / "figures" / "tuning-trials.png").is_file()
    assert "Tuning" in (out / "index.html").read_text()
    # --no-tuned runs the defaults (a new run: the configs differ, so the fingerprint does)
    assert main(["run", "--suite", str(suite), "--results-dir", str(results), "--data-dir", str(data),
                 "--no-tuned", "--new-run"]) == 0
    untuned = [d for d in store.run_dirs(results, "roles") if d != run_dir]
    assert len(untuned) == 1
    s2 = store.load(untuned).scores
    assert set(s2[(s2["method"] == "Dial") & (s2["metric"] == "accuracy")]["value"]) == {0.0}


def test_every_method_gets_the_same_number_of_trials():
    from bench.suite import load_suite
    from bench.tune import plan

    for name in ("default", "real-cpu"):
        suite = load_suite(name)
        trial_suite, plans = plan(suite)
        counts = {p.method.label: len(p.overrides) for p in plans}
        spaced = {p.method.label for p in plans if p.space}
        assert spaced >= {"finetune", "logreg", "protonet", "maml", "reptile"}
        assert {counts[m] for m in spaced} == {suite.tuning.trials}
        assert all(counts[m] == 1 for m in set(counts) - spaced)  # majority, lead, overlap
        assert trial_suite.role == "dev" and len(trial_suite.methods) == sum(counts.values())
        assert all(p.overrides[0] == {} for p in plans)  # trial 0 = the defaults
        assert trial_suite.budgets == suite.budgets  # the same budget as the runs


def test_a_tiny_space_still_gives_exactly_the_trial_count():
    overrides = sample({"flag": Choice((True, False))}, 7, seed=3)
    assert len(overrides) == 7 and overrides[0] == {}
    draws = sample({"lr": LogUniform(1e-3, 1e-1), "steps": IntRange(1, 9, log=True)}, 12, seed=0)
    assert len(draws) == 12 and len({repr(sorted(d.items())) for d in draws}) == 12
    assert all(1e-3 <= d["lr"] <= 1e-1 and 1 <= d["steps"] <= 9 for d in draws[1:])
    assert sample({"lr": LogUniform(1e-3, 1e-1)}, 5, seed=0) == sample({"lr": LogUniform(1e-3, 1e-1)}, 5, seed=0)
    assert sample({}, 16, seed=0) == [{}]  # no space: one trial, the defaults


def test_a_plugin_with_only_a_declared_space_tunes(tmp_path, monkeypatch):
    """examples/nearest_centroid declares search_space and nothing else for tuning."""
    root = Path(__file__).resolve().parents[1] / "examples" / "nearest_centroid"
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(tmp_path)
    suite = tmp_path / "nc.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "nc", "backbone": {"name": "ngram", "config": {"buckets": 1024, "hidden": 16}},
        "seeds": [0], "shots": [1], "episodes": 1, "queries": 6,
        "budget": {"source_examples": 40, "adapt_examples": 40},
        "tasks": [{"name": "synth-topic", "config": {
            "n_train": 12, "n_pool": 12, "n_test": 6, "n_dev": 6,
            "targets": [{"code": "t1"}], "devs": [{"code": "d1", "replacement_rate": 0.2}]}}],
        "methods": ["xlbench_nearest_centroid.method:NearestCentroid"],
        "executor": {"name": "inline"}, "tuning": {"trials": 3, "episodes": 1},
    }))
    assert main(["tune", "--suite", str(suite), "--results-dir", str(tmp_path / "results")]) == 0
    doc = yaml.safe_load((tmp_path / "tuned" / "nc.yaml").read_text())
    (entry,) = doc["entries"]
    assert entry["trials"] == 3 and set(entry["space"]) == {"lr", "batch_size"}
    assert [h["status"] for h in entry["history"]] == ["done"] * 3
    assert all(set(h["overrides"]) == {"lr", "batch_size"} for h in entry["history"][1:])


def test_dev_and_test_episodes_differ():
    """The role is a seed input: the same data drawn as dev and as target gives different
    support and query sets; and synth dev episodes share no item with target tests."""
    from tasks.synth.topic import SynthTopic

    task = SynthTopic(SynthTopic.Config())
    info = task.info()
    data = task.target("t1")
    as_target = build_episodes("synth-topic", info, data, 5, 3, 20, "target")
    as_dev = build_episodes("synth-topic", info, data, 5, 3, 20, "dev")
    for t, d in zip(as_target, as_dev):
        assert [q.item_id for q in t.episode.query] != [q.item_id for q in d.episode.query]
        assert [s.item_id for s in t.episode.support] != [s.item_id for s in d.episode.support]
    assert [q.item_id for q in build_episodes("synth-topic", info, data, 5, 3, 20)[0].episode.query] == \
        [q.item_id for q in as_target[0].episode.query]  # "target" is the default role
    test_ids = {ex.item_id for lang in info.target_langs for ex in task.target(lang).test}
    source_ids = {ex.item_id for ex in task.source().all()}
    assert info.dev_langs == ("d1", "d2", "d3")
    for lang in info.dev_langs:
        dev = task.dev(lang)
        ids = {ex.item_id for ex in dev.test}
        assert ids and ids.isdisjoint(test_ids) and ids.isdisjoint(source_ids)
        assert ids.isdisjoint(ex.item_id for ex in dev.pool)
    assert set(info.languages) >= set(info.dev_langs)


@pytest.mark.fault(area="preflight", case="a language in two roles", behaviour="refused naming both roles")
def test_overlapping_roles_are_refused():
    info = TaskInfo("x", "classification", labels=("a",), source_langs=("s",), dev_langs=("t",), target_langs=("t",))
    with pytest.raises(DataError, match="'t' is both dev and target"):
        check_roles(info)
    check_roles(TaskInfo("x", "classification", source_langs=("s",), dev_langs=("d",), target_langs=("t",)))


@pytest.mark.fault(area="preflight", case="tuned file made from another config",
                   behaviour="run exits 2 naming the changed fields, suggests retune or --no-tuned")
def test_a_stale_tuned_file_is_refused(tmp_path, capsys):
    suite, data = _suite(tmp_path), tmp_path / "data"
    (data / "targets").mkdir(parents=True)
    for lang in ("tg1", "tg2"):
        (data / "targets" / f"{lang}.txt").write_text("present")
    _tune(tmp_path, suite, data)
    changed = _suite(tmp_path, methods=[{"name": "tests.test_tune:Dial", "label": "Dial", "config": {"level": 0.2}},
                                         SUITE["methods"][1]])
    capsys.readouterr()
    assert main(["run", "--suite", str(changed), "--results-dir", str(tmp_path / "results"),
                 "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert "level 0.0 -> 0.2" in err and "--no-tuned" in err


@pytest.mark.fault(area="preflight", case="tuning a task without dev languages",
                   behaviour="exits 2 before any work, says to set dev_langs")
def test_tuning_a_task_without_dev_languages_is_refused(tmp_path, capsys):
    suite = _suite(tmp_path, tasks=["tests.corefakes:ToyTask"], methods=["tests.corefakes:Echo"])
    assert main(["tune", "--suite", str(suite), "--results-dir", str(tmp_path / "results")]) == 2
    assert "no dev languages" in capsys.readouterr().err
    assert not (tmp_path / "results" / "roles~tune").exists()


def _real_tasks(root: Path, tmp: bool):
    from tasks.masakhanews import MasakhaNews
    from tasks.nusax import NusaX
    from tasks.sib200 import Sib200
    from tasks.xquad import XQuAD

    if tmp:
        return [
            (Sib200(Sib200.Config(source_langs=("eng_Latn",), target_langs=("hau_Latn", "amh_Ethi")), root),
             [root / "sib-200" / "data" / "annotated" / "hau_Latn", root / "sib-200" / "data" / "annotated" / "amh_Ethi"]),
            (NusaX(NusaX.Config(target_langs=("javanese", "sundanese")), root),
             [root / "nusax" / "datasets" / "sentiment" / "javanese", root / "nusax" / "datasets" / "sentiment" / "sundanese"]),
            (XQuAD(XQuAD.Config(target_langs=("de", "zh"), source_articles=3, pool_articles=1), root),
             [root / "xquad" / "xquad.de.json", root / "xquad" / "xquad.zh.json"]),
            (MasakhaNews(MasakhaNews.Config(source_langs=("ibo", "yor"), target_langs=("amh", "hau")), root),
             [root / "masakhane-news" / "data" / lang / f"{split}.tsv" for lang in ("amh", "hau") for split in ("dev", "test")]),
        ]
    return [(Sib200(Sib200.Config(), root), []), (NusaX(NusaX.Config(), root), []),
            (XQuAD(XQuAD.Config(), root), []), (MasakhaNews(MasakhaNews.Config(max_source_per_lang=200), root), [])]


def test_real_task_classes_tune_with_their_target_files_deleted(tmp_path):
    """SIB-200, NusaX, XQuAD and MasakhaNEWS (fixtures): with every target language's data
    files removed, the dev role validates and yields dev data; the target role fails."""
    import shutil

    from bench.task import evaluation_data
    from tests.realdata import write_masakhane, write_nusax, write_sib, write_xquad

    write_sib(tmp_path), write_nusax(tmp_path), write_xquad(tmp_path), write_masakhane(tmp_path)
    for task, target_files in _real_tasks(tmp_path, tmp=True):
        for path in target_files:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        task.validate("dev")
        for lang in task.info().dev_langs:
            data = evaluation_data(task, "dev", lang)
            assert data.test and data.pool
        with pytest.raises(DataError):
            task.validate("target")


def test_real_dev_splits_share_nothing_with_target_tests():
    """On the real data (skipped when absent): every task's default dev queries hold no
    target-test item id or article, nor a source-training one."""
    from tests.realdata import real

    for folder in ("sib-200", "nusax", "xquad", "masakhane-news"):
        real(folder)
    from tests.realdata import REAL

    for task, _ in _real_tasks(REAL, tmp=False):
        info = task.info()
        check_roles(info)
        assert info.dev_langs and set(info.dev_langs).isdisjoint(info.target_langs)
        task.validate("target")  # includes the dev/test leakage check
        source = {ex.item_id for ex in task.source().all()}
        tests = {ex.item_id for lang in info.target_langs for ex in task.target(lang).test}
        groups = {ex.group for lang in info.target_langs for ex in task.target(lang).test if ex.group}
        for lang in info.dev_langs:
            dev = task.dev(lang)
            ids = {ex.item_id for ex in dev.test}
            assert len(ids) >= 20, (info.name, lang, len(ids))
            assert ids.isdisjoint(tests) and ids.isdisjoint(source), (info.name, lang)
            assert groups.isdisjoint(ex.group for ex in dev.test if ex.group)


class LegacyValidate(RoleToy):
    """A task from before roles: its validate() reads everything and takes no role."""

    def validate(self) -> None:
        self.source()
        for lang in self.info().target_langs:
            self.target(lang)


@pytest.mark.fault(area="preflight", case="task validate() without a role",
                   behaviour="tune exits 2 before any work; run still validates it")
def test_a_task_whose_validate_takes_no_role_is_not_tuned(tmp_path, capsys):
    suite = _suite(tmp_path, tasks=[{"name": "tests.test_tune:LegacyValidate", "label": "legacy"}])
    assert main(["tune", "--suite", str(suite), "--results-dir", str(tmp_path / "results")]) == 2
    assert "without a 'role' parameter" in capsys.readouterr().err
    assert not (tmp_path / "results" / "roles~tune").exists()
