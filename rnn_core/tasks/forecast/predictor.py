"""The forecaster behind the tab: from any origin of a series, the next steps as a
median and an 80% interval, in the series' own units.

A model forecasts up to its own horizon at once (direct); asked for more, it feeds
its medians back in and goes on (recursive), holding covariates at their last value.
Its 80% interval is calibrated online (`conformal`): from each origin, by how the
intervals of the forecasts before it fared.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ...checkpoint import assets_dir, read_metrics
from ...data.timeseries import Series
from ...predictor import Predictor
from .conformal import OnlineCalibration
from .features import SeriesEncoder, calendar_rows
from .windows import Windows

DEFAULT_SERIES = "sunspots"


class ForecastPredictor(Predictor):
    """A loaded forecaster and the encoder (columns, scaling, window) of its series."""

    task, encoder_class = "forecast", SeriesEncoder

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, series: str | None = None):
        """Load a checkpoint folder; the shipped ones are ``assets/forecast/<series>``
        (default `DEFAULT_SERIES`), whose figures are in ``assets/forecast/metrics.json``
        under the series' name. A folder of such folders takes ``series`` too."""
        path = Path(path) if path else assets_dir(cls.task)
        if not (path / "config.json").exists() and (path / (series or DEFAULT_SERIES)).is_dir():
            path = path / (series or DEFAULT_SERIES)
        predictor = super().from_pretrained(path)
        if not predictor.metrics:
            predictor.metrics = read_metrics(path.parent).get(path.name, {})
        return predictor

    def describe(self) -> str:
        """One line on the network (cell, size, window, strategy) for the tab."""
        a = self.model.model_args
        how = "direct" if a["horizon"] >= self.encoder.horizon else "recursive (one step at a time)"
        return (f"{a['num_layers']}-layer {a['cell'].upper()}, hidden {a['hidden_size']}, reading {self.encoder.window} "
                f"{self.encoder.step}s of {', '.join(self.encoder.columns)}; {how} forecasts")

    def scaled_quantiles(self, windows: Windows, series: Series, ts: np.ndarray, horizon: int) -> np.ndarray:
        """(B, horizon, Q) quantiles in scaled units from origins ``ts``, before calibration."""
        model, own = self.model, self.model.horizon
        x = windows.x(ts)
        out = []
        with torch.no_grad():
            for k in range(math.ceil(horizon / own)):
                q = model(x)[0]
                out.append(q)
                if (k + 1) * own >= horizon:
                    break
                # the next rows: the median for the target, covariates held, the calendar of their dates
                rows = ts[:, None] + k * own + np.arange(1, own + 1)
                cal = torch.as_tensor(calendar_rows(series, self.encoder.calendar, rows.ravel()),
                                      dtype=torch.float32).view(len(ts), own, -1)
                held = x[:, -1:, 1:len(self.encoder.columns)].expand(-1, own, -1)
                mid = q[:, :, len(self.encoder.quantiles) // 2, None]
                x = torch.cat([x[:, own:], torch.cat([mid, held, cal], -1)], 1)
        return torch.cat(out, 1)[:, :horizon].numpy()

    def sorted_quantiles(self, series: Series, ts: np.ndarray, batch: int = 2048) -> np.ndarray:
        """(B, encoder horizon, Q) sorted scaled quantiles from origins ``ts``, uncalibrated."""
        enc = self.encoder
        windows = self._windows(series)
        return np.concatenate([np.sort(self.scaled_quantiles(windows, series, ts[i:i + batch], enc.horizon), -1)
                               for i in range(0, len(ts), batch)])

    def _for(self, series: Series) -> dict:
        """What this model keeps per series it has forecast (the last four): its windows,
        and its online calibration once asked for."""
        cache = self.__dict__.setdefault("_series", {})
        key = id(series)
        if key not in cache or cache[key]["series"] is not series:
            if len(cache) >= 4:
                cache.pop(next(iter(cache)))
            enc = self.encoder
            cache[key] = {"series": series, "windows": Windows(enc.encode(series), enc.scaled_target(series.target),
                                                               series.observed, enc.window, 1)}
        return cache[key]

    def _windows(self, series: Series) -> Windows:
        return self._for(series)["windows"]

    def calibration(self, series: Series) -> OnlineCalibration:
        """This model's online calibration on ``series`` (computed once: forecasts from
        every origin after the training part, about a second for 13,000 of them)."""
        kept = self._for(series)
        if "calibration" not in kept:
            kept["calibration"] = OnlineCalibration.fit(lambda ts: self.sorted_quantiles(series, ts), series,
                                                        self.encoder)
        return kept["calibration"]

    def __getstate__(self):  # a trained model goes back to the server without its caches
        return {k: v for k, v in self.__dict__.items() if k != "_series"}

    def forecast(self, series: Series, ts, horizon: int | None = None, beyond: bool = False) -> dict:
        """Forecasts from origins ``ts`` (row indices; the last row forecasts the future),
        up to the encoder's horizon, or past it with ``beyond`` (rolled forward on its own
        medians; the interval there keeps the last calibrated step's widening).

        Returns:
            {"lo", "median", "hi"}: (B, horizon) arrays in the series' units; lo-hi is
            the 80% interval, calibrated on the outcomes known at each origin.
        """
        enc = self.encoder
        ts = np.atleast_1d(np.asarray(ts, dtype=np.int64))
        horizon = horizon or enc.horizon if beyond else min(horizon or enc.horizon, enc.horizon)
        q = np.sort(self.scaled_quantiles(self._windows(series), series, ts, horizon), -1)
        lo, mid, hi = q[..., 0], q[..., len(enc.quantiles) // 2], q[..., -1]
        w = self.calibration(series).widening(ts, min(horizon, enc.horizon), enc.widen)
        w = np.concatenate([w, np.repeat(w[:, -1:], horizon - w.shape[1], 1)], 1)
        lo, hi = np.minimum(lo - w, mid), np.maximum(hi + w, mid)
        return {"lo": enc.decode(lo), "median": enc.decode(mid), "hi": enc.decode(hi)}

    def figures(self) -> dict:
        """The test-tail figures of this model: from `evaluate` (metrics.json) for a
        shipped one, from the end of its training run (config.json) for a retrained one."""
        return self.metrics or self.config.get("tail", {})
