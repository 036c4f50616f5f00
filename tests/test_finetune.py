"""FineTune: learns a separable cross-lingual task, spends its budget exactly, isolates episodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tinymodel import tiny_episode, tiny_source

from baselines.finetune import FineTune, FineTuneConfig
from bench.backbones.ngram import Config, NgramBackbone
from bench.budget import Meter
from bench.types import EvalEpisode, Example, SourceData, TaskInfo

SMALL = Config(buckets=2**12, dim=16, hidden=32, max_tokens=32)
POS = ("good", "great", "nice", "happy", "love")
NEG = ("bad", "awful", "sad", "hate", "poor")
FILL = ("the", "a", "movie", "was", "it", "is", "very", "so", "film", "plot")
INFO = TaskInfo("toy-sent", "classification", labels=("neg", "pos"), source_langs=("en", "xe"), target_langs=("xx",))


def sentiment(lang: str, n: int, seed: int, suffix: str = "") -> tuple[Example, ...]:
    """Separable: one polar word among fillers; ``suffix`` respells words (a 'related language')."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = [str(w) + suffix for w in rng.choice(FILL, 4)] + [str(rng.choice(POS if label else NEG)) + suffix]
        rng.shuffle(words)
        out.append(Example(f"{lang}-{i}", lang, " ".join(words), label=label))
    return tuple(out)


def method(config: FineTuneConfig = FineTuneConfig(), info: TaskInfo = INFO, seed: int = 0) -> FineTune:
    backbone = NgramBackbone(SMALL)
    return FineTune(config, lambda: backbone.build(info, 0), info, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def trained() -> tuple[FineTune, Meter]:
    m = method(FineTuneConfig(batch_size=24, lr=1e-2))
    source = SourceData(INFO, {"en": sentiment("en", 150, 0), "xe": sentiment("xe", 150, 1, "s")})
    meter = Meter("source", 600)
    m.train(source, meter)
    return m, meter


def episode(shots: int) -> tuple[EvalEpisode, tuple[Example, ...]]:
    support = sentiment("xx", 2 * shots, 5, "o")
    gold = sentiment("xx", 60, 6, "o")
    return EvalEpisode(INFO, "xx", shots, 0, support, tuple(e.as_query() for e in gold)), gold


def accuracy(preds, gold) -> float:
    return float(np.mean([p.label == g.label for p, g in zip(preds, gold)]))


def test_learns_and_spends_exactly_the_cap(trained) -> None:
    m, meter = trained
    assert meter.examples == 600  # the last batch shrank to what was left
    assert meter.steps >= 600 // 24 and meter.flops > 0
    ep, gold = episode(0)
    zero = Meter("adapt", 100)
    assert accuracy(m.predict(ep, zero), gold) >= 0.85  # zero-shot on a respelled language
    assert zero.examples == 0  # K = 0 spends nothing


def test_few_shot_predict_is_repeatable_and_never_mutates_weights(trained) -> None:
    m, _ = trained
    before = {k: v.clone() for k, v in m.state().items()}
    ep, gold = episode(2)
    meter = Meter("adapt", 100)
    first = m.predict(ep, meter)
    assert meter.examples == min(20, 100 // 4) * 4  # adapt_steps full-batch steps of 4 examples
    assert first == m.predict(ep, Meter("adapt", 100))
    assert all(torch.equal(before[k], v) for k, v in m.state().items())
    assert accuracy(first, gold) >= 0.85


def test_state_round_trip_predicts_identically(trained) -> None:
    m, _ = trained
    fresh = method()
    fresh.load_state(m.state())
    ep, _ = episode(2)
    assert fresh.predict(ep, Meter("adapt", 40)) == m.predict(ep, Meter("adapt", 40))


def test_adaptation_flops_survive_a_checkpoint(trained) -> None:
    """A resumed run loads the source checkpoint: its adaptation FLOPs must be the same."""
    m, _ = trained
    fresh = method()
    fresh.load_state(m.state())
    ep, _ = episode(2)
    resumed, original = Meter("adapt", 40), Meter("adapt", 40)
    fresh.predict(ep, resumed)
    m.predict(ep, original)
    assert original.flops > 0 and resumed.flops == original.flops  # the same number, carried over


@pytest.mark.fault(area="executor", case="fine-tuning's source loss becomes NaN",
                   behaviour="Diverged: the cell is recorded 'diverged' like the meta-learners'")
def test_nan_source_loss_raises_diverged_not_floating_point_error() -> None:
    from bench.budget import Diverged
    from bench.runner import _outcome

    source = tiny_source("classification", n=20)
    m = method(FineTuneConfig(batch_size=8), info=source.info)
    build = m.model_factory

    def poisoned():
        model = build()
        with torch.no_grad():
            next(iter(model.parameters())).fill_(float("nan"))
        return model

    m.model_factory = poisoned
    with pytest.raises(Diverged) as err:
        m.train(source, Meter("source", 50))
    assert err.value.phase == "source" and err.value.step == 1
    assert _outcome(err.value, "source")["status"] == "diverged"


def test_predict_before_train_fails_loudly() -> None:
    ep, _ = episode(0)
    with pytest.raises(RuntimeError, match="train"):
        method().predict(ep, Meter("adapt", 10))


@pytest.mark.parametrize("kind", ["qa", "summarization"])
def test_other_kinds_train_and_predict(kind) -> None:
    source = tiny_source(kind, n=20)
    m = method(FineTuneConfig(batch_size=8, adapt_steps=2), info=source.info)
    meter = Meter("source", 50)
    m.train(source, meter)
    assert meter.examples == 50
    ep, gold = tiny_episode(kind, shots=2, n_query=5)
    preds = m.predict(ep, Meter("adapt", 100))
    assert len(preds) == 5 and all(isinstance(p.text, str) and p.text for p in preds)
    assert all(p.text in q.text for p, q in zip(preds, ep.query))  # extractive
