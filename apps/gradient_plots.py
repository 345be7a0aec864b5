"""The gradient lab's figures (matplotlib, each on its own light ground): learning
curves against chance, the gradient reaching each time step (a line and a heat map
over training), the global gradient norm with the clipping threshold, the gates.
No torch here: they draw the numbers a `rnn_core.train.Progress` carries."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GROUND = "#fafcff"
BLUE, ORANGE, GRADIENT = "#3b6fc4", "#b5480b", "#c2185b"


def _figure(rows: int = 1, height: float = 2.8):
    fig, axes = plt.subplots(rows, 1, figsize=(6, height * rows), dpi=90, facecolor=GROUND, squeeze=False)
    for ax in axes[:, 0]:
        ax.set_facecolor(GROUND)
        ax.grid(alpha=0.3)
    return fig, axes[:, 0]


def _legend(ax) -> None:
    """The legend in a row above the axes: inside them it covered the curves it names."""
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False,
              borderaxespad=0.2)


def _done(fig):
    fig.tight_layout()
    plt.close(fig)
    return fig


def curves(losses: list[tuple[int, float]], accuracy: list[tuple[int, float]], chance: float):
    """Training loss (top) and validation accuracy against chance (bottom), by step."""
    fig, (top, bottom) = _figure(2, 1.9)
    if losses:
        top.plot(*zip(*losses), color=BLUE)
    top.set_ylabel("train loss")
    if accuracy:
        bottom.plot(*zip(*accuracy), "o-", ms=3, color=ORANGE, label="accuracy")
    bottom.axhline(chance, color="#777", ls="--", label=f"chance ({chance:.0%})")
    bottom.set_ylim(0, 1.02)
    bottom.set_xlabel("training step")
    bottom.set_ylabel("accuracy")
    _legend(bottom)
    return _done(fig)


def _finite(values) -> np.ndarray:
    return np.array([v if v is not None and math.isfinite(v) and v > 0 else np.nan for v in values], float)


def step_norms(h_norms: list[float], c_norms: list[float] | None, history: list[tuple[int, list[float]]]):
    """||dL/dh_t|| for t = 1..T now, on a log scale (top; the cell state's gradient
    dashed for an LSTM), and the same over training as a heat map (bottom)."""
    fig, (top, bottom) = _figure(2, 2.3)
    t = np.arange(1, len(h_norms) + 1)
    top.semilogy(t, _finite(h_norms), color=GRADIENT, label="||dL/dh_t||")
    if c_norms:
        top.semilogy(t, _finite(c_norms), "--", color=BLUE, label="||dL/dc_t|| (LSTM cell)")
    top.set_xlabel("time step t (1 = the symbol to remember)")
    top.set_ylabel("gradient norm")
    _legend(top)
    if history:
        grid = np.log10(np.stack([_finite(n) for _, n in history]))
        image = bottom.imshow(grid, aspect="auto", origin="lower", cmap="magma", interpolation="nearest",
                              extent=(0.5, len(h_norms) + 0.5, 0, len(history)))
        fig.colorbar(image, ax=bottom, label="log10 ||dL/dh_t||", pad=0.02)
        ticks = np.linspace(0, len(history) - 1, min(4, len(history))).astype(int)
        bottom.set_yticks(ticks + 0.5, [str(history[i][0]) for i in ticks])
    bottom.set_xlabel("time step t")
    bottom.set_ylabel("training step")
    bottom.grid(False)
    return _done(fig)


def global_norms(norms: list[float], clip: float | None):
    """The global gradient norm of every step before clipping (log scale), the clipping
    threshold drawn; non-finite steps marked at the top."""
    fig, (ax,) = _figure(1, 2.6)
    values = _finite(norms)
    ax.semilogy(np.arange(1, len(values) + 1), values, color=GRADIENT, lw=0.8)
    bad = [i + 1 for i, v in enumerate(norms) if not math.isfinite(v)]
    if bad:
        ax.plot(bad, [np.nanmax(values) if np.isfinite(values).any() else 1.0] * len(bad), "x", color="red",
                label="NaN / inf")
    if clip:
        ax.axhline(clip, color="#2e7d32", ls="--", label=f"clipping threshold ({clip:g})")
    else:
        ax.text(0.01, 0.95, "no clipping", transform=ax.transAxes, va="top", color="#555")
    if bad or clip:
        _legend(ax)
    ax.set_xlabel("training step")
    ax.set_ylabel("||gradient|| before clipping")
    return _done(fig)


def gates(values: list[list[float]] | None, cell: str):
    """The memory gate of one example, unit by unit over time (None: a plain RNN)."""
    fig, (ax,) = _figure(1, 2.6)
    if not values:
        ax.text(0.5, 0.5, "A plain RNN has no gates: its state is rewritten at every step.",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _done(fig)
    grid = np.array(values)
    image = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
                      extent=(0.5, grid.shape[1] + 0.5, -0.5, grid.shape[0] - 0.5))
    name = "forget gate (1 = keep the cell)" if cell == "lstm" else "update gate (1 = keep the state)"
    fig.colorbar(image, ax=ax, label=name, pad=0.02)
    ax.set_xlabel(f"time step t (one example); mean {grid.mean():.2f}")
    ax.set_ylabel("unit")
    ax.grid(False)
    return _done(fig)
