"""A forecast from one point of a series, beside the baselines and the statistical
peers: what the forecasting tab shows and ``predict`` prints. A `SeriesView` is a
series made ready to forecast (its encoder, the ridge baseline and the peers fitted on
its training part, the test-tail figures with the method recommended on the
validation part, and the model, if any); `forecast_from` forecasts from one origin of
its test tail.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.timeseries import Series, TableError, read_table
from ...options import whole_number
from .baselines import RidgeAR, naive, seasonal_naive
from .features import SeriesEncoder, split_points
from .peers import UPLOAD_ORIGINS, FittedPeer, fit_peer, fit_peers
from .predictor import ForecastPredictor
from .tail import baseline_forecasts, chosen, fit_ridge, scored
from .train import Recipe, encoder_for


@dataclass(frozen=True)
class SeriesView:
    """A series ready to forecast: the encoder whose window and horizon are shown, the
    ridge baseline and the statistical peers fitted on its training part, the test-tail
    figures shown beside it (with the method recommended on the validation part), the
    network forecasting it (None: the others alone), and the CSV it was read from (None:
    a built-in series)."""
    series: Series
    encoder: SeriesEncoder
    ridge: RidgeAR
    figures: dict
    predictor: ForecastPredictor | None = None
    csv: str | None = None
    peers: dict[str, FittedPeer] | None = None

    def with_model(self, predictor: ForecastPredictor) -> "SeriesView":
        """This series forecast by ``predictor``: its encoder and figures, and the ridge
        refitted when the predictor looks further ahead than the view's ridge."""
        horizon = predictor.encoder.horizon
        ridge = self.ridge if horizon <= self.ridge.horizon else fit_ridge(self.series, horizon)
        return replace(self, encoder=predictor.encoder, ridge=ridge, figures=predictor.figures(),
                       predictor=predictor)


def model_view(series: Series, predictor: ForecastPredictor, peers: bool = True) -> SeriesView:
    """``series`` forecast by ``predictor`` (a built-in series and its shipped model),
    with the statistical peers fitted (seconds: `peers`) unless ``peers`` is False."""
    ridge = fit_ridge(series, predictor.encoder.horizon)
    fitted, notes = fit_peers(series) if peers else ({}, [])
    series.notes.extend(n for n in notes if n not in series.notes)
    return SeriesView(series, predictor.encoder, ridge, predictor.figures(), predictor, peers=fitted)


def read_csv(path: str | Path, target: str | None = None, covariates=(), horizon: int = 0) -> SeriesView:
    """A visitor's CSV with the baselines and peers scored on its test tail (no network
    yet); ``target`` is the column to forecast (None: Close, Value... or the first
    numeric one), ``covariates`` the other columns a network would read, ``horizon``
    the steps ahead (0: the default for its step and length).

    Raises:
        ValueError: one sentence on why the table cannot be read or forecast
            (`rnn_core.data.timeseries.TableError` for the table itself).
    """
    series = read_table(Path(path).read_bytes(), target or None, tuple(c for c in covariates or () if c != target))
    enc = encoder_for(Recipe(series="upload", horizon=horizon), series)
    ridge = fit_ridge(series, enc.horizon)
    peers, notes = fit_peers(series)
    series.notes.extend(notes)
    figures = scored(None, series, enc, ridge, peers, UPLOAD_ORIGINS)
    return SeriesView(series, enc, ridge, figures, csv=str(path), peers=peers)


def nearest_horizon(figures: dict, horizon: int) -> tuple[str, dict] | tuple[None, None]:
    """The scored horizon of ``figures`` closest to ``horizon`` and its row (None, None: none scored)."""
    rows = figures.get("horizons", {})
    if not rows:
        return None, None
    key = min(rows, key=lambda h: abs(int(h) - horizon))
    return key, rows[key]


@dataclass(frozen=True)
class Outlook:
    """One forecast from one origin: the network's (None without a network) and every
    other method's, in the series' units, with notes for the reader."""
    origin: int                       # the row forecast from
    horizon: int                      # steps ahead forecast
    network: dict | None              # {"lo", "median", "hi"}: (1, horizon) arrays
    baselines: dict[str, np.ndarray]  # baseline or peer name -> (1, horizon) forecast
    best: str | None                  # the best method but the network on the test tail at about this horizon
    notes: list[str]
    recommended: str | None = None    # the method best on the validation part at about this horizon

    def forecast_of(self, method: str) -> np.ndarray:
        """(horizon,) the forecast of ``method`` ("network": its median)."""
        return (self.network["median"] if method == "network" else self.baselines[method])[0]


