"""The ngram backbone: hashing, shapes and masks per kind, init, purity, decoding, torch.func."""

from __future__ import annotations

import zlib

import pytest
import torch
from torch.func import grad, vmap

from bench.backbones.base import Feats
from bench.backbones.flops import flops_per_example
from bench.backbones.hashing import word_ngram_ids
from bench.backbones.ngram import EMBED, Config, NgramBackbone
from bench.backbones.units import best_spans, span_loss, top_k_units
from bench.types import Answer, Example, TaskInfo

SMALL = Config(buckets=2**10, dim=8, hidden=12, max_tokens=12, max_sentences=4)
CLS = TaskInfo("t-cls", "classification", labels=("a", "b", "c"))
QA = TaskInfo("t-qa", "qa", max_answer_tokens=3)
SUM = TaskInfo("t-sum", "summarization", summary_sentences=2)

CTX = "The cat sat on the mat. Paris is the capital of France."
QA_EX = (
    Example("q1", "en", CTX, question="What is the capital of France?", answers=(Answer("Paris", CTX.index("Paris")),)),
    Example("q2", "en", "short one", question="what?", answers=(Answer("one", 6),)),
)
SENTS = ("Cats are great.", "Dogs bark loudly.", "The weather is nice.", "Cats sleep a lot.", "Cut away.")
SUM_EX = (
    Example("s1", "en", " ".join(SENTS), summary="Cats are great and sleep a lot.", sentences=SENTS),
    Example("s2", "en", "A b. C d.", summary="C d.", sentences=("A b.", "C d.")),
)
CLS_EX = tuple(Example(f"c{i}", "en", f"word{i} and more", label=i % 3) for i in range(4))


def build(info: TaskInfo, seed: int = 0):
    return NgramBackbone(SMALL).build(info, seed)


def test_hash_is_stable_crc32_with_boundaries() -> None:
    ids = word_ngram_ids("ab", 1, 4, 2**18)
    grams = ["a", "b", "<a", "ab", "b>", "<ab", "ab>", "<ab>"]
    assert ids == tuple(zlib.crc32(g.encode()) % 2**18 for g in grams)
    assert ids[0] == 245315  # a constant: the same in every process and Python version


@pytest.mark.parametrize(
    "info,items,shape,mask",
    [
        (CLS, CLS_EX, (4, 1, 8), [[True]] * 4),
        (QA, QA_EX, (2, 12, 8), [[True] * 12, [True] * 2 + [False] * 10]),  # 14 tokens capped at 12
        (SUM, SUM_EX, (2, 4, 8), [[True] * 4, [True] * 2 + [False] * 2]),  # 5 sentences capped at 4
    ],
)
def test_shapes_and_masks(info, items, shape, mask) -> None:
    model = build(info)
    feats = model.featurize(items)
    assert tuple(feats.x.shape) == shape and feats.mask.tolist() == mask
    assert len(feats.spans) == len(items)
    h = model.trunk(model.params(), feats)
    assert tuple(h.shape) == (*shape[:2], SMALL.hidden)
    assert (h[~feats.mask] == 0).all()  # padding units are zeroed
    heads = model.logits(model.params(), feats)
    classes = {"classification": [3], "qa": [2, 2], "summarization": [2]}[info.kind]
    assert [tuple(lg.shape) for lg in heads] == [(*shape[:2], c) for c in classes]
    targets = model.targets(items, feats)
    assert all(t.shape == feats.mask.shape and (t[~feats.mask] == -100).all() for t in targets)
    assert torch.isfinite(model.loss(heads, targets, feats))
    assert flops_per_example(model, items) > 0


@pytest.mark.parametrize("info,items", [(CLS, CLS_EX), (QA, QA_EX), (SUM, SUM_EX)])
def test_featurize_reads_no_target(info, items) -> None:
    model = build(info)
    a, b = model.featurize(items), model.featurize([ex.as_query() for ex in items])
    assert torch.equal(a.x, b.x) and torch.equal(a.mask, b.mask) and a.spans == b.spans
    assert all(torch.equal(x, y) for x, y in zip(a.extra, b.extra))


@pytest.mark.parametrize("info", [CLS, QA, SUM])
def test_init_depends_only_on_seed_and_spares_global_rng(info) -> None:
    before = torch.get_rng_state()
    a, b, c = build(info, 7), build(info, 7), build(info, 8)
    assert torch.equal(before, torch.get_rng_state())
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert all(not torch.equal(sa[k], sc[k]) for k in sa if not k.endswith("bias") or sa[k].abs().sum() > 0)
    assert EMBED not in a.adapted_names() and set(a.adapted_names()) == set(sa) - {EMBED}


