"""Forecasting tab (many-to-one regression, a multi-step head): a built-in series or
the visitor's CSV, the network's forecast with its 80% interval beside the forecast
recommended on the validation part (the network, a baseline or a statistical peer),
and how all of them score on the test tail.

Run alone with ``python -m apps.forecast``.
"""
from __future__ import annotations

import functools
import json
import time

import gradio as gr
import matplotlib.pyplot as plt
import numpy as np

from rnn_core.data import DataError
from rnn_core.data.timeseries import BUILT_IN, MAX_CSV_MB, MAX_ROWS, load_series
from rnn_core.tasks import TASKS
from rnn_core.tasks.forecast.outlook import (Outlook, SeriesView, forecast_from, model_view, nearest_horizon,
                                             read_csv)
from rnn_core.tasks.forecast.tail import methods

from .layout import model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .shipped import MODEL_CHOICES, shipped_model, summary_section

SPEC = TASKS["forecast"]
TITLE = "Forecast"
SHAPE = "many-to-one"
DIAGRAM = (["day 1", "day 2", "...", "today"], ["", "", "", "next days"])
SUMMARY = "Pick or upload a time series; the network forecasts what comes next, beside the simple forecasts it must beat."
SERIES = [("Sunspots, monthly", "sunspots"), ("Melbourne temperature, daily", "temperatures"),
          ("Beijing PM2.5, hourly", "pm25"), ("Google stock, daily close", "stock"), ("My CSV (upload below)", "upload")]
MAX_HORIZON = max(b.horizon for b in BUILT_IN.values())
COLOURS = {"network": "#b5480b", "naive": "#6b7280", "seasonal naive": "#7c3aed", "ridge": "#2e7d32",
           "AutoETS": "#1d4ed8", "AutoTheta": "#0e7490", "AutoARIMA": "#9d174d"}


pretrained = shipped_model(SPEC)  # pretrained(series=name): a built-in series' shipped model


@functools.lru_cache(maxsize=len(BUILT_IN))
def built_in_series(name: str) -> SeriesView:
    """A built-in series with its shipped model and ridge baseline, read once.
    ``built_in_series.cache_clear()`` forgets them (tests point the data elsewhere)."""
    return model_view(load_series(name), pretrained(series=name))


def warm() -> None:
    """Read every built-in series and compute its shipped model's interval calibration
    (PM2.5's takes 2 s), so that no visitor's first forecast pays for it (`app.warm_up`)."""
    for name in BUILT_IN:
        pretrained(series=name).calibration(built_in_series(name).series)


_MISSING: dict[str, tuple[float, str]] = {}  # series -> (when, why): offline, each click must not try a download
MISSING_FOR = 300  # seconds before a missing series is looked for again


def built_in_view(name: str) -> SeriesView:
    """`built_in_series`, or a Refusal naming the file that is missing and how to get it
    (remembered for `MISSING_FOR` seconds)."""
    missing = _MISSING.get(name)
    if missing and time.monotonic() - missing[0] < MISSING_FOR:
        raise Refusal(missing[1])
    try:
        return built_in_series(name)
    except DataError as e:
        _MISSING[name] = (time.monotonic(), f"{e} Meanwhile, upload a CSV of your own.")
        raise Refusal(_MISSING[name][1]) from None


def read_upload(path, target=None, covariates=()) -> SeriesView:
    """Handler piece: a visitor's CSV as the tab keeps it (`read_csv`: the series, its
    baselines and their figures on its tail). Raises Refusal with one sentence."""
    if not path:
        raise Refusal("Upload a CSV first: a date column and one or more numeric columns (a stock export works).")
    try:
        return read_csv(path, target, covariates)
    except ValueError as e:  # TableError included: the table's own one sentence
        raise Refusal(str(e)) from None


def _view(choice: str, upload: SeriesView | None, which: str, retrained) -> SeriesView:
    """The series and model the visitor chose; Refusal for a choice that cannot be shown."""
    if choice not in {v for _, v in SERIES}:
        raise Refusal(f"Pick one of the series: {', '.join(v for _, v in SERIES)}.")
    mine = which == MODEL_CHOICES[1]
    if mine and retrained is None:
        raise Refusal("You have no retrained model yet: open 'Retrain it yourself' below, or pick 'pretrained'.")
    if choice == "upload":
        if upload is None:
            raise Refusal("Upload a CSV first (or pick a built-in series).")
        if not mine:
            return upload
        if (retrained.config.get("options", {}).get("csv") != upload.csv
                or retrained.encoder.columns != upload.series.columns):
            raise Refusal("Your retrained model was trained on another series: retrain on this CSV first.")
        return upload.with_model(retrained)
    view = built_in_view(choice)
    predictor = retrained if mine else view.predictor
    if predictor.encoder.series != choice:
        raise Refusal(f"Your retrained model was trained on {predictor.encoder.series}: pick that series or retrain.")
    return view.with_model(predictor)


