"""Time series: the three built-in forecasting series, and a visitor's CSV, read into
one shape (`Series`): dates, a target column, optional covariates, and a note on
everything that had to be mended on the way (gaps, duplicates, order), after one
sentence saying what was assumed (the spacing and seasons, the date order, the
separator and decimal mark).

Reading uses pandas (a Gradio dependency already) for the quoting and stray text
real exports have. What pandas would guess row by row is decided once here, from
the whole file: the separator, a decimal comma, and the date format (then parsed
with that explicit format, so "01/02/1990" means the same date on every row).
"""
from __future__ import annotations

import csv
import io
import re
import warnings
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
        season: rows in one season, for the seasonal-naive forecast (1: none); the
            first of ``seasons``.
        unit: of the target ("°C"), for plots.
        notes: what was mended, one sentence each.
        choices: every numeric column of the table the series came from (a
            visitor may pick another target or covariates among them).
        seasons: every season the dates suggest, in rows ((7, 365) for days,
            (24, 168) for hours, (5, 252) for trading days; (): none).
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
    seasons: tuple[int, ...] = ()

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
    seasons: tuple[int, ...] = ()  # every season, ``season`` first


BUILT_IN = {
    "temperatures": BuiltIn("daily-min-temperatures.csv", "Melbourne daily minimum temperature, 1981-1990",
                            "day", 365, "same day last year", 60, 14, "°C", (365, 7)),
    "sunspots": BuiltIn("monthly-sunspots.csv", "Monthly mean sunspot number, 1749-1983", "month", 132,
                        "same month one 11-year cycle ago", 120, 24, "sunspots", (132,)),
    "pm25": BuiltIn("pollution.csv", "Beijing PM2.5 with weather, hourly, 2010-2014", "hour", 24,
                    "same hour yesterday", 72, 24, "µg/m³", (24, 168)),
    # the seeds' stock example: the daily close, read 100 trading days at a time
    "stock": BuiltIn("google-stock.csv", "Google (GOOG) daily close, 2018-2023", "day", 5,
                     "same weekday last week", 100, 10, "US$", (5, 252)),
}


def load_series(name: str, data_dir: str | Path | None = None) -> Series:
    """A built-in series by name (see `rnn_core.data.locate` for where it is looked for)."""
    if name not in BUILT_IN:
        raise DataError(f"unknown series {name!r}; built in: {', '.join(BUILT_IN)}")
    info = BUILT_IN[name]
    try:
        path = locate(SOURCES["timeseries"], data_dir) / info.file
    except DataError:  # offline: name the file this series needs and both ways to get it
        if data_dir is not None:
            raise  # a folder given explicitly: its own message says what it lacks
        raise DataError(f"The {name} series needs timeseries/{info.file}, which is not on this machine and could "
                        "not be downloaded: set RNN_GALLERY_DATA to a folder holding timeseries/, or run "
                        "`python -m rnn_core download timeseries` where there is internet.") from None
    if name == "pm25":
        series = _read_pollution(path)
    else:
        series, how = _read(path.read_bytes())
        series.notes.insert(0, _assumption(how, info.step, info.seasons))  # its own seasons, not the guessed ones
    series.name, series.label, series.step, series.season, series.unit, series.seasons = (
        name, info.label, info.step, info.season, info.unit, info.seasons)
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
# The fewest rows with a target value: two years of months still leave each part of the
# split (70/10/20%) a horizon; daily or hourly data this short hold too few weeks or days.
MIN_ROWS = 24
MIN_ROWS_BY_STEP = {"day": 100, "hour": 100}
_DATE_NAMES = ("date", "time", "datetime", "timestamp", "day", "week", "month", "quarter", "year", "period", "ds",
               "datum", "fecha", "data")
_TARGET_NAMES = ("close", "adj close", "adj_close", "value", "target", "y")
# Tried in this order, a tie going to the first: a tie with ',' comes from decimal commas.
_SEPARATORS = (";", "\t", "|", ",")
_SEPARATOR_NAMES = {";": "';'", "\t": "tab", "|": "'|'", ",": "','"}
_SNIFF_LINES = 50


@dataclass
class _Reading:
    """How a CSV was read, for the sentence that says so (`_assumption`)."""
    sep: str = ","
    decimal_comma: bool = False
    windows_1252: bool = False
    example: str | None = None  # the first date as written (None: no date column)
    order: str = ""             # the day/month order read, and why


@dataclass(frozen=True)
class _DateFormat:
    """pandas formats of one date shape, tried in turn on the rows still unread (with a
    time, then without), and the day/month order they read."""
    formats: tuple[str | None, ...]
    order: str = ""


