"""Scoring on the test tail: the network and every baseline forecast from the same
origins over the same horizon, scored by MAE, RMSE and MASE, and the network's 80%
interval by the share of the truth it covers. `evaluate` (metrics.json) and the end
of every training run (a retrained model's card) both call `tail_figures`.

"Horizon h" scores the whole path: every step 1..h from every origin, so a 12-step
figure is the mean error of 12-step forecasts, as forecasting competitions (M4)
score them. Every horizon is scored on the same origins (those whose longest
horizon still ends inside the tail), so the figures of one table compare. The
statistical peers (`peers`) forecast origin by origin, so a tail of more than
`MAX_ORIGINS` origins is scored at that many evenly spaced ones, every method alike.

The recommended forecast is chosen on the validation part (`recommend`), never on
the tail it is then scored on.
"""
from __future__ import annotations

import numpy as np

from ...data.timeseries import Series
from .baselines import RidgeAR, naive, naive_scale, scores, seasonal_naive
from .features import SeriesEncoder, defaults, split_points
from .peers import PEERS, FittedPeer, describe
from .windows import origins

MAX_ORIGINS = 1000  # AutoTheta with season 168 forecasts in 22 ms an origin: 8,765 PM2.5 origins took minutes


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
                       ridge: RidgeAR | None = None,
                       peers: dict[str, FittedPeer] | None = None) -> dict[str, np.ndarray]:
    """Each baseline's and each fitted peer's (B, horizon) forecasts from origins ``ts``,
    in the series' units."""
    ridge = ridge or fit_ridge(series, horizon)
    z, mean, std = _standardised(series)
    out = {"naive": naive(series.target, ts, horizon),
           "seasonal naive": seasonal_naive(series.target, ts, horizon, enc.season),
           "ridge": ridge.predict(z, ts)[:, :horizon] * std + mean}
    for name, peer in (peers or {}).items():
        out[name] = peer.forecast(series.target, ts, horizon)
    return out


def scored_origins(ts: np.ndarray, most: int | None = MAX_ORIGINS) -> np.ndarray:
    """``ts``, or ``most`` of them evenly spaced from the first to the last."""
    if most is None or len(ts) <= most:
        return ts
    return ts[np.unique(np.linspace(0, len(ts) - 1, most).round().astype(int))]


def tail_figures(predictor, series: Series, enc: SeriesEncoder | None = None, part: str = "test",
                 ridge: RidgeAR | None = None, peers: dict[str, FittedPeer] | None = None,
                 most: int = MAX_ORIGINS) -> dict:
    """Every method's MAE/RMSE/MASE at each horizon (`horizons_of`) on the test tail
    (or ``part="dev"``: the validation part), the network's interval coverage, and how the network compares
    with the best other method. ``predictor`` None scores the others alone (an uploaded
    series nobody has trained a network on yet); they need ``enc``. ``ridge``: the
    ridge baseline when already fitted (`fit_ridge`); ``peers``: the statistical peers
    to score too (`peers.fit_peers`; None: none); ``most``: origins scored at most.

    Returns:
        {"horizons": {"1": {"naive": {"mae", "rmse", "mase"}, ..., "network": ...,
        "best_baseline", "ratio", "best_peer", "peer_ratio"}, ...}, "coverage",
        "interval_width", "origins", "peers", ...}; "best_baseline" is the best method
        other than the network, "best_peer" the best statistical peer.
    """
    enc = enc or predictor.encoder
    n = len(series)
    train_end, val_end = split_points(n)
    lo_row, hi_row = (val_end, n) if part == "test" else (train_end, val_end)  # "dev": the validation part
    horizon = enc.horizon
    ts = scored_origins(origins(lo_row, hi_row, enc.window, horizon), most)
    if len(ts) == 0:
        raise ValueError(f"the {part} part of {series.label or series.name} ({hi_row - lo_row} rows) is shorter "
                         f"than the horizon of {horizon} steps")
    ahead = ts[:, None] + np.arange(1, horizon + 1)
    truth, mask = series.target[ahead], series.observed[ahead]
    preds = baseline_forecasts(series, enc, ts, horizon, ridge, peers)
    fc = predictor.forecast(series, ts, horizon) if predictor is not None else None
    if fc is not None:
        preds["network"] = fc["median"]
    scale = naive_scale(series.target, series.observed, train_end)
    out = {"series": series.name, "label": series.label, "part": part, "origins": int(len(ts)),
           "mase_scale": scale, "unit": series.unit, "horizons": {}, "peers": describe(peers or {})}
    for h in horizons_of(horizon):
        row = {name: scores(p[:, :h], truth[:, :h], mask[:, :h], scale) for name, p in preds.items()}
        best = min((m for m in preds if m != "network"), key=lambda b: row[b]["mase"])
        row["best_baseline"] = best
        fitted = [m for m in PEERS if m in row]
        if fitted:
            row["best_peer"] = min(fitted, key=lambda b: row[b]["mase"])
        if fc is not None:
            row["ratio"] = ratio(row["network"]["mase"], row[best]["mase"])
            if fitted:
                row["peer_ratio"] = ratio(row["network"]["mase"], row[row["best_peer"]]["mase"])
            inside = (truth[:, :h] >= fc["lo"][:, :h]) & (truth[:, :h] <= fc["hi"][:, :h])
            row["coverage"] = float(inside[mask[:, :h]].mean())
        out["horizons"][str(h)] = row
    if fc is not None:
        inside = (truth >= fc["lo"]) & (truth <= fc["hi"])
        out["coverage"] = float(inside[mask].mean())
        out["interval_width"] = float((fc["hi"] - fc["lo"])[mask].mean())
    return out


