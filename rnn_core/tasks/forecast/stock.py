"""The seeds' stock experiment, reproduced and answered (``evaluate forecast --suite stock``).

Tutorials train an LSTM on a stock's daily close, read 100 days at a time, and show a
plot where its forecast hugs the truth. This module runs their setup honestly: Google's
(GOOG) close, the first 75% of days for training (its last tenth for early stopping),
MinMax scaling fitted on the training part only, windows of 100 days, the guides' LSTM
(2 layers of 50 units, a plain output layer: no skip from the last value) forecasting
the next day. It then scores it, one step ahead from every day of the last 25%, beside
what a forecaster compares with first: naive (tomorrow = today), drift (naive plus the
training part's mean daily change), AutoETS and AutoARIMA (statsforecast, season 5), and
the same LSTM trained on daily log returns instead of prices.

The networks train through the project's one loop (`rnn_core.fit.fit_model` with a
`Plan` of this module's own), on the pinball loss of the forecaster head's three
quantiles: the median is the forecast, 0.1 and 0.9 its 80% interval.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ...checkpoint import assets_dir
from ...data.timeseries import Series, load_series
from ...fit import Plan, fit_model
from ...models import count_parameters, create_model
from ..spec import make_recipe
from .baselines import naive_scale, scores
from .peers import fit_peer
from .train import METRIC
from .windows import Windows, origins

TRAIN_SHARE = 0.75     # the guides' split: the first 75% of days train, the last 25% test
COMMAND = "RNN_GALLERY_DATA=../shared/data OMP_NUM_THREADS=1 python -m rnn_core evaluate forecast --suite stock"
ZOOM_DAYS = 60
NAIVE, DRIFT, LSTM_PRICE, LSTM_RETURN = "naive", "drift", "LSTM (prices)", "LSTM (returns)"
PEER_NAMES = ("AutoETS", "AutoARIMA")
LABELS = {NAIVE: "naive (yesterday's close)", DRIFT: "drift (naive + mean daily change)",
          LSTM_PRICE: "LSTM on prices", LSTM_RETURN: "LSTM on log returns"}


@dataclass
class Recipe:
    """The guides' LSTM and how it trains (one per target: prices or log returns)."""
    target: str = "price"             # what it reads and forecasts: "price" or "return"
    window: int = 100                 # days read
    hidden: int = 50                  # the guides' 2 layers of 50 LSTM units
    layers: int = 2
    dropout: float = 0.0
    lr: float = 3e-3                  # Adam (the guides: 1e-3; 3e-3 reached a lower validation loss in 80 epochs)
    batch_size: int = 32              # as the guides
    epochs: int = 80                  # about 40 s a network on one core
    patience: int | None = 20         # validations (one an epoch) without improvement before stopping
    max_minutes: float | None = None  # None: no clock, so a seed always trains the same network
    seed: int = 0


