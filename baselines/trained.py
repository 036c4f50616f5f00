"""Methods whose whole learned state is one unit model: fine-tuning (Howard & Ruder 2018),
MAML/FOMAML (Finn et al. 2017), Reptile (Nichol et al. 2018) and ProtoNet (Snell et al. 2017).

Each trains (or meta-trains) the backbone's :class:`~bench.backbones.base.UnitModel` and keeps
it in ``self.model``; the source checkpoint the runner stores is that model's tensors, and
loading one rebuilds the model from the factory. One declaration here instead of four.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.method import Method

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import UnitModel


class ModelMethod(Method):
    """A :class:`Method` whose state after ``train`` is the unit model in ``self.model``."""

    def __init__(self, config, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)
        self.model: UnitModel | None = None

    def _trained(self) -> "UnitModel":
        """The trained model; a RuntimeError before ``train`` or ``load_state``."""
        if self.model is None:
            raise RuntimeError(f"{type(self).__name__}.predict called before train() or load_state()")
        return self.model

    def state(self) -> dict[str, "torch.Tensor"]:
        from baselines.taskbatch import state_of

        return state_of(self._trained())

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        model = self.model_factory()
        model.load_state_dict(state)
        self.model = model
