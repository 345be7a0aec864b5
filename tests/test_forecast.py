"""Forecasting: reading series (built in and a visitor's CSV, mended with notes),
windows split by time with no leakage, the multi-step head, the baselines, training,
scoring on the test tail, and evaluate."""
import numpy as np
import pytest
import torch

from rnn_core.data.timeseries import MAX_CSV_MB, TableError, load_series, read_table
from rnn_core.models import create_model, pinball_loss
from rnn_core.tasks import TASKS
from rnn_core.tasks.forecast.baselines import naive, naive_scale, seasonal_naive
from rnn_core.tasks.forecast.features import SeriesEncoder, split_points
from rnn_core.tasks.forecast.metrics import evaluate
from rnn_core.tasks.forecast.predictor import ForecastPredictor
from rnn_core.tasks.forecast.windows import Windows, origins
from tests.conftest import TINY_FORECAST


def _csv(rows: list[str], header: str = "Date,Close") -> bytes:
    return ("\n".join([header] + rows) + "\n").encode()


def _days(n: int, start: str = "2020-01-01"):
    import pandas as pd
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=n, freq="D")]


def test_built_in_series_read(timeseries_dir):
    temps, spots, pm = (load_series(n, timeseries_dir) for n in ("temperatures", "sunspots", "pm25"))
    assert len(temps) == 500 and temps.columns == ["Temp"] and temps.season == 365 and temps.step == "day"
    assert len(spots) == 400 and spots.season == 132
    assert pm.columns[0] == "pm2.5" and {"wind_NW", "wind_cv"} <= set(pm.columns) and pm.season == 24
    assert (~pm.observed).sum() == 30 and np.isfinite(pm.values).all()  # gaps filled, remembered
    assert "never scored" in pm.notes[0]


def test_csv_mends_what_it_can_and_says_so():
    days = _days(150)
    rows = [f"{d},{100 + i}" for i, d in enumerate(days)]
    rows[10] = f"{days[10]},twelve"       # text in a number
    rows[20] = f"{days[20]},"             # a gap
    rows[30], rows[31] = rows[31], rows[30]  # unsorted
    rows.append(rows[40])                 # a duplicated date
    rows.append("not a date,5")           # a date that does not parse
    s = read_table(_csv(rows))
    notes = " ".join(s.notes)
    for words in ("not a number", "sorted", "duplicated", "not a date", "interpolation"):
        assert words in notes
    assert len(s) == 150 and s.columns == ["Close"] and (~s.observed).sum() == 2
    assert s.target[10] == pytest.approx(110) and np.all(np.diff(s.dates.astype("int64")) > 0)


def test_csv_picks_close_and_covariates_and_business_days():
    import pandas as pd
    days = pd.bdate_range("2021-01-01", periods=300)
    rows = [f"{d:%Y-%m-%d},{i},{i + 2},{i - 1},{i + 0.5},{1000 + i}" for i, d in enumerate(days)]
    s = read_table(_csv(rows, "Date,Open,High,Low,Close,Volume"))
    assert s.columns == ["Close"] and s.season == 5 and s.step == "day"
    assert s.choices == ["Open", "High", "Low", "Close", "Volume"]
    assert read_table(_csv(rows, "Date,Open,High,Low,Close,Volume"), "Open", ("Volume",)).columns == ["Open", "Volume"]
    with pytest.raises(TableError, match="no numeric column 'Nope'"):
        read_table(_csv(rows, "Date,Open,High,Low,Close,Volume"), "Nope")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\x00\x01\x02PK\x03\x04", "not a CSV"),
    (_csv([f"{d},abc" for d in _days(200)]), "no numeric column"),
    (_csv([f"{d},{i}" for i, d in enumerate(_days(30))]), "at least 100"),
    (b"a,b\n" + b"1,2\n" * (MAX_CSV_MB * 2**20 // 4 + 10), "MB"),
])
def test_bad_csv_is_one_sentence(data, message):
    with pytest.raises(TableError, match=message):
        read_table(data)


def test_csv_without_dates_reads_rows_as_steps():
    s = read_table(("value\n" + "\n".join(str(i % 7) for i in range(200))).encode())
    assert s.step == "row" and s.season == 1 and "consecutive steps" in s.notes[0]


