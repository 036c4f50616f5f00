"""The fixture :mod:`bench.contract.checks` runs a method in: tiny tasks, an auditing meter, episodes.

Everything is built from fixed seeds, offline, in seconds: the synthetic tasks shrunk by
their own ``Config`` (:data:`TASK_CONFIGS`), a small n-gram backbone (:data:`NGRAM_CONFIG`),
and the shared episode builder (:func:`bench.episodes.build_episodes`), so a method sees
exactly what the runner would give it, only smaller.
"""

from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from bench.budget import BudgetExhausted, Meter
from bench.episodes import ScoredEpisode
from bench.seeding import derive_seed, generator
from bench.types import EvalEpisode, Prediction, TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    import torch

def _small_langs() -> dict[str, Any]:
    from tasks.synth.family import DEFAULT_SOURCES, DEFAULT_TARGETS

    return {"sources": DEFAULT_SOURCES[:2], "targets": DEFAULT_TARGETS[:2], "n_train": 90, "n_pool": 12, "n_test": 8}



#: The synthetic tasks the checks run on and their Config overrides; every one is also
#: shrunk to 2 source and 2 target languages of the default family, a few items each.
TASK_CONFIGS: dict[str, dict[str, Any]] = {
    "synth-topic": {"n_topics": 3},
    "synth-qa": {},
    "synth-summ": {},
}
#: A small n-gram backbone: a few thousand buckets, narrow layers.
NGRAM_CONFIG: dict[str, Any] = {"buckets": 2**12, "dim": 16, "hidden": 32, "max_tokens": 96, "max_sentences": 16}


@dataclass(frozen=True)
class CheckSettings:
    """Sizes of the check runs (small, so every check takes seconds)."""

    source_cap: int = 400  # source-training budget of the trained instances
    adapt_cap: int = 200  # adapt budget of a normal episode
    tiny_adapt_cap: int = 3  # a cap smaller than the support set: must still predict
    shots: int = 2  # K of the checked episodes (per class for classification)
    queries: int = 6  # queries per episode
    seed: int = 0  # method seed of the trained instances


