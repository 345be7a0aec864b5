"""Scoring on the test tail: the network and every baseline forecast from the same
origins over the same horizon, scored by MAE, RMSE and MASE, and the network's 80%
interval by the share of the truth it covers. `evaluate` (metrics.json) and the end
of every training run (a retrained model's card) both call `tail_figures`.

"Horizon h" scores the whole path: every step 1..h from every origin, so a 12-step
figure is the mean error of 12-step forecasts, as forecasting competitions (M4)
score them. Every horizon is scored on the same origins (those whose longest
horizon still ends inside the tail), so the figures of one table compare.
"""
from __future__ import annotations

import numpy as np

from ...data.timeseries import Series
from .baselines import BASELINES, RidgeAR, naive, naive_scale, scores, seasonal_naive
from .features import SeriesEncoder, defaults, split_points
from .windows import origins

def horizons_of(horizon: int) -> tuple[int, ...]:
    """The horizons a model of ``horizon`` steps is scored at: 1, 12 and its own."""
    return tuple(sorted({h for h in (1, 12, horizon) if h <= horizon}))


def _standardised(series: Series) -> tuple[np.ndarray, float, float]:
    """(the target standardised by its training part's mean and deviation, mean, deviation):
    the ridge baseline's own scale, untouched by the network's transform, so that the
    baseline is the same whatever network it is compared with."""
    train_end, _ = split_points(len(series))
    part = series.target[:train_end]
    mean, std = float(part.mean()), float(part.std()) or 1.0
    return (series.target - mean) / std, mean, std


RIDGE_ALPHAS = np.logspace(-3, 5, 9)


def fit_ridge(series: Series, horizon: int) -> RidgeAR:
    """The ridge baseline, fitted on the training part. It is the same whatever
    network it is compared with: how many of the last values it reads (1, 2, 4, ...
    up to the series' default window) and its penalty are chosen by generalised
    cross-validation on the training part alone."""
    train_end, _ = split_points(len(series))
    z, _, _ = _standardised(series)
    most = defaults(series)[0]
    fit_ts = origins(0, train_end, most, horizon)
    ladder = {2 ** k for k in range(int(np.log2(most)) + 1)} | {most}
    fits = [r for lags in sorted(ladder) for r in RidgeAR(lags, horizon).fits(z, series.observed, fit_ts, RIDGE_ALPHAS)]
    return min(fits, key=lambda r: r.gcv)


def baseline_forecasts(series: Series, enc: SeriesEncoder, ts: np.ndarray, horizon: int,
                       ridge: RidgeAR | None = None) -> dict[str, np.ndarray]:
    """Each baseline's (B, horizon) forecasts from origins ``ts``, in the series' units."""
    ridge = ridge or fit_ridge(series, horizon)
    z, mean, std = _standardised(series)
    return {"naive": naive(series.target, ts, horizon),
            "seasonal naive": seasonal_naive(series.target, ts, horizon, enc.season),
            "ridge": ridge.predict(z, ts)[:, :horizon] * std + mean}


def tail_figures(predictor, series: Series, enc: SeriesEncoder | None = None, part: str = "test",
                 ridge: RidgeAR | None = None) -> dict:
    """Every method's MAE/RMSE/MASE at each horizon (`horizons_of`) on the test tail
    (or ``part="dev"``: the validation part), the network's interval coverage, and how the network compares
    with the best baseline. ``predictor`` None scores the baselines alone (an uploaded
    series nobody has trained a network on yet); they need ``enc``. ``ridge``: the
    ridge baseline when already fitted (`fit_ridge`).

    Returns:
        {"horizons": {"1": {"naive": {"mae", "rmse", "mase"}, ..., "network": ...,
        "best_baseline", "ratio"}, ...}, "coverage", "interval_width", "origins", ...}
    """
    enc = enc or predictor.encoder
    n = len(series)
    train_end, val_end = split_points(n)
    lo_row, hi_row = (val_end, n) if part == "test" else (train_end, val_end)  # "dev": the validation part
    horizon = enc.horizon
    ts = origins(lo_row, hi_row, enc.window, horizon)
    if len(ts) == 0:
        raise ValueError(f"the {part} part of {series.label or series.name} ({hi_row - lo_row} rows) is shorter "
                         f"than the horizon of {horizon} steps")
    ahead = ts[:, None] + np.arange(1, horizon + 1)
    truth, mask = series.target[ahead], series.observed[ahead]
    preds = baseline_forecasts(series, enc, ts, horizon, ridge)
    fc = predictor.forecast(series, ts, horizon) if predictor is not None else None
    if fc is not None:
        preds["network"] = fc["median"]
    scale = naive_scale(series.target, series.observed, train_end)
    out = {"series": series.name, "label": series.label, "part": part, "origins": int(len(ts)),
           "mase_scale": scale, "unit": series.unit, "horizons": {}}
    for h in horizons_of(horizon):
        row = {name: scores(p[:, :h], truth[:, :h], mask[:, :h], scale) for name, p in preds.items()}
        best = min(BASELINES, key=lambda b: row[b]["mase"])
        row["best_baseline"] = best
        if fc is not None:
            row["ratio"] = row["network"]["mase"] / row[best]["mase"]
            inside = (truth[:, :h] >= fc["lo"][:, :h]) & (truth[:, :h] <= fc["hi"][:, :h])
            row["coverage"] = float(inside[mask[:, :h]].mean())
        out["horizons"][str(h)] = row
    if fc is not None:
        inside = (truth >= fc["lo"]) & (truth <= fc["hi"])
        out["coverage"] = float(inside[mask].mean())
        out["interval_width"] = float((fc["hi"] - fc["lo"])[mask].mean())
    return out
