"""``python -m rnn_core bench latency forecast``: the time the tab's answer spends
forecasting (the network and the baselines from one origin) for each shipped series
(figures, not asserts; training throughput is ``bench throughput forecast``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...bench import describe_machine, time_calls
from ...checkpoint import assets_dir
from ..spec import make_recipe
from .features import split_points
from .metrics import checkpoints
from .predictor import ForecastPredictor
from .tail import baseline_forecasts, fit_ridge
from .train import Recipe, series_for


def bench(weights: str | Path | None = None, repeats: int = 50, data_dir: str | None = None) -> dict:
    """Print p50/p95 of one forecast (network + baselines, the ridge fitted once, as the
    tab caches it) from random origins in each series' test tail, and the first one's
    time apart (it also computes the interval's online calibration, once a series)."""
    out = {}
    rng = np.random.default_rng(0)
    print(f"machine: {describe_machine()}")
    for folder in checkpoints(weights or assets_dir("forecast")):
        predictor = ForecastPredictor.from_pretrained(folder)
        series = series_for(make_recipe(Recipe, predictor.config.get("options", {})), data_dir)
        enc = predictor.encoder
        ridge = fit_ridge(series, enc.horizon)
        _, val_end = split_points(len(series))

        def one():
            t = int(rng.integers(val_end, len(series)))
            predictor.forecast(series, [t], enc.horizon)
            baseline_forecasts(series, enc, np.array([t]), enc.horizon, ridge)

        first = time_calls(one, 1, warmup=0)["p50_ms"]
        out[folder.name] = timed = time_calls(one, repeats, warmup=2)
        timed["first_ms"] = first
        print(f"{folder.name}: {predictor.describe()}; {enc.horizon}-step forecast + baselines from one origin: "
              f"p50 {timed['p50_ms']:.1f} ms, p95 {timed['p95_ms']:.1f} ms (the first: {first:.0f} ms)")
    return out
