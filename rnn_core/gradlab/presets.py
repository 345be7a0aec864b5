"""One-click settings that reproduce the guides' claims about long-range training.

Each preset is a full set of `rnn_core.gradlab.lab.SETTINGS` values; what the run
shows is measured and said by `rnn_core.gradlab.lab.explain`, never assumed from the
preset's name. ``python -m rnn_core bench gradients`` runs them all on one core.
"""
from __future__ import annotations

BASE = {"cell": "rnn", "gap": 100, "hidden": 32, "scale": 1.0, "clip": True, "lr": 0.01,
        "optimizer": "adam", "seconds": 45.0, "seed": 0}

PRESETS: dict[str, dict] = {
    "plain RNN, T=100": {**BASE},
    "LSTM, T=100": {**BASE, "cell": "lstm"},
    "RNN, scale 2, no clipping": {**BASE, "gap": 50, "scale": 2.0, "clip": False},
    "RNN, scale 2, with clipping": {**BASE, "gap": 50, "scale": 2.0, "clip": True},
}
# What the guides say each should show (the bench checks these against the measured run).
CLAIMS = {
    "plain RNN, T=100": "stays near chance; the gradient vanishes (||dL/dh_1|| / ||dL/dh_T|| < 1e-3)",
    "LSTM, T=100": ">= 95% accuracy within 60 s",
    "RNN, scale 2, no clipping": "a non-finite loss or a gradient norm > 1e3",
    "RNN, scale 2, with clipping": ">= 90% accuracy on the same seed",
}


def preset(name: str) -> dict:
    """A copy of the named preset's settings.

    Raises:
        KeyError: no such preset (the message lists them).
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def meets_claim(name: str, r: dict) -> bool:
    """True when the run's summary ``r`` (`rnn_core.gradlab.lab.summarise`) shows the claim."""
    if name == "plain RNN, T=100":
        return r["accuracy"] < r["chance"] + 0.1 and r["ratio"] < 1e-3
    if name == "LSTM, T=100":
        return r["accuracy"] >= 0.95 and r["seconds"] <= 60
    if name == "RNN, scale 2, no clipping":
        return r["nonfinite"] or r["max_grad_norm"] > 1e3
    return r["accuracy"] >= 0.9
