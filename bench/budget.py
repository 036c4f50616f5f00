"""The Meter: every method spends its budget through it, and it keeps the audit.

A method calls ``meter.step(examples, flops=...)`` once per optimizer (or inner-loop) step
*before* doing the work. If the step would exceed the cap, :class:`BudgetExhausted` is
raised and nothing is spent: the normal end of training. So the examples spent are always
``<= cap`` and, for a method that trains until exhaustion, within one step of it.

A method may also report its training loss (``meter.step(n, loss=...)`` for the loss of the
step being paid, or ``meter.check_loss(loss)`` once the step's loss is known): a NaN or
infinite loss raises :class:`Diverged` with the step number, and the runner records the
cell as ``diverged`` (never a NaN score).
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench.types import Phase, Usage


class BudgetExhausted(Exception):
    """Raised by :meth:`Meter.step` when a step would exceed the cap. Not an error."""


class Diverged(Exception):
    """Raised by the Meter when a reported loss is NaN or infinite: training diverged."""

    def __init__(self, phase: Phase, step: int, loss: float) -> None:
        super().__init__(f"{phase} loss became {loss} at step {step}")
        self.phase: Phase = phase
        self.step = step
        self.loss = loss


class Meter:
    """Counts labelled-example passes, optimizer steps, FLOPs and seconds for one phase."""

    def __init__(self, phase: Phase, cap: int) -> None:
        if cap < 0:
            raise ValueError(f"budget cap must be >= 0, got {cap}")
        self.phase: Phase = phase
        self.cap = cap
        self.examples = 0
        self.steps = 0
        self.flops = 0.0
        self._start = time.perf_counter()

    @property
    def remaining(self) -> int:
        return self.cap - self.examples

    def can_afford(self, examples: int) -> bool:
        return self.examples + examples <= self.cap

    def step(self, examples: int, flops: float = 0.0, loss: Any = None) -> None:
        """Spend ``examples`` passes (and ``flops``) on one step, or raise BudgetExhausted.

        ``loss`` (a float or 0-d tensor), if given, is this step's loss: non-finite raises
        :class:`Diverged` after the step is counted.
        """
        if examples < 0:
            raise ValueError(f"examples must be >= 0, got {examples}")
        if not self.can_afford(examples):
            raise BudgetExhausted(
                f"{self.phase} budget: {self.examples} + {examples} > cap {self.cap}"
            )
        self.examples += examples
        self.steps += 1
        self.flops += flops
        if loss is not None:
            self.check_loss(loss)

    def check_loss(self, loss: Any) -> None:
        """Raise :class:`Diverged` (at the current step) if ``loss`` is NaN or infinite."""
        value = float(loss)
        if not math.isfinite(value):
            raise Diverged(self.phase, self.steps, value)

    def usage(self) -> Usage:
        return Usage(
            phase=self.phase,
            examples=self.examples,
            steps=self.steps,
            flops=self.flops,
            seconds=time.perf_counter() - self._start,
            cap=self.cap,
        )
