"""The seq2seq (mT5-like) summarizer: teacher-forced parity, generation with params, adaptation."""

from __future__ import annotations

import pytest
import torch
from hfmodels import sentences, tiny_seq2seq_dir

from bench.backbones.hf import HFBackbone, HFConfig
from bench.backbones.seq2seq import Seq2SeqUnits
from bench.types import Example, TaskInfo

HEADLINE = TaskInfo("headline", "summarization", summary_sentences=1)


pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.fixture(scope="module")
def model() -> Seq2SeqUnits:
    backbone = HFBackbone(HFConfig(model=tiny_seq2seq_dir(), max_length=48, max_target_length=16, device="cpu", offline=True))
    built = backbone.build(HEADLINE, 0)
    assert isinstance(built, Seq2SeqUnits)
    return built


def docs(n: int = 4) -> list[Example]:
    texts = sentences(2 * n, seed=5)
    return [Example(str(i), "sw", texts[2 * i], summary=" ".join(texts[2 * i + 1].split()[:3])) for i in range(n)]


def test_generative_units(model: Seq2SeqUnits) -> None:
    items = docs()
    support, query = model.featurize(items), model.featurize([e.as_query() for e in items])
    assert support.mask.shape[0] == 4 and support.mask.shape[1] > 0
    assert query.mask.shape == (4, 0)
    with pytest.raises(ValueError, match="predict"):
        model.trunk(model.params(), query)


def test_teacher_forced_logits_and_loss_equal_the_module(model: Seq2SeqUnits) -> None:
    items = docs()
    feats = model.featurize(items)
    (labels,) = model.targets(items, feats)
    out = model.s2s(input_ids=feats.x, attention_mask=feats.extra[0], labels=labels)
    logits = model.logits(model.params(), feats)
    assert logits[0].shape == out.logits.shape
    torch.testing.assert_close(logits[0], out.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model.loss(logits, [labels], feats), out.loss, rtol=1e-5, atol=1e-5)
    assert (labels[~feats.mask] == -100).all() and (labels[feats.mask] >= 0).all()


def test_predict_generates_with_the_given_params(model: Seq2SeqUnits) -> None:
    queries = [e.as_query() for e in docs()]
    feats = model.featurize(queries)
    preds = model.predict(model.params(), feats)
    want = model.s2s.generate(input_ids=feats.x, attention_mask=feats.extra[0], max_new_tokens=16, do_sample=False)
    assert [p.text for p in preds] == [t.strip() for t in model.tokenizer.batch_decode(want, skip_special_tokens=True)]
    other = {k: v + 0.5 * torch.randn_like(v) for k, v in model.params().items()}
    assert [p.text for p in model.predict(other, feats)] != [p.text for p in preds]
    assert all(torch.equal(v, model.params()[k]) for k, v in model.params().items())


def test_adaptation_learns_the_support_summaries(model: Seq2SeqUnits) -> None:
    from baselines.adapt import adapt
    from bench.budget import Meter

    items = docs(2)
    feats = model.featurize(items)
    targets = model.targets(items, feats)
    before = model.loss(model.logits(model.params(), feats), targets, feats)
    tuned = adapt(model, model.params(), items, Meter("adapt", 80), lr=2e-2, max_steps=40, optimizer="adam")
    after = model.loss(model.logits(tuned, feats), targets, feats)
    assert after < 0.3 * before
    preds = model.predict(tuned, model.featurize([e.as_query() for e in items]))
    untuned = model.predict(model.params(), model.featurize([e.as_query() for e in items]))
    assert [p.text.split()[:1] for p in preds] == [(e.summary or "").split()[:1] for e in items]
    assert [p.text for p in preds] != [p.text for p in untuned]


def test_meta_gradient_through_the_decoder(model: Seq2SeqUnits) -> None:
    items = docs(2)
    feats = model.featurize(items)
    targets = model.targets(items, feats)

    def loss(p):  # type: ignore[no-untyped-def]
        return model.loss(model.logits(p, feats), targets, feats)

    params = {k: v.detach() for k, v in model.params().items()}

    def outer(p):  # type: ignore[no-untyped-def]
        g = torch.func.grad(loss)(p)
        return loss({k: p[k] - 0.1 * g[k] for k in p})

    meta = torch.func.grad(outer)(params)
    assert set(meta) == set(model.adapted_names())
    assert "s2s.shared.weight" in meta and meta["s2s.shared.weight"].abs().sum() > 0
