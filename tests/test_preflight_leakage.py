"""The runner checks "no parallel leakage" for every task in preflight, also for a plugin task
that never mentions leakage (docs/architecture.md, "The protocol")."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml

from bench.cli import main
from bench.task import TargetData, Task
from bench.types import Example, SourceData, TaskInfo

FAKE = "tests.fakeplugin"


@dataclass(frozen=True)
class LeakyConfig:
    leak: bool = True  # True: one source item id is also in the target test set


class LeakyTask(Task):
    """A plugin task whose validate() is the base class's (reads files, checks no leakage)."""

    Config = LeakyConfig
    kind = "classification"

    def info(self) -> TaskInfo:
        return TaskInfo(name="leaky", kind="classification", labels=("a", "b"),
                        source_langs=("src",), target_langs=("tgt",))

    def source(self) -> SourceData:
        items = tuple(Example(f"item{i}", "src", f"w{i}", label=i % 2) for i in range(8))
        return SourceData(self.info(), {"src": items})

    def target(self, lang: str) -> TargetData:
        pool = tuple(Example(f"pool{i}", lang, f"p{i}", label=i % 2) for i in range(6))
        first = "item3" if self.config.leak else "test0"  # item3 is a source-training item
        test = (Example(first, lang, "t0", label=0),) + tuple(
            Example(f"test{i}", lang, f"t{i}", label=i % 2) for i in range(1, 6))
        return TargetData(lang, pool, test)


def _suite(tmp_path, leak: bool):
    suite = {
        "name": "leaky", "seeds": [0], "shots": [2], "episodes": 1, "queries": 2,
        "budget": {"source_examples": 8, "adapt_examples": 10},
        "backbone": f"{FAKE}:FakeBackbone",
        "tasks": [{"name": f"{__name__}:LeakyTask", "label": "leaky", "config": {"leak": leak}}],
        "methods": [{"name": f"{FAKE}:FakeMethod", "label": "m"}],
        "executor": {"name": "inline"},
        "floors": False,
    }
    path = tmp_path / f"leaky-{leak}.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


@pytest.mark.fault(area="preflight", case="a plugin task leaks a source item into a target test set",
                   behaviour="exit 2 in preflight naming the leaked id; nothing is trained or written")
def test_leaking_plugin_task_exits_2_in_preflight(tmp_path, capsys):
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_suite(tmp_path, leak=True)), "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "leaks" in err and "item3" in err and "tgt" in err, err
    assert not list(results.glob("*/*/cells")) and not list(results.glob("*/*/manifest.json"))


def test_the_same_task_without_the_leak_runs(tmp_path):
    results = tmp_path / "results"
    assert main(["run", "--suite", str(_suite(tmp_path, leak=False)), "--results-dir", str(results)]) == 0
    assert len(list(results.glob("leaky/*/cells/*.json"))) == 1