def scored(predictor, series: Series, enc: SeriesEncoder | None = None, ridge: RidgeAR | None = None,
           peers: dict[str, FittedPeer] | None = None, most: int = MAX_ORIGINS) -> dict:
    """`tail_figures` on the test tail with the method recommended on the validation
    part (`recommend`): what evaluate, a retrain's card and an upload all show. The
    ridge baseline is fitted once for both parts."""
    ridge = ridge or fit_ridge(series, (enc or predictor.encoder).horizon)
    return recommend(tail_figures(predictor, series, enc, ridge=ridge, peers=peers, most=most),
                     tail_figures(predictor, series, enc, part="dev", ridge=ridge, peers=peers, most=most))


def ratio(mase: float, best: float) -> float:
    """``mase`` over ``best``; a series some method forecasts exactly (a straight line)
    gives 1 for another exact one, else infinity."""
    if best > 0:
        return mase / best
    return 1.0 if mase == 0 else float("inf")


def methods(row: dict) -> list[str]:
    """The methods scored in a figures row: the network first, then from the simplest
    to the most elaborate (`SIMPLEST_FIRST`)."""
    order = ("network",) + SIMPLEST_FIRST
    return sorted((k for k, v in row.items() if isinstance(v, dict) and "mase" in v),
                  key=lambda m: order.index(m) if m in order else len(order))


def ranking(dev: dict, horizon: int) -> list[tuple[str, float]]:
    """(method, validation MASE) best first, at the scored horizon of ``dev`` (the
    validation part's figures) closest to ``horizon``; [] when nothing was scored."""
    rows = dev.get("horizons", {})
    if not rows:
        return []
    row = rows[min(rows, key=lambda h: abs(int(h) - horizon))]
    return sorted(((m, row[m]["mase"]) for m in methods(row) if np.isfinite(row[m]["mase"])), key=lambda x: x[1])


# Simplest first: on a validation tie (within TIE) the simpler method is recommended, since
# a difference that small is noise (GOOG's validation: AutoARIMA 4.490, naive 4.494).
SIMPLEST_FIRST = ("naive", "seasonal naive", "ridge", "AutoETS", "AutoTheta", "AutoARIMA", "network")
TIE = 0.01


def chosen(ranked: list[tuple[str, float]]) -> str:
    """The method recommended from (method, validation MASE) pairs: the simplest
    (`SIMPLEST_FIRST`) of those within `TIE` of the best."""
    best = min(v for _, v in ranked)
    close = [m for m, v in ranked if v <= best * (1 + TIE)]
    return min(close, key=lambda m: SIMPLEST_FIRST.index(m) if m in SIMPLEST_FIRST else len(SIMPLEST_FIRST))


def recommend(test: dict, dev: dict) -> dict:
    """``test`` with, at each horizon, the method recommended on ``dev`` (the validation
    part; `chosen`) as "recommended", and how its test MASE compares with the best one
    there ("recommended_ratio"); ``dev``'s MASE by method kept as "validation"."""
    out = dict(test, horizons={}, validation={})
    for h, row in test["horizons"].items():
        ranked = [(m, v) for m, v in ranking(dev, int(h)) if m in row]
        if not ranked:
            out["horizons"][h] = row
            continue
        pick = chosen(ranked)
        best = min(row[m]["mase"] for m in methods(row))
        out["horizons"][h] = dict(row, recommended=pick, recommended_ratio=ratio(row[pick]["mase"], best))
        out["validation"][h] = dict(ranking(dev, int(h)))
    return out
