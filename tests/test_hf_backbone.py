"""The hf backbone's preflight, loading errors, devices and seeding (offline, tiny models)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hfmodels import tiny_encoder_dir, tiny_seq2seq_dir

from bench.backbones.hf import HFBackbone
from bench.backbones.hf_runtime import DeviceOOM, HFConfig, oom_guard, resolve_device
from bench.errors import XlbenchError
from bench.types import TaskInfo

CLS = TaskInfo("topic", "classification", labels=("a", "b", "c"))
MISSING = "xlbench-tests/no-such-model"


pytestmark = pytest.mark.usefixtures("one_thread_module")


def test_preflight_local_path_loads_nothing() -> None:
    pre = HFBackbone(HFConfig(model=tiny_encoder_dir())).validate()
    assert pre.location == "path" and pre.generative is False
    assert HFBackbone(HFConfig(model=tiny_seq2seq_dir())).validate().generative is True


def test_preflight_uncached_hub_id_is_pending_with_download_hint() -> None:
    pre = HFBackbone(HFConfig(model=MISSING, revision="abc123")).validate()
    assert pre.location == "pending"
    assert f"hf download {MISSING} --revision abc123" in pre.detail
    assert "HF_HUB_OFFLINE=1" in pre.detail
    assert HFBackbone(HFConfig(model="google/mt5-small")).validate().generative is True


@pytest.mark.parametrize(
    "bad",
    [
        {"stride": 200, "max_length": 256},
        {"pooling": "max"},
        {"device": "tpu"},
        {"dtype": "float16"},
        {"max_length": 8},
        {"num_beams": 0},
    ],
)
def test_invalid_config_is_one_helpful_error(bad: dict) -> None:
    # HFConfig itself refuses it (bench.configcheck), so preflight catches it before any load
    with pytest.raises(XlbenchError, match=r"hf:|HFConfig: field"):
        HFBackbone(HFConfig(model=tiny_encoder_dir(), **bad)).validate()


def test_unreachable_hub_id_offline_is_one_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(XlbenchError) as err:
        HFBackbone(HFConfig(model=MISSING, offline=True)).build(CLS, 0)
    msg = str(err.value)
    assert MISSING in msg and "hf download" in msg and "local directory" in msg


def test_local_path_problems(tmp_path: Path) -> None:
    with pytest.raises(XlbenchError, match="config.json"):
        HFBackbone(HFConfig(model=str(tmp_path))).validate()
    with pytest.raises(XlbenchError, match="not a directory"):
        HFBackbone(HFConfig(model=str(tmp_path / "nope"))).validate()


def test_generative_checkpoint_refuses_non_summarization_kinds() -> None:
    with pytest.raises(XlbenchError, match="abstractive summarization only"):
        HFBackbone(HFConfig(model=tiny_seq2seq_dir(), offline=True)).build(CLS, 0)


def test_same_seed_same_weights_and_heads_from_the_seed() -> None:
    backbone = HFBackbone(HFConfig(model=tiny_encoder_dir(), device="cpu"))
    a, b, c = backbone.build(CLS, 0), backbone.build(CLS, 0), backbone.build(CLS, 1)
    pa, pb, pc = a.params(), b.params(), c.params()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert all(torch.equal(pa[k], pc[k]) for k in pa if k.startswith("encoder."))
    assert not torch.equal(pa["head.0.weight"], pc["head.0.weight"])
    with torch.no_grad():  # builds are independent copies
        a.encoder.embeddings.word_embeddings.weight.add_(1.0)
    assert torch.equal(backbone.build(CLS, 0).params()["head.0.weight"], pb["head.0.weight"])
    assert not torch.equal(a.params()["encoder.embeddings.word_embeddings.weight"], pb["encoder.embeddings.word_embeddings.weight"])


def test_freeze_embeddings_and_no_pooler() -> None:
    model = HFBackbone(HFConfig(model=tiny_encoder_dir(), freeze_embeddings=True)).build(CLS, 0)
    names = model.adapted_names()
    assert "head.0.weight" in names and not any("word_embeddings" in n for n in names)
    assert not any("pooler" in n for n in model.params())


def test_devices_and_oom() -> None:
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(XlbenchError, match="CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(DeviceOOM, match="out of memory") as err:
        with oom_guard("m", torch.device("cpu"), (4, 512)):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
    assert isinstance(err.value, XlbenchError) and "gradient_checkpointing" in str(err.value)


def test_registry_names_resolve() -> None:
    from bench import registry
    from bench.backbones.hf import Seq2SeqBackbone

    assert registry.resolve("backbone", "hf") is HFBackbone
    assert registry.resolve("backbone", "hf-seq2seq") is Seq2SeqBackbone
    assert Seq2SeqBackbone(HFConfig(model="some/encoder-name")).validate().generative is True


def test_xtreme_gpu_suite_parses_and_preflights_offline() -> None:
    from bench.runner import build_backbone
    from bench.suite import load_suite

    suite = load_suite("xtreme-gpu")
    assert [m.label for m in suite.methods] == ["finetune", "logreg", "protonet", "maml", "fomaml", "reptile"]
    pre = {t.label: build_backbone(t).validate() for t in suite.tasks}
    assert pre["masakhanews_headline"].generative is True and pre["masakhanews_headline"].model == "google/mt5-small"
    assert all(p.generative is False for label, p in pre.items() if label != "masakhanews_headline")
    assert all(p.location in ("cache", "pending") for p in pre.values())
