"""Calibrating the 80% interval as a forecaster would, online: at each origin, every
step's interval is widened (or narrowed) by the 80% quantile of how far the truth
fell outside the intervals of all earlier forecasts whose outcome was known by then
(split conformal quantile regression, Romano et al. 2019, with the calibration set
growing as time goes on, in the spirit of Gibbs & Candès 2021).

Why online: the validation part alone calibrates the interval for times like the
validation part. The sunspot tail holds the strongest solar cycles on record, and an
interval calibrated on the quiet decades before it covered 69% of the tail; growing
the calibration set with each outcome as it becomes known gives 74-75%. Only the past
is used at every origin, so nothing of the future leaks into an interval.
"""
from __future__ import annotations

import bisect

import numpy as np

from .features import split_points
from .windows import origins

COVERAGE = 0.8  # the interval's nominal share (quantiles 0.1 to 0.9)
MIN_SCORES = 20  # fewer known outcomes than this: the validation part's widening


def running_quantiles(scores: np.ndarray, level: float = COVERAGE) -> np.ndarray:
    """(N + 1,) element k: the finite-sample ``level`` quantile of the non-NaN values
    among ``scores[:k]`` (the ceil((m + 1) level)-th smallest of m values; the
    largest when that rank is past the end; NaN for none)."""
    seen: list[float] = []
    out = np.full(len(scores) + 1, np.nan)
    for k, s in enumerate(scores, 1):
        if not np.isnan(s):
            bisect.insort(seen, float(s))
        if seen:
            rank = min(len(seen), int(np.ceil((len(seen) + 1) * level)))
            out[k] = seen[rank - 1]
    return out


def interval_scores(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """How far the truth ``z`` falls outside the interval [q[..., 0], q[..., -1]]
    (negative inside), in scaled units."""
    return np.maximum(q[..., 0] - z, z - q[..., -1])


class OnlineCalibration:
    """The widening of every step's interval at every origin from the validation part
    on (`widening`), for one model on one series.

    Args:
        first: the first origin of the table (the validation part's first).
        table: (N, H) widening at origins ``first .. first + N - 1``.
    """

    def __init__(self, first: int, table: np.ndarray):
        self.first, self.table = first, table

    @classmethod
    def fit(cls, quantiles_at, series, enc) -> "OnlineCalibration":
        """``quantiles_at(ts) -> (B, H, Q)`` scaled sorted quantiles from origins ``ts``."""
        n, h = len(series), enc.horizon
        train_end, _ = split_points(n)
        ts = origins(train_end, n + h, enc.window, h)  # every origin from the validation part to the last row
        q = quantiles_at(ts)
        ahead = ts[:, None] + np.arange(1, h + 1)
        inside = ahead < n
        z = np.where(inside, enc.scaled_target(series.target[np.minimum(ahead, n - 1)]), np.nan)
        scores = np.where(inside & series.observed[np.minimum(ahead, n - 1)], interval_scores(q, z), np.nan)
        table = np.empty((len(ts), h))
        for step in range(h):
            running = running_quantiles(scores[:, step])
            # known at origin t: the scores of origins s with s + step + 1 <= t
            known = np.clip(ts - step - ts[0], 0, len(ts))
            counts = np.concatenate([[0], np.cumsum(~np.isnan(scores[:, step]))])[known]
            static = enc.widen[step] if step < len(enc.widen) else 0.0
            table[:, step] = np.where(counts >= MIN_SCORES, running[known], static)
        return cls(int(ts[0]), table)

    def widening(self, ts: np.ndarray, horizon: int, static: list[float]) -> np.ndarray:
        """(B, horizon) widening at origins ``ts`` (the static one before the table starts)."""
        fallback = np.asarray((static or [0.0]) + [static[-1] if static else 0.0] * horizon)[:horizon]
        rows = np.asarray(ts) - self.first
        inside = (rows >= 0) & (rows < len(self.table))
        out = np.tile(fallback, (len(rows), 1))
        out[inside] = self.table[rows[inside], :horizon]
        return out


def static_widening(q: np.ndarray, z: np.ndarray, mask: np.ndarray) -> list[float]:
    """Per step, the finite-sample 80% quantile of the validation part's scores (the
    widening before any outcome of the tail is known)."""
    scores = np.where(mask, interval_scores(q, z), np.nan)
    last = [running_quantiles(scores[:, step])[-1] for step in range(q.shape[1])]  # over every score
    return [float(w) if w == w else 0.0 for w in last]  # NaN: no observed target at that step


def validation_widening(predictor, series) -> list[float]:
    """`static_widening` of ``predictor`` on ``series``' validation part."""
    enc = predictor.encoder
    train_end, val_end = split_points(len(series))
    ts = origins(train_end, val_end, enc.window, enc.horizon)
    if len(ts) < 5:
        return []
    ahead = ts[:, None] + np.arange(1, enc.horizon + 1)
    q = predictor.sorted_quantiles(series, ts)
    return static_widening(q, enc.scaled_target(series.target)[ahead], series.observed[ahead])
