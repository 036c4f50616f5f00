import pytest

from bench import registry
from bench.errors import UnknownNameError, XlbenchError


def test_builtin_backbone_table_and_module_path():
    assert registry.resolve("method", "bench.budget:Meter").__name__ == "Meter"
    assert "ngram" in registry.entries("backbone")


def test_unknown_name_suggests_and_lists():
    with pytest.raises(UnknownNameError) as err:
        registry.resolve("backbone", "ngrm")
    msg = str(err.value)
    assert "'ngram'" in msg and "Known backbones" in msg and "xlbench.backbones" in msg


def test_bad_module_path_is_clear():
    with pytest.raises(UnknownNameError, match="not importable"):
        registry.resolve("method", "no_such_module_xyz:Thing")
    with pytest.raises(UnknownNameError, match="has no attribute 'Nope'"):
        registry.resolve("method", "bench.budget:Nope")


def test_broken_module_shows_its_traceback(tmp_path, monkeypatch):
    (tmp_path / "broken_plugin_mod.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(XlbenchError) as err:
        registry.resolve("method", "broken_plugin_mod:Method")
    assert "boom at import" in str(err.value) and "Traceback" in str(err.value)
