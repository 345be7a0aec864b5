"""The forecaster behind the tab: from any origin of a series, the next steps as a
median and an 80% interval, in the series' own units.

A model forecasts up to its own horizon at once (direct); asked for more, it feeds
its medians back in and goes on (recursive), holding covariates at their last value.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ...checkpoint import assets_dir, read_metrics
from ...data.timeseries import Series
from ...predictor import Predictor
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

    @property
    def horizon(self) -> int:
        """The most steps ahead this model forecasts (its encoder's horizon; beyond
        its head's own horizon it is recursive)."""
        return self.encoder.horizon

    def describe(self) -> str:
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

    def forecast(self, series: Series, ts, horizon: int | None = None, windows: Windows | None = None) -> dict:
        """Forecasts from origins ``ts`` (row indices; the last row forecasts the future).

        Returns:
            {"lo", "median", "hi"}: (B, horizon) arrays in the series' units; lo-hi is
            the calibrated 80% interval.
        """
        enc = self.encoder
        ts = np.atleast_1d(np.asarray(ts, dtype=np.int64))
        horizon = horizon or enc.horizon
        if windows is None:
            windows = Windows(enc.inputs(series), enc.scaled_target(series.target), series.observed, enc.window, 1)
        q = np.sort(self.scaled_quantiles(windows, series, ts, horizon), -1)
        lo, mid, hi = q[..., 0], q[..., len(enc.quantiles) // 2], q[..., -1]
        if enc.widen:
            w = np.asarray(enc.widen + [enc.widen[-1]] * max(0, horizon - len(enc.widen)))[:horizon]
            lo, hi = np.minimum(lo - w, mid), np.maximum(hi + w, mid)
        return {"lo": enc.to_values(lo), "median": enc.to_values(mid), "hi": enc.to_values(hi)}

    def figures(self) -> dict:
        """The test-tail figures of this model: from `evaluate` (metrics.json) for a
        shipped one, from the end of its training run (config.json) for a retrained one."""
        return self.metrics or self.config.get("tail", {})
