"""A forecast from one point of a series, beside the baselines: what the forecasting
tab shows and ``predict`` prints. A `SeriesView` is a series made ready to forecast
(its encoder, the ridge baseline fitted on its training part, the test-tail figures,
and the model, if any); `forecast_from` forecasts from one origin of its test tail.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ...data.timeseries import Series, read_table
from ...options import whole_number
from .baselines import RidgeAR
from .features import SeriesEncoder, split_points
from .predictor import ForecastPredictor
from .tail import baseline_forecasts, fit_ridge, tail_figures
from .train import Recipe, encoder_for


@dataclass(frozen=True)
class SeriesView:
    """A series ready to forecast: the encoder whose window and horizon are shown, the
    ridge baseline fitted on its training part, the test-tail figures shown beside it,
    the network forecasting it (None: the baselines alone), and the CSV it was read
    from (None: a built-in series)."""
    series: Series
    encoder: SeriesEncoder
    ridge: RidgeAR
    figures: dict
    predictor: ForecastPredictor | None = None
    csv: str | None = None

    def with_model(self, predictor: ForecastPredictor) -> "SeriesView":
        """This series forecast by ``predictor``: its encoder and figures, and the ridge
        refitted when the predictor looks further ahead than the view's ridge."""
        horizon = predictor.encoder.horizon
        ridge = self.ridge if horizon <= self.ridge.horizon else fit_ridge(self.series, horizon)
        return replace(self, encoder=predictor.encoder, ridge=ridge, figures=predictor.figures(),
                       predictor=predictor)


def model_view(series: Series, predictor: ForecastPredictor) -> SeriesView:
    """``series`` forecast by ``predictor`` (a built-in series and its shipped model)."""
    ridge = fit_ridge(series, predictor.encoder.horizon)
    return SeriesView(series, predictor.encoder, ridge, predictor.figures(), predictor)


def read_csv(path: str | Path, target: str | None = None, covariates=()) -> SeriesView:
    """A visitor's CSV with the baselines scored on its test tail (no network yet);
    ``target`` is the column to forecast (None: Close, Value... or the first numeric
    one), ``covariates`` the other columns a network would read.

    Raises:
        ValueError: one sentence on why the table cannot be read or forecast
            (`rnn_core.data.timeseries.TableError` for the table itself).
    """
    series = read_table(Path(path).read_bytes(), target or None, tuple(c for c in covariates or () if c != target))
    enc = encoder_for(Recipe(series="upload"), series)
    ridge = fit_ridge(series, enc.horizon)
    return SeriesView(series, enc, ridge, tail_figures(None, series, enc, ridge=ridge), csv=str(path))


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
    baseline's, in the series' units, with notes for the reader."""
    origin: int                       # the row forecast from
    horizon: int                      # steps ahead forecast
    network: dict | None              # {"lo", "median", "hi"}: (1, horizon) arrays
    baselines: dict[str, np.ndarray]  # baseline name -> (1, horizon) forecast
    best: str | None                  # the best baseline on the test tail at about this horizon
    notes: list[str]


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
    base = {k: v[:, :h] for k, v in baseline_forecasts(series, enc, np.array([t]), enc.horizon, view.ridge).items()}
    _, row = nearest_horizon(view.figures, h)
    when = str(series.dates[t])[:16].replace("T", " ")
    notes.insert(0, f"Forecast made at {when} (row {t + 1:,} of {len(series):,})"
                    + ("; what comes after is the future, not in the data." if t == len(series) - 1 else "."))
    return Outlook(t, h, fc, base, row["best_baseline"] if row else None, notes)
