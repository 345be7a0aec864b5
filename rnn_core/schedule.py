"""The learning rate over a run: a cosine decay driven by the run's progress, which is
the share of its steps taken or of its wall-clock budget spent, whichever is further.

A run cut short by its budget still ends on a small learning rate, which matters for
the short runs of the retrain panel.
"""
from __future__ import annotations

import math
import time


class Schedule:
    """A run's clock (started when made) and the learning rate it gives.

    Args:
        lr: the peak (first) learning rate.
        min_lr_ratio: the last learning rate as a share of ``lr``.
        total_steps: the steps the run may take.
        budget_s: its wall-clock budget in seconds (None: no limit).
    """

    def __init__(self, lr: float, min_lr_ratio: float, total_steps: int, budget_s: float | None):
        self.peak, self.min_lr_ratio = lr, min_lr_ratio
        self.total_steps, self.budget_s = max(1, total_steps), budget_s
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    def out_of_time(self) -> bool:
        """True once the budget is spent."""
        return bool(self.budget_s) and self.elapsed() >= self.budget_s

    def fraction(self, step: int) -> float:
        """0..1 of the run done after ``step`` steps (steps or time, whichever is further)."""
        f = step / self.total_steps
        if self.budget_s:
            f = max(f, self.elapsed() / self.budget_s)
        return min(1.0, f)

    def lr(self, fraction: float) -> float:
        """The learning rate at ``fraction`` of the run: cosine from ``lr`` down to
        ``min_lr_ratio * lr``."""
        r = self.min_lr_ratio
        return self.peak * (r + (1 - r) * 0.5 * (1 + math.cos(math.pi * fraction)))