def describe_error(exc: BaseException) -> str:
    """``Type: message (file:line)`` of the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def snapshot(tensors: dict[str, "torch.Tensor"]) -> dict[str, "torch.Tensor"]:
    return {k: v.detach().clone() for k, v in tensors.items() if hasattr(v, "detach")}


def changed_names(before: dict[str, "torch.Tensor"], after: dict[str, "torch.Tensor"]) -> list[str]:
    """Names whose tensor differs (or that exist on one side only)."""
    import torch

    names = sorted(set(before) | set(after))
    return [n for n in names if n not in before or n not in after
            or before[n].shape != after[n].shape or not torch.equal(before[n], after[n])]


class AuditMeter(Meter):
    """A Meter that also keeps its own record of every step it was asked for.

    ``on_refuse`` is called when a step is refused (its return value, a parameter snapshot,
    is kept until a later step is accepted), so the harness can tell whether training went
    on after ``BudgetExhausted``.
    """

    def __init__(self, phase: Any, cap: int, on_refuse: Callable[[], Any] | None = None) -> None:
        super().__init__(phase, cap)
        self.accepted_examples = 0
        self.accepted_steps = 0
        self.refusals = 0
        self.largest_step = 0
        self.pending: Any = None
        self._on_refuse = on_refuse

    def step(self, examples: int, flops: float = 0.0, loss: Any = None) -> None:
        if examples >= 0:
            self.largest_step = max(self.largest_step, examples)
            if self.examples + examples > self.cap:
                self.refusals += 1
                if self._on_refuse is not None and self.pending is None:
                    self.pending = self._on_refuse()
            else:
                self.accepted_examples += examples
                self.accepted_steps += 1
                self.pending = None
        super().step(examples, flops, loss)


@dataclass
class Instance:
    """A method instance and the models its factory built (with their initial weights)."""

    method: Any
    built: list[tuple[Any, dict]] = field(default_factory=list)

    def params(self) -> dict[str, "torch.Tensor"]:
        return {f"model{i}.{k}": v for i, (m, _) in enumerate(self.built) for k, v in m.state_dict().items()}

    def initial(self) -> dict[str, "torch.Tensor"]:
        return {f"model{i}.{k}": v for i, (_, init) in enumerate(self.built) for k, v in init.items()}


@dataclass
class TrainRun:
    """A trained instance: its meter, the state it exported, what went wrong."""

    instance: Instance
    meter: AuditMeter
    state: dict[str, "torch.Tensor"] | None = None
    error: str | None = None
    after_refusal: list[str] = field(default_factory=list)

    def models_changed(self) -> list[str]:
        return changed_names(self.instance.initial(), self.instance.params())


@dataclass(frozen=True)
class Outcome:
    """One predict() call: predictions, its meter, or the error."""

    preds: list[Prediction] | None
    meter: AuditMeter
    error: str | None = None


class Harness:
    """Lazily trains and caches the instances the checks of one (method, task) share."""

    def __init__(self, method_cls: Any, task: str, config: Any = None,
                 settings: CheckSettings = CheckSettings()) -> None:
        from bench import registry
        from bench.backbones.ngram import Config as NgramConfig
        from bench.backbones.ngram import NgramBackbone

        self.method_cls = method_cls  # a Method subclass (its Config, kinds, zero_shot, ...)
        self.config = config if config is not None else method_cls.Config()
        self.settings = settings
        self.task_name = task
        task_cls: Any = registry.resolve("task", task)
        self.task = task_cls(task_cls.Config(**_small_langs(), **TASK_CONFIGS[task]), None)
        self.info: TaskInfo = self.task.info()
        self.backbone = NgramBackbone(NgramConfig(**NGRAM_CONFIG))
        self.init_seed = derive_seed("init", task, "check")
        self._runs: dict[str, TrainRun] = {}
        self._episodes: dict[str, EvalEpisode] = {}
        self._scored: dict[int, ScoredEpisode] = {}  # id(episode) -> the episode with its gold

    # ------------------------------------------------------------------ instances
    def fresh(self, seed: int | None = None) -> Instance:
        seed = self.settings.seed if seed is None else seed
        inst = Instance(method=None)

        def factory() -> Any:
            model = self.backbone.build(self.info, self.init_seed)
            inst.built.append((model, snapshot(model.state_dict())))
            return model

        inst.method = self.method_cls(self.config, factory, self.info, generator("method", self.task_name, "check", seed))
        return inst

    def trained(self, tag: str) -> TrainRun:
        """``a``/``a2``: two same-seed instances trained at the source cap; ``zero``: cap 0."""
        if tag not in self._runs:
            self._runs[tag] = self._train(0 if tag == "zero" else self.settings.source_cap)
        return self._runs[tag]

    def _train(self, cap: int) -> TrainRun:
        inst = self.fresh()
        meter = AuditMeter("source", cap, on_refuse=lambda: snapshot(inst.params()))
        run = TrainRun(inst, meter)
        try:
            inst.method.train(self.task.source(), meter)
        except BudgetExhausted:
            pass  # the normal end of training
        except Exception as exc:
            run.error = describe_error(exc)
            return run
        if meter.pending is not None:
            run.after_refusal = changed_names(meter.pending, snapshot(inst.params()))
        run.state = self.state_now_of(inst)
        return run

    @staticmethod
    def state_now_of(inst: Instance) -> dict[str, "torch.Tensor"] | None:
        try:
            return snapshot(inst.method.state())
        except NotImplementedError:
            return None

    def state_now(self, tag: str) -> dict[str, "torch.Tensor"] | None:
        return self.state_now_of(self.trained(tag).instance)

    def predict(self, tag: str, episode: EvalEpisode, cap: int | None = None) -> Outcome:
        run = self.trained(tag)
        meter = AuditMeter("adapt", self.settings.adapt_cap if cap is None else cap)
        if run.error:
            return Outcome(None, meter, f"(training failed) {run.error}")
        # Held where the runner holds it (a local of the frame that calls predict): the gold
        # of these queries is reachable by introspection, so a method that digs it out
        # (frames, gc referrers) predicts differently on the "regold" twin and fails `targets`.
        scored = self._scored.get(id(episode))  # noqa: F841
        try:
            return Outcome(run.instance.method.predict(episode, meter), meter)
        except Exception as exc:
            return Outcome(None, meter, describe_error(exc))

    # ------------------------------------------------------------------ episodes
    def episode(self, name: str) -> EvalEpisode:
        """``a``, ``b`` (another language), ``zero-shot`` (K = 0), ``regold``, ``opaque``."""
        if name not in self._episodes:
            scored = self._build_episode(name)
            self._episodes[name] = scored.episode
            self._scored[id(scored.episode)] = scored
        return self._episodes[name]

    def _build_episode(self, name: str) -> ScoredEpisode:
        from bench.episodes import build_episodes

        langs = self.info.target_langs
        lang = langs[-1] if name == "b" else langs[0]
        shots = 0 if name == "zero-shot" else self.settings.shots
        scored = build_episodes(self.task_name, self.info, self.task.target(lang), shots, 1, self.settings.queries)[0]
        ep = scored.episode
        if name == "regold":  # equal queries (new objects), and the gold held beside them differs
            gold = tuple(_other_target(ex, i, self.info) for i, ex in enumerate(scored.gold))
            return ScoredEpisode(dataclasses.replace(ep, query=tuple(ex.as_query() for ex in gold)), gold)
        if name == "opaque":  # the same queries under ids that reveal nothing
            return ScoredEpisode(dataclasses.replace(ep, query=tuple(dataclasses.replace(q, item_id=f"q{i:04d}")
                                                                     for i, q in enumerate(ep.query))), scored.gold)
        return scored


def _other_target(ex: Any, i: int, info: TaskInfo) -> Any:
    from bench.types import Answer

    if info.kind == "classification":
        return dataclasses.replace(ex, label=(int(ex.label or 0) + 1 + i) % max(info.num_labels, 1))
    if info.kind == "qa":
        return dataclasses.replace(ex, answers=(Answer(ex.text[:1], 0),))
    return dataclasses.replace(ex, summary="-")
