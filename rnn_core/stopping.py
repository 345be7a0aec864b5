"""When a training run ends: the reasons it can end for (`StopReason`), and the
early-stopping tracker that keeps the best validated weights (`EarlyStopping`)."""
from __future__ import annotations

import copy
import enum

import torch

from .metrics import Metric


class StopReason(enum.StrEnum):
    """Why a run ended. A `str`: its value is what config.json, the CLI and the UI say,
    so ``result.stopped == StopReason.EARLY_STOPPING`` and ``== "early_stopping"`` agree."""
    COMPLETED = "completed"            # every epoch ran
    STOPPED = "stopped"                # the stop flag was set (the UI's Stop)
    TIME_BUDGET = "time_budget"        # ``TrainConfig.max_minutes`` ran out
    EARLY_STOPPING = "early_stopping"  # ``patience`` validations without improvement
    MAX_STEPS = "max_steps"            # ``TrainConfig.max_steps`` optimiser steps taken
    SOLVED = "solved"                  # the gradient lab: the memory task is learned
    NON_FINITE = "non-finite loss"     # the gradient lab: the loss became infinite or NaN


# A fixed order, so that ranks can agree on a reason by its index (`Runtime.agree` sends numbers).
STOP_REASONS = tuple(StopReason)


class EarlyStopping:
    """Keeps the weights that scored best by ``metric`` and counts the validations
    since they did; ``patience`` of them without improvement (None or 0: never) ends
    the run."""

    def __init__(self, metric: Metric, patience: int | None):
        self.metric, self.patience = metric, patience
        self.best: dict | None = None    # the best validation's metrics
        self.state: dict | None = None   # and the weights that scored them (a copy)
        self.bad = 0                     # validations since the best

    def update(self, val: dict, model: torch.nn.Module) -> bool:
        """Record a validation of ``model``; True when it is the best so far."""
        improved = self.best is None or self.metric.better(val[self.metric.key], self.best[self.metric.key])
        if improved:
            self.best, self.state, self.bad = dict(val), copy.deepcopy(model.state_dict()), 0
        else:
            self.bad += 1
        return improved

    @property
    def exhausted(self) -> bool:
        """True when the run has waited ``patience`` validations for an improvement."""
        return self.patience is not None and 0 < self.patience <= self.bad