def test_windows_never_cross_their_part():
    n, window, horizon = 200, 10, 5
    train_end, val_end = split_points(n)
    for lo, hi in ((0, train_end), (train_end, val_end), (val_end, n)):
        ts = origins(lo, hi, window, horizon)
        assert ts.min() - window + 1 >= 0 and ts.min() + 1 >= lo and ts.max() + horizon < hi
    w = Windows(np.arange(20, dtype=float)[:, None], np.arange(20) * 10.0, np.ones(20, bool), window=3, horizon=2)
    b = w.batch(np.array([2, 7]))
    assert b["x"][:, :, 0].tolist() == [[0, 1, 2], [5, 6, 7]] and b["targets"].tolist() == [[30, 40], [80, 90]]


def test_scaler_never_sees_the_tail(timeseries_dir):
    """Scaling fitted with the validation and test parts replaced by absurd values is the
    same: only the training part reaches it."""
    s = load_series("temperatures", timeseries_dir)
    enc = SeriesEncoder.fit(s, window=30, horizon=7)
    train_end, _ = split_points(len(s))
    s.values = s.values.copy()
    s.values[train_end:] = 1e9
    again = SeriesEncoder.fit(s, window=30, horizon=7)
    assert again.mean == enc.mean and again.std == enc.std


def test_head_is_residual_and_loss_masked():
    model = create_model("Forecaster", input_size=2, horizon=3, hidden_size=4)
    torch.nn.init.zeros_(model.out.weight)
    torch.nn.init.zeros_(model.out.bias)
    x = torch.randn(5, 6, 2)
    q, _ = model(x)
    assert torch.allclose(q, x[:, -1, 0, None, None].expand(5, 3, 3))  # starts from the naive forecast
    quantiles = torch.tensor([0.1, 0.5, 0.9])
    pred, y = torch.zeros(2, 3, 3), torch.tensor([[1.0, 1.0, 100.0], [1.0, 1.0, 100.0]])
    mask = torch.tensor([[True, True, False]] * 2)
    assert pinball_loss(pred, y, quantiles, mask) == pytest.approx(pinball_loss(pred[:, :2], y[:, :2], quantiles))


def test_baselines():
    v = np.arange(30, dtype=float)
    ts = np.array([10, 20])
    assert naive(v, ts, 3).tolist() == [[10] * 3, [20] * 3]
    assert seasonal_naive(v, ts, 4, season=3).tolist() == [[8, 9, 10, 8], [18, 19, 20, 18]]
    assert naive_scale(v, np.ones(30, bool), 20) == 1.0


@pytest.mark.parametrize("direct", [True, False])
def test_train_forecast_and_score(tmp_path, timeseries_dir, direct):
    predictor, result = TASKS["forecast"].train({"series": "sunspots", "direct": direct, **TINY_FORECAST},
                                                data_dir=str(timeseries_dir), out_dir=tmp_path / "m")
    assert result.steps > 0 and predictor.model.horizon == (24 if direct else 1)
    tail = predictor.config["tail"]
    assert set(tail["horizons"]) == {"1", "12", "24"} and 0 <= tail["coverage"] <= 1
    row = tail["horizons"]["12"]
    assert {"naive", "seasonal naive", "ridge", "network", "best_baseline", "ratio"} <= set(row)
    assert len(predictor.encoder.widen) == 24
    # saved and loaded: the same forecasts, direct or rolled forward
    again = ForecastPredictor.from_pretrained(tmp_path / "m")
    s = load_series("sunspots", timeseries_dir)
    a, b = predictor.forecast(s, [350, len(s) - 1], 24), again.forecast(s, [350, len(s) - 1], 24)
    assert all(np.allclose(a[k], b[k], atol=1e-4) for k in a) and a["median"].shape == (2, 24)
    assert np.all(a["lo"] <= a["median"]) and np.all(a["median"] <= a["hi"])


def test_train_on_a_csv_with_covariates(tmp_path):
    days = _days(400)
    rng = np.random.default_rng(0)
    rows = [f"{d},{np.sin(i / 5) * 10 + rng.normal():.3f},{i % 7}" for i, d in enumerate(days)]
    path = tmp_path / "mine.csv"
    path.write_bytes(_csv(rows, "Date,Load,Weekday"))
    predictor, _ = TASKS["forecast"].train({"series": "upload", "csv": str(path), "covariates": "Weekday",
                                            **TINY_FORECAST})
    assert predictor.encoder.columns == ["Load", "Weekday"] and predictor.encoder.horizon == 14
    with pytest.raises(ValueError, match="too few"):
        TASKS["forecast"].train({"series": "upload", "csv": str(path), "window": 350, **TINY_FORECAST})


