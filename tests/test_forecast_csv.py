"""A visitor's CSV on the forecasting tab, read right whatever its dialect: the date
shape and day/month order, the separator and decimal mark, the spacing and seasons,
one sentence on what was assumed, a lone value column, and short series forecast
end to end. Every table is built here, a few rows long; never the real files."""
import numpy as np
import pandas as pd
import pytest

from rnn_core.data.timeseries import BUILT_IN, TableError, load_series, read_table


def _csv(header: str, rows) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _wave(n: int, season: int = 12, seed: int = 0) -> np.ndarray:
    """A trend, a season and noise: what a shop's sales look like."""
    rng = np.random.default_rng(seed)
    return 100 + np.arange(n) + 10 * np.sin(2 * np.pi * np.arange(n) / season) + rng.normal(0, 2, n)


def _monthly(n: int, fmt: str = "%Y-%m", header: str = "Month,Sales") -> bytes:
    months = pd.date_range("1949-01-01", periods=n, freq="MS")
    return _csv(header, [f"{d.strftime(fmt)},{v:.2f}" for d, v in zip(months, _wave(n))])


@pytest.mark.parametrize("fmt", ["%Y-%m", "%Y/%m"])
def test_year_month_dates_are_monthly_and_keep_every_row(fmt):
    s = read_table(_monthly(144, fmt))
    assert s.step == "month" and s.seasons == (12,) and s.season == 12 and len(s) == 144
    assert s.target[-1] == pytest.approx(round(_wave(144)[-1], 2))  # the newest row is kept
    assert list(s.dates[[0, 1, -1]]) == list(pd.to_datetime(["1949-01-01", "1949-02-01", "1960-12-01"]))
    first = pd.Timestamp("1949-01-01").strftime(fmt)
    assert s.notes[0] == f"Read as monthly data (dates like {first}), season 12 (a year)."


def test_european_csv_reads_decimal_commas_and_day_month_year():
    days = pd.date_range("1990-12-01", periods=120)
    rows = [f"{d:%d.%m.%Y};{i}.{i % 1000:03d},{i % 100:02d}" for i, d in enumerate(days)]
    rows[30] = "31.12.1990;2.763,27"
    rows[31] = "01.01.1991;12,5"
    s = read_table(_csv("Datum;Wert", rows))
    assert s.columns == ["Wert"] and s.step == "day" and len(s) == 120
    assert s.target[30] == 2763.27 and s.target[31] == 12.5 and s.target[45] == 45045.45
    assert s.dates[30] == np.datetime64("1990-12-31") and s.dates[31] == np.datetime64("1991-01-01")
    assert "separator ';', decimal comma" in s.notes[0] and "day.month.year" in s.notes[0]


@pytest.mark.parametrize("sep, written, value, said", [
    (",", '"1,234.5"', 1234.5, None),  # US thousands in quotes: still a thousands comma
    ("\t", "1,234.5", 1234.5, "separator tab"),
    ("|", "7.25", 7.25, "separator '|'"),
    (";", "7", 7.0, "separator ';'"),
])
def test_separators_are_detected_and_said(sep, written, value, said):
    days = pd.date_range("2001-01-01", periods=120)
    rows = [f"{d:%Y-%m-%d}{sep}{written}{sep}{i}" for i, d in enumerate(days)]
    s = read_table(_csv(f"Date{sep}Close{sep}Volume", rows))
    assert s.choices == ["Close", "Volume"] and s.target[0] == value and s.step == "day"
    assert s.seasons == (7, 365) and s.notes[0].startswith("Read as daily data (dates like 2001-01-01)")
    assert (said in s.notes[0]) if said else ("separator" not in s.notes[0] and "decimal" not in s.notes[0])


@pytest.mark.parametrize("fmt, said", [("%m/%d/%Y", "month/day/year"), ("%d/%m/%Y", "day/month/year")])
def test_slashed_dates_whose_order_the_data_proves(fmt, said):
    days = pd.date_range("1990-12-01", periods=150)
    s = read_table(_csv("Date,Close", [f"{d.strftime(fmt)},{i}" for i, d in enumerate(days)]))
    assert len(s) == 150 and list(s.dates) == list(days.to_numpy())  # one format for every row
    assert f"dates read as {said}" in s.notes[0] and "assumed" not in s.notes[0]


def test_ambiguous_day_month_order_is_read_month_first_and_said():
    s = read_table(_monthly(60, "%m/%d/%Y", "Date,Sales"))  # 01/01/1949, 02/01/1949...: every number <= 12
    assert s.step == "month" and s.seasons == (12,)
    assert s.dates[1] == np.datetime64("1949-02-01")  # February the first, not January the second
    assert "month/day/year assumed" in s.notes[0]