def naive_is_hard_to_beat(figures: dict, slack: float = 1.05) -> bool:
    """True when, at every scored horizon, no method (the network included) beats the
    naive forecast by more than ``slack``: what a random walk (a stock's price) gives."""
    rows = figures.get("horizons", {}).values()
    return bool(rows) and all(r["naive"]["mase"] <= slack * min(v["mase"] for v in r.values() if isinstance(v, dict))
                              for r in rows)


def verdict(figures: dict, horizon: int, trained: bool) -> str:
    """The tab's sentence on the test tail: does the network beat the simple forecasts?"""
    h, row = nearest_horizon(figures, horizon)
    if row is None:
        return ""
    best = row["best_baseline"]
    where = (f"On the test tail ({figures['origins']:,} forecasts, the last 20% of the series), "
             f"{h} step{'s' * (h != '1')} ahead")
    if not trained or "network" not in row:
        return (f"{where}, the best forecast is **{best}** (MASE {row[best]['mase']:.2f}). No network has "
                "learned this series yet: **Retrain it yourself** below trains one in about a minute."
                + recommendation(figures, horizon))
    ratio = row["ratio"]
    text = (f"{where}: network MASE **{row['network']['mase']:.2f}**, best other method ({best}) "
            f"**{row[best]['mase']:.2f}**: the network's error is {abs(1 - ratio):.0%} "
            f"{'smaller' if ratio < 1 else 'larger'}.")
    if naive_is_hard_to_beat(figures):
        text += (" **The naive forecast (the last value) is as good as it gets here**, at every horizon: the series "
                 "moves like a random walk, whose best forecast is where it is now; the network cannot find a "
                 "pattern that is not there.")
    elif row["naive"]["mase"] <= min(r["mase"] for k, r in row.items() if isinstance(r, dict)):
        text += " This close ahead, nothing beats the last value; further ahead, see the table."
    elif ratio > 1:
        text += f" Here the {best} forecast is the better choice."
    if "coverage" in row:
        text += f" Its 80% interval held the truth {row['coverage']:.0%} of the time."
    return text + recommendation(figures, horizon)


def recommendation(figures: dict, horizon: int) -> str:
    """The sentence on the forecast recommended on the validation part, and its ranking there."""
    h, row = nearest_horizon(figures, horizon)
    ranked = figures.get("validation", {}).get(h, {}) if row else {}  # validation MASE by method
    if not ranked or "recommended" not in row:
        return ""
    order = " < ".join(f"{m} {v:.2f}" for m, v in sorted(ranked.items(), key=lambda x: x[1]))  # metrics.json sorts keys
    tail = row[row["recommended"]]["mase"]
    return (f"\n\n**Recommended: {row['recommended']}**, the best on the validation part (the 10% before the test "
            f"tail, {h} step{'s' * (h != '1')} ahead; MASE {order}; within 1% of the best, the simpler method). "
            f"On the test tail it scored {tail:.2f}, "
            f"{row['recommended_ratio']:.2f}x the best method there.")


