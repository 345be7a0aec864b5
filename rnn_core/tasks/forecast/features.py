"""What the forecasting network reads: the split of a series by time, and the
`SeriesEncoder` that turns its columns into scaled features (fitted on the training
part only) and the network's outputs back into the series' units.

The split, by time and never at random: the first 70% of rows train, the next 10%
validate (early stopping, and calibrating the intervals), the last 20% are the test
tail every figure is measured on.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ...data.timeseries import BUILT_IN, Series

TRAIN_SHARE, VAL_SHARE = 0.7, 0.1
TRANSFORMS = ("none", "log1p", "sqrt")


def split_points(n: int) -> tuple[int, int]:
    """(end of the training part, end of the validation part) for ``n`` rows; the
    test tail is ``[val_end, n)``."""
    return int(n * TRAIN_SHARE), int(n * (TRAIN_SHARE + VAL_SHARE))


# An uploaded series' window and horizon by its step (a built-in one has its own).
UPLOAD_WINDOW = {"hour": 72, "day": 30, "week": 26, "month": 24, "quarter": 8, "year": 8, "row": 30}
UPLOAD_HORIZON = {"hour": 24, "day": 14, "week": 8, "month": 12, "quarter": 4, "year": 3, "row": 10}
# Fewer rows make a short series: its training part need only give this many windows
# (else 20), and its validation part one full horizon (else two origins).
UPLOAD_SHORT_ROWS = 100
UPLOAD_SHORT_WINDOWS = 8


def least_windows(n: int) -> int:
    """Training windows a series of ``n`` rows must give (`UPLOAD_SHORT_WINDOWS` if short)."""
    return UPLOAD_SHORT_WINDOWS if n < UPLOAD_SHORT_ROWS else 20


def defaults(series: Series) -> tuple[int, int]:
    """(window, horizon) a series gets unless a recipe says otherwise: a built-in
    series' own, else by its step, shrunk to fit the split: the horizon to fit the
    validation part, the window to a tenth of the rows (but a season, if it fits) and to
    leave `least_windows` training windows."""
    info = BUILT_IN.get(series.name)
    if info:
        return info.window, info.horizon
    n = len(series)
    train_end, val_end = split_points(n)
    spare = 0 if n < UPLOAD_SHORT_ROWS else 1  # a long series keeps two validation origins
    horizon = max(1, min(UPLOAD_HORIZON.get(series.step, 10), val_end - train_end - spare))
    room = train_end - horizon + 1 - least_windows(n)
    window = min(UPLOAD_WINDOW.get(series.step, 30), max(n // 10, series.season), room)
    return max(1, window), horizon


def _forward(x: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.log1p(np.maximum(x, 0))
    if transform == "sqrt":
        return np.sqrt(np.maximum(x, 0))
    return x


def _backward(z: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log1p":
        return np.expm1(z)
    if transform == "sqrt":
        return np.square(np.maximum(z, 0))
    return z


# Calendar features by the series' step: the phase of the year, or of the day and week.
CALENDARS = {"day": ("year",), "week": ("year",), "month": ("year",), "hour": ("day", "week")}


def calendar_features(dates: np.ndarray, kinds: tuple[str, ...]) -> np.ndarray:
    """(T, 2 * len(kinds)) sine and cosine of each phase ("year", "day", "week") at ``dates``."""
    if not kinds or not np.issubdtype(np.asarray(dates).dtype, np.datetime64):
        return np.zeros((len(dates), 0))
    idx = pd.DatetimeIndex(dates)
    phases = {"year": (idx.day_of_year - 1 + idx.hour / 24) / 365.25, "day": idx.hour / 24,
              "week": (idx.day_of_week + idx.hour / 24) / 7}
    cols = []
    for k in kinds:
        angle = 2 * np.pi * np.asarray(phases[k], dtype=float)
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, 1)


@dataclass
class SeriesEncoder:
    """Columns -> the network's scaled features, and back.

    The target (column 0) is transformed (``transform``: log1p for skewed counts
    like PM2.5) and every column standardised with the mean and standard deviation
    of the training part only: nothing about the test tail reaches the network
    before it forecasts it. Calendar phases (sine, cosine) follow.

    Attributes:
        widen: per step ahead, how far (in scaled units) the quantile interval is
            widened (or narrowed, if negative) so that it covers its nominal share
            of the validation part (conformalised quantile regression).
    """
    columns: list[str]
    mean: list[float]
    std: list[float]
    window: int
    horizon: int
    season: int
    transform: str = "none"
    calendar: tuple[str, ...] = ()
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    widen: list[float] = field(default_factory=list)
    series: str = ""
    label: str = ""
    step: str = ""
    unit: str = ""

    @classmethod
    def fit(cls, series: Series, window: int, horizon: int, transform: str = "none",
            calendar: bool = True) -> "SeriesEncoder":
        """Fit the scaling on ``series``' training part (`split_points`) only."""
        if transform not in TRANSFORMS:
            raise ValueError(f"unknown transform {transform!r}; choose one of {', '.join(TRANSFORMS)}")
        train_end, _ = split_points(len(series))
        part = series.values[:train_end].copy()
        part[:, 0] = _forward(part[:, 0], transform)
        mean, std = part.mean(0), part.std(0)
        std[std < 1e-8] = 1.0
        kinds = CALENDARS.get(series.step, ()) if calendar else ()
        if not np.issubdtype(np.asarray(series.dates).dtype, np.datetime64):
            kinds = ()
        return cls(list(series.columns), mean.tolist(), std.tolist(), window, horizon, series.season, transform,
                   tuple(kinds), series=series.name, label=series.label, step=series.step, unit=series.unit)

    @property
    def n_features(self) -> int:
        """Inputs per step: the columns, then a sine and cosine per calendar phase."""
        return len(self.columns) + 2 * len(self.calendar)

    def encode(self, series: Series) -> np.ndarray:
        """(T, n_features) float32: the scaled columns, then the calendar phases."""
        x = series.values[:, :len(self.columns)].copy()
        x[:, 0] = _forward(x[:, 0], self.transform)
        x = (x - np.asarray(self.mean)) / np.asarray(self.std)
        return np.concatenate([x, calendar_features(series.dates, self.calendar)], 1).astype(np.float32)

    def scaled_target(self, values: np.ndarray) -> np.ndarray:
        """Target values in the network's scaled units."""
        return (_forward(np.asarray(values, dtype=float), self.transform) - self.mean[0]) / self.std[0]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """The network's scaled outputs in the series' units."""
        return _backward(np.asarray(z, dtype=float) * self.std[0] + self.mean[0], self.transform)

    def to_dict(self) -> dict:
        """The scaling, window and series facts (JSON-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SeriesEncoder":
        """The encoder ``to_dict`` described."""
        d = dict(d)
        d["calendar"], d["quantiles"] = tuple(d.get("calendar", ())), tuple(d.get("quantiles", (0.1, 0.5, 0.9)))
        return cls(**d)


def calendar_rows(series: Series, kinds: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
    """(len(rows), 2 * len(kinds)) calendar features of ``rows``, which may run past
    the series' end (forecasting the future): dates there go on at the usual step."""
    dates = np.asarray(series.dates)
    if not kinds or not np.issubdtype(dates.dtype, np.datetime64):
        return np.zeros((len(rows), 0))
    step = np.median(np.diff(dates[-50:])) if len(dates) > 1 else np.timedelta64(1, "D")
    beyond = np.maximum(rows - (len(dates) - 1), 0)
    at = dates[np.minimum(rows, len(dates) - 1)] + beyond * step
    return calendar_features(at, kinds)
