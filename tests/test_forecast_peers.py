"""The statistical peers (statsforecast's AutoETS, AutoTheta, AutoARIMA) beside the
network, the forecast recommended on the validation part, and ``predict forecast
--csv`` on any CSV: the keys a script reads, and no peek past the forecast origin."""
import json

import numpy as np
import pandas as pd
import pytest

from rnn_core.__main__ import main
from rnn_core.data.timeseries import read_table
from rnn_core.tasks.forecast.metrics import peer_targets
from rnn_core.tasks.forecast.peers import PEERS, fit_peers, peer_season
from rnn_core.tasks.forecast.tail import recommend, scored_origins


def _monthly_csv(path, n=120, seed=0):
    """A trending monthly series with a yearly season (an airline-like shape)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 2 * t + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, n)
    months = pd.date_range("2000-01-01", periods=n, freq="MS")
    pd.DataFrame({"Month": months.strftime("%Y-%m-%d"), "Passengers": y.round(2)}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    path = _monthly_csv(tmp_path_factory.mktemp("csv") / "monthly.csv")
    return path, read_table(path.read_bytes())


def test_peer_seasons_follow_what_each_model_allows():
    assert peer_season("AutoETS", (365, 7), 3000) == 7           # ETS and ARIMA: 24 at most
    assert peer_season("AutoTheta", (365, 7), 3000) == 365       # Theta takes the long one
    assert peer_season("AutoTheta", (365, 7), 500) == 7          # ... when two cycles fit
    assert peer_season("AutoARIMA", (132,), 2000) == 1           # none fits: no season


def test_peers_forecast_from_what_was_known_at_the_origin(monthly):
    _, series = monthly
    peers, notes = fit_peers(series)
    assert set(peers) == set(PEERS) and notes == []
    ts = np.array([90, 100])
    before = {n: p.forecast(series.target, ts, 6) for n, p in peers.items()}
    changed = series.target.copy()
    changed[101:] += 1000  # the future after the last origin: no forecast may see it
    for name, p in peers.items():
        after = p.forecast(changed, ts, 6)
        assert after.shape == (2, 6) and np.isfinite(after).all()
        np.testing.assert_allclose(after, before[name])


def test_figures_rank_the_peers_and_recommend_on_validation(monthly):
    from rnn_core.tasks.forecast.outlook import read_csv

    view = read_csv(monthly[0])
    for h, row in view.figures["horizons"].items():
        assert set(PEERS) <= set(row) and row["best_peer"] in PEERS
        validation = view.figures["validation"][h]  # validation MASE by method, best first
        assert list(validation.values()) == sorted(validation.values())
        assert validation[row["recommended"]] <= 1.01 * min(validation.values())
        assert row["recommended_ratio"] >= 1
    assert "AutoETS" in view.figures["peers"] and "season 12" in view.figures["peers"]


def test_recommend_takes_the_validation_winner_not_the_test_one():
    def fig(**mase):
        return {"horizons": {"3": {m: {"mase": v} for m, v in mase.items()}}}
    out = recommend(fig(naive=1.0, AutoETS=2.0), fig(naive=0.9, AutoETS=0.5))
    assert out["horizons"]["3"]["recommended"] == "AutoETS" and out["horizons"]["3"]["recommended_ratio"] == 2.0
    assert out["validation"]["3"] == {"AutoETS": 0.5, "naive": 0.9}
    # a tie within 1% on validation goes to the simpler method (noise, not skill)
    tie = recommend(fig(naive=1.0, network=0.9, AutoARIMA=1.1), fig(naive=1.005, network=1.0, AutoARIMA=0.998))
    assert tie["horizons"]["3"]["recommended"] == "naive"
    assert recommend(fig(naive=1.0, network=0.9), fig(naive=1.02, network=1.0))["horizons"]["3"]["recommended"] == \
        "network"


def test_scored_origins_are_spread_over_the_whole_tail():
    ts = np.arange(100, 5100)
    kept = scored_origins(ts, 1000)
    assert len(kept) == 1000 and kept[0] == 100 and kept[-1] == 5099
    assert scored_origins(ts[:10], 1000) is not None and len(scored_origins(ts[:10], 1000)) == 10


def test_peer_targets_count_wins_and_slack():
    def series(network, peer, recommended_ratio=1.0):
        return {"horizons": {"12": {"network": {"mase": network}, "AutoETS": {"mase": peer}, "best_peer": "AutoETS",
                                    "peer_ratio": network / peer, "recommended_ratio": recommended_ratio}}}
    t = peer_targets({"a": series(0.9, 1.0), "b": series(0.9, 1.0), "c": series(1.1, 1.0, 1.2), "d": series(0.8, 1)})
    assert t["network no worse than the best peer at the main horizon on >= 3 series"] == {"value": "3 of 4",
                                                                                            "met": True}
    assert not t["c: recommended forecast's MASE / the best's, at every horizon (<= 1.05)"]["met"]


def test_predict_any_csv_trains_ranks_and_forecasts(tmp_path, capsys):
    path = _monthly_csv(tmp_path / "airline.csv")
    assert main(["predict", "forecast", "--csv", str(path), "--horizon", "6", "--max-minutes", "0.05", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    r = json.loads(out[0])
    assert r["rows"] == 120 and r["frequency"] == "month" and r["season"] == 12 and r["last_date"] == "2009-12-01"
    assert r["dates"] == [f"2010-{m:02d}-01" for m in range(1, 7)]
    assert len(r["forecast"]) == len(r["network"]) == 6 and np.isfinite(r["forecast"]).all()
    assert r["model"] in r["ranking"] and r["model"] == min(r["ranking"], key=r["ranking"].get)
    assert {"network", "naive", "AutoETS", "AutoTheta", "AutoARIMA"} <= set(r["ranking"])


def test_a_short_series_is_forecast_past_what_it_can_validate(tmp_path):
    """36 months asked for 12 ahead: the validation part holds 3, so the methods are
    ranked 3 ahead and the forecast goes on to 12 (the network rolled on its medians)."""
    from rnn_core.tasks.forecast.outlook import forecast_csv

    r = forecast_csv(_monthly_csv(tmp_path / "short.csv", n=36), 12, max_minutes=0.05)
    assert r["horizon"] == 12 and len(r["forecast"]) == len(r["network"]) == len(r["dates"]) == 12
    assert np.isfinite(r["forecast"]).all() and r["model"] != "ridge" and r["dates"][-1] == "2003-12-01"
    lo, hi = (np.array(x) for x in r["network_interval"])
    assert (lo <= np.array(r["network"])).all() and (np.array(r["network"]) <= hi).all()
    assert any("too short to score 12 steps" in n for n in r["notes"])
    assert any(n.startswith("A short series (36 months)") for n in r["notes"])


def test_a_chosen_peer_is_fitted_again_on_every_row(tmp_path, monkeypatch):
    """Chosen on the validation part, a statistical peer forecasts the future from a fit
    on every row: AutoETS recommended gives what AutoETS run by hand on the file gives."""
    from statsforecast.models import AutoETS

    from rnn_core.tasks.forecast import outlook, tail

    def ets(ranked):
        return "AutoETS" if "AutoETS" in dict(ranked) else ranked[0][0]
    monkeypatch.setattr(tail, "chosen", ets)
    monkeypatch.setattr(outlook, "chosen", ets)
    path = _monthly_csv(tmp_path / "m.csv")
    r = outlook.forecast_csv(path, 6, max_minutes=0.05)
    y = pd.read_csv(path)["Passengers"].to_numpy(float)
    assert r["model"] == "AutoETS" and any("fitted again on every row" in n for n in r["notes"])
    np.testing.assert_allclose(r["forecast"], AutoETS(season_length=12).forecast(y=y, h=6)["mean"], rtol=1e-6)


def test_a_straight_line_is_forecast_without_dividing_by_zero(tmp_path):
    """Some methods forecast a straight line exactly (MASE 0): the ratios stay defined."""
    from rnn_core.tasks.forecast.outlook import forecast_csv

    path = tmp_path / "line.csv"
    pd.DataFrame({"Date": pd.date_range("2020-01-01", periods=150).strftime("%Y-%m-%d"),
                  "Close": np.arange(150.0)}).to_csv(path, index=False)
    r = forecast_csv(path, 5, max_minutes=0.05)
    assert r["dates"][0] == "2020-05-30" and r["forecast"] == pytest.approx([150, 151, 152, 153, 154], abs=0.5)