def read_table(data: bytes, target: str | None = None, covariates: tuple[str, ...] = ()) -> Series:
    """A CSV (bytes) as a `Series`: a date column (if any) and numeric columns.

    Its first note says what was assumed (spacing and seasons, the day/month order,
    separator, decimal comma). What it mends, each with a note: text cells in a numeric
    column (gaps), gaps (linear interpolation; filled targets are never scored),
    unsorted rows (sorted), duplicated dates (the last row kept), rows whose date does
    not parse (dropped), more than `MAX_ROWS` rows (the most recent kept).

    Args:
        target: the column to forecast (default: Close, Value... or the first numeric one).
        covariates: other numeric columns the network also reads.

    Raises:
        TableError: no numeric column, too few rows, an unknown column, a file too
            large or not a CSV; the message says what to do.
    """
    series, how = _read(data, target, covariates)
    series.notes.insert(0, _assumption(how, series.step, series.seasons))
    return series


def _read(data: bytes, target: str | None = None, covariates: tuple[str, ...] = ()) -> tuple[Series, _Reading]:
    """`read_table` but its first note, and how the file was read."""
    df, how = _read_csv(data)
    notes: list[str] = []
    date_col, fmt = _date_column(df)
    numeric = _numeric_columns(df, date_col, how.decimal_comma, notes)
    table = pd.DataFrame(numeric)
    if date_col is not None:
        table, dates, how.example = _in_date_order(table, df[date_col], fmt, date_col, notes)
        how.order = fmt.order
    else:
        dates = np.arange(len(table))
    if len(table) > MAX_ROWS:
        notes.append(f"Only the most recent {MAX_ROWS:,} of {len(table):,} rows were kept.")
        table, dates = table.iloc[-MAX_ROWS:], dates[-MAX_ROWS:]
    columns = _pick_columns(list(table.columns), target, covariates)
    table = table[columns].reset_index(drop=True)
    step, seasons, irregular = _spacing(dates) if date_col is not None else ("row", (), 0)
    observed = table[columns[0]].notna().to_numpy()
    _refuse_short(int(observed.sum()), columns[0], step)
    gaps = int((~observed).sum())
    if gaps:
        notes.append(f"{gaps:,} gap{'s' * (gaps != 1)} in {columns[0]} {'were' if gaps != 1 else 'was'} filled by "
                     "linear interpolation (never scored).")
    values = table.interpolate(limit_direction="both").fillna(0.0).to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise TableError("That table holds numbers too large to use (infinite values).")
    if irregular:
        notes.append(f"The dates skip {irregular:,} time{'s' * (irregular != 1)} (weekends, holidays, missing "
                     f"rows): the rows are read as consecutive {step}s.")
    series = Series("upload", f"{columns[0]} (uploaded)", dates, values, columns, observed, step,
                    seasons[0] if seasons else 1, notes=notes, choices=list(numeric), seasons=seasons)
    return series, how


def _refuse_short(rows: int, column: str, step: str) -> None:
    """A `TableError` when ``rows`` values are too few to forecast data of ``step``."""
    least = MIN_ROWS_BY_STEP.get(step, MIN_ROWS)
    if rows < least:
        kind = f"{_ADJECTIVES[step]} " if step in MIN_ROWS_BY_STEP else ""
        raise TableError(f"That table has {rows} row{'s' * (rows != 1)} with a value of {column}; forecasting "
                         f"{kind}data needs at least {least}, so upload a longer stretch of the series.")


def _read_csv(data: bytes) -> tuple[pd.DataFrame, _Reading]:
    """The CSV's cells as stripped text (NaN: empty) under tidy column names, and how it
    was read; a file too large, empty, binary or unreadable is a `TableError` that says so."""
    if len(data) > MAX_CSV_MB * 2**20:
        raise TableError(f"That file is {len(data) / 2**20:.1f} MB; this tab reads CSVs up to {MAX_CSV_MB} MB "
                         f"(about {MAX_ROWS:,} rows): keep the most recent rows and upload it again.")
    if not data.strip():
        raise TableError("That file is empty: upload a CSV with a date column and a numeric column.")
    if b"\x00" in data[:4096]:
        raise TableError("That is not a CSV (it holds binary data): export the table as CSV and upload that.")
    how = _Reading()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # a spreadsheet's export on Windows
        text, how.windows_1252 = data.decode("cp1252", errors="replace"), True
    found = sep = _separator(text)
    how.sep = found or ","
    if found is None:  # one column: split on nothing it holds, so "12,5" stays one cell
        sep = next((c for c in _SEPARATORS if c not in text), ",")
    try:
        header = pd.read_csv(io.StringIO(text), nrows=0, sep=sep)
        if len(header.columns) > MAX_COLUMNS:
            raise TableError(f"That table has {len(header.columns)} columns; this tab reads at most {MAX_COLUMNS}.")
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True, index_col=False)
    except TableError:
        raise
    except (pd.errors.ParserError, ValueError, csv.Error) as e:
        raise TableError(f"That file could not be read as a CSV ({str(e).splitlines()[0][:120]}).") from None
    df = _joined_dates(_tidy_columns(df.astype(object).apply(lambda c: c.str.strip().replace("", np.nan))))
    how.decimal_comma = _decimal_comma(df, found)
    return df, how


