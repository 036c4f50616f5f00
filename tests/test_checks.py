"""bench.contract.checks: each contract check catches a deliberately broken method, and every
built-in method (baselines.METHODS, plus the configured variants of the default suite)
passes all of them on every kind it supports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
import yaml

from baselines import METHODS
from bench import registry
from bench.budget import BudgetExhausted
from bench.contract.checks import CHECK_TASKS, passed, run_checks
from bench.method import Method
from bench.suite import SUITES_DIR
from bench.types import Prediction


@dataclass(frozen=True)
class NoOptions:
    """No options."""


def _status(cls: type, check: str, task: str = "synth-topic") -> tuple[str, str]:
    results = {r.check: r for r in run_checks(cls, [task], only=[check])}
    assert check in results, results
    return results[check].status, results[check].reason


# --- reference methods ----------------------------------------------------------------


class Counting(Method):
    """Majority support label; spends nothing; keeps nothing."""

    Config = NoOptions
    role = "meta"
    kinds = frozenset({"classification"})
    zero_shot = False

    def train(self, source, meter):
        pass

    def state(self):
        return {}

    def predict(self, episode, meter):
        counts = Counter(ex.label for ex in episode.support)
        label = min(counts, key=lambda k: (-counts[k], k))
        return [Prediction(label=label) for _ in episode.query]


class Trains(Method):
    """SGD on the model's loss, 8 examples a step, paid before each step, until refused."""

    Config = NoOptions
    role = "meta"
    kinds = frozenset({"classification"})
    zero_shot = True

    def train(self, source, meter):
        import torch

        self.model = self.model_factory()
        opt = torch.optim.SGD(self.model.parameters(), lr=0.5)
        data = source.all()
        i = 0
        while True:
            batch = [data[(i + j) % len(data)] for j in range(8)]
            i += 8
            self.pay(meter, len(batch))
            self.sgd(opt, batch)

    def pay(self, meter, n):
        meter.step(n)

    def sgd(self, opt, batch):
        opt.zero_grad()
        feats = self.model.featurize(batch)
        self.model.loss(self.model.logits(self.model.params(), feats), self.model.targets(batch, feats), feats).backward()
        opt.step()

    def state(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def predict(self, episode, meter):
        import torch

        with torch.no_grad():
            return self.model.predict(self.model.params(), self.model.featurize(episode.query))


def test_reference_methods_pass_everything():
    for cls in (Counting, Trains):
        results = run_checks(cls, ["synth-topic"])
        assert passed(results), "\n".join(r.line() for r in results)
        assert {r.check for r in results if r.status == "PASS"} >= {"budget", "weights", "isolation", "targets"}


# --- one broken method per check --------------------------------------------------------


def test_config_not_frozen_without_default_or_not_a_dataclass():
    @dataclass
    class Mutable:
        lr: float = 0.1  # step size

    @dataclass(frozen=True)
    class NoDefault:
        lr: float  # no default

    for config, words in ((Mutable, "not frozen"), (NoDefault, "without a default: lr"), (dict, "must be a dataclass")):
        cls = type("Broken", (Counting,), {"Config": config})
        status, reason = _status(cls, "config")
        assert status == "FAIL" and words in reason, reason


def test_invalid_or_empty_kinds():
    for kinds, words in ((frozenset({"translation"}), "unknown kind(s) ['translation']"), (frozenset(), "non-empty")):
        cls = type("Broken", (Counting,), {"kinds": kinds})
        status, reason = _status(cls, "kinds")
        assert status == "FAIL" and words in reason, reason


def test_builds_a_model_in_init():
    class Eager(Counting):
        def __init__(self, config, model_factory, task_info, rng):
            super().__init__(config, model_factory, task_info, rng)
            self.model = model_factory()

    status, reason = _status(Eager, "construction")
    assert status == "FAIL" and "model_factory" in reason


def test_overspends_by_editing_the_meter():
    class Cheap(Trains):
        def pay(self, meter, n):
            meter.step(n // 2)
            meter.examples += n - n // 2  # pays half through step(), forges the rest

    status, reason = _status(Cheap, "budget")
    assert status == "FAIL" and "do not edit the meter" in reason


def test_trains_past_budget_exhausted():
    class Greedy(Trains):
        def pay(self, meter, n):
            try:
                meter.step(n)
            except BudgetExhausted:
                self.over = getattr(self, "over", 0) + 1
                if self.over > 3:
                    raise  # stops eventually, three unpaid steps too late

    status, reason = _status(Greedy, "budget")
    assert status == "FAIL" and "after meter.step() raised BudgetExhausted" in reason


def test_stops_far_below_the_cap():
    class Lazy(Trains):
        def pay(self, meter, n):
            if meter.steps >= 2:
                raise StopIteration  # a training loop that ends on its own after 2 steps
            meter.step(n)

        def train(self, source, meter):
            try:
                super().train(source, meter)
            except StopIteration:
                pass

    status, reason = _status(Lazy, "budget")
    assert status == "FAIL" and "train until the meter refuses" in reason


def test_trains_without_spending():
    class Free(Trains):
        def pay(self, meter, n):
            if meter.cap == 0 or meter.steps > 10:
                return  # trains anyway
            meter.step(n)

        def train(self, source, meter):
            self.n = 0
            try:
                super().train(source, meter)
            except RecursionError:
                pass

        def sgd(self, opt, batch):
            self.n += 1
            if self.n > 5:
                raise RecursionError  # end the loop: it never reaches the budget
            super().sgd(opt, batch)

    status, reason = _status(Free, "weights")
    assert status == "FAIL" and "cap of 0" in reason


def test_spends_without_changing_anything():
    class Idle(Trains):
        def sgd(self, opt, batch):
            pass

    status, reason = _status(Idle, "weights")
    assert status == "FAIL" and "no parameter changed" in reason


def test_too_few_or_mistyped_predictions():
    class TooFew(Counting):
        def predict(self, episode, meter):
            return super().predict(episode, meter)[:-1]

    class OutOfRange(Counting):
        def predict(self, episode, meter):
            return [Prediction(label=99) for _ in episode.query]

    class TextForClasses(Counting):
        def predict(self, episode, meter):
            return [Prediction(text="topic") for _ in episode.query]

    for cls, words in ((TooFew, "predictions for"), (OutOfRange, "in [0, 3)"), (TextForClasses, "label must be")):
        status, reason = _status(cls, "predictions")
        assert status == "FAIL" and words in reason, reason


def test_state_carried_across_episodes():
    class Remembers(Counting):
        episodes_seen = 0

        def predict(self, episode, meter):
            self.episodes_seen += 1  # a schedule that keeps going from episode to episode
            base = super().predict(episode, meter)[0].label
            return [Prediction(label=(base + self.episodes_seen) % 3) for _ in episode.query]

    status, reason = _status(Remembers, "isolation")
    assert status == "FAIL" and "carried over" in reason


def test_predict_adapts_the_trained_model_in_place():
    class InPlace(Trains):
        def predict(self, episode, meter):
            import torch

            with torch.no_grad():
                for p in self.model.parameters():
                    p.mul_(0.9)  # "adaptation" on the trained weights, not a copy
            return super().predict(episode, meter)

    status, reason = _status(InPlace, "isolation")
    assert status == "FAIL"


def test_nondeterministic():
    class Dice(Counting):
        def predict(self, episode, meter):
            rng = np.random.default_rng()  # unseeded: hidden state
            return [Prediction(label=int(rng.integers(3))) for _ in episode.query]

    class Shared(Counting):  # draws from an unseeded global, not self.rng
        def predict(self, episode, meter):
            import random

            return [Prediction(label=random.randrange(3)) for _ in episode.query]

    for cls in (Dice, Shared):
        status, reason = _status(cls, "determinism")
        assert status == "FAIL" and "same seed" in reason, reason


def test_looks_up_gold_by_item_id():
    from bench.contract.harness import Harness

    gold_task = Harness(Counting, "synth-topic").task  # what a cheater could rebuild

    class Peeks(Counting):
        def predict(self, episode, meter):
            gold = {ex.item_id: ex.label for ex in gold_task.target(episode.lang).test}
            return [Prediction(label=gold.get(q.item_id, 0)) for q in episode.query]

    status, reason = _status(Peeks, "targets")
    assert status == "FAIL" and "opaque ids" in reason


def test_a_config_whose_default_contradicts_its_annotation_fails():
    from bench.configcheck import bounded

    @dataclass(frozen=True)
    class Wrong:
        lr: float = "fast"  # type: ignore[assignment]
        steps: int = bounded(-1, ge=0)

    class BadDefaults(Counting):
        Config = Wrong

    status, reason = _status(BadDefaults, "config")
    assert status == "FAIL" and "'lr'" in reason and "'steps'" in reason and ">= 0" in reason, reason


class DigsGoldFromTheCaller(Counting):
    """A cheat the runner allows unless checked: the caller (compute_group) holds the scored
    episode, gold included, in a local; walk up the frames and copy it."""

    def predict(self, episode, meter):
        import inspect

        from bench.episodes import ScoredEpisode

        for info in inspect.stack(0):
            for value in list(info.frame.f_locals.values()):
                if isinstance(value, ScoredEpisode) and value.episode is episode:
                    return [Prediction(label=ex.label) for ex in value.gold]
        return super().predict(episode, meter)


@pytest.mark.fault(area="preflight", case="method reads the hidden gold by introspection",
                   behaviour="`xlbench check` targets FAILs it")
def test_reads_the_gold_held_by_its_caller():
    status, reason = _status(DigsGoldFromTheCaller, "targets")
    assert status == "FAIL" and "reads gold" in reason, reason
    assert _status(Counting, "targets")[0] == "PASS"  # an honest method still passes


def test_the_runner_would_let_the_cheat_score_perfectly():
    """The check guards a real hole: run the way compute_group runs it, the cheat is perfect."""
    from bench.contract.harness import Harness
    from bench.metrics import score

    h = Harness(DigsGoldFromTheCaller, "synth-topic")
    scored = h._scored[id(h.episode("a"))]
    preds = DigsGoldFromTheCaller(None, None, h.info, None).predict(scored.episode, None)
    assert score("classification", preds, scored.gold, h.info.num_labels)["accuracy"] == 100.0


def test_reads_a_target_attribute_of_a_query():
    class ReadsLabel(Counting):
        def predict(self, episode, meter):
            return [Prediction(label=q.label) for q in episode.query]  # Query has no label

    status, reason = _status(ReadsLabel, "targets")
    assert status == "FAIL" and "AttributeError" in reason


def test_overspends_the_adapt_budget():
    class Costly(Counting):
        def predict(self, episode, meter):
            meter.examples += len(episode.support) * 1000
            return super().predict(episode, meter)

    status, reason = _status(Costly, "adapt-budget")
    assert status == "FAIL" and "adapt meter" in reason


def test_a_crashing_method_is_a_failure_not_a_crash():
    class Crashes(Counting):
        def train(self, source, meter):
            raise RuntimeError("kaboom")

    results = run_checks(Crashes, ["synth-topic"])
    assert not passed(results)
    assert any("kaboom" in r.reason for r in results if r.check == "budget")


def test_unsupported_kind_and_unknown_task():
    results = run_checks(Counting, ["synth-qa"])
    assert [r.status for r in results if r.task == "synth-qa"] == ["SKIP"]
    from bench.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="synth-topic"):
        run_checks(Counting, ["synth-nope"])


# --- every built-in passes -------------------------------------------------------------


def _suite_variants() -> list[tuple[str, dict]]:
    """The default suite's configured methods (e.g. logreg-tfidf, fomaml)."""
    raw = yaml.safe_load((SUITES_DIR / "default.yaml").read_text())
    return [(m["name"], m["config"]) for m in raw["methods"] if isinstance(m, dict) and m.get("config")]


def _cases() -> list:
    cases = []
    for name, config in [(n, {}) for n in METHODS] + _suite_variants():
        label = name + "".join(f"-{k}={v}" for k, v in config.items())
        try:
            kinds = registry.resolve("method", name).kinds
        except Exception:  # not importable: the test below fails loudly for it
            cases.append(pytest.param(name, config, "synth-topic", id=f"{label}-IMPORT"))
            continue
        kind_of = {"synth-topic": "classification", "synth-qa": "qa", "synth-summ": "summarization"}
        cases += [pytest.param(name, config, t, id=f"{label}-{t}") for t in CHECK_TASKS if kind_of[t] in kinds]
    return cases


@pytest.mark.parametrize("name,config,task", _cases())
def test_builtin_method_keeps_the_contract(name, config, task):
    cls = registry.resolve("method", name)  # raises (fails) if the built-in is not importable
    results = run_checks(cls, [task], config=cls.Config(**config) if config else None)
    failed = [r.line() for r in results if r.status == "FAIL"]
    assert not failed, f"{name} {config} on {task}:\n" + "\n".join(failed)
    ran = [r for r in results if r.task == task]
    assert ran and (ran[0].status == "PASS" or "not applicable" in ran[0].reason), ran
