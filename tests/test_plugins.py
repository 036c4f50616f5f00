"""Plugins through entry points: an installed plugin runs end to end; a broken one is
named with its traceback and breaks nothing else; a plugin may not shadow a built-in."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from bench import registry
from bench.cli import main
from bench.contract.scaffold import write_skeleton
from bench.errors import XlbenchError

TINY_TASK = """\
  - name: synth-topic
    config:
      n_topics: 3
      n_train: 40
      n_pool: 10
      n_test: 10
      sources: [{code: s1, replacement_rate: 0.05, sound_changes: 1}]
      targets: [{code: t1, replacement_rate: 0.1, sound_changes: 2}]
"""


def tiny_suite(path: Path, methods: list[str]) -> Path:
    """A one-language, one-seed, one-episode suite (seconds): the runner end to end."""
    path.write_text(textwrap.dedent(f"""\
        name: {path.stem}
        backbone: {{name: ngram, config: {{buckets: 4096, dim: 16, hidden: 32}}}}
        seeds: [0]
        shots: [2]
        episodes: 1
        queries: 8
        budget: {{source_examples: 96, adapt_examples: 60}}
        executor: inline
        methods: [{', '.join(methods)}]
        tasks:
        """) + TINY_TASK)
    return path


def fake_dist(root: Path, dist: str, entry_points: str, modules: dict[str, str]) -> Path:
    """An installed distribution as importlib.metadata sees it: a dist-info on sys.path."""
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for name, text in modules.items():
        (root / f"{name}.py").write_text(text)
    return root


@pytest.fixture
def broken_plugin(tmp_path, monkeypatch):
    root = fake_dist(tmp_path / "site", "xlbench-brokenplug",
                     "[xlbench.methods]\nbrokenplug = brokenplug_mod:Broken\n",
                     {"brokenplug_mod": "import math\nraise ImportError('brokenplug needs libfoo 2.0')\n"})
    monkeypatch.syspath_prepend(str(root))
    return root


def test_broken_plugin_is_named_with_its_traceback(broken_plugin):
    with pytest.raises(XlbenchError) as err:
        registry.resolve("method", "brokenplug")
    msg = str(err.value)
    assert "'brokenplug'" in msg and "brokenplug_mod:Broken" in msg
    assert "Traceback" in msg and "brokenplug needs libfoo 2.0" in msg and "brokenplug_mod.py" in msg
    assert "remove 'brokenplug' from the suite" in msg


def test_broken_plugin_leaves_list_check_and_other_runs_working(broken_plugin, tmp_path, capsys):
    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    assert "brokenplug (plugin xlbench-brokenplug)" in out and "finetune" in out
    assert main(["check", "brokenplug"]) == 2
    err = capsys.readouterr().err
    assert "brokenplug needs libfoo 2.0" in err and "Traceback" in err
    suite = tiny_suite(tmp_path / "nobroken.yaml", ["majority"])
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "results")]) == 0
    assert list((tmp_path / "results" / "nobroken").glob("*/manifest.json"))
    suite = tiny_suite(tmp_path / "withbroken.yaml", ["majority", "brokenplug"])
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "results")]) == 2  # preflight
    assert "brokenplug needs libfoo 2.0" in capsys.readouterr().err
    assert not (tmp_path / "results" / "withbroken").exists()


def test_plugin_may_not_shadow_a_builtin(tmp_path, monkeypatch):
    root = fake_dist(tmp_path / "site", "xlbench-shadow", "[xlbench.methods]\nfinetune = shadow_mod:FineTune\n",
                     {"shadow_mod": "raise RuntimeError('never imported')\n"})
    monkeypatch.syspath_prepend(str(root))
    with pytest.raises(XlbenchError, match="'finetune' is defined twice.*built-in.*xlbench-shadow"):
        registry.resolve("method", "majority")
    assert main(["list", "methods"]) == 2


def _plugin_venv(tmp_path: Path) -> Path:
    """A fresh venv that sees this environment's packages (xlbench, torch) through a .pth."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib, "_xlbench_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return venv


def test_generated_plugin_installs_checks_and_runs_in_a_venv(tmp_path):
    """new-method -> pip install -e -> xlbench check -> a suite naming it (about 30-60 s)."""
    folder = write_skeleton("plugdemo", tmp_path)
    venv = _plugin_venv(tmp_path)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q",
                    "--no-deps", "--no-build-isolation", "--no-index", "-e", str(folder)],
                   check=True, env=env, cwd=tmp_path)
    py = str(venv / "bin/python")

    def xlbench(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([py, "-m", "bench.cli", *args], capture_output=True, text=True, cwd=tmp_path, env=env)

    listed = xlbench("list", "methods")
    assert listed.returncode == 0 and "plugdemo (plugin xlbench-plugdemo)" in listed.stdout, listed
    checked = xlbench("check", "plugdemo", "--task", "synth-topic")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 failed" in checked.stdout and checked.stdout.count("PASS") == 11
    suite = tiny_suite(tmp_path / "plugsuite.yaml", ["majority", "plugdemo"])
    ran = xlbench("run", "--suite", str(suite), "--results-dir", str(tmp_path / "results"))
    assert ran.returncode == 0, ran.stderr
    exported = xlbench("results", "--suite", "plugsuite", "--results-dir", str(tmp_path / "results"), "--table", "cells")
    assert exported.returncode == 0 and "plugdemo" in exported.stdout and "majority" in exported.stdout, exported
    # the main environment does not see the plugin: it was installed into the venv only
    with pytest.raises(XlbenchError, match="unknown method 'plugdemo'"):
        registry.resolve("method", "plugdemo")


def test_worked_example_keeps_the_contract(monkeypatch):
    """examples/nearest_centroid (the README's worked example) passes every check."""
    from bench.contract.checks import failures, passed, run_checks

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "examples" / "nearest_centroid"))
    from xlbench_nearest_centroid.method import NearestCentroid

    results = run_checks(NearestCentroid)
    assert passed(results), failures(results)
    assert sum(r.status == "PASS" for r in results) == 3 + 3 * 8  # class checks (config, role, kinds) + 8 per kind
