"""The HF encoder UnitModel on a tiny random XLM-R: parity, meta-gradients, each kind."""

from __future__ import annotations

import pytest
import torch
from hfmodels import sentences, tiny_encoder_dir

from bench.backbones.base import UnitModel
from bench.backbones.hf import HFBackbone, HFConfig
from bench.errors import XlbenchError
from bench.types import Answer, Example, Query, TaskInfo

CLS = TaskInfo("topic", "classification", labels=("a", "b", "c"))
QA = TaskInfo("qa", "qa", max_answer_tokens=6)
SUM = TaskInfo("sum", "summarization", summary_sentences=2)


pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.fixture(scope="module")
def backbone() -> HFBackbone:
    return HFBackbone(HFConfig(model=tiny_encoder_dir(), max_length=32, stride=8, device="cpu", offline=True))


def cls_examples(n: int = 6) -> list[Example]:
    return [Example(str(i), "en", s, label=i % 3) for i, s in enumerate(sentences(n, seed=1))]


def test_functional_trunk_equals_module_forward(backbone: HFBackbone) -> None:
    model = backbone.build(CLS, 0)
    items = cls_examples()
    feats = model.featurize([ex.as_query() for ex in items])
    out = model.encoder(input_ids=feats.x, attention_mask=feats.extra[0]).last_hidden_state
    torch.testing.assert_close(model.trunk(model.params(), feats), out[:, :1], rtol=1e-5, atol=1e-6)
    shifted = {k: v + 0.01 * torch.randn_like(v) for k, v in model.params().items()}
    moved = backbone.build(CLS, 0)
    moved.load_state_dict(shifted)
    want = moved.encoder(input_ids=feats.x, attention_mask=feats.extra[0]).last_hidden_state[:, :1]
    torch.testing.assert_close(model.trunk(shifted, feats), want, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(want, out[:, :1], atol=1e-4)


def test_torch_func_maml_meta_gradient_equals_naive_loop(backbone: HFBackbone) -> None:
    model = backbone.build(CLS, 0)
    data = cls_examples(12)
    tasks = []
    for t in range(2):
        sup, qry = data[6 * t : 6 * t + 3], data[6 * t + 3 : 6 * t + 6]
        fs, fq = model.featurize(sup), model.featurize(qry)
        tasks.append((fs, model.targets(sup, fs), fq, model.targets(qry, fq)))
    lr, steps = 0.1, 2

    def loss(p, feats, targets):  # type: ignore[no-untyped-def]
        return model.loss(model.logits(p, feats), targets, feats)

    params = {k: v.detach() for k, v in model.params().items()}

    def outer(p):  # type: ignore[no-untyped-def]
        total = 0.0
        for fs, ts, fq, tq in tasks:
            fast = p
            for _ in range(steps):
                g = torch.func.grad(loss)(fast, fs, ts)
                fast = {k: fast[k] - lr * g[k] for k in fast}
            total = total + loss(fast, fq, tq)
        return total

    meta = torch.func.grad(outer)(params)

    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    naive = {k: torch.zeros_like(v) for k, v in params.items()}
    for fs, ts, fq, tq in tasks:
        fast = dict(leaves)
        for _ in range(steps):
            grads = torch.autograd.grad(loss(fast, fs, ts), list(fast.values()), create_graph=True)
            fast = {k: v - lr * g for (k, v), g in zip(fast.items(), grads)}
        for k, g in zip(leaves, torch.autograd.grad(loss(fast, fq, tq), list(leaves.values()))):
            naive[k] += g
    assert set(meta) == set(naive)
    for k in meta:
        torch.testing.assert_close(meta[k], naive[k], atol=1e-5, rtol=1e-4, msg=k)
    assert any(meta[k].abs().sum() > 0 for k in meta if k.startswith("encoder.embeddings"))


@pytest.mark.parametrize("info", [CLS, QA, SUM], ids=lambda i: i.kind)
def test_every_adapted_parameter_gets_a_gradient(backbone: HFBackbone, info: TaskInfo) -> None:
    model = backbone.build(info, 0)
    items = {"classification": cls_examples(3), "qa": qa_examples(), "summarization": sum_examples()}[info.kind]
    feats = model.featurize(items)
    params = model.adapted()
    loss = model.loss(model.logits({**model.params(), **params}, feats), model.targets(items, feats), feats)
    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    unused = [k for k, g in zip(params, grads) if g is None]
    assert not unused and torch.isfinite(loss)


def test_classification_shapes_pairs_and_training(backbone: HFBackbone) -> None:
    model = backbone.build(CLS, 0)
    items = cls_examples(6)
    feats = model.featurize(items)
    assert feats.mask.shape == (6, 1) and model.trunk(model.params(), feats).shape == (6, 1, 32)
    targets = model.targets(items, feats)
    assert targets[0].tolist() == [[ex.label] for ex in items]
    from baselines.adapt import adapt
    from bench.budget import Meter

    meter = Meter("adapt", 6 * 40)
    before = model.loss(model.logits(model.params(), feats), targets, feats)
    tuned = adapt(model, model.params(), items, meter, lr=3e-3, max_steps=40, optimizer="adam")
    after = model.loss(model.logits(tuned, feats), targets, feats)
    assert meter.examples == 240 and after < 0.5 * before
    assert [p.label for p in model.predict(tuned, model.featurize([e.as_query() for e in items]))] == [e.label for e in items]
    pair = model.featurize([Query("p", "en", "the cat sat", question="le chat est")])
    assert int(pair.extra[0].sum()) > len("the cat sat".split()) + 3


def qa_examples() -> list[Example]:
    filler = " ".join(sentences(4, seed=7))
    context = f"{filler} the answer is market price rises in the city"
    ans = "market price"
    return [
        Example("q0", "en", context, question="what rises", answers=(Answer(ans, context.index(ans)),)),
        Example("q1", "en", "le chat est sur le tapis", question="ou est le chat", answers=(Answer("le tapis", 15),)),
    ]


def test_qa_long_context_answer_in_the_second_window(backbone: HFBackbone) -> None:
    model = backbone.build(QA, 0)
    items = qa_examples()
    feats = model.featurize(items)
    n, w, t = feats.x.shape
    assert n == 2 and w >= 2 and feats.mask.shape == (2, w * t)
    assert not feats.mask[1, t:].any() and not feats.extra[0][1, 1:].any()  # short item: one window
    start, end = model.targets(items, feats)
    first = int(start[0].argmax())
    assert first >= t  # the answer is whole only in a later window
    assert ((start == 1).sum(1) == 1).all() and (start[~feats.mask] == -100).all()
    offs = feats.spans[0].offsets[first // t][first % t]
    assert items[0].text[offs[0] :].startswith("market")
    # logits that point at the targets decode to the gold answer texts, across windows
    logits = [torch.stack([torch.zeros_like(tg.float()), tg.float().clamp_min(0) * 20], -1) for tg in (start, end)]
    assert [p.text for p in model.decode(logits, feats)] == ["market price", "le tapis"]
    assert model.loss(logits, [start, end], feats) < 1e-3
    real = model.logits(model.params(), model.featurize([e.as_query() for e in items]))
    assert [r.shape for r in real] == [(2, w * t, 2)] * 2
    assert all(isinstance(p.text, str) and p.text for p in model.decode(real, feats))
    assert torch.isfinite(model.loss(real, [start, end], feats))
    # the same windows, one by one through the module's own forward
    h = model.trunk(model.params(), feats)
    own = model.encoder(input_ids=feats.x[0, 1:2], attention_mask=feats.extra[0][0, 1:2]).last_hidden_state
    torch.testing.assert_close(h[0, t : 2 * t], own[0], rtol=1e-5, atol=1e-5)


def sum_examples() -> list[Example]:
    sents = tuple(sentences(5, seed=3))
    return [
        Example("d0", "en", " ".join(sents), summary=f"{sents[1]} {sents[3]}", sentences=sents),
        Example("d1", "en", sents[0], summary=sents[0], sentences=(sents[0],)),
    ]


def test_extractive_summarization_units_targets_decode(backbone: HFBackbone) -> None:
    model = backbone.build(SUM, 0)
    items = sum_examples()
    feats = model.featurize(items)
    pool = feats.extra[2]
    assert pool.shape[:2] == (2, 5) and feats.mask[1].tolist() == [True, False, False, False, False]
    torch.testing.assert_close(pool.sum(-1)[feats.mask], torch.ones(int(feats.mask.sum())), rtol=1e-5, atol=1e-6)
    (tg,) = model.targets(items, feats)
    if int(feats.mask[0].sum()) == 5:  # nothing truncated at 32 tokens
        assert tg[0].tolist() == [0, 1, 0, 1, 0]
    assert tg[1].tolist() == [1, -100, -100, -100, -100]
    logits = [torch.stack([torch.zeros_like(tg.float()), tg.float().clamp_min(0)], -1)]
    preds = model.decode(logits, feats)
    assert preds[1].text == items[1].sentences[0]
    h = model.trunk(model.params(), feats)
    assert h.shape == (2, 5, 32) and torch.isfinite(model.loss(model.logits(model.params(), feats), [tg], feats))


def test_gradient_checkpointing_gives_same_values_and_second_order_grads() -> None:
    cfg = HFConfig(model=tiny_encoder_dir(), max_length=32, stride=8, device="cpu")
    plain = HFBackbone(cfg).build(CLS, 0)
    ckpt = HFBackbone(HFConfig(**{**cfg.__dict__, "gradient_checkpointing": True})).build(CLS, 0)
    assert getattr(ckpt.encoder, "is_activation_checkpointing", None) and ckpt.encoder.training
    items = cls_examples(3)
    feats = plain.featurize(items)
    tg = plain.targets(items, feats)

    def g(model: UnitModel) -> torch.Tensor:
        p = {k: v.detach().requires_grad_(True) for k, v in model.params().items()}
        loss = model.loss(model.logits(p, feats), tg, feats)
        (gw,) = torch.autograd.grad(loss, [p["head.0.weight"]], create_graph=True)
        return torch.autograd.grad(gw.pow(2).sum(), [p["encoder.encoder.layer.0.output.dense.weight"]])[0]

    torch.testing.assert_close(g(plain), g(ckpt), rtol=1e-5, atol=1e-6)
    with pytest.raises(XlbenchError, match="gradient_checkpointing: false"):
        torch.func.grad(lambda p: ckpt.loss(ckpt.logits(p, feats), tg, feats))(ckpt.params())


def test_bf16_autocast_path_runs_second_order_and_stays_close() -> None:
    cfg = HFConfig(model=tiny_encoder_dir(), max_length=32, device="cpu")
    fp32 = HFBackbone(cfg).build(CLS, 0)
    bf16 = HFBackbone(HFConfig(**{**cfg.__dict__, "dtype": "bfloat16"})).build(CLS, 0)
    items = cls_examples(3)
    feats = fp32.featurize(items)
    h32, h16 = fp32.trunk(fp32.params(), feats), bf16.trunk(bf16.params(), feats)
    assert h16.dtype == torch.float32 and not torch.equal(h32, h16)  # bf16 really ran
    torch.testing.assert_close(h16, h32, rtol=0, atol=0.1)
    p = {k: v.detach().requires_grad_(True) for k, v in bf16.params().items()}
    loss = bf16.loss(bf16.logits(p, feats), bf16.targets(items, feats), feats)
    (g,) = torch.autograd.grad(loss, [p["head.0.weight"]], create_graph=True)
    (gg,) = torch.autograd.grad(g.square().sum(), [p["encoder.embeddings.word_embeddings.weight"]])
    assert torch.isfinite(gg).all() and gg.abs().sum() > 0


def test_mean_pooling_is_the_masked_token_mean() -> None:
    model = HFBackbone(HFConfig(model=tiny_encoder_dir(), max_length=32, pooling="mean")).build(CLS, 0)
    feats = model.featurize(cls_examples(3))
    h = model.encoder(input_ids=feats.x, attention_mask=feats.extra[0]).last_hidden_state
    w = feats.extra[0].unsqueeze(-1).float()
    torch.testing.assert_close(model.trunk(model.params(), feats)[:, 0], (h * w).sum(1) / w.sum(1), rtol=1e-5, atol=1e-5)
