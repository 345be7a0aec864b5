"""``python -m rnn_core evaluate forecast``: every shipped series' model on its test
tail beside the baselines and the statistical peers (`tail.tail_figures`), the
forecast recommended on the validation part (`tail.recommend`), and the issues'
targets checked."""
from __future__ import annotations

from pathlib import Path

from ...checkpoint import CheckpointError, assets_dir
from ..spec import make_recipe
from .peers import fit_peers
from .predictor import ForecastPredictor
from .tail import methods, scored, tail_figures
from .train import Recipe, series_for

SPLITS = ("test", "dev")  # dev: the validation part (10% before the test tail)
# The network's MASE against the best baseline's at these horizons, for these series.
RATIO_TARGET, RATIO_SERIES, RATIO_HORIZONS = 0.9, ("sunspots", "temperatures"), ("1", "12")
COVERAGE_RANGE = (0.75, 0.85)
# Beside the statistical peers, at each series' main horizon (`main_horizon`): the network
# no worse than the best peer on PEER_WINS of the series, never worse than PEER_SLACK times
# it; the forecast recommended on validation never worse than RECOMMENDED_SLACK times the best.
PEER_WINS, PEER_SLACK, RECOMMENDED_SLACK = 3, 1.15, 1.05


def main_horizon(figures: dict) -> str:
    """The horizon a series is judged at: 12 steps, or its longest if shorter."""
    return max(figures["horizons"], key=lambda h: (int(h) <= 12, int(h)))


def checkpoints(weights: str | Path) -> list[Path]:
    """The checkpoint folder ``weights``, or each series' folder inside it."""
    weights = Path(weights)
    if (weights / "config.json").exists():
        return [weights]
    found = sorted(p for p in weights.iterdir() if (p / "config.json").exists()) if weights.is_dir() else []
    if not found:
        raise CheckpointError(f"no forecasting checkpoint in {weights} (nor in folders inside it)")
    return found


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "test",
             device: str = "cpu") -> dict:
    """Figures of every checkpoint under ``weights`` (default assets/forecast), by
    series name; ``targets``: the issue's targets with the figures reached; and the
    headline (``mase``, beside ``baseline``'s): the network's MASE 12 steps ahead (or
    its longest horizon, if shorter), averaged over the series, and the best baseline's
    of each series, averaged."""
    out = {}
    for folder in checkpoints(weights or assets_dir("forecast")):
        predictor = ForecastPredictor.from_pretrained(folder)
        series = series_for(make_recipe(Recipe, predictor.config.get("options", {})), data_dir)
        peers, notes = fit_peers(series)
        # on the test tail: with the method recommended on the validation part
        figures = scored(predictor, series, peers=peers) if split == "test" else \
            tail_figures(predictor, series, part=split, peers=peers)
        out[folder.name] = {**figures, "model": predictor.describe(), "notes": notes}
    rows = [f["horizons"][main_horizon(f)] for f in out.values()]
    out["targets"] = targets(out)
    out["split"] = split
    out["mase"] = sum(r["network"]["mase"] for r in rows) / len(rows)
    out["baseline"] = {"name": "best of naive, seasonal naive, ridge and the statistical peers, per series",
                       "mase": sum(r[r["best_baseline"]]["mase"] for r in rows) / len(rows)}
    return out


def targets(figures: dict) -> dict:
    """Each target of the issue: the figure reached and whether it is met."""
    out = {}
    for name in RATIO_SERIES:
        for h in RATIO_HORIZONS:
            row = figures.get(name, {}).get("horizons", {}).get(h)
            if row and "ratio" in row:
                out[f"{name} h{h}: network MASE / best baseline's (<= {RATIO_TARGET})"] = {
                    "value": round(row["ratio"], 3), "met": row["ratio"] <= RATIO_TARGET}
    pm = figures.get("pm25", {}).get("horizons", {}).get("24")
    if pm and "network" in pm:
        for b in ("seasonal naive", "ridge"):
            out[f"pm25 h24: network MASE < {b}'s"] = {
                "value": f"{pm['network']['mase']:.3f} vs {pm[b]['mase']:.3f}",
                "met": pm["network"]["mase"] < pm[b]["mase"]}
    out.update(peer_targets(figures))
    for name, f in figures.items():
        if isinstance(f, dict) and "coverage" in f:
            lo, hi = COVERAGE_RANGE
            out[f"{name}: 80% interval coverage in {lo}-{hi}"] = {"value": round(f["coverage"], 3),
                                                                  "met": lo <= f["coverage"] <= hi}
    return out


def peer_targets(figures: dict) -> dict:
    """Issue 26's targets: the network beside the best statistical peer at each series'
    main horizon, and the recommended forecast beside the best method at every horizon."""
    out, wins, rows = {}, 0, 0
    for name, f in figures.items():
        if not isinstance(f, dict) or "horizons" not in f:
            continue
        h = main_horizon(f)
        row = f["horizons"][h]
        if "peer_ratio" in row:
            rows += 1
            wins += row["peer_ratio"] <= 1
            out[f"{name} h{h}: network MASE / best peer's ({row['best_peer']}) <= {PEER_SLACK}"] = {
                "value": round(row["peer_ratio"], 3), "met": row["peer_ratio"] <= PEER_SLACK}
        worst = max((r.get("recommended_ratio", 0), k) for k, r in f["horizons"].items())
        if worst[0]:
            out[f"{name}: recommended forecast's MASE / the best's, at every horizon (<= {RECOMMENDED_SLACK})"] = {
                "value": f"{worst[0]:.3f} at h{worst[1]}", "met": worst[0] <= RECOMMENDED_SLACK}
    if rows:
        out[f"network no worse than the best peer at the main horizon on >= {PEER_WINS} series"] = {
            "value": f"{wins} of {rows}", "met": wins >= min(PEER_WINS, rows)}
    return out


def table(metrics: dict) -> str:
    """``evaluate forecast --suite tail``: MASE of every method at every horizon, then the targets."""
    lines = []
    for name, f in metrics.items():
        if name in ("targets", "baseline") or not isinstance(f, dict):
            continue
        lines.append(f"{name} ({f['label']}; {f['origins']} origins in the {f['part']} part; MASE scale "
                     f"{f['mase_scale']:.3f} {f['unit']}; 80% interval covers {f.get('coverage', float('nan')):.3f})")
        for h, row in f["horizons"].items():
            cells = "  ".join(f"{m} {row[m]['mase']:.3f}" for m in methods(row))
            ratio = f"  ratio {row['ratio']:.3f}" if "ratio" in row else ""
            chosen = f"  recommended {row['recommended']}" if "recommended" in row else ""
            lines.append(f"  h{h:>3} MASE: {cells}{ratio}{chosen}")
    lines.append("targets:")
    lines += [f"  {'met ' if t['met'] else 'MISS'} {k}: {t['value']}" for k, t in metrics.get("targets", {}).items()]
    return "\n".join(lines)
