"""The forecasting tab's handlers on tiny checkpoints and tiny series: every built-in
series, a visitor's CSV (good and bad), a retrained model, and settings out of range."""
import numpy as np
import gradio as gr
import pandas as pd
import pytest

from tests.conftest import TINY_FORECAST, launched_gallery, link_data


@pytest.fixture
def tab(tiny_forecast, timeseries_dir, monkeypatch, tmp_path):
    """The tab on the tiny forecasting checkpoints and tiny series (the other tasks'
    checkpoints are not needed, nor made)."""
    from apps import forecast

    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(link_data(tmp_path / "assets", [tiny_forecast])))
    monkeypatch.setenv("RNN_GALLERY_DATA", str(link_data(tmp_path / "data", [timeseries_dir])))
    for cache in (forecast.pretrained, forecast.built_in_series):
        cache.cache_clear()
    yield forecast
    for cache in (forecast.pretrained, forecast.built_in_series):
        cache.cache_clear()


def _stock_csv(path, n=400, seed=0):
    """A random walk in a stock export's layout (business days, Open/High/Low/Close/Volume)."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    days = pd.bdate_range("2020-01-01", periods=n)
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Open": close + 0.1, "High": close + 1, "Low": close - 1,
                  "Close": close, "Volume": rng.integers(1000, 5000, n)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["sunspots", "temperatures", "pm25", "stock"])
def test_answer_for_every_built_in_series(tab, name):
    plot, verdict, table, notes = tab.answer(name, 12, 50, "pretrained")
    assert plot.axes and "MASE" in verdict and "| steps ahead |" in table and "Forecast made at" in notes
    assert "interval held the truth" in verdict


def test_answer_clamps_and_forecasts_the_future(tab):
    _, _, _, notes = tab.answer("temperatures", 24, 100, "pretrained")
    assert "1 to 14 steps ahead; showing 14" in notes and "the future" in notes
    _, _, _, notes = tab.answer("sunspots", float("nan"), -50, "pretrained")  # absurd: a sane answer
    assert "Forecast made at" in notes


@pytest.mark.parametrize("args, message", [
    (("../../etc/passwd", 12, 50, "pretrained"), "Pick one of the series"),
    (("sunspots", 12, 50, "my retrained model"), "no retrained model"),
    (("upload", 12, 50, "pretrained"), "Upload a CSV first"),
])
def test_answer_refusals(tab, args, message):
    with pytest.raises(gr.Error, match=message):
        tab.answer(*args)


def test_upload_baselines_then_retrain(tab, tmp_path):
    from rnn_core.tasks import TASKS

    path = _stock_csv(tmp_path / "stock.csv")
    state, target, covariates, choice, note = tab.upload_changed(str(path), None, [])
    assert choice == "upload" and target["value"] == "Close" and "Volume" in covariates["choices"]
    _, verdict, table, _ = tab.answer("upload", 5, 100, "pretrained", state)
    assert "No network has learned this series yet" in verdict and "network" not in table.splitlines()[0]
    options = tab.retrain_series("upload", state)
    assert options["csv"] == str(path) and options["target"] == "Close"
    mine, _ = TASKS["forecast"].train({**options, **TINY_FORECAST})
    _, verdict, table, _ = tab.answer("upload", 5, 100, "my retrained model", state, mine)
    assert "network MASE" in verdict and "network" in table.splitlines()[0]
    with pytest.raises(gr.Error, match="trained on upload"):
        tab.answer("sunspots", 5, 100, "my retrained model", state, mine)


def test_a_visitors_csv_forecast_without_the_tab(tmp_path):
    """`read_csv` + `forecast_from`: what the tab (and ``predict``) call, no gradio."""
    from rnn_core.tasks.forecast.outlook import forecast_from, read_csv

    view = read_csv(_stock_csv(tmp_path / "stock.csv"))
    assert view.predictor is None and view.csv.endswith("stock.csv") and view.series.columns[0] == "Close"
    future = forecast_from(view, 5, 100)
    assert future.origin == len(view.series) - 1 and future.horizon == 5 and future.network is None
    assert {k: v.shape for k, v in future.baselines.items()} == {
        b: (1, 5) for b in ("naive", "seasonal naive", "ridge", "AutoETS", "AutoTheta", "AutoARIMA")}
    assert future.recommended in future.baselines  # chosen on the validation part, shown beside the network
    assert "the future" in future.notes[0] and future.best in future.baselines
    far = forecast_from(view, 10**6, 0)
    assert far.horizon == view.encoder.horizon and f"showing {view.encoder.horizon}" in far.notes[-1]
    (tmp_path / "short.csv").write_text("Date,Close\n2020-01-01,1\n2020-01-02,2\n")
    with pytest.raises(ValueError, match="at least 100"):
        read_csv(tmp_path / "short.csv")


def test_verdict_says_when_the_naive_forecast_wins():
    from apps.forecast import verdict

    def row(naive, network):
        return {"naive": {"mase": naive}, "seasonal naive": {"mase": naive * 1.3}, "ridge": {"mase": naive * 1.01},
                "network": {"mase": network}, "best_baseline": "naive", "ratio": network / naive, "coverage": 0.8}

    walk = {"horizons": {"1": row(1.0, 1.02), "12": row(2.3, 2.4)}, "origins": 50}
    assert "random walk" in verdict(walk, 1, True) and "2% larger" in verdict(walk, 1, True)
    # the naive forecast best one step ahead only (PM2.5): said for that horizon, no random walk
    hourly = {"horizons": {"1": row(0.89, 0.91), "24": {**row(3.7, 3.2), "best_baseline": "ridge"}}, "origins": 50}
    assert "nothing beats the last value" in verdict(hourly, 1, True) and "random walk" not in verdict(hourly, 1, True)


@pytest.mark.parametrize("content, message", [
    (b"Date,Name\n" + b"2020-01-01,abc\n" * 150, "no numeric column"),
    (b"Date,Close\n2020-01-01,1\n2020-01-02,2\n", "at least 100"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV"),
])
def test_bad_uploads_are_one_sentence(tab, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(gr.Error, match=message):
        tab.read_upload(str(path))
    state, *_, note = tab.upload_changed(str(path), None, [])  # the tab: a note and a warning, no error
    assert state is None and message in note


def test_launched_tab_through_gradio_client(tiny_assets, tiny_data):
    from gradio_client import Client

    with launched_gallery(tiny_assets, tiny_data) as url:
        client = Client(url, verbose=False)
        _, verdict, table, notes = client.predict("pm25", 24, 80, "pretrained", api_name="/forecast_answer")
        assert "MASE" in verdict and "Forecast made at" in notes
        with pytest.raises(Exception, match="not in the list of choices"):  # Gradio's own check, first
            client.predict("nope", 3, 50, "pretrained", api_name="/forecast_answer")
