"""Series nobody here tuned for (``evaluate forecast --suite unseen``): classic series
that ship inside statsmodels and statsforecast (so they are on every machine with the
peers installed), each written as the CSV a visitor would upload, its last 12 rows held
back. ``predict forecast --csv`` (`outlook.forecast_csv`) forecasts the 12 from the
rest; AutoETS fitted on the same rows, as a forecaster would run it by hand, is the
bar. Scored by MASE (the naive one-step error of the rows given).
"""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .baselines import naive_scale
from .peers import peer_season

HELD_BACK = 12


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """El Niño's table (a year a row, a column a month) as one month a row."""
    long = frame.melt(id_vars="YEAR", var_name="month", value_name="SST")
    long["Month"] = pd.to_datetime(long["YEAR"].astype(int).astype(str) + "-" + long["month"], format="%Y-%b")
    return long.sort_values("Month")[["Month", "SST"]]


def tables() -> dict[str, pd.DataFrame]:
    """Each series as the CSV's table (a date column, then the value), by name."""
    import statsmodels.api as sm
    from statsforecast.utils import AirPassengersDF

    macro = sm.datasets.macrodata.load_pandas().data
    co2 = sm.datasets.co2.load_pandas().data.interpolate()  # 59 weeks without a reading, filled
    return {
        "air passengers (monthly, 1949-1960)": AirPassengersDF.rename(columns={"ds": "Month", "y": "Passengers"})[
            ["Month", "Passengers"]].assign(Month=lambda d: d["Month"].dt.strftime("%Y-%m")),
        "El Niño sea temperature (monthly, 1950-2010)": _monthly(sm.datasets.elnino.load_pandas().data).assign(
            Month=lambda d: d["Month"].dt.strftime("%Y-%m")),
        "Mauna Loa CO2 (weekly, 1958-2001)": pd.DataFrame({"Date": co2.index.strftime("%Y-%m-%d"),
                                                            "CO2": co2["co2"].to_numpy()}),
        "US real GDP (quarterly, 1959-2009)": pd.DataFrame({
            "Quarter": pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                                  freq="Q").to_timestamp().strftime("%Y-%m-%d"),
            "GDP": macro["realgdp"].to_numpy()}),
        "yearly sunspots (1700-2008)": pd.DataFrame({"Year": sm.datasets.sunspots.load_pandas().data["YEAR"].astype(
            int).astype(str), "Sunspots": sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()}),
        "Nile flow (yearly, 1871-1970)": pd.DataFrame({"Year": sm.datasets.nile.load_pandas().data["year"].astype(
            int).astype(str), "Volume": sm.datasets.nile.load_pandas().data["volume"].to_numpy()}),
    }


def autoets(history: np.ndarray, seasons: tuple[int, ...], horizon: int) -> np.ndarray:
    """AutoETS fitted on all of ``history`` (the longest season it allows), ``horizon`` steps on."""
    from statsforecast.models import AutoETS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoETS(season_length=peer_season("AutoETS", seasons, len(history))).forecast(
            y=history, h=horizon)["mean"]


def score(name: str, table: pd.DataFrame, folder: Path, max_minutes: float) -> dict:
    """One series: its CSV less the last `HELD_BACK` rows forecast, beside AutoETS."""
    from .outlook import forecast_csv

    path = folder / f"{len(list(folder.iterdir()))}.csv"
    table.iloc[:-HELD_BACK].to_csv(path, index=False)
    truth = table.iloc[-HELD_BACK:, 1].to_numpy(float)
    history = table.iloc[:-HELD_BACK, 1].to_numpy(float)
    r = forecast_csv(path, HELD_BACK, max_minutes=max_minutes)
    scale = naive_scale(history, np.ones(len(history), bool), len(history))
    mase = {k: float(np.abs(np.asarray(v) - truth).mean() / scale) for k, v in (
        ("recommended", r["forecast"]), ("network", r["network"]), ("naive", np.repeat(history[-1], HELD_BACK)),
        ("AutoETS", autoets(history, tuple(r["seasons"]) or (r["season"],), HELD_BACK)))}
    return {"series": name, "rows": r["rows"], "frequency": r["frequency"], "model": r["model"], "mase": mase}


def suite(metrics: dict | None = None, max_minutes: float = 1.0) -> str:
    """``evaluate forecast --suite unseen`` (``metrics`` is not read): every series of
    `tables` scored, as a Markdown table with the count of series where the recommended
    forecast is at least as good as AutoETS."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = [score(name, table, Path(tmp), max_minutes) for name, table in tables().items()]
    lines = [f"MASE of the last {HELD_BACK} rows, forecast from the rest by `predict forecast --csv` "
             f"(a network of {max_minutes:g} min at most, the method chosen on validation) and by AutoETS on all rows:",
             "", "| series | rows | recommended | MASE | network | naive | AutoETS |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["mase"]
        lines.append(f"| {r['series']} | {r['rows']} | {r['model']} | {m['recommended']:.3f} | {m['network']:.3f} | "
                     f"{m['naive']:.3f} | {m['AutoETS']:.3f} |")
    wins = sum(r["mase"]["recommended"] <= r["mase"]["AutoETS"] for r in rows)
    ratio = np.exp(np.mean([np.log(r["mase"]["recommended"] / r["mase"]["AutoETS"]) for r in rows]))
    lines += ["", f"The recommended forecast is at least as good as AutoETS on {wins} of {len(rows)} series "
                  f"(geometric mean of MASE ratios {ratio:.3f})."]
    return "\n".join(lines)
