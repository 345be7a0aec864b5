"""Time series: the three built-in forecasting series, and a visitor's CSV, read into
one shape (`Series`): dates, a target column, optional covariates, and a note on
everything that had to be mended on the way (gaps, duplicates, order).

Reading uses pandas (a Gradio dependency already): its CSV reader and date parser
cope with the quoting, date formats and stray text real exports have, which a
hand-written reader would get wrong in a hundred small ways.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import SOURCES, DataError, locate


class TableError(ValueError):
    """A CSV that cannot be read as a time series; the message is one sentence for
    the visitor."""


@dataclass
class Series:
    """One time series, ready to cut into windows.

    Attributes:
        name: a short key ("sunspots", or "upload").
        label: how a person reads it ("Monthly sunspots, 1749-1983").
        dates: (T,) datetime64 (or step numbers when the data had no dates).
        values: (T, F) float64: the target first, then the covariates; gaps filled.
        columns: F names, target first.
        observed: (T,) True where the target was measured (False: a filled gap,
            never scored).
        step: the usual step between rows ("day", "month", "hour", ...).
        season: rows in one season, for the seasonal-naive forecast (1: none).
        unit: of the target ("°C"), for plots.
        notes: what was mended, one sentence each.
        choices: every numeric column of the table the series came from (a
            visitor may pick another target or covariates among them).
    """
    name: str
    label: str
    dates: np.ndarray
    values: np.ndarray
    columns: list[str]
    observed: np.ndarray
    step: str
    season: int
    unit: str = ""
    notes: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def target(self) -> np.ndarray:
        """(T,) the target column."""
        return self.values[:, 0]


@dataclass(frozen=True)
class BuiltIn:
    """A built-in series: its file, how to read it, and its forecasting defaults."""
    file: str
    label: str
    step: str
    season: int            # same day last year / same month last cycle / same hour yesterday
    season_name: str
    window: int            # rows of the past the network reads
    horizon: int           # the most steps ahead it forecasts
    unit: str


BUILT_IN = {
    "temperatures": BuiltIn("daily-min-temperatures.csv", "Melbourne daily minimum temperature, 1981-1990",
                            "day", 365, "same day last year", 60, 14, "°C"),
    "sunspots": BuiltIn("monthly-sunspots.csv", "Monthly mean sunspot number, 1749-1983", "month", 132,
                        "same month one 11-year cycle ago", 120, 24, "sunspots"),
    "pm25": BuiltIn("pollution.csv", "Beijing PM2.5 with weather, hourly, 2010-2014", "hour", 24,
                    "same hour yesterday", 72, 24, "µg/m³"),
    # the seeds' stock example: the daily close, read 100 trading days at a time
    "stock": BuiltIn("google-stock.csv", "Google (GOOG) daily close, 2018-2023", "day", 5,
                     "same weekday last week", 100, 10, "US$"),
}


def load_series(name: str, data_dir: str | Path | None = None) -> Series:
    """A built-in series by name (see `rnn_core.data.locate` for where it is looked for)."""
    if name not in BUILT_IN:
        raise DataError(f"unknown series {name!r}; built in: {', '.join(BUILT_IN)}")
    info = BUILT_IN[name]
    path = locate(SOURCES["timeseries"], data_dir) / info.file
    if name == "pm25":
        series = _read_pollution(path)
    else:
        series = read_table(path.read_bytes())
    series.name, series.label, series.step, series.season, series.unit = (
        name, info.label, info.step, info.season, info.unit)
    return series


def _read_pollution(path: Path) -> Series:
    """pollution.csv: hourly rows with year/month/day/hour columns; the wind direction
    (cbwd) becomes one column per direction; pm2.5's NA hours are gaps."""
    df = pd.read_csv(path)
    dates = pd.to_datetime(df[["year", "month", "day", "hour"]]).to_numpy()
    wind = pd.get_dummies(df["cbwd"], prefix="wind", dtype=float)
    table = pd.concat([df[["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]].astype(float), wind], axis=1)
    observed = table["pm2.5"].notna().to_numpy()
    values = table.interpolate(limit_direction="both").to_numpy()
    missing = int((~observed).sum())
    notes = [f"{missing:,} hours without a PM2.5 reading were filled by interpolation and are never scored."]
    return Series("pm25", "", dates, values, list(table.columns), observed, "hour", 24, notes=notes)


# What a visitor's CSV may be: at most this many bytes, columns and (most recent) rows.
MAX_CSV_MB = 12
MAX_COLUMNS = 64
MAX_ROWS = 100_000
MIN_ROWS = 100
_DATE_NAMES = ("date", "time", "datetime", "timestamp", "day", "month", "year", "period", "ds")
_TARGET_NAMES = ("close", "adj close", "adj_close", "value", "target", "y")


def read_table(data: bytes, target: str | None = None, covariates: tuple[str, ...] = ()) -> Series:
    """A CSV (bytes) as a `Series`: a date column (if any) and numeric columns.

    What it mends, each with a note: text cells in a numeric column (gaps), gaps
    (linear interpolation; filled targets are never scored), unsorted rows (sorted),
    duplicated dates (the last row kept), rows whose date does not parse (dropped),
    more than `MAX_ROWS` rows (the most recent kept).

    Args:
        target: the column to forecast (default: Close, Value... or the first numeric one).
        covariates: other numeric columns the network also reads.

    Raises:
        TableError: no numeric column, too few rows, an unknown column, a file too
            large or not a CSV; the message says what to do.
    """
    df = _read_csv(data)
    notes: list[str] = []
    date_col = _date_column(df)
    numeric = _numeric_columns(df, date_col, notes)
    table = pd.DataFrame(numeric)
    if date_col is not None:
        table, dates = _in_date_order(table, df[date_col], date_col, notes)
    else:
        notes.append("No date column was found: the rows are read as consecutive steps.")
        dates = np.arange(len(table))
    if len(table) > MAX_ROWS:
        notes.append(f"Only the most recent {MAX_ROWS:,} of {len(table):,} rows were kept.")
        table, dates = table.iloc[-MAX_ROWS:], dates[-MAX_ROWS:]
    columns = _pick_columns(list(table.columns), target, covariates)
    table = table[columns].reset_index(drop=True)
    observed = table[columns[0]].notna().to_numpy()
    if observed.sum() < MIN_ROWS:
        raise TableError(f"That table has {int(observed.sum())} rows with a value of {columns[0]}; forecasting "
                         f"needs at least {MIN_ROWS} (a window of the past, and a tail to test on).")
    gaps = int((~observed).sum())
    if gaps:
        notes.append(f"{gaps:,} gap{'s' * (gaps != 1)} in {columns[0]} {'were' if gaps != 1 else 'was'} filled by "
                     "linear interpolation (never scored).")
    values = table.interpolate(limit_direction="both").fillna(0.0).to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise TableError("That table holds numbers too large to use (infinite values).")
    step, season, irregular = _spacing(dates) if date_col is not None else ("row", 1, 0)
    if irregular:
        notes.append(f"The dates skip {irregular:,} time{'s' * (irregular != 1)} (weekends, holidays, missing "
                     f"rows): the rows are read as consecutive {step}s.")
    return Series("upload", f"{columns[0]} (uploaded)", dates, values, columns, observed, step, season, notes=notes,
                  choices=list(numeric))


def _read_csv(data: bytes) -> pd.DataFrame:
    """The CSV's cells, with stripped column names; a file too large, empty, binary or
    unreadable is a `TableError` that says so."""
    if len(data) > MAX_CSV_MB * 2**20:
        raise TableError(f"That file is {len(data) / 2**20:.1f} MB; this tab reads CSVs up to {MAX_CSV_MB} MB "
                         f"(about {MAX_ROWS:,} rows): keep the most recent rows and upload it again.")
    if not data.strip():
        raise TableError("That file is empty: upload a CSV with a date column and a numeric column.")
    if b"\x00" in data[:4096]:
        raise TableError("That is not a CSV (it holds binary data): export the table as CSV and upload that.")
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, sep=None, engine="python")
        if len(header.columns) > MAX_COLUMNS:
            raise TableError(f"That table has {len(header.columns)} columns; this tab reads at most {MAX_COLUMNS}.")
        df = pd.read_csv(io.BytesIO(data), sep=None, engine="python", skipinitialspace=True)
    except TableError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, csv.Error) as e:
        raise TableError(f"That file could not be read as a CSV ({str(e).splitlines()[0][:120]}).") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _numeric_columns(df: pd.DataFrame, date_col: str | None, notes: list[str]) -> dict[str, pd.Series]:
    """The columns (other than the dates) at least half numbers, as floats; text cells
    become gaps, with a note. None at all is a `TableError`."""
    numeric = {}
    for c in df.columns:
        if c == date_col:
            continue
        raw = df[c]
        col = raw.astype(float) if raw.dtype.kind in "biuf" else pd.to_numeric(
            raw.astype(str).str.replace(",", "", regex=False).str.strip(), errors="coerce")
        if col.notna().mean() >= 0.5:
            bad = int(col.isna().sum() - raw.isna().sum())
            if bad:
                notes.append(f"{bad:,} cell{'s' * (bad != 1)} of {c} {'were' if bad != 1 else 'was'} not a number "
                             "and counted as gaps.")
            numeric[c] = col
    if not numeric:
        raise TableError("That table has no numeric column to forecast: it needs a column of numbers "
                         "(e.g. Close) beside the dates.")
    return numeric


def _in_date_order(table: pd.DataFrame, raw_dates: pd.Series, date_col: str,
                   notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """``table``'s rows with a parsable date, sorted by it, the last of each duplicated
    date kept (each with a note), and those dates."""
    dates = _parse_dates(raw_dates)
    bad = int(dates.isna().sum())
    if bad:
        notes.append(f"{bad:,} row{'s' * (bad != 1)} whose {date_col} is not a date {'were' if bad != 1 else 'was'} "
                     "dropped.")
    keep = dates.notna().to_numpy()
    table, dates = table[keep], dates[keep]
    if not dates.is_monotonic_increasing:
        notes.append("The rows were not in date order; they were sorted.")
        order = np.argsort(dates.to_numpy(), kind="stable")
        table, dates = table.iloc[order], dates.iloc[order]
    duplicated = dates.duplicated(keep="last").to_numpy()
    if duplicated.any():
        count = int(duplicated.sum())
        notes.append(f"{count:,} duplicated date{'s' * (count != 1)}: "
                     "the last row of each was kept.")
        table, dates = table[~duplicated], dates[~duplicated]
    return table, dates.to_numpy()


def _date_column(df: pd.DataFrame) -> str | None:
    """The column of dates: one with a date-like name or mostly parsable as dates."""
    named = [c for c in df.columns if c.lower() in _DATE_NAMES]
    for c in named + [c for c in df.columns if c not in named]:
        col = df[c]
        if col.dtype != object and c not in named:
            continue  # plain numbers are values, not dates
        if _parse_dates(col.head(200)).notna().mean() >= 0.8:
            return c
    return None


def _parse_dates(col: pd.Series) -> pd.Series:
    text = col.astype(str).str.strip()
    if text.str.fullmatch(r"\d{4}").all():  # years alone
        return pd.to_datetime(text, format="%Y", errors="coerce")
    return pd.to_datetime(text, errors="coerce", format="mixed")


def _pick_columns(names: list[str], target: str | None, covariates: tuple[str, ...]) -> list[str]:
    for c in ([target] if target else []) + list(covariates):
        if c not in names:
            raise TableError(f"There is no numeric column {c!r}; the numeric columns are {', '.join(names)}.")
    if not target:
        target = next((c for c in names if c.lower() in _TARGET_NAMES), names[0])
    return [target] + [c for c in covariates if c != target]


# (name, typical spacing in days, season in rows)
_STEPS = (("hour", 1 / 24, 24), ("day", 1, 7), ("week", 7, 52), ("month", 30.4, 12), ("quarter", 91, 4),
          ("year", 365, 1))


def _spacing(dates: np.ndarray) -> tuple[str, int, int]:
    """(step name, season in rows, how many times the dates skip more than a step)."""
    if len(dates) < 2:
        return "row", 1, 0
    days = np.diff(dates).astype("timedelta64[s]").astype(float) / 86400
    usual = float(np.median(days))
    if usual <= 0:
        return "row", 1, 0
    name, typical, season = min(_STEPS, key=lambda s: abs(np.log(usual / s[1])))
    if name == "day":  # business days (a stock export): a week is five rows
        weekdays = pd.DatetimeIndex(dates).day_of_week
        if (weekdays >= 5).mean() < 0.02:
            season = 5
    irregular = int((days > 1.5 * usual).sum()) if name in ("hour", "day", "week") else 0
    return name, season, irregular