@pytest.mark.parametrize("info,items", [(CLS, CLS_EX), (QA, QA_EX), (SUM, SUM_EX)])
def test_logits_are_a_pure_function_of_params(info, items) -> None:
    model = build(info)
    feats = model.featurize(items)
    copy = {k: v.detach().clone() for k, v in model.params().items()}
    same = model.logits(model.params(), feats)
    assert all(torch.allclose(x, y) for x, y in zip(same, model.logits(copy, feats)))
    copy["out.0.bias"] = copy["out.0.bias"] + 1.0
    moved = model.logits(copy, feats)
    assert not torch.allclose(same[0], moved[0])


@pytest.mark.parametrize("info,items", [(CLS, CLS_EX), (QA, QA_EX), (SUM, SUM_EX)])
def test_loss_grad_under_vmap(info, items) -> None:
    """The inner loop of MAML: grad of the loss w.r.t. adapted params, vmapped over tasks."""
    model = build(info)
    with torch.no_grad():
        feats = model.featurize(items)
    targets = model.targets(items, feats)
    params = model.params()
    adapted = {k: v.detach() for k, v in model.adapted().items()}

    def task_loss(a, x, *extra):
        f = Feats(x=x, mask=feats.mask, extra=extra, spans=feats.spans)
        return model.loss(model.logits({**params, **a}, f), targets, f)

    g1 = grad(task_loss)(adapted, feats.x, *feats.extra)
    stacked = (feats.x.expand(3, *feats.x.shape),) + tuple(e.expand(3, *e.shape) for e in feats.extra)
    g3 = vmap(grad(task_loss), in_dims=(None,) + (0,) * len(stacked))(adapted, *stacked)
    for k in adapted:
        torch.testing.assert_close(g3[k][1], g1[k], rtol=1e-5, atol=1e-6)
        if k.endswith("weight"):  # (a QA head bias shifts every token alike: zero gradient)
            assert g1[k].abs().sum() > 0


def test_qa_targets_and_truncation() -> None:
    model = build(QA)
    feats = model.featurize(QA_EX)
    start, end = model.targets(QA_EX, feats)
    assert start[0].tolist().index(1) == 7 and end[0].tolist().index(1) == 7  # "Paris"
    assert start[1].tolist()[:2] == [0, 1] and end[1].tolist()[:2] == [0, 1]  # "one"
    beyond = Example("q3", "en", CTX, question="Which country?", answers=(Answer("France", CTX.index("France")),))
    f2 = model.featurize([beyond])
    t2 = model.targets([beyond], f2)
    assert all((t == -100).all() for t in t2)  # token 13 is beyond the 12-token cap: no loss
    lg = model.logits(model.params(), f2)
    assert span_loss(lg, t2, f2.mask) == 0


def test_qa_decode_returns_best_valid_span() -> None:
    model = build(QA)
    feats = model.featurize(QA_EX[:1])
    start, end = torch.zeros(1, 12, 2), torch.zeros(1, 12, 2)
    start[0, :, 1] = -50.0  # only token 7 may start
    start[0, 7, 1], end[0, 9, 1] = 5.0, 5.0  # "Paris is the"
    end[0, 3, 1] = 9.0  # an end before the start is invalid
    assert model.decode([start, end], feats)[0].text == "Paris is the"
    end[0, 11, 1] = 20.0  # 5 tokens > max_answer_tokens=3: invalid for start 7
    assert model.decode([start, end], feats)[0].text == "Paris is the"
    assert best_spans(torch.zeros(1, 0), torch.zeros(1, 0), torch.zeros(1, 0, dtype=torch.bool), 3) == [None]


def test_summarization_targets_and_decode_top_k_in_order() -> None:
    model = build(SUM)
    feats = model.featurize(SUM_EX)
    (y,) = model.targets(SUM_EX, feats)
    assert y[0].tolist() == [1, 0, 0, 1] and y[1].tolist() == [0, 1, -100, -100]
    scores = torch.zeros(2, 4, 2)
    scores[0, :, 1] = torch.tensor([0.1, 3.0, -1.0, 2.0])
    scores[1, :, 1] = torch.tensor([1.0, 0.5, 9.0, 9.0])  # padding never picked
    preds = model.decode([scores], feats)
    assert preds[0].text == "Dogs bark loudly. Cats sleep a lot."
    assert preds[1].text == "A b. C d."
    assert top_k_units(torch.zeros(1, 4), torch.ones(1, 4, dtype=torch.bool), 2) == [[0, 1]]  # ties: lead


def test_summarization_without_sentences_fails_loudly() -> None:
    with pytest.raises(ValueError, match="no sentences"):
        build(SUM).featurize([Example("s", "en", "One. Two.", summary="One.")])


def test_sparse_featurize_gives_sparse_table_gradient() -> None:
    model = build(CLS)
    feats = model.featurize(CLS_EX, sparse_grad=True)
    model.loss(model.logits(model.params(), feats), model.targets(CLS_EX, feats), feats).backward()
    assert model.embed.weight.grad.is_sparse and model.sparse_params == (EMBED,)


def test_bad_config_is_rejected_with_a_reason() -> None:
    with pytest.raises(ValueError, match="odd"):
        NgramBackbone(Config(window=4)).build(QA, 0)
