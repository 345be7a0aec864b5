"""Training a forecaster (many-to-one regression with a multi-step head) on one series.

A built-in series (``--series sunspots``) or any CSV (``--series upload --csv F
--target Close``): split by time (`features.split_points`), scaled on the training
part only, cut into windows, trained by the shared loop on the pinball loss of three
quantiles, validated on the next 10%; then the 80% interval is calibrated on that
validation part and the model is scored on the test tail beside the baselines.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path

from ...data.timeseries import BUILT_IN, Series, TableError, load_series, read_table
from ...fit import Plan, fit
from ...models import create_model
from ...runtime import Runtime, evaluating
from ...train import TrainResult
from ..spec import Metric
from .features import UPLOAD_SHORT_ROWS, SeriesEncoder, defaults, least_windows, split_points
from .predictor import ForecastPredictor
from .conformal import validation_widening
from .peers import UPLOAD_ORIGINS, fit_peers
from .tail import scored
from .windows import Windows, origins

METRIC = Metric("val_loss", "validation quantile loss", higher_is_better=False)

# Target transforms of the built-in series: PM2.5 and sunspots are skewed counts whose
# noise grows with their level (log; measured against the square root: README).
TRANSFORM = {"pm25": "log1p", "sunspots": "log1p"}


@dataclass
class Recipe:
    """The shipped models' recipe (`python -m rnn_core train forecast --series NAME`)."""
    series: str = "sunspots"          # a built-in series, or "upload" (with csv)
    csv: str = ""                     # a CSV file for series "upload"
    target: str = ""                  # its column to forecast ("" = Close, Value... or the first)
    covariates: str = ""              # its other columns the network reads, comma-separated
    window: int = 0                   # rows of the past read (0 = the series' default)
    horizon: int = 0                  # steps ahead forecast (0 = the series' default)
    direct: bool = True               # False: a one-step head rolled forward (recursive)
    transform: str = "auto"           # of the target: none, log1p, sqrt (auto: by series)
    calendar: bool | None = None      # read the phase of the year (day, week) too (None: by series)
    cell: str = "lstm"
    hidden: int = 64
    layers: int = 1
    dropout: float = 0.0
    lr: float = 3e-3
    batch_size: int = 64
    epochs: int = 300
    max_minutes: float | None = None  # no clock: the same seed trains the same model (the budget drives the LR decay)
    patience: int | None = 0          # optimiser steps without a better validation before stopping (0: 12
                                      # epochs' worth, at least 300; None: never); the validations of a
                                      # small series are only a step apart, so they are no measure of patience
    seed: int = 0
    peers: bool = True                # score the statistical peers beside it at the end (seconds to a minute)


# Named recipes (`TaskSpec.presets`, ``train forecast --preset NAME``): recipe fields over
# the defaults. tiny: seconds on one core; large: for a GPU.
PRESETS = {
    "tiny": {"hidden": 8, "epochs": 2, "max_minutes": None, "peers": False},
    "default": {},
    "large": {"hidden": 256, "layers": 2, "dropout": 0.1, "batch_size": 128},
}


def series_for(r: Recipe, data_dir: str | None = None) -> Series:
    """The series a recipe names: built in, or read from its CSV."""
    if r.series == "upload":
        if not r.csv:
            raise ValueError("series 'upload' needs --csv FILE")
        covariates = tuple(c.strip() for c in r.covariates.split(",") if c.strip())
        try:
            return read_table(Path(r.csv).read_bytes(), r.target or None, covariates)
        except (OSError, TableError) as e:
            raise ValueError(f"{r.csv}: {e}") from None
    return load_series(r.series, data_dir)