_DATE_PARTS = ("year", "month", "day", "hour")


def _joined_dates(df: pd.DataFrame) -> pd.DataFrame:
    """A table whose dates are split into year, month (, day (, hour)) columns, as the
    UCI Beijing PM2.5 export has them, with those joined into one column "date"; any
    other table as it is."""
    lower = {c.lower(): c for c in df.columns}
    parts = [p for p in _DATE_PARTS if p in lower]
    if "date" in lower or parts != list(_DATE_PARTS[:len(parts)]) or len(parts) < 2:
        return df
    nums = {p: pd.to_numeric(df[lower[p]], errors="coerce") for p in parts}
    if any(n.isna().mean() > 0.2 for n in nums.values()):
        return df
    when = pd.to_datetime(pd.DataFrame({"year": nums["year"], "month": nums["month"], "day": nums.get("day", 1),
                                        "hour": nums.get("hour", 0)}), errors="coerce")
    out = df.drop(columns=[lower[p] for p in parts])
    out.insert(0, "date", when.dt.strftime("%Y-%m-%d %H:%M" if "hour" in parts else "%Y-%m-%d"))
    return out


def _separator(text: str) -> str | None:
    """The one of `_SEPARATORS` that splits the header and nearly every one of the first
    lines into the same number (> 1) of fields, the most fields winning; None: one column."""
    lines = [line for line in text.splitlines()[:_SNIFF_LINES] if line.strip()]
    best, most = None, 1
    for sep in _SEPARATORS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if counts and counts[0] > most and np.mean([c == counts[0] for c in counts]) >= 0.9:
            best, most = sep, counts[0]
    return best


_COUNTER_NAMES = ("no", "no.", "id", "index", "#", "row", "n")


