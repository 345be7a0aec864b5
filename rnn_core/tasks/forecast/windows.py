"""Windows of a series: at each forecast origin t, the ``window`` rows up to and
including t go in, the ``horizon`` target values after t are what is forecast.

An origin belongs to the part (train, validation, test) its *targets* fall in: a
test window may read rows from before the tail (they are the past, known when the
forecast is made), but a training window never has a target in the validation or
test part.
"""
from __future__ import annotations

import random

import numpy as np
import torch


def origins(lo: int, hi: int, window: int, horizon: int) -> np.ndarray:
    """Every origin t with a full window behind it and all its targets t+1..t+horizon
    inside ``[lo, hi)``."""
    return np.arange(max(lo - 1, window - 1), hi - horizon, dtype=np.int64)


class Windows:
    """A series' features and scaled target as tensors, cut into windows on demand
    (no copy of every window is ever held: 35,000 PM2.5 windows of 72 hours would be
    100 MB).

    Args:
        inputs: (T, F) the network's features (`SeriesEncoder.inputs`).
        target: (T,) the scaled target.
        observed: (T,) False where the target was a filled gap (never a loss or a score).
    """

    def __init__(self, inputs: np.ndarray, target: np.ndarray, observed: np.ndarray, window: int, horizon: int):
        self.inputs = torch.tensor(np.asarray(inputs), dtype=torch.float32)
        self.target = torch.tensor(np.asarray(target), dtype=torch.float32)
        self.observed = torch.tensor(np.asarray(observed), dtype=torch.bool)
        self.window, self.horizon = window, horizon

    def x(self, ts: np.ndarray) -> torch.Tensor:
        """(B, window, F) the windows ending at origins ``ts``."""
        idx = torch.as_tensor(ts)[:, None] + torch.arange(1 - self.window, 1)
        return self.inputs[idx]

    def y(self, ts: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """((B, horizon) scaled targets after origins ``ts``, (B, horizon) observed mask)."""
        idx = torch.as_tensor(ts)[:, None] + torch.arange(1, self.horizon + 1)
        return self.target[idx], self.observed[idx]

    def batch(self, ts: np.ndarray) -> dict:
        """The training loop's batch for origins ``ts``: ``model(**batch)``."""
        targets, mask = self.y(ts)
        return {"x": self.x(ts), "targets": targets, "mask": mask}

    def batches(self, ts: np.ndarray, batch_size: int, rng: random.Random | None = None) -> list[dict]:
        """``ts`` in batches, shuffled when ``rng`` is given."""
        ts = np.array(ts)
        if rng is not None:
            ts = ts[np.array(rng.sample(range(len(ts)), len(ts)), dtype=np.int64)]
        return [self.batch(ts[i:i + batch_size]) for i in range(0, len(ts), batch_size)]