def figures_md(figures: dict) -> str:
    """MASE (and MAE) of every method at every scored horizon, as a Markdown table."""
    rows = figures.get("horizons", {})
    if not rows:
        return ""
    names = methods(next(iter(rows.values())))
    unit = figures.get("unit", "")
    lines = ["| steps ahead | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for h, row in rows.items():
        cells = [f"{'**' if m == row['best_baseline'] else ''}{row[m]['mase']:.2f}"
                 f"{'**' if m == row['best_baseline'] else ''}{' ✓' if m == row.get('recommended') else ''} "
                 f"({row[m]['mae']:.3g})" for m in names]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    peers = f" {figures['peers']}" if figures.get("peers") else ""
    return ("\n".join(lines) + f"\n\nMASE (MAE in {unit or 'the series units'}), on the last 20% of the series "
            f"({figures['origins']:,} forecasts); the best method other than the network in bold, ✓ the one "
            "recommended on the validation part. MASE divides the error by the naive one-step error on the training "
            "part: below 1 beats yesterday's value as a forecast of today." + peers)


def forecast_plot(view: SeriesView, outlook: Outlook):
    """History up to the origin, the truth after it, the network's median and interval,
    and the best baseline."""
    series, t, horizon, fc, best = view.series, outlook.origin, outlook.horizon, outlook.network, outlook.best
    # 6 in at 90 dpi: on a 420 px phone the text stays about 9 px (8 in made it 5 px)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=90)
    start = max(0, t - min(view.encoder.window, max(4 * horizon, 30)))
    x = np.arange(start, t + 1)
    ax.plot(x - t, series.target[start:t + 1], color="#1f2937", lw=1.2, label="history")
    ahead = np.arange(1, horizon + 1)
    known = ahead[t + ahead < len(series)]
    if len(known):
        ax.plot(known, series.target[t + known], color="#1f2937", lw=1.2, ls=":", marker=".", label="what happened")
    if fc is not None:
        ax.fill_between(ahead, fc["lo"][0], fc["hi"][0], color=COLOURS["network"], alpha=0.18, label="80% interval")
        ax.plot(ahead, fc["median"][0], color=COLOURS["network"], lw=2, marker="o", ms=3, label="network")
    chosen = outlook.recommended
    if chosen and chosen != "network":
        ax.plot(ahead, outlook.forecast_of(chosen), color=COLOURS.get(chosen, "#2e7d32"), lw=1.8, ls="--",
                marker="s", ms=3, label=f"{chosen} (recommended)")
    elif best:
        ax.plot(ahead, outlook.baselines[best][0], color=COLOURS.get(best, "#2e7d32"), lw=1.5, ls="--",
                label=f"{best} (best other method)")
    ax.axvline(0, color="#999", lw=0.8)
    ax.set_xlabel(f"{series.step}s from the forecast origin", fontsize=11)
    ax.set_ylabel(series.unit or series.columns[0], fontsize=11)
    ax.set_facecolor("#fcfcfd")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=10)
    # below the axes: inside, it covered the history or the forecast
    ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def answer(choice, horizon, origin, which, upload=None, retrained=None):
    """Handler: forecast the chosen series from the chosen point of its test tail
    (100%: its last row, so the future). Returns (plot, verdict, figures table, notes)."""
    view = _view(choice, upload, which, retrained)
    out = forecast_from(view, horizon, origin)
    return (forecast_plot(view, out), verdict(view.figures, out.horizon, view.predictor is not None),
            figures_md(view.figures), "\n".join(f"- {n}" for n in out.notes))


def upload_changed(path, target, covariates):
    """Handler: read an uploaded CSV (or read it again for other columns); fills the
    column pickers and switches the series to it. A file it cannot read is said in one
    sentence beside the upload box (and a warning toast)."""
    cleared = (None, gr.update(choices=[], value=None), gr.update(choices=[], value=[]), gr.skip())
    if not path:
        return *cleared, ""
    gr.Info("Reading your CSV and fitting AutoETS, AutoTheta and AutoARIMA on it: seconds, up to a minute for "
            "a long hourly series.")
    try:
        state = read_upload(path, target, covariates)
    except gr.Error as e:  # said beside the upload box: an error here would mark the series picker as failed
        gr.Warning(e.message)
        return *cleared, f"&#9888; {e.message}"
    s = state.series
    how, others = (s.notes[0], s.notes[1:]) if s.notes else ("", [])  # the first note: how the table was read
    more = f" {len(others)} more note{'s' * (len(others) != 1)} under the plot." if others else ""
    return (state, gr.update(choices=s.choices, value=s.columns[0]),
            gr.update(choices=[c for c in s.choices if c != s.columns[0]], value=s.columns[1:]), "upload",
            f"Read {len(s):,} rows: forecasting **{s.columns[0]}**"
            + (f", reading {', '.join(s.columns[1:])} too" if len(s.columns) > 1 else "") + f". {how}{more}")


def retrain_series(choice, upload) -> dict:
    """The retrain's series, from the tab (the panel's ``extra_options``)."""
    if choice == "upload":
        if upload is None:
            raise Refusal("Upload a CSV first, or pick a built-in series to retrain on.")
        s = upload.series
        return {"series": "upload", "csv": upload.csv, "target": s.columns[0], "covariates": ",".join(s.columns[1:])}
    if choice not in BUILT_IN:
        raise Refusal(f"Pick one of the series: {', '.join(v for _, v in SERIES)}.")
    return {"series": choice}


