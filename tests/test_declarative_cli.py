"""``xlbench new-task`` / ``check-task``, the plugin skeleton, and the README's "Add a dataset"
example run verbatim."""

from __future__ import annotations

import dataclasses
import re
import shlex

import pytest
import yaml

from bench.cli import main
from tasks import taskspec
from tests.realdata import real
from tests.test_declarative import ROOT


def test_new_task_comments_every_field_and_checks(tmp_path, capsys):
    assert main(["new-task", "mysent", "--dir", str(tmp_path)]) == 0
    folder = tmp_path / "mysent"
    text = (folder / "mysent.yaml").read_text()
    nested = {"fields": taskspec.Fields, "languages": taskspec.Languages, "splits": taskspec.Splits,
              "split_by_group": taskspec.GroupSplit, "caps": taskspec.Caps}
    for f in dataclasses.fields(taskspec.YamlTaskConfig):
        line = next((l for l in text.splitlines() if re.match(rf"^#? ?{f.name}:", l)), None)
        assert line is not None and "#" in line.split(":", 1)[1] or f.name in nested, f.name
    for key, cls in nested.items():
        for sub in dataclasses.fields(cls):
            assert re.search(rf"\b{sub.name}\b", text), f"{key}.{sub.name} is not documented"
    capsys.readouterr()
    assert main(["check-task", str(folder / "mysent.yaml")]) == 0
    out = capsys.readouterr().out
    assert "source src_a train: 30 (health 10, music 10, sports 10)" in out
    assert "dev dev_c pool: 30" in out and "target tgt_e pool: 30" in out
    assert "target test: item ids identical in all 2 languages" in out
    assert "leakage: PASS" in out and "episode preview (tgt_d, K=1, episode 0): 3 support" in out


@pytest.mark.fault(area="preflight", case="new-task over an existing folder or a taken name", behaviour="exit 2, nothing written")
def test_new_task_refuses_existing_folder_and_taken_names(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    assert main(["new-task", "mine", "--dir", str(tmp_path)]) == 2
    assert main(["new-task", "nusax", "--dir", str(tmp_path)]) == 2
    assert main(["new-task", "My-Task", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "already taken" in err and "Try 'my_task'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_plugin_skeleton_runs_as_a_task(tmp_path, monkeypatch):
    assert main(["new-task", "plug", "--dir", str(tmp_path)]) == 0
    monkeypatch.syspath_prepend(str(tmp_path / "plug"))
    from bench.runner import build_task
    from bench.suite import parse_suite

    suite = parse_suite({"name": "p", "methods": ["majority"],
                         "tasks": [{"file": str(tmp_path / "plug" / "plug.yaml"), "class": "plug_plugin:PlugTask"}]})
    task = build_task(suite.tasks[0], None)
    assert type(task).__name__ == "PlugTask"
    task.validate()
    assert len(task.target("tgt_d").test) == 30


@pytest.mark.fault(area="preflight", case="check-task on a YAML task whose test set is in training",
                   behaviour="exit 2 naming the leak")
def test_check_task_refuses_a_leaking_task(tmp_path, capsys):
    assert main(["new-task", "leaky", "--dir", str(tmp_path)]) == 0
    data = tmp_path / "leaky" / "data"
    for lang in ("tgt_d", "tgt_e"):
        (data / lang / "test.tsv").write_text((data / "src_a" / "train.tsv").read_text())
    capsys.readouterr()
    assert main(["check-task", str(tmp_path / "leaky" / "leaky.yaml")]) == 2
    assert "split leaks test items into training: 30 source item id(s) in the tgt_d test set" in capsys.readouterr().err


#: MasakhaNEWS read in full takes 1-2 minutes (every article hashed, headlines split into
#: sentences); its tests check two languages of each role. Measured in full, by hand:
#: `xlbench check-task masakhanews --data-dir ../shared/data` (53 s, exit 0).
FEWER = ["--config", "source_langs=[ibo, yor]", "--config", "target_langs=[amh, hau]",
         *(f"--config=max_{role}_per_lang=60" for role in ("source", "pool", "test"))]


@pytest.mark.parametrize("name, extra", [("nusax", []), ("sib200", []), ("xquad", []),
                                         ("masakhanews", FEWER), ("masakhanews_headline", FEWER)])
def test_check_task_on_each_shared_dataset(name, extra, capsys):
    folder = {"nusax": "nusax", "sib200": "sib-200", "xquad": "xquad"}.get(name, "masakhane-news")
    root = real(folder)
    assert main(["check-task", name, "--data-dir", str(root), *extra]) == 0
    out = capsys.readouterr().out
    assert re.search(r"target \S+ pool: \d+.*; test: \d+", out) and "leakage: PASS" in out
    assert "episode preview" in out


def test_check_task_on_the_shipped_nusax_yaml(capsys):
    root = real("nusax")
    assert main(["check-task", str(ROOT / "examples" / "tasks" / "nusax.yaml"), "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "target toba_batak pool: 500 (negative 192, neutral 119, positive 189); test: 400" in out
    capsys.readouterr()
    assert main(["check-task", str(ROOT / "examples" / "tasks" / "nusax.yaml"), "--data-dir", str(root),
                 "--config", "caps={test: 50}", "--config", "languages={source: [english], target: [ngaju]}"]) == 0
    out = capsys.readouterr().out
    assert "target ngaju pool: 500" in out and "; test: 50 (" in out and "indonesian" not in out


def readme_block(heading: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    block = section[section.index("```bash\n") + 8:]
    block = block[: block.index("```")]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_add_a_dataset_runs_verbatim(tmp_path, monkeypatch, capsys):
    """The README's first "Add a dataset" block, command by command, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    commands = readme_block("## Add a dataset")
    assert [c.split()[:2] for c in commands] == [["xlbench", "new-task"], ["xlbench", "check-task"],
                                                  ["xlbench", "run"], ["xlbench", "report"]]
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    assert (tmp_path / "reports" / "mysent" / "index.html").is_file()
    table = (tmp_path / "reports" / "mysent" / "tables" / "main-classification.md").read_text()
    assert "finetune" in table and "majority" in table


def test_example_nusax_suite_names_the_yaml_task():
    from bench.suite import load_suite

    suite = load_suite(str(ROOT / "examples" / "nusax-yaml.yaml"))
    assert suite.tasks[0].name == "yaml" and suite.tasks[0].config["name"] == "nusax"
    assert yaml.safe_load((ROOT / "examples" / "tasks" / "nusax.yaml").read_text())["parallel"] == "id"


def test_readme_nusax_yaml_is_the_shipped_file():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("**Worked example: NusaX as YAML.**"):]
    block = section[section.index("```yaml\n") + 8:]
    shown = yaml.safe_load(block[: block.index("```")])
    assert shown == yaml.safe_load((ROOT / "examples" / "tasks" / "nusax.yaml").read_text())
