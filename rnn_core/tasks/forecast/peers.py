"""The statistical forecasters people reach for first, as the network's peers:
statsforecast's AutoETS, AutoTheta and AutoARIMA (Nixtla's implementations of
Hyndman's automatic ETS, the Theta method and auto.arima, which choose their own
model order by information criteria; a library does this far better than
hand-written code could).

Like the network and the ridge baseline, each peer is fitted once on the training
part of a series; from every later origin it reads the series up to that origin
with its parameters fixed (statsforecast's ``forward``) and forecasts the next steps.

What they cost decides what they read (measured on this 2-vCPU machine): AutoARIMA
took 82 s on 3,650 daily temperatures with season 7 and 111 s on 2,000 monthly
sunspots with season 12, so it is fitted on the last `ARIMA_ROWS` training rows with
a season of at most `SHORT_SEASON` (28 s for 1,000 hourly rows with season 24).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from ...data.timeseries import Series
from .features import split_points

PEERS = ("AutoETS", "AutoTheta", "AutoARIMA")
ARIMA_ROWS = 500        # AutoARIMA's history: the last rows of the training part
HISTORY_ROWS = 5000     # AutoETS's and AutoTheta's (an ETS fit on 5,000 hourly rows: 4.5 s)
SHORT_SEASON = 24       # the longest season AutoETS and AutoARIMA are given (ETS allows no more)
# Origins an upload (or a retrained model) is scored at in each part: the peers forecast
# origin by origin (AutoTheta with season 168: 22 ms each), and a visitor waits for the figures.
UPLOAD_ORIGINS = 300


@dataclass
class FittedPeer:
    """One peer fitted on a series' training part.

    Attributes:
        name: "AutoETS", "AutoTheta" or "AutoARIMA".
        model: the fitted statsforecast model.
        season: the season it was given (1: none).
        rows: how many of the last rows it reads (fitting and forecasting).
        seconds: how long fitting took.
        description: the model it chose, as statsforecast names it ("ETS(A,N,N)"...).
    """
    name: str
    model: object
    season: int
    rows: int
    seconds: float
    description: str

    def forecast(self, target: np.ndarray, ts: np.ndarray, horizon: int) -> np.ndarray:
        """(B, horizon) forecasts from origins ``ts``, each reading ``target`` up to its origin."""
        out = np.empty((len(ts), horizon))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, t in enumerate(ts):
                out[i] = self.model.forward(y=target[max(0, t + 1 - self.rows):t + 1], h=horizon)["mean"]
        return out


def peer_season(name: str, seasons: tuple[int, ...], rows: int) -> int:
    """The season ``name`` is given: the longest of ``seasons`` it allows (AutoETS and
    AutoARIMA at most `SHORT_SEASON`) whose two cycles fit in ``rows``; 1 when none does."""
    limit = SHORT_SEASON if name != "AutoTheta" else rows
    fits = [s for s in seasons if 1 < s <= limit and 2 * s <= rows]
    return max(fits, default=1)


def _model(name: str, season: int):
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta  # 2 s to import: only when a peer is fitted
    return {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "AutoARIMA": AutoARIMA}[name](season_length=season)


def _described(name: str, model) -> str:
    fitted = getattr(model, "model_", None)
    if isinstance(fitted, dict):
        if "method" in fitted:  # ETS(M,A,N)
            return f"{name} {fitted['method']}"
        if "modeltype" in fitted:  # STM, OTM, DSTM, DOTM: (dynamic) standard or optimised Theta
            return f"{name} {fitted['modeltype']}"
        if "arma" in fitted:  # (p, q, P, Q, m, d, D)
            p, q, big_p, big_q, m, d, big_d = fitted["arma"]
            return f"ARIMA({p},{d},{q})" + (f"({big_p},{big_d},{big_q})[{m}]" if m > 1 else "")
    return name


def fit_peer(name: str, target: np.ndarray, train_end: int, seasons: tuple[int, ...]) -> FittedPeer:
    """Peer ``name`` fitted on ``target[:train_end]`` (its last `ARIMA_ROWS` rows for
    AutoARIMA, `HISTORY_ROWS` for the others), with the season `peer_season` gives it.
    statsforecast's own errors (a flat or odd series) go up to the caller."""
    rows = ARIMA_ROWS if name == "AutoARIMA" else HISTORY_ROWS
    history = target[max(0, train_end - rows):train_end]
    season = peer_season(name, seasons, len(history))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _model(name, season).fit(history)
    return FittedPeer(name, model, season, rows, time.perf_counter() - start, _described(name, model))


def fit_peers(series: Series, names: tuple[str, ...] = PEERS) -> tuple[dict[str, FittedPeer], list[str]]:
    """Each peer in ``names`` fitted on ``series``' training part (`fit_peer`).

    Returns:
        (name -> fitted peer, notes): a peer that fails (a flat or odd series) is left
        out with a one-sentence note, never raised.
    """
    train_end, _ = split_points(len(series))
    seasons = tuple(getattr(series, "seasons", ()) or (series.season,))
    peers, notes = {}, []
    for name in names:
        try:
            peers[name] = fit_peer(name, series.target, train_end, seasons)
        except Exception as e:  # statsforecast's own errors on odd series: the peer sits this one out
            notes.append(f"{name} could not be fitted on this series ({type(e).__name__}), so it is not shown.")
    return peers, notes


def describe(peers: dict[str, FittedPeer]) -> str:
    """One sentence on what each peer read and chose, and what it cost."""
    parts = [f"{p.description} (season {p.season}, the last {p.rows:,} training rows at most, fitted in "
             f"{p.seconds:.1f} s)" for p in peers.values()]
    return "Statistical peers (statsforecast): " + "; ".join(parts) + "." if parts else ""
