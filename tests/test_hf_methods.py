"""Every built-in method x every task kind on tiny random HF models (CPU, offline).

Each (method, kind) either trains on a tiny source set and predicts a tiny episode, or is
n/a with a reason. docs/architecture.md: an abstractive (seq2seq) backbone supports only
gradient-based methods; methods that classify unit embeddings (ProtoNet, logistic
regression) are n/a there — the backbone says so with ``is_generative()``.
"""

from __future__ import annotations

import pytest
from hfmodels import sentences, tiny_encoder_dir, tiny_seq2seq_dir

from bench import registry
from bench.backbones.hf import HFBackbone, HFConfig
from bench.backbones.seq2seq import Seq2SeqUnits
from bench.budget import Meter
from bench.seeding import generator
from bench.suite import instantiate
from bench.types import Answer, EvalEpisode, Example, SourceData, TaskInfo

#: Small budgets and episode sizes so each cell takes about a second.
SMALL = {
    "finetune": {"batch_size": 4, "adapt_steps": 2},
    "logreg": {"batch_size": 4, "max_iter": 5},
    "protonet": {"meta_batch": 2, "shots": 1, "queries": 1},
    "maml": {"meta_batch": 2, "shots": 1, "queries": 1, "inner_steps": 1, "adapt_steps": 2},
    "fomaml": {"first_order": True, "meta_batch": 2, "shots": 1, "queries": 1, "inner_steps": 1, "adapt_steps": 2},
    "reptile": {"meta_batch": 2, "inner_steps": 1, "batch": 2, "adapt_steps": 2},
}
GRADIENT_BASED = {"finetune", "maml", "fomaml", "reptile"}  # usable with a generative backbone
CELLS = [(kind, "encoder") for kind in ("classification", "qa", "summarization")] + [("summarization", "seq2seq")]


pytestmark = pytest.mark.usefixtures("one_thread_module")


def example(kind: str, i: int, lang: str, seed: int) -> Example:
    s = sentences(5, seed=seed * 1000 + i)
    if kind == "classification":
        return Example(f"{lang}{i}", lang, s[0], label=i % 3)
    if kind == "qa":
        context, answer = " ".join(s[:3]), " ".join(s[1].split()[:2])
        return Example(f"{lang}{i}", lang, context, question=s[4], answers=(Answer(answer, context.index(answer)),))
    return Example(f"{lang}{i}", lang, " ".join(s[:4]), summary=s[1], sentences=tuple(s[:4]))


def task(kind: str) -> tuple[TaskInfo, SourceData, EvalEpisode]:
    labels = ("a", "b", "c") if kind == "classification" else ()
    info = TaskInfo(f"tiny-{kind}", kind, labels=labels, source_langs=("xa", "xb"), target_langs=("xt",))  # type: ignore[arg-type]
    source = SourceData(info, {lang: tuple(example(kind, i, lang, j) for i in range(12)) for j, lang in enumerate(("xa", "xb"))})
    support = tuple(example(kind, i, "xt", 9) for i in range(3))
    query = tuple(example(kind, i, "xt", 9).as_query() for i in range(3, 7))
    return info, source, EvalEpisode(info, "xt", 1, 0, support, query)


@pytest.mark.parametrize("label", list(SMALL))
@pytest.mark.parametrize("kind,family", CELLS, ids=[f"{k}-{f}" for k, f in CELLS])
def test_method_kind_matrix(kind: str, family: str, label: str) -> None:
    path = tiny_encoder_dir() if family == "encoder" else tiny_seq2seq_dir()
    backbone = HFBackbone(HFConfig(model=path, max_length=32, max_target_length=8, device="cpu", offline=True))
    info, source, episode = task(kind)
    name = "maml" if label == "fomaml" else label
    cls = registry.resolve("method", name)
    reason = cls.not_applicable(info, episode.shots)
    if reason is None and backbone.is_generative() and label not in GRADIENT_BASED:
        reason = f"{cls.__name__} classifies unit embeddings; a generative (seq2seq) backbone has none"
    if reason is not None:
        assert family == "seq2seq" and label not in GRADIENT_BASED, reason  # only these are n/a
        assert isinstance(backbone.build(info, 0), Seq2SeqUnits)
        return
    method = cls(instantiate(cls, SMALL[label]), lambda: backbone.build(info, 0), info, generator("m", label))
    source_meter, adapt_meter = Meter("source", 24), Meter("adapt", 12)
    method.train(source, source_meter)
    preds = method.predict(episode, adapt_meter)
    assert 0 < source_meter.examples <= 24 and adapt_meter.examples <= 12
    assert len(preds) == len(episode.query)
    if kind == "classification":
        assert all(p.label in (0, 1, 2) for p in preds)
    else:
        assert all(isinstance(p.text, str) for p in preds)
        if kind == "qa":  # an extractive answer is a substring of its context
            assert all(p.text in q.text for p, q in zip(preds, episode.query))