def forecast_from(view: SeriesView, horizon, origin) -> Outlook:
    """Forecast ``horizon`` steps ahead from ``origin`` percent into the test tail of
    ``view`` (100: its last row, so the future). Values out of range (or not numbers)
    are clamped, and the notes say so when the horizon was."""
    series, enc = view.series, view.encoder
    notes = list(series.notes)
    want = whole_number(horizon, 1)
    h = min(max(want, 1), enc.horizon)
    if h != want:
        notes.append(f"This model forecasts 1 to {enc.horizon} steps ahead; showing {h}.")
    _, val_end = split_points(len(series))
    pos = min(max(whole_number(origin, 100), 0), 100)
    t = val_end + round(pos / 100 * (len(series) - 1 - val_end))
    fc = view.predictor.forecast(series, [t], h) if view.predictor is not None else None
    base = {k: v[:, :h] for k, v in baseline_forecasts(series, enc, np.array([t]), enc.horizon, view.ridge,
                                                        view.peers).items()}
    _, row = nearest_horizon(view.figures, h)
    when = str(series.dates[t])[:16].replace("T", " ")
    notes.insert(0, f"Forecast made at {when} (row {t + 1:,} of {len(series):,})"
                    + ("; what comes after is the future, not in the data." if t == len(series) - 1 else "."))
    best = row["best_baseline"] if row and row["best_baseline"] in base else None
    chosen = row.get("recommended") if row else None
    if chosen not in base and not (chosen == "network" and fc is not None):
        chosen = None  # chosen among methods this view cannot show (a figure recorded elsewhere)
    return Outlook(t, h, fc, base, best, notes, chosen)


def with_network(view: SeriesView, predictor: ForecastPredictor) -> SeriesView:
    """``view`` forecast by ``predictor`` (trained on its series), every method scored
    again beside it on the test tail and the recommendation made again on the
    validation part, with the peers ``view`` has already fitted."""
    series = view.series
    figures = scored(predictor, series, ridge=view.ridge, peers=view.peers, most=UPLOAD_ORIGINS)
    return replace(view, encoder=predictor.encoder, figures=figures, predictor=predictor)


def future_dates(series: Series, horizon: int) -> list[str | None]:
    """The ISO dates of the ``horizon`` rows after the last (None each without dates):
    the next month starts for monthly data, business days for trading days, else
    the usual spacing."""
    dates = np.asarray(series.dates)
    if not np.issubdtype(dates.dtype, np.datetime64):
        return [None] * horizon
    last = pd.Timestamp(dates[-1])
    freq = {"month": "MS", "quarter": "QS", "year": "YS", "week": "7D", "hour": "h"}.get(series.step)
    if series.step == "day":
        freq = "B" if series.season == 5 else "D"
    if freq is None:  # irregular rows: go on at the median spacing of the last ones
        step = pd.Timedelta(np.median(np.diff(dates[-50:]))) if len(dates) > 1 else pd.Timedelta(days=1)
        ahead = [last + step * (k + 1) for k in range(horizon)]
    else:
        ahead = list(pd.date_range(last, periods=horizon + 1, freq=freq))[1:]
        if freq in ("MS", "QS", "YS") and last != last.normalize().replace(day=1):
            ahead = list(pd.date_range(last, periods=horizon, freq=freq.rstrip("S") + "E"))  # month ends
    return [iso_date(np.datetime64(d), always_time=series.step == "hour") for d in ahead]