def encoder_for(r: Recipe, series: Series) -> SeriesEncoder:
    """The window, horizon, transform and scaling a recipe gives ``series``; a short
    uploaded series gets a note saying so (once, however often this is called)."""
    default_window, default_horizon = defaults(series)
    window, horizon = r.window or default_window, r.horizon or default_horizon
    transform = TRANSFORM.get(series.name, "none") if r.transform == "auto" else r.transform
    n = len(series)
    train_end, val_end = split_points(n)
    least, short = least_windows(n), n < UPLOAD_SHORT_ROWS
    if window < 1 or len(origins(0, train_end, window, horizon)) < least or \
            val_end - train_end < horizon + (0 if short else 1):
        raise ValueError(f"{n} rows are too few for a window of {window} and a horizon of {horizon}: the training "
                         f"part (70%) needs {least} windows and the validation part (10%) a horizon, so choose a "
                         "shorter window or horizon")
    if short and series.name not in BUILT_IN:
        unit = series.step if series.step != "row" else "step"
        note = (f"A short series ({n} {unit}s): forecasting {horizon} {unit}{'s' * (horizon != 1)} ahead from the "
                f"last {window}; figures on so short a tail are rough.")
        series.notes[:] = [x for x in series.notes if not x.startswith("A short series (")] + [note]
    calendar = r.calendar if r.calendar is not None else (series.name != "sunspots")  # the Sun keeps no calendar
    return SeriesEncoder.fit(series, window, horizon, transform, calendar)


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple[ForecastPredictor, TrainResult]:
    """Train a forecaster on the recipe's series, validating on its next 10%.

    Returns:
        (a predictor around the best weights with a calibrated interval, the training result)
    """
    return fit(Recipe, plan, ForecastPredictor, options, data_dir, out_dir, on_progress=on_progress, stop=stop,
               runtime=runtime, max_steps=max_steps)


def plan(r: Recipe, data_dir: str | None = None) -> Plan:
    """The series, its windows and the network of recipe ``r`` (`rnn_core.fit`)."""
    series = series_for(r, data_dir)
    enc = encoder_for(r, series)
    head = enc.horizon if r.direct else 1
    windows = Windows(enc.encode(series), enc.scaled_target(series.target), series.observed, enc.window, head)
    train_end, val_end = split_points(len(series))
    train_ts, val_ts = origins(0, train_end, enc.window, head), origins(train_end, val_end, enc.window, head)
    val_batches = windows.batches(val_ts, 1024)
    rng = random.Random(r.seed)
    steps = -(-len(train_ts) // r.batch_size)

    def validate(m) -> dict:
        total = sum(float(m(**b)[1]) * len(b["x"]) for b in val_batches)
        return {"val_loss": total / len(val_ts)}

    def extras(m) -> dict:
        # the 80% interval calibrated on the validation part, then the test tail's figures beside the
        # statistical peers, with the method recommended on the validation part
        predictor = ForecastPredictor(m.eval(), enc, {})
        peers, notes = fit_peers(series) if r.peers else ({}, [])
        with evaluating(m):
            enc.widen = validation_widening(predictor, series)
            # at most UPLOAD_ORIGINS origins a part, as for an upload: the peers forecast origin by origin
            tail = scored(predictor, series, peers=peers, most=UPLOAD_ORIGINS)
        return {"tail": tail, "notes": series.notes + notes}

    return Plan(encoder=enc, steps_per_epoch=steps,
                network=lambda: create_model("Forecaster", input_size=enc.n_features, horizon=head,
                                             hidden_size=r.hidden, num_layers=r.layers, cell=r.cell,
                                             dropout=r.dropout, quantiles=list(enc.quantiles)),
                epoch_batches=lambda epoch: windows.batches(train_ts, r.batch_size, rng),
                validate=validate, metric=METRIC, count=lambda b: len(b["x"]),
                data=f"{series.label}: {train_end:,} {series.step}s for training, {val_end - train_end:,} for "
                     f"validation and calibrating the interval, the last {len(series) - val_end:,} for the test tail",
                loop={"patience": validations(r.patience, steps), "clip": 1.0, "log_every": max(1, steps // 2)},
                extras=extras)


def validations(patience: int | None, steps_per_epoch: int) -> int | None:
    """The loop's patience (validations, one an epoch) for ``patience`` optimiser steps
    (0: 12 epochs' worth, at least 300 steps; None: never stop early)."""
    if patience is None:
        return None
    steps = patience or max(12 * steps_per_epoch, 300)
    return max(1, -(-steps // steps_per_epoch))