def _tidy_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Stripped column names; a column with no name is dropped when it is empty or only
    counts the rows (a saved index), else named "column N"; one named like a row number
    ("No", "id", "index") that only counts the rows is dropped too."""
    keep, names = [], []
    for i, c in enumerate(df.columns):
        name = str(c).strip()
        unnamed = not name or re.fullmatch(r"Unnamed: \d+", name)
        if unnamed or name.lower() in _COUNTER_NAMES:
            counter = pd.to_numeric(df.iloc[:, i], errors="coerce").to_numpy(dtype=float)
            counts = len(counter) > 1 and np.all(np.diff(counter) == 1)
            if counts or (unnamed and np.isnan(counter).all()):
                continue
        if unnamed:
            name = f"column {i + 1}"
        keep.append(i)
        names.append(name)
    out = df.iloc[:, keep].copy()
    out.columns = names
    return out


def _decimal_comma(df: pd.DataFrame, sep: str | None) -> bool:
    """Whether numbers are written with a decimal comma (2.763,27 or 12,5): nearly every
    number-like cell with a comma reads so, and, unless the separator is ';', one of
    them cannot be a thousands comma (US "1,234" is read as 1234)."""
    if df.empty or not len(df.columns):
        return False
    cells = pd.concat([df[c].dropna().head(1000) for c in df.columns]).astype(str)
    commas = cells[cells.str.fullmatch(r"[-+]?[\d.,]*\d") & cells.str.contains(",", regex=False)]
    if commas.empty or commas.str.fullmatch(r"[-+]?[\d.]*\d,\d+").mean() < 0.9:
        return False
    proof = commas.str.fullmatch(r"[-+]?\d+,(\d{1,2}|\d{4,})|[-+]?0,\d+") | commas.str.contains(r"\.\d{3},")
    return sep == ";" or bool(proof.any())


def _numbers(cells: pd.Series, decimal_comma: bool) -> pd.Series:
    """Text cells as floats (NaN: not a number), thousands marks dropped (1,234.5;
    2.763,27; 1 234), a decimal comma read as a point."""
    text = cells.astype(object).where(cells.isna(), cells.astype(str))
    text = text.str.replace(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}(?:\D|$))", "", regex=True)
    if decimal_comma:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _numeric_columns(df: pd.DataFrame, date_col: str | None, decimal_comma: bool,
                     notes: list[str]) -> dict[str, pd.Series]:
    """The columns (other than the dates) at least half numbers, as floats; text cells
    become gaps, with a note. None at all is a `TableError`."""
    numeric = {}
    for c in df.columns:
        if c == date_col:
            continue
        raw = df[c]
        col = _numbers(raw, decimal_comma)
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


def _in_date_order(table: pd.DataFrame, raw_dates: pd.Series, fmt: _DateFormat, date_col: str,
                   notes: list[str]) -> tuple[pd.DataFrame, np.ndarray, str]:
    """``table``'s rows with a parsable date, sorted by it, the last of each duplicated
    date kept (each with a note), those dates, and the first date as written."""
    dates = _parse_dates(raw_dates, fmt)
    bad = int(dates.isna().sum())
    if bad:
        notes.append(f"{bad:,} row{'s' * (bad != 1)} whose {date_col} is not a date {'were' if bad != 1 else 'was'} "
                     "dropped.")
    keep = dates.notna().to_numpy()
    example = str(raw_dates[keep].iloc[0]) if keep.any() else ""
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
    return table, dates.to_numpy(), example


def _date_column(df: pd.DataFrame) -> tuple[str | None, _DateFormat | None]:
    """The column of dates (one with a date-like name first) and its format: the first
    column whose cells are mostly dates of one shape."""
    named = [c for c in df.columns if c.lower() in _DATE_NAMES]
    for c in named + [c for c in df.columns if c not in named]:
        cells = df[c].dropna()
        fmt = _date_format(cells, digits=c in named) if len(cells) else None
        if fmt is not None and _parse_dates(cells.head(200), fmt).notna().mean() >= 0.8:
            return c, fmt
    return None, None


_TIME = r"(?: \d{1,2}:\d{2}(?::\d{2})?)?"


def _timed(fmt: str) -> tuple[str, ...]:
    return fmt + " %H:%M:%S", fmt + " %H:%M", fmt


# (a date as written, its pandas formats, whether it could be a number: then only in a
# column named like dates)
_DATE_SHAPES = (
    (r"\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", ("ISO8601",), False),
    (r"\d{4}/\d{1,2}/\d{1,2}" + _TIME, _timed("%Y/%m/%d"), False),
    (r"\d{4}-\d{1,2}", ("%Y-%m",), False),
    (r"\d{4}/\d{1,2}", ("%Y/%m",), False),
    (r"\d{1,2}/\d{4}", ("%m/%Y",), False),
    (r"\d{4}", ("%Y",), True),
    (r"\d{8}", ("%Y%m%d",), True),
    (r"\d{4}\.\d{1,2}", ("%Y.%m",), True),
)
_DAY_MONTH = r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME


def _date_text(cells: pd.Series) -> pd.Series:
    """Dates as text in one spelling: one space before a time, no time zone (the local
    clock is what seasons follow)."""
    text = cells.astype(object).where(cells.isna(), cells.astype(str)).str.strip()
    text = text.str.replace(r"(?<=\d)(?:T|\s+)(?=\d{1,2}:\d{2})", " ", regex=True)
    return text.str.replace(r"(:\d{2}(?:\.\d+)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$", r"\1", regex=True)


def _date_format(cells: pd.Series, digits: bool) -> _DateFormat | None:
    """The format of most (80%) of ``cells`` (no gaps) read as dates, None if none fits;
    ``digits``: shapes that could be numbers (1990, 19901231) count too."""
    text = _date_text(cells)
    for pattern, formats, number_like in _DATE_SHAPES:
        if (digits or not number_like) and text.str.fullmatch(pattern).mean() >= 0.8:
            return _DateFormat(formats)
    parts = text.str.extract(f"^{_DAY_MONTH}$")
    if parts[0].notna().mean() >= 0.8:
        return _day_month(parts[parts[0].notna()])
    if text.str.contains(r"\d").mean() >= 0.8 and text.str.contains(r"[A-Za-z]").mean() >= 0.8:
        return _DateFormat((None,))  # month names (Jan 1990): pandas infers the format once, from the first
    return None


def _day_month(parts: pd.DataFrame) -> _DateFormat:
    """The format of dates like 31.12.1990 or 12/31/1990 (``parts``: first number,
    separator, second number, year): a first number above 12 proves day first, a second
    one month first; neither: day first after dots, else month first (the US order), said."""
    sep = parts[1].mode().iloc[0]
    year = "%Y" if (parts[3].str.len() == 4).mean() >= 0.5 else "%y"
    first, second = parts[0].astype(int), parts[2].astype(int)
    proven = bool((first > 12).any()) != bool((second > 12).any())
    day_first = bool((first > 12).any()) if proven else sep == "."
    order = sep.join(("day", "month", "year") if day_first else ("month", "day", "year"))
    fmt = sep.join(("%d", "%m", year) if day_first else ("%m", "%d", year))
    said = f"dates read as {order}" if proven else f"{order} assumed (no day above 12 shows the order)"
    return _DateFormat(_timed(fmt), said)


def _parse_dates(cells: pd.Series, fmt: _DateFormat) -> pd.Series:
    """``cells`` as dates in ``fmt`` (each of its formats tried on the rows still unread);
    NaT where none fits."""
    text = _date_text(cells)
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when an inferred format falls back to row by row
        for f in fmt.formats:
            todo = dates.isna() & text.notna()
            if not todo.any():
                break
            parsed = pd.to_datetime(text[todo], format=f, errors="coerce")
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)
            dates[todo] = parsed
    return dates


def _pick_columns(names: list[str], target: str | None, covariates: tuple[str, ...]) -> list[str]:
    for c in ([target] if target else []) + list(covariates):
        if c not in names:
            raise TableError(f"There is no numeric column {c!r}; the numeric columns are {', '.join(names)}.")
    if not target:
        target = next((c for c in names if c.lower() in _TARGET_NAMES), names[0])
    return [target] + [c for c in covariates if c != target]


# (name, typical spacing in days, seasons in rows)
_STEPS = (("hour", 1 / 24, (24, 168)), ("day", 1, (7, 365)), ("week", 7, (52,)), ("month", 30.4, (12,)),
          ("quarter", 91, (4,)), ("year", 365, ()))
TRADING_DAYS = (5, 252)  # a week and a year of a stock exchange's days
_ADJECTIVES = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly",
               "year": "yearly", "row": "undated"}
_SEASON_NAMES = {("hour", 24): "a day", ("hour", 168): "a week", ("day", 7): "a week", ("day", 365): "a year",
                 ("day", 5): "a week", ("day", 252): "a year", ("week", 52): "a year", ("month", 12): "a year",
                 ("month", 132): "an 11-year cycle", ("quarter", 4): "a year"}


def _spacing(dates: np.ndarray) -> tuple[str, tuple[int, ...], int]:
    """(step name, seasons in rows, how many times the dates skip more than a step)."""
    if len(dates) < 2:
        return "row", (), 0
    days = np.diff(dates).astype("timedelta64[s]").astype(float) / 86400
    usual = float(np.median(days))
    if usual <= 0:
        return "row", (), 0
    name, _, seasons = min(_STEPS, key=lambda s: abs(np.log(usual / s[1])))
    if name == "day" and (pd.DatetimeIndex(dates).day_of_week >= 5).mean() < 0.02:
        return name, TRADING_DAYS, 0  # a stock export: weekends and holidays are no gaps
    irregular = int((days > 1.5 * usual).sum()) if name in ("hour", "day", "week") else 0
    return name, seasons, irregular


def _assumption(how: _Reading, step: str, seasons: tuple[int, ...]) -> str:
    """The one sentence saying how a table was read: spacing and seasons, the day/month
    order, the separator and decimal mark."""
    named = [f"{s} ({_SEASON_NAMES[step, s]})" if (step, s) in _SEASON_NAMES else str(s) for s in seasons]
    season = ("no season" if not named else f"season {named[0]}" if len(named) == 1
              else f"seasons {', '.join(named[:-1])} and {named[-1]}")
    if how.example is None:
        head = "No date column: rows read as consecutive steps"
    elif step == "day" and seasons == TRADING_DAYS:
        head = f"Trading days (no weekends): read as consecutive trading days (dates like {how.example})"
    else:
        head = f"Read as {_ADJECTIVES.get(step, step)} data (dates like {how.example})"
    marks = ([f"separator {_SEPARATOR_NAMES[how.sep]}"] if how.sep != "," else []) + \
        (["decimal comma"] if how.decimal_comma else []) + (["text in Windows-1252"] if how.windows_1252 else [])
    parts = [f"{head}, {season}"] + ([how.order] if how.order else []) + ([", ".join(marks)] if marks else [])
    return "; ".join(parts) + "."
