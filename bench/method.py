"""The method contract (docs/architecture.md, "Methods: the contract").

Every built-in baseline and every third-party plugin subclasses :class:`Method`. The
runner constructs it per (task, method, seed), calls :meth:`Method.train` once on source
data, then :meth:`Method.predict` for every fixed evaluation episode. Both spend through a
:class:`bench.budget.Meter`; exhausting it raises ``BudgetExhausted``, the normal end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Mapping

from bench.errors import XlbenchError
from bench.types import EvalEpisode, Prediction, SourceData, TaskInfo, TaskKind

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from bench.backbones.base import UnitModel
    from bench.budget import Meter
    from bench.searchspace import Space

ModelFactory = Callable[[], "UnitModel"]

#: What a method is in the comparison, declared by its class (never guessed from a suite label):
#: ``transfer`` a standard transfer baseline (fine-tuning, logistic regression on features),
#: ``meta`` a method under test (the meta-learners, most plugins), ``trivial`` a calibration
#: floor (majority class, lead-k). Every cell record stores it; the report reads it there.
MethodRole = Literal["transfer", "meta", "trivial"]
ROLES: tuple[MethodRole, ...] = ("transfer", "meta", "trivial")


class Method(ABC):
    """Base class of every method.

    Subclasses declare ``Config`` (a frozen dataclass, every field defaulted and commented),
    ``role`` (:data:`MethodRole`: ``transfer``, ``meta`` or ``trivial``) and ``kinds`` (the
    task kinds they support; other pairs are recorded as n/a).
    ``zero_shot`` says whether K = 0 (no support set) is meaningful for the method, and
    ``supports_generative`` whether it works on a seq2seq backbone, whose "units" are
    generated tokens (only gradient-based methods do; others are recorded n/a there).
    ``search_space`` maps Config field names to :mod:`bench.searchspace` ranges that
    ``xlbench tune`` may vary (the same number of trials for every method); a method that
    declares none is tuned over nothing (one trial, its defaults).
    """

    Config: ClassVar[type]
    role: ClassVar[MethodRole]  # no default: every concrete method declares it
    search_space: ClassVar[Mapping[str, "Space"]] = {}
    kinds: ClassVar[frozenset[TaskKind]]
    zero_shot: ClassVar[bool] = True
    supports_generative: ClassVar[bool] = False  # runs on seq2seq (abstractive) backbones

    def __init__(
        self,
        config: Any,
        model_factory: ModelFactory,
        task_info: TaskInfo,
        rng: "np.random.Generator",
    ) -> None:
        """Store only: construction must be cheap (no model is built here)."""
        self.config = config
        self.model_factory = model_factory
        self.info = task_info
        self.rng = rng

    @classmethod
    def not_applicable(cls, info: TaskInfo, shots: int, generative: bool = False) -> str | None:
        """Why this method cannot run (task, shots, backbone), or None if it can."""
        if generative and not cls.supports_generative:
            return f"{cls.__name__} needs unit features; a seq2seq (generative) backbone has none"
        if info.kind not in cls.kinds:
            return f"{cls.__name__} does not support {info.kind} tasks"
        if shots == 0 and not cls.zero_shot:
            return f"{cls.__name__} needs a support set (K = 0 is undefined)"
        return None

    def config_not_applicable(self, info: TaskInfo) -> str | None:
        """Why this *configured* instance cannot run the task (e.g. a TF-IDF variant on QA)."""
        return None

    def why_not(self, info: TaskInfo, shots: int, generative: bool = False) -> str | None:
        """The reason a cell is n/a for this instance, or None: what the runner records."""
        return self.not_applicable(info, shots, generative) or self.config_not_applicable(info)

    @abstractmethod
    def train(self, source: SourceData, meter: "Meter") -> None:
        """Train on source languages only, spending through ``meter`` until exhausted."""

    @abstractmethod
    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        """Adapt on ``episode.support`` and return one prediction per query.

        No state may carry over to the next episode.
        """

    def state(self) -> dict[str, "torch.Tensor"]:
        """Tensors that fully describe the source-trained method (for the checkpoint cache)."""
        raise NotImplementedError(f"{type(self).__name__} does not export its state")

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        """Restore what :meth:`state` returned, instead of calling :meth:`train`."""
        raise NotImplementedError(f"{type(self).__name__} does not load a state")


def method_role(cls: type) -> MethodRole:
    """The role ``cls`` declares; :class:`XlbenchError` (exit 2 in preflight) if it declares none."""
    role = getattr(cls, "role", None)
    if role not in ROLES:
        raise XlbenchError(
            f"method {cls.__module__}:{cls.__qualname__} declares role {role!r}; set the class "
            "attribute `role` to 'transfer' (a standard transfer baseline, e.g. fine-tuning), "
            "'meta' (a method under test, e.g. a meta-learner) or 'trivial' (a calibration "
            "floor, e.g. majority class). The report compares methods by it."
        )
    return role