def card(choice: str) -> str:
    """The model card of the shipped model for ``choice`` (a built-in series)."""
    if choice not in BUILT_IN:
        return "Uploaded series have no pretrained model: retrain one below."
    try:
        p = pretrained(series=choice)
    except gr.Error as e:
        return str(e)
    f = p.figures()
    return model_card_md(f"Pretrained model: {BUILT_IN[choice].label}", [
        ("network", p.describe()), ("parameters", f"{p.parameters:,}"), ("data", p.config.get("data")),
        ("interval", f"quantiles 0.1 / 0.5 / 0.9, calibrated on the validation part; covers "
                     f"{f['coverage']:.0%} of the test tail" if "coverage" in f else None),
    ], note="Figures from `python -m rnn_core evaluate forecast --suite tail`.") + "\n\n" + summary_section(p)


def stock_experiment() -> tuple[str | None, str]:
    """The stock experiment's figure (a path) and report, as `evaluate forecast --suite stock`
    wrote them beside the shipped models ((None, "") when it has not been run)."""
    from rnn_core.checkpoint import assets_dir
    from rnn_core.tasks.forecast.stock import report

    folder = assets_dir("forecast")
    try:
        result = json.loads((folder / "stock-experiment.json").read_text())
    except (OSError, ValueError):
        return None, ""
    png = folder / "stock-experiment.png"
    return (str(png) if png.exists() else None), report(result) + f"\n\nMade by `{result.get('command', '')}`."


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "the network reads a window of the past (30 days, 120 months, 72 hours...) one step at a "
                 "time and, from its last state, forecasts the next steps at once, each as a median and an 80% "
                 "interval. Beside it: the forecasts a forecaster tries first, scored on the same tail.", *DIAGRAM)
    upload = gr.State(None, time_to_live=7200)
    with gr.Row():
        with gr.Column(scale=2):
            choice = gr.Dropdown(SERIES, value="sunspots", label="Series")
            horizon = gr.Slider(1, MAX_HORIZON, value=12, step=1, label="Steps ahead")
            origin = gr.Slider(0, 100, value=50, step=1,
                               label="Forecast from (% into the test tail; 100 = the last row: the future)")
            which = gr.Radio(list(MODEL_CHOICES), value=MODEL_CHOICES[0], label="Model")
            go = gr.Button("Forecast", variant="primary")
        with gr.Column(scale=3):
            with gr.Group():
                csv = gr.File(label=f"or upload a CSV: a date column and numeric columns ({MAX_CSV_MB} MB at most; "
                                    f"the most recent {MAX_ROWS:,} rows are read)", file_types=[".csv", ".txt"],
                              type="filepath")
                with gr.Row():
                    target = gr.Dropdown([], label="column to forecast", allow_custom_value=False)
                    covariates = gr.Dropdown([], multiselect=True, label="other columns it reads (optional)")
            read_note = gr.Markdown()
    verdict_md = gr.Markdown()
    plot = gr.Plot(label="forecast", show_label=False, format="png")  # fits a phone: the forecast end must show
    table = gr.Markdown()
    notes = gr.Markdown()
    with gr.Accordion("Model card", open=False):
        card_md = gr.Markdown(card("sunspots"))
    png, words = stock_experiment()
    with gr.Accordion("The tutorials' stock LSTM, answered", open=False, visible=png is not None):
        gr.Markdown("Tutorials train an LSTM on a stock's daily close, 100 days at a time, and show its forecast "
                    "hugging the truth. Here is that experiment on Google's close, beside the naive forecast "
                    "(tomorrow = today) and the statistical peers.")
        gr.Image(png, show_label=False, interactive=False, buttons=[],
                 alt_text="The LSTM forecast hugging the close; zoomed in, it is the close a day late; its error beside naive")
        gr.Markdown(words)
    retrained = retrain_panel(SPEC, budget_note="Trains a fresh forecaster on the series chosen above (built in or "
                              "your CSV), scaled on its first 70%, validated on the next 10%, scored on the last 20%; "
                              "the defaults take about a minute on one CPU core.",
                              labels={"window": "window (0 = the series' default)"},
                              extra_inputs=[choice, upload], extra_options=retrain_series)
    outputs = [plot, verdict_md, table, notes]
    gr.on([go.click, choice.change, horizon.release, origin.release], answer,
          [choice, horizon, origin, which, upload, retrained], outputs, api_name="forecast_answer",
          concurrency_id="predict")
    choice.change(card, choice, card_md, queue=False, api_visibility="private")
    gr.on([csv.upload, csv.clear], upload_changed, [csv, target, covariates],
          [upload, target, covariates, choice, read_note], concurrency_id="predict", api_visibility="private")
    gr.on([target.input, covariates.input], upload_changed, [csv, target, covariates],
          [upload, target, covariates, choice, read_note], concurrency_id="predict", api_visibility="private")


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: forecasting") as demo:
        build()
    demo.launch()