@dataclass
class Parts:
    """Where the parts of a series of ``n`` days end: training [0, val_start), early-stopping
    validation [val_start, train_end) (the training part's last tenth), test [train_end, n)."""
    val_start: int
    train_end: int
    n: int

    @classmethod
    def of(cls, n: int) -> "Parts":
        """The guides' split of ``n`` days."""
        train_end = int(n * TRAIN_SHARE)
        return cls(train_end - train_end // 10, train_end, n)


def scaled(series: Series, kind: str, parts: Parts) -> tuple[np.ndarray, tuple[float, float]]:
    """(the series a network of ``kind`` reads, MinMax-scaled to [0, 1] by the training part
    only; (min, max)). ``kind`` "price": the close; "return": the daily log return (day 0: 0)."""
    close = series.target.astype(float)
    values = close if kind == "price" else np.concatenate([[0.0], np.diff(np.log(close))])
    fitted = values[:parts.train_end] if kind == "price" else values[1:parts.train_end]
    lo, hi = float(fitted.min()), float(fitted.max())
    return (values - lo) / max(hi - lo, 1e-12), (lo, hi)


def plan(r: Recipe, z: np.ndarray, parts: Parts) -> tuple[Plan, Windows]:
    """The `Plan` (for `rnn_core.fit.fit_model`) of recipe ``r`` on the scaled series ``z``:
    one-step windows whose targets fall in the training part, validated on its last tenth."""
    windows = Windows(z[:, None], z, np.ones(len(z), bool), r.window, 1)
    train_ts = origins(0, parts.val_start, r.window, 1)
    train_ts = train_ts[train_ts >= r.window] if r.target == "return" else train_ts  # no made-up day-0 return
    val_ts = origins(parts.val_start, parts.train_end, r.window, 1)
    if len(train_ts) < 2 or len(val_ts) < 1:
        raise ValueError(f"{parts.n} days are too few for windows of {r.window} days and a 75% training part")
    val_batch = windows.batch(val_ts)
    rng = np.random.default_rng(r.seed)
    steps = -(-len(train_ts) // r.batch_size)

    def epoch_batches(epoch: int) -> list[dict]:
        order = train_ts[rng.permutation(len(train_ts))]
        return [windows.batch(order[i:i + r.batch_size]) for i in range(0, len(order), r.batch_size)]

    def validate(m) -> dict:
        return {"val_loss": float(m(**val_batch)[1])}

    return Plan(encoder={"target": r.target, "window": r.window}, steps_per_epoch=steps,
                network=lambda: create_model("Forecaster", input_size=1, horizon=1, hidden_size=r.hidden,
                                             num_layers=r.layers, cell="lstm", dropout=r.dropout,
                                             quantiles=[0.1, 0.5, 0.9], residual=False),
                epoch_batches=epoch_batches, validate=validate, metric=METRIC, count=lambda b: len(b["x"]),
                data=f"{len(train_ts)} windows for training, {len(val_ts)} for early stopping",
                loop={"patience": r.patience, "clip": 1.0, "log_every": max(1, steps)}), windows


def train_lstm(series: Series, r: Recipe, parts: Parts, ts: np.ndarray,
               max_steps: int | None = None) -> tuple[np.ndarray, dict]:
    """Train recipe ``r``'s LSTM with the project's loop and forecast the close the day
    after each origin in ``ts``.

    Returns:
        ((B, 3) the 0.1, 0.5 and 0.9 quantiles of the next close in US$, what the run was)
    """
    z, (lo, hi) = scaled(series, r.target, parts)
    p, windows = plan(r, z, parts)
    model, result, _ = fit_model(p, r, max_steps=max_steps)
    with torch.no_grad():
        q = model(windows.x(ts))[0][:, 0, :].double().numpy()
    q = np.sort(q, axis=1) * (hi - lo) + lo  # quantiles that crossed are put back in order
    close = series.target[ts][:, None]
    prices = q if r.target == "price" else close * np.exp(q)
    run = {"target": r.target, "window": r.window, "hidden": r.hidden, "layers": r.layers, "lr": r.lr,
           "batch_size": r.batch_size, "epochs": r.epochs, "parameters": count_parameters(model),
           "data": p.data, "steps": result.steps, "stopped": str(getattr(result.stopped, "value", result.stopped)),
           "seconds": round(result.elapsed, 1), "best_val_loss": result.best.get("val_loss")}
    return prices, run


def direction(pred: np.ndarray, last: np.ndarray, truth: np.ndarray) -> float | None:
    """The share of days whose move (up or down from ``last``) ``pred`` called right, over the
    days it called a move and the close moved; None when it never calls one (naive)."""
    called, moved = pred - last, truth - last
    keep = (np.abs(called) > 1e-9 * np.abs(last)) & (moved != 0)
    return float((np.sign(called[keep]) == np.sign(moved[keep])).mean()) if keep.any() else None


def forecasts(series: Series, parts: Parts, ts: np.ndarray, seed: int, options: dict | None,
              max_steps: int | None) -> tuple[dict, dict, dict, dict]:
    """Every model's one-step forecast of the close after each origin in ``ts``.

    Returns:
        (name -> (B,) forecasts, name -> (B, 2) 80% interval (the LSTMs), name -> what it is,
        LSTM target -> its run)
    """
    y = series.target.astype(float)
    mean_change = float(np.diff(y[:parts.train_end]).mean())
    preds = {NAIVE: y[ts], DRIFT: y[ts] + mean_change}
    about = {NAIVE: "tomorrow = today", DRIFT: f"today {mean_change:+.3f} US$ (training part's mean change)"}
    for name in PEER_NAMES:
        try:
            peer = fit_peer(name, y, parts.train_end, (series.season,))
        except Exception as e:  # statsforecast's own errors on odd series: the peer sits this one out
            about[name] = f"could not be fitted ({type(e).__name__})"
            continue
        preds[name] = peer.forecast(y, ts, 1)[:, 0]
        about[name] = f"{peer.description.removeprefix(name + ' ')}, season {peer.season}"
    intervals, runs = {}, {}
    base = replace(make_recipe(Recipe, options), seed=seed)
    for name, kind in ((LSTM_PRICE, "price"), (LSTM_RETURN, "return")):
        q, runs[kind] = train_lstm(series, replace(base, target=kind), parts, ts, max_steps)
        preds[name], intervals[name] = q[:, 1], q[:, [0, 2]]
        about[name] = f"{base.layers}x{base.hidden} LSTM on {'MinMax prices' if kind == 'price' else 'log returns'}"
    return preds, intervals, about, runs


def experiment(data_dir: str | None = None, seed: int = 0, max_minutes: float | None = None,
               max_steps: int | None = None, options: dict | None = None) -> dict:
    """The guides' stock experiment, scored one day ahead from every day of the last 25%.

    Args:
        data_dir: where the timeseries data set is (None: `rnn_core.data.locate`'s default).
        max_minutes: a wall-clock cap on each network's training (None: none, so the result is
            the same for a seed; the recipe's epochs and early stopping end it, in under 2 minutes for both).
        max_steps: stop each network after this many optimiser steps (tests).
        options: `Recipe` fields over its defaults.

    Returns:
        a JSON-safe dict: per model MAE, RMSE, MASE and direction share (``models``), the LSTMs'
        80% interval coverage, how far the price LSTM's forecast lags (``lag``), the runs, and
        the test period's truth and forecasts (``test``) that `figure` draws.
    """
    started = time.perf_counter()
    series = load_series("stock", data_dir)
    parts = Parts.of(len(series))
    y = series.target.astype(float)
    ts = origins(parts.train_end, parts.n, 1, 1)  # every test day's eve
    opts = {**(options or {}), **({"max_minutes": max_minutes} if max_minutes is not None else {})}
    preds, intervals, about, runs = forecasts(series, parts, ts, seed, opts, max_steps)
    truth, last = y[ts + 1], y[ts]
    scale = naive_scale(y, series.observed, parts.train_end)
    models = {name: {**scores(p[:, None], truth[:, None], np.ones((len(ts), 1), bool), scale),
                     "direction": None if name == NAIVE else direction(p, last, truth),
                     "calls_up": float((p > last).mean()), "about": about[name]}
              for name, p in preds.items()}
    coverage = {name: float(((truth >= iv[:, 0]) & (truth <= iv[:, 1])).mean()) for name, iv in intervals.items()}
    dates = [str(d)[:10] for d in np.asarray(series.dates)]
    return _jsonable({
        "series": series.label, "unit": series.unit, "seed": seed,
        "days": {"train": parts.val_start, "validation": parts.train_end - parts.val_start,
                 "test": len(ts), "from": dates[parts.train_end], "to": dates[-1],
                 "train_from": dates[0]},
        "mase_scale": scale, "up_share": float((truth > last).mean()), "models": models,
        "coverage": coverage, "lag": lag(preds[LSTM_PRICE], y, ts), "runs": runs,
        "test": {"dates": [dates[t + 1] for t in ts], "truth": truth, "last": last, "forecasts": preds,
                 "intervals": {k: v.T for k, v in intervals.items()}},
        "seconds": round(time.perf_counter() - started, 1)})


def lag(pred: np.ndarray, y: np.ndarray, ts: np.ndarray, shifts: int = 5) -> dict:
    """How far behind the truth ``pred`` runs: its mean absolute distance (US$) to the close
    k days before the day it forecasts, for k = 0 (the truth itself), 1 (today: the naive
    forecast)... ``shifts``; ``best`` is the k it sits closest to."""
    dist = [float(np.abs(pred - y[np.maximum(ts + 1 - k, 0)]).mean()) for k in range(shifts + 1)]
    return {"mae_by_shift": dist, "best": int(np.argmin(dist))}


def _jsonable(x):
    """``x`` with NumPy arrays and numbers as lists and floats (4 decimals in long lists) and
    NaN as None."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return [_jsonable(round(float(v), 4)) for v in x.ravel()] if x.ndim == 1 else [_jsonable(r) for r in x]
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if math.isnan(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


# --- the figure ------------------------------------------------------------------------------

TRUTH, LSTM_COLOUR, NAIVE_COLOUR, OTHER = "#222222", "#3b6fc4", "#e07b39", "#9aa5b1"


def figure(result: dict):
    """Three panels, 6 in wide: (a) the plot the guides show (the test period's close and the
    LSTM's forecast), (b) its last `ZOOM_DAYS` days with the naive forecast too, where the
    LSTM's line is the truth a day late, (c) every model's MASE and direction share."""
    import matplotlib
    matplotlib.use("Agg")  # no display: the figure goes to a file
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(6, 9.2), dpi=90, gridspec_kw={"height_ratios": [1, 1, 0.95]})
    test = result["test"]
    dates = np.array(test["dates"], dtype="datetime64[D]")
    zoom = slice(max(0, len(dates) - ZOOM_DAYS), len(dates))
    _guides_panel(axes[0], result, dates, zoom)
    _zoom_panel(axes[1], result, dates, zoom)
    _error_panel(axes[2], result)
    fig.tight_layout(h_pad=1.2)
    return fig


def _legend_above(ax, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=9, pad=20)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=7.5,
              handlelength=1.6, columnspacing=1.0, borderaxespad=0.1)


def _dated(ax) -> None:
    import matplotlib.dates as mdates
    locator = mdates.AutoDateLocator(maxticks=7)
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, offset_formats=["", "%Y", "%Y", "%Y", "%Y", "%Y"])
    ax.xaxis.set_major_formatter(formatter)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def _guides_panel(ax, result: dict, dates: np.ndarray, zoom: slice) -> None:
    test = result["test"]
    ax.plot(dates, test["truth"], color=TRUTH, lw=1.1, label="truth (daily close)")
    ax.plot(dates, test["forecasts"][LSTM_PRICE], color=LSTM_COLOUR, lw=1.1, label="LSTM forecast, 1 day ahead")
    ax.axvspan(dates[zoom][0], dates[zoom][-1], color=OTHER, alpha=0.2, lw=0, label="zoomed in (b)")
    ax.set_ylabel(f"GOOG close ({result['unit']})", fontsize=8)
    _dated(ax)
    _legend_above(ax, f"(a) The plot the guides show: the LSTM hugs the truth "
                      f"({result['days']['test']} test days)")


def _zoom_panel(ax, result: dict, dates: np.ndarray, zoom: slice) -> None:
    test, lagged = result["test"], result["lag"]
    ax.plot(dates[zoom], np.array(test["truth"])[zoom], color=TRUTH, lw=1.1, marker="o", ms=2.5, label="truth")
    ax.plot(dates[zoom], np.array(test["forecasts"][NAIVE])[zoom], color=NAIVE_COLOUR, lw=1.6, ls="--",
            label="naive: yesterday's close")
    ax.plot(dates[zoom], np.array(test["forecasts"][LSTM_PRICE])[zoom], color=LSTM_COLOUR, lw=1.1,
            label="LSTM forecast")
    ax.set_ylabel(f"GOOG close ({result['unit']})", fontsize=8)
    _dated(ax)
    k = lagged["best"]
    behind = f"the truth {k} day{'s' if k != 1 else ''} late" if k else "closest to the truth itself"
    _legend_above(ax, f"(b) The last {len(dates[zoom])} days, with naive: the LSTM is {behind}")


def _error_panel(ax, result: dict) -> None:
    models = result["models"]
    naive = models[NAIVE]["mase"]
    names = sorted(models, key=lambda n: -models[n]["mase"])
    values = [100 * (models[n]["mase"] / naive - 1) for n in names]
    colours = [LSTM_COLOUR if n.startswith("LSTM") else NAIVE_COLOUR if n == NAIVE else OTHER for n in names]
    ax.barh(range(len(names)), values, color=colours, height=0.6)
    for i, n in enumerate(names):
        d = models[n]["direction"]
        note = "no up/down call" if d is None else f"direction {100 * d:.1f}%"
        ax.text(max(values[i], 0), i, f" MASE {models[n]['mase']:.3f}, {note}", va="center", fontsize=7.5)
    ax.axvline(0, color=NAIVE_COLOUR, lw=0.8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    lo, hi = min(0.0, *values), max(0.0, *values)
    ax.set_xlim(lo - 0.05 * (hi - lo + 1), hi + 0.95 * (hi - lo + 1))
    ax.set_xlabel("MASE above naive's (%), one day ahead from every test day; lower is better", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(f"(c) Error by model beside naive; {100 * result['up_share']:.1f}% of test days closed up",
                 loc="left", fontsize=9)


# --- the words -------------------------------------------------------------------------------

def table(result: dict) -> str:
    """The error table (Markdown): every model's MAE, RMSE, MASE and direction share."""
    unit = result["unit"]
    lines = [f"| model | what it is | MAE ({unit}) | RMSE ({unit}) | MASE | direction right |",
             "|---|---|---:|---:|---:|---:|"]
    for name, m in sorted(result["models"].items(), key=lambda kv: kv[1]["mase"]):
        d = "none (never calls a move)" if m["direction"] is None else f"{100 * m['direction']:.1f}%"
        lines.append(f"| {name} | {m['about']} | {m['mae']:.3f} | {m['rmse']:.3f} | {m['mase']:.3f} | {d} |")
    return "\n".join(lines)


def _versus(model: dict, naive: dict) -> str:
    change = model["mase"] / naive["mase"] - 1
    word = "beats" if change < 0 else "does not beat"
    return f"{word} naive ({model['mase']:.3f} against {naive['mase']:.3f}, {100 * abs(change):.1f}% " \
           f"{'lower' if change < 0 else 'higher'})"


def _directions(result: dict) -> str:
    m = result["models"]
    calls = [f"{100 * m[n]['direction']:.1f}% of days on {what} (calling 'up' on {100 * m[n]['calls_up']:.1f}%)"
             for n, what in ((LSTM_PRICE, "prices"), (LSTM_RETURN, "returns")) if m[n]["direction"] is not None]
    return (f"The LSTM gets the next day's direction (up or down) right on {' and on '.join(calls) or 'no day'}, "
            f"against 50% for a coin and {100 * result['up_share']:.1f}% for always 'up'; naive never calls a "
            f"move, so it has no such figure.")


def report(result: dict) -> str:
    """The error table and a few plain sentences on what the figures say; every number from ``result``."""
    m, days, lagged, cov = result["models"], result["days"], result["lag"], result["coverage"]
    k, dist = lagged["best"], lagged["mae_by_shift"]
    best = min(m, key=lambda n: m[n]["mase"])
    where = (f"it is closest to the close {k} day{'s' if k > 1 else ''} before the day it forecasts"
             f"{', so the hugging is the naive forecast, a day late' if k == 1 else ''}." if k else
             "it is closest to the truth itself, not to a lagged close.")
    sentences = [
        f"One day ahead from each of the {days['test']} test days ({days['from']} to {days['to']}), the LSTM on "
        f"prices {_versus(m[LSTM_PRICE], m[NAIVE])} by MASE; the lowest MASE is {best}'s ({m[best]['mase']:.3f}).",
        f"Its forecast sits {dist[1]:.2f} {result['unit']} from yesterday's close on average but {dist[0]:.2f} "
        f"from the truth: {where}",
        f"Trained on log returns, the same LSTM {_versus(m[LSTM_RETURN], m[NAIVE])}.",
        _directions(result),
        f"Their 80% intervals cover {100 * cov[LSTM_PRICE]:.1f}% (prices) and {100 * cov[LSTM_RETURN]:.1f}% "
        f"(returns) of test days.",
    ]
    return table(result) + "\n\n" + " ".join(sentences)


def suite(metrics: dict | None = None, *, out_dir: str | Path | None = None, data_dir: str | None = None,
          max_steps: int | None = None, options: dict | None = None) -> str:
    """``evaluate forecast --suite stock`` (``metrics`` is not read): run `experiment`, write
    ``stock-experiment.json`` (with the command that made it) and ``stock-experiment.png``
    (`figure`) to ``out_dir`` (default: assets/forecast), and return `report`."""
    result = experiment(data_dir, max_steps=max_steps, options=options)
    result["command"] = COMMAND
    out = Path(out_dir) if out_dir else assets_dir("forecast")
    out.mkdir(parents=True, exist_ok=True)
    (out / "stock-experiment.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    fig = figure(result)
    fig.savefig(out / "stock-experiment.png", dpi=90)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return report(result)