def test_hourly_daily_yearly_and_iso_times():
    hours = pd.date_range("2020-03-01", periods=400, freq="h")
    hourly = read_table(_csv("timestamp,load", [f"{h:%Y-%m-%dT%H:%M:%S}Z,{i}" for i, h in enumerate(hours)]))
    assert hourly.step == "hour" and hourly.seasons == (24, 168) and hourly.season == 24
    assert hourly.dates[-1] == np.datetime64("2020-03-17T15:00") and "hourly" in hourly.notes[0]
    days = pd.date_range("2020-01-01", periods=200)
    daily = read_table(_csv("Date,Temp", [f"{d:%Y-%m-%d},{i % 9}" for i, d in enumerate(days)]))
    assert daily.step == "day" and daily.seasons == (7, 365) and daily.season == 7
    years = read_table(_csv("Year,GDP", [f"{1950 + i},{v:.1f}" for i, v in enumerate(_wave(40))]))
    assert years.step == "year" and years.seasons == () and years.season == 1
    assert years.dates[0] == np.datetime64("1950-01-01") and years.notes[0].endswith("no season.")


def test_trading_days_are_seasons_of_five_and_252():
    days = pd.bdate_range("2021-01-01", periods=300)
    s = read_table(_csv("Date,Close", [f"{d:%Y-%m-%d},{100 + i % 17}" for i, d in enumerate(days)]))
    assert s.step == "day" and s.seasons == (5, 252) and s.season == 5
    assert s.notes == ["Trading days (no weekends): read as consecutive trading days (dates like 2021-01-01), "
                       "seasons 5 (a week) and 252 (a year)."]  # no "the dates skip 60 times"


@pytest.mark.parametrize("header, rows", [
    ("value", [f"{v:.2f}" for v in _wave(80)]),
    (",value", [f"{i},{v:.2f}" for i, v in enumerate(_wave(80))]),  # a saved index, unnamed
    ("value", [f"{v:.2f}".replace(".", ",") for v in _wave(80)]),  # one column with decimal commas
])
def test_a_lone_value_column_is_read_as_steps(header, rows):
    s = read_table(_csv(header, rows))
    assert s.columns == ["value"] and s.choices == ["value"] and s.step == "row" and s.seasons == ()
    assert len(s) == 80 and s.target[1] == pytest.approx(round(_wave(80)[1], 2))
    assert s.notes[0].startswith("No date column: rows read as consecutive steps, no season")


def test_built_in_series_have_their_seasons(timeseries_dir):
    expected = {"temperatures": (365, 7), "sunspots": (132,), "pm25": (24, 168), "stock": (5, 252)}
    for name, seasons in expected.items():
        s = load_series(name, timeseries_dir)
        assert s.seasons == seasons and s.season == BUILT_IN[name].season == seasons[0]
    assert load_series("stock", timeseries_dir).notes[0].startswith("Trading days (no weekends)")


def test_too_short_is_one_sentence_saying_what_to_do():
    with pytest.raises(TableError, match=r"20 rows .* at least 24, so upload a longer stretch") as caught:
        read_table(_monthly(20))
    assert str(caught.value).count(". ") == 0


@pytest.mark.parametrize("rows", [36, 110])
def test_a_short_monthly_series_forecasts_and_trains(tmp_path, rows):
    from rnn_core.tasks import TASKS
    from rnn_core.tasks.forecast.outlook import forecast_from, read_csv

    path = tmp_path / "sales.csv"
    path.write_bytes(_monthly(rows))
    view = read_csv(path)
    horizon = view.encoder.horizon
    assert 1 <= horizon <= 12 and view.encoder.window >= 6
    out = forecast_from(view, horizon, 100)
    assert out.horizon == horizon and all(np.isfinite(f).all() for f in out.baselines.values())
    if rows == 36:
        assert (view.encoder.window, horizon) == (12, 3)
        assert "A short series (36 months): forecasting 3 months ahead from the last 12; figures on so short a " \
               "tail are rough." in out.notes
    predictor, result = TASKS["forecast"].train({"series": "upload", "csv": str(path), "hidden": 8, "epochs": 2,
                                                 "max_minutes": None}, out_dir=tmp_path / "m")
    assert result.steps > 0 and predictor.encoder.horizon == horizon
    fc = predictor.forecast(view.series, [len(view.series) - 1], horizon)
    assert all(np.isfinite(v).all() for v in fc.values())


def test_dates_split_into_year_month_day_hour_columns_are_joined():
    """The UCI Beijing PM2.5 export: a row number, year, month, day, hour, then values."""
    hours = pd.date_range("2010-01-01", periods=240, freq="h")
    table = pd.DataFrame({"No": np.arange(1, 241), "year": hours.year, "month": hours.month, "day": hours.day,
                          "hour": hours.hour, "pm2.5": _wave(240, 24), "cbwd": "NW"})
    s = read_table(table.to_csv(index=False).encode())
    assert s.step == "hour" and s.seasons == (24, 168) and s.columns == ["pm2.5"]
    assert "No" not in s.choices and "year" not in s.choices  # the row number and the date parts are not values
    assert str(s.dates[-1])[:16] == "2010-01-10T23:00" and s.notes[0].startswith("Read as hourly data")
