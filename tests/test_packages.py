"""The generic top-level names (bench, tasks, baselines) must import from this repo."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["bench", "tasks", "baselines"])
def test_package_imports_from_this_repo(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_import_bench_is_cheap():
    code = "import sys, bench, bench.cli, bench.types, bench.suite, bench.registry; " \
           "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_lazy_and_complete():
    """`from bench import ...` gives a plugin what it needs without importing torch until used."""
    code = ("import sys; from bench import Method, MethodRole, Meter, BudgetExhausted, EvalEpisode, "
            "Prediction, SourceData, Example, Query, TaskInfo, Budget, KINDS, Task, TargetData, "
            "source_episode, episode_langs, meta_batch_plan, language_batch; "
            "print(sorted(m for m in ('torch', 'transformers', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    import bench

    for name in bench.__all__:
        assert getattr(bench, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        bench.nope  # noqa: B018
