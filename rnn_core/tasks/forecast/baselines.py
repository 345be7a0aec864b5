"""The forecasts forecasters actually compare against, on the same origins and
horizon as the network, and the scores (MAE, RMSE, MASE) all of them get.

- naive: the last value, for every step ahead (a random walk's best forecast);
- seasonal naive: the value one season earlier (same day last year, same hour
  yesterday...);
- ridge: a linear autoregressive model of the same window of past target values,
  one output per step ahead (scikit-learn's RidgeCV picks its penalty by
  leave-one-out on the training part).
"""
from __future__ import annotations

import numpy as np

BASELINES = ("naive", "seasonal naive", "ridge")


def naive(values: np.ndarray, ts: np.ndarray, horizon: int) -> np.ndarray:
    """(B, horizon): the value at each origin, repeated."""
    return np.repeat(values[ts][:, None], horizon, 1)


def seasonal_naive(values: np.ndarray, ts: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(B, horizon): for step h, the value ``season`` rows before t+h (the last season
    repeated when h is longer than a season); the naive forecast for ``season`` 1.
    Origins less than a season from the start fall back to the first value."""
    h = np.arange(1, horizon + 1)
    idx = ts[:, None] + (h[None, :] - 1) % season + 1 - season
    return values[np.clip(idx, 0, None)]


class RidgeAR:
    """Ridge regression of the next ``horizon`` scaled target values on the last
    ``window`` of them (the direct strategy: one linear model per step ahead).

    Solved from the normal equations, built once for every penalty tried (`fits`);
    each fit is scored by generalised cross-validation on its own training rows, the
    criterion scikit-learn's RidgeCV offers, here at the cost of a few small matrix
    products (RidgeCV took 2 s a fit on a visitor's 70,000 hourly rows).
    """

    def __init__(self, window: int, horizon: int):
        self.window, self.horizon = window, horizon
        self.coef, self.intercept, self.alpha, self.gcv = None, None, None, None

    def _lags(self, z: np.ndarray, ts: np.ndarray) -> np.ndarray:
        return z[ts[:, None] + np.arange(1 - self.window, 1)]

    def fits(self, z: np.ndarray, observed: np.ndarray, ts: np.ndarray, alphas) -> list["RidgeAR"]:
        """One fitted copy per penalty in ``alphas``, on origins ``ts`` (training
        origins only) whose targets were all observed; each with its ``gcv`` score
        (mean squared error over (1 - effective parameters / rows)^2)."""
        ahead = ts[:, None] + np.arange(1, self.horizon + 1)
        ts = ts[observed[ahead].all(1)]
        x, y = self._lags(z, ts), z[ts[:, None] + np.arange(1, self.horizon + 1)]
        mx, my = x.mean(0), y.mean(0)
        x, y = x - mx, y - my
        xtx, xty, yty = x.T @ x, x.T @ y, float((y ** 2).sum())
        eig = np.linalg.eigvalsh(xtx)
        out = []
        for alpha in alphas:
            r = RidgeAR(self.window, self.horizon)
            r.coef = np.linalg.solve(xtx + alpha * np.eye(len(xtx)), xty)
            rss = yty - 2 * float((r.coef * xty).sum()) + float((r.coef * (xtx @ r.coef)).sum())
            dof = float((eig / (eig + alpha)).sum())
            r.intercept, r.alpha = my - mx @ r.coef, float(alpha)
            r.gcv = rss / y.size / max(1e-9, 1 - dof / len(x)) ** 2
            out.append(r)
        return out

    def predict(self, z: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """(B, horizon) scaled forecasts from origins ``ts``."""
        return (self._lags(z, ts) @ self.coef + self.intercept).reshape(len(ts), self.horizon)


def naive_scale(values: np.ndarray, observed: np.ndarray, train_end: int) -> float:
    """MASE's denominator: the mean absolute change from one observed row to the next
    over the training part (the one-step naive forecast's in-sample error)."""
    both = observed[1:train_end] & observed[:train_end - 1]
    diffs = np.abs(np.diff(values[:train_end]))[both]
    return float(diffs.mean()) if diffs.size and diffs.mean() > 0 else 1.0


def scores(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray, scale: float) -> dict:
    """MAE, RMSE and MASE of ``pred`` against ``truth`` (both (B, H)), over the steps
    ``mask`` says were observed."""
    err = (pred - truth)[mask]
    if err.size == 0:
        return {"mae": float("nan"), "rmse": float("nan"), "mase": float("nan")}
    mae = float(np.abs(err).mean())
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(err ** 2))), "mase": mae / scale}