def forecast_csv(path: str | Path, horizon: int = 0, target: str | None = None, max_minutes: float = 2.0) -> dict:
    """Any CSV's next ``horizon`` steps (0: the default for its step and length), as
    ``predict forecast --csv`` prints them: a network trained on it for at most
    ``max_minutes``, and the baselines and statistical peers fitted on its first 70%,
    all ranked on the next 10%; the forecast is the recommended method's (`tail.chosen`).
    A series too short to validate ``horizon`` steps is ranked at the longest horizon
    its validation part holds, and the forecasts go on from there (`_beyond`).

    Returns:
        {"rows", "frequency", "season", "seasons", "column", "last_date", "horizon",
        "dates", "forecast", "model", "network", "network_interval", "ranking" (validation
        MASE by method, best first), "test" (test-tail MASE by method), "notes"}
    """
    from .. import TASKS  # the registry imports this package: at call time only

    try:
        view = read_csv(path, target, horizon=horizon)
    except TableError:
        raise
    except ValueError:  # too short for that horizon: rank at the longest it holds, forecast on from there
        view = read_csv(path, target)
    s, enc = view.series, view.encoder
    options = {"series": "upload", "csv": str(path), "target": s.columns[0], "horizon": enc.horizon,
               "window": enc.window, "max_minutes": max_minutes, "peers": False}
    predictor, _ = TASKS["forecast"].train(options)
    view = with_network(view, predictor)
    horizon = horizon or enc.horizon
    outlook = forecast_from(view, horizon, 100)  # 100%: from the last row, so the future
    key, row = nearest_horizon(view.figures, horizon)
    model = outlook.recommended or "network"
    forecast, network = outlook.forecast_of(model), {k: v[0] for k, v in outlook.network.items()}
    if horizon > enc.horizon:
        model, forecast, network = _beyond(view, key, horizon)
        outlook.notes[:] = [n for n in outlook.notes if not n.startswith("This model forecasts 1 to")]
        outlook.notes.append(f"The validation part is too short to score {horizon} steps ahead: the methods were "
                             f"ranked {enc.horizon} ahead, and the forecast goes on from there.")
    if model in (view.peers or {}):  # chosen on validation, then fitted on every row (El Niño: 0.844 -> 0.802)
        forecast = _refitted(view, model, horizon)
        outlook.notes.append(f"{model}, recommended, was fitted again on every row for this forecast.")
    return {"rows": len(s), "frequency": s.step, "season": s.season, "seasons": list(s.seasons),
            "column": s.columns[0], "last_date": iso_date(s.dates[-1], s.step == "hour"), "horizon": horizon,
            "dates": future_dates(s, horizon), "forecast": np.asarray(forecast).tolist(), "model": model,
            "network": network["median"].tolist(), "network_interval": [network["lo"].tolist(), network["hi"].tolist()],
            "ranking": dict(sorted(view.figures.get("validation", {}).get(key, {}).items(), key=lambda x: x[1])),
            "test": {m: v["mase"] for m, v in (row or {}).items() if isinstance(v, dict) and "mase" in v},
            "notes": outlook.notes}


def _refitted(view: SeriesView, name: str, horizon: int) -> np.ndarray:
    """Peer ``name`` fitted again on every row of the series (chosen on the validation
    part, it then learns from the rows after it too), ``horizon`` steps on."""
    s = view.series
    peer = fit_peer(name, s.target, len(s), tuple(s.seasons) or (s.season,))
    return peer.forecast(s.target, np.array([len(s) - 1]), horizon)[0]


def _beyond(view: SeriesView, key: str, horizon: int) -> tuple[str, np.ndarray, dict]:
    """(method, its forecast, the network's {"lo", "median", "hi"}) ``horizon`` steps on
    from the last row, past the horizon the methods were ranked at (``key``). The ridge
    baseline forecasts only the steps it was fitted for, so it is not chosen here."""
    series, t = view.series, np.array([len(view.series) - 1])
    network = {k: v[0] for k, v in view.predictor.forecast(series, t, horizon, beyond=True).items()}
    ranked = [(m, v) for m, v in view.figures["validation"][key].items() if m != "ridge"]
    model = chosen(ranked)
    if model == "network":
        return model, network["median"], network
    if model == "naive":
        return model, naive(series.target, t, horizon)[0], network
    if model == "seasonal naive":
        return model, seasonal_naive(series.target, t, horizon, view.encoder.season)[0], network
    return model, view.peers[model].forecast(series.target, t, horizon)[0], network


def iso_date(when, always_time: bool = False) -> str | None:
    """A date as ISO: the day alone at midnight unless ``always_time`` (hourly rows);
    None for a row number."""
    if not np.issubdtype(np.asarray(when).dtype, np.datetime64):
        return None
    t = pd.Timestamp(when)
    return t.date().isoformat() if t == t.normalize() and not always_time else t.isoformat()