def test_evaluate_every_series_and_targets(tiny_forecast, timeseries_dir):
    m = evaluate(tiny_forecast, data_dir=str(timeseries_dir))
    assert {"temperatures", "sunspots", "pm25", "stock", "targets"} <= set(m)
    assert any(k.startswith("pm25 h24") for k in m["targets"]) and any("h12" in k for k in m["targets"])
    assert any("best peer" in k for k in m["targets"]) and any("recommended" in k for k in m["targets"])
    for name in ("temperatures", "sunspots", "pm25", "stock"):  # the peers beside every series, one recommended
        row = m[name]["horizons"]["1"]
        assert {"AutoETS", "AutoTheta", "AutoARIMA"} <= set(row) and row["recommended"] in m[name]["validation"]["1"]
    assert all(isinstance(t["met"], bool) for t in m["targets"].values())
    assert "MASE" in TASKS["forecast"].suites["tail"](m)


def test_running_quantiles():
    from rnn_core.tasks.forecast.conformal import running_quantiles

    q = running_quantiles(np.array([3.0, np.nan, 1.0, 2.0, 5.0]), 0.5)
    assert np.isnan(q[0]) and q[1:].tolist() == [3, 3, 3, 2, 3]


def test_interval_at_an_origin_uses_only_the_past(tiny_forecast, timeseries_dir):
    """The online calibration at origin t reads no outcome after t: changing the future
    changes neither the forecast nor its interval."""
    predictor = ForecastPredictor.from_pretrained(tiny_forecast / "sunspots")
    s = load_series("sunspots", timeseries_dir)
    t = len(s) - 30
    before = predictor.forecast(s, [t], 24)
    changed = load_series("sunspots", timeseries_dir)
    changed.values = changed.values.copy()
    changed.values[t + 1:, 0] += 500
    after = predictor.forecast(changed, [t], 24)
    assert all(np.allclose(before[k], after[k]) for k in before)
    # and the calibration did learn from the past: a past made wilder widens the interval
    wild = load_series("sunspots", timeseries_dir)
    wild.values = wild.values.copy()
    _, val_end = split_points(len(wild))
    wild.values[val_end:t + 1, 0] += np.where(np.arange(t + 1 - val_end) % 2, 80, 0)
    assert (predictor.forecast(wild, [t], 24)["hi"] - predictor.forecast(wild, [t], 24)["lo"]).mean() > \
        (before["hi"] - before["lo"]).mean()


def test_ridge_baseline_finds_an_autoregression():
    """On an AR(2) series the ridge baseline reads at least two lags and recovers the
    coefficients; its choice of lags and penalty needs no network."""
    from rnn_core.data.timeseries import Series
    from rnn_core.tasks.forecast.tail import fit_ridge

    rng = np.random.default_rng(0)
    y = np.zeros(3000)
    for t in range(2, len(y)):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal()
    s = Series("upload", "ar2", np.arange(len(y)), y[:, None], ["y"], np.ones(len(y), bool), "row", 1)
    ridge = fit_ridge(s, horizon=1)
    assert ridge.window >= 2 and ridge.coef[-1, 0] == pytest.approx(0.6, abs=0.05)
    assert ridge.coef[-2, 0] == pytest.approx(-0.3, abs=0.05)


def test_patience_is_counted_in_optimiser_steps():
    from rnn_core.tasks.forecast.train import validations

    assert validations(0, 1) == 300      # a 36-row series validates every step: 300 steps, not 12
    assert validations(0, 40) == 12      # a long one: 12 epochs, as the shipped models were trained
    assert validations(100, 30) == 4 and validations(None, 5) is None


def test_offline_a_missing_series_names_its_file(tmp_path, monkeypatch):
    """No data folder, an empty cache, no network: the message names the file the series
    needs and both ways to get it; the tab then refuses at once, without trying again."""
    import urllib.request

    from apps import forecast

    calls = []

    def offline(*args, **kwargs):
        calls.append(args[0])
        raise OSError("Name or service not known")

    monkeypatch.delenv("RNN_GALLERY_DATA", raising=False)
    monkeypatch.setenv("RNN_GALLERY_CACHE", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(Exception, match=r"timeseries/google-stock.csv.*RNN_GALLERY_DATA.*download timeseries"):
        load_series("stock")
    forecast.built_in_series.cache_clear()
    forecast._MISSING.clear()
    tried = len(calls)
    for _ in range(2):
        with pytest.raises(Exception, match="monthly-sunspots.csv"):
            forecast.built_in_view("sunspots")
    assert len(calls) == tried + 1  # one download tried, then remembered
    forecast._MISSING.clear()
