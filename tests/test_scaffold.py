"""bench.contract.scaffold / `xlbench new-method`: valid names, never overwrite, a skeleton that works."""

from __future__ import annotations

import importlib
import sys

import pytest
import tomllib

from bench.cli import main
from bench.contract.checks import failures, passed, run_checks
from bench.contract.scaffold import check_name, class_name, suggest_name, write_skeleton
from bench.errors import XlbenchError


def test_names_are_validated_with_a_suggestion():
    for bad, fix in (("My-Method", "my_method"), ("2shot", "m_2shot"), ("class", "class_"), ("a b", "a_b")):
        with pytest.raises(XlbenchError, match=f"Try '{fix}'"):
            check_name(bad)
        assert suggest_name(bad) == fix
    with pytest.raises(XlbenchError, match="already taken .*built-in"):
        check_name("finetune")
    check_name("nearest_centroid")
    assert class_name("nearest_centroid") == "NearestCentroid"


def test_writes_the_layout_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["new-method", "mymethod", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "xlbench-mymethod"
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == {
        "pyproject.toml", "README.md", "xlbench_mymethod/__init__.py", "xlbench_mymethod/method.py",
        "tests/test_mymethod.py"}
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "xlbench-mymethod"
    assert meta["project"]["dependencies"] == ["xlbench"]
    assert meta["project"]["entry-points"]["xlbench.methods"] == {"mymethod": "xlbench_mymethod.method:Mymethod"}
    before = (root / "xlbench_mymethod/method.py").read_text()
    (root / "xlbench_mymethod/method.py").write_text(before + "\n# my edits\n")
    assert main(["new-method", "mymethod", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (root / "xlbench_mymethod/method.py").read_text().endswith("# my edits\n")  # untouched
    assert main(["new-method", "Bad-Name", "--dir", str(tmp_path)]) == 2
    assert "Try 'bad_name'" in capsys.readouterr().err


def test_generated_method_passes_every_check(tmp_path, monkeypatch):
    root = write_skeleton("skel_check", tmp_path)
    monkeypatch.syspath_prepend(str(root))
    module = importlib.import_module("xlbench_skel_check.method")
    try:
        cls = module.SkelCheck
        config = cls.Config()
        assert config.adapt_steps > 0 and "adapt_lr" in cls.Config.__dataclass_fields__
        results = run_checks(cls)  # all three kinds
        assert passed(results), failures(results)
        assert sum(r.status == "PASS" for r in results) == 3 + 3 * 8  # class checks (config, role, kinds) + 8 per kind
        source = (root / "xlbench_skel_check/method.py").read_text()
        assert "#" in source.split("class SkelCheckConfig")[1].split("class SkelCheck(")[0]  # documented fields
    finally:
        for name in [m for m in sys.modules if m.startswith("xlbench_skel_check")]:
            del sys.modules[name]


def _imported_modules(path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_scaffold_and_worked_example_import_only_the_public_bench_api(tmp_path, monkeypatch, capsys):
    """A plugin needs nothing from the built-in packages: the generated method and the worked
    example import from ``bench`` only (never ``baselines`` or ``tasks``), and pass `xlbench check`."""
    from pathlib import Path

    root = write_skeleton("skel_api", tmp_path)
    example = Path(__file__).resolve().parents[1] / "examples" / "nearest_centroid"
    for path in [*root.rglob("*.py"), *example.rglob("*.py")]:
        ours = {m for m in _imported_modules(path) if m.split(".")[0] in {"bench", "baselines", "tasks"}}
        assert all(m.split(".")[0] == "bench" for m in ours), (path, ours)
    method_imports = _imported_modules(root / "xlbench_skel_api/method.py")
    assert "bench" in method_imports and not any(m.startswith("bench.") for m in method_imports)
    monkeypatch.syspath_prepend(str(root))
    try:
        assert main(["check", "xlbench_skel_api.method:SkelApi", "--task", "synth-topic"]) == 0
        assert "0 failed" in capsys.readouterr().out
    finally:
        for name in [m for m in sys.modules if m.startswith("xlbench_skel_api")]:
            del sys.modules[name]
