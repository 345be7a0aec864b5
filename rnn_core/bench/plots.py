"""The report's two figures (`rnn_core.bench.report`): quality beside the baselines,
and one visitor's latency beside many visitors' through the server."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the figures go to files
import matplotlib.pyplot as plt  # noqa: E402

MODEL, BASELINE, ALONE = "#3b6fc4", "#9aa5b1", "#7fa6e0"


def quality_plot(path: Path, quality: list[dict]) -> str:
    """One pair of bars per task (model, baseline) on its own scale; returns the file's name."""
    fig, axes = plt.subplots(1, len(quality), figsize=(2.6 * len(quality), 3), dpi=90, squeeze=False)
    for ax, q in zip(axes[0], quality):
        ax.bar(["model", "baseline"], [q["model"], q["baseline"]], color=[MODEL, BASELINE])
        ax.set_title(f"{q['task']}\n{'higher' if q['higher_is_better'] else 'lower'} is better", fontsize=10)
        ax.set_ylabel(q["key"], fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def latency_plot(path: Path, one: dict[str, float], load: dict) -> str:
    """Per tab, the p95 of one visitor in-process (``one``: tab -> ms) beside the load
    test's p95 alone and (if it ran) while one more visitor retrains; returns the file's name."""
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=90)
    tabs = list(dict.fromkeys([*one, *load["alone"]["tabs"]]))  # every tab, even one no visitor asked for
    bars = [("one request at a time, in-process (bench latency TASK)", [one.get(t, 0) for t in tabs], BASELINE),
            (f"{load['clients']} visitors through the server", _p95s(load["alone"], tabs), ALONE)]
    if load.get("retraining"):
        bars.append((f"{load['clients']} visitors + a retrain", _p95s(load["retraining"], tabs), MODEL))
    width = 0.8 / len(bars)
    for k, (label, values, colour) in enumerate(bars):
        ax.bar([i + (k - (len(bars) - 1) / 2) * width for i in range(len(tabs))], values, width, label=label,
               color=colour)
    ax.set_xticks(list(range(len(tabs))), tabs)
    ax.set_yscale("log")
    ax.set_ylabel("p95 latency (ms, log)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(bars), frameon=False)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return _save(fig, path)


def _p95s(phase: dict | None, tabs: list[str]) -> list[float]:
    return [((phase or {"tabs": {}})["tabs"].get(t) or {}).get("p95_ms") or 0 for t in tabs]


def _save(fig, path: Path) -> str:
    fig.savefig(path)
    plt.close(fig)
    return path.name
