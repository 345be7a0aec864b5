"""The seeds' stock experiment (`rnn_core.tasks.forecast.stock`) on a tiny synthetic random-walk
stock (conftest's ``timeseries_dir``), with networks trained for a few steps only."""
from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest

from rnn_core.tasks.forecast import stock

TINY = {"hidden": 8, "layers": 1, "batch_size": 64}
MODELS = ("naive", "drift", "AutoETS", "AutoARIMA", "LSTM (prices)", "LSTM (returns)")


@pytest.fixture(scope="module")
def result(timeseries_dir):
    return stock.experiment(str(timeseries_dir), max_steps=3, options=TINY)


def test_every_model_has_its_figures(result):
    assert set(result["models"]) == set(MODELS)
    for name, m in result["models"].items():
        assert m["mae"] > 0 and m["rmse"] >= m["mae"] and m["mase"] == pytest.approx(m["mae"] / result["mase_scale"])
        assert (m["direction"] is None) == (name == "naive")
        assert m["direction"] is None or 0 <= m["direction"] <= 1
    assert set(result["coverage"]) == {"LSTM (prices)", "LSTM (returns)"}
    assert all(0 <= c <= 1 for c in result["coverage"].values())
    days = result["days"]
    assert days["train"] + days["validation"] == int(400 * stock.TRAIN_SHARE) and days["test"] == 100
    assert all(run["steps"] == 3 and run["stopped"] == "max_steps" for run in result["runs"].values())
    json.dumps(result, allow_nan=False)  # JSON-safe as it is


def test_the_scores_are_the_forecasts_scores(result):
    test = result["test"]
    truth, last = np.array(test["truth"]), np.array(test["last"])
    assert len(truth) == result["days"]["test"] and np.allclose(test["forecasts"]["naive"], last)
    # the naive forecast is yesterday's close: the truth one day earlier
    assert np.allclose(truth[:-1], last[1:])
    for name, pred in test["forecasts"].items():
        mae = np.abs(np.array(pred) - truth).mean()
        assert result["models"][name]["mae"] == pytest.approx(mae, abs=1e-3), name
    assert result["lag"]["mae_by_shift"][1] == pytest.approx(
        np.abs(np.array(test["forecasts"]["LSTM (prices)"]) - last).mean(), abs=1e-3)
    lo, hi = (np.array(v) for v in test["intervals"]["LSTM (prices)"])
    assert (lo <= hi).all()


def test_a_seed_gives_the_same_result(result, timeseries_dir):
    again = stock.experiment(str(timeseries_dir), max_steps=3, options=TINY)
    assert again["models"] == result["models"] and again["coverage"] == result["coverage"]


def test_the_figure_renders(result):
    import matplotlib.pyplot as plt

    fig = stock.figure(result)
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] == pytest.approx(6)
    assert fig.axes[0].get_title(loc="left").startswith("(a) The plot the guides show")
    assert len(fig.axes[1].lines) == 3  # truth, naive, LSTM
    plt.close(fig)


def test_the_report_says_the_results_numbers(result):
    text = stock.report(result)
    rows = {cells[0]: cells for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| "))}
    for name, m in result["models"].items():
        cells = rows[name]
        assert [float(c) for c in cells[2:5]] == pytest.approx([m["mae"], m["rmse"], m["mase"]], abs=6e-4)
        assert cells[5].startswith("none") if m["direction"] is None else float(cells[5].rstrip("%")) == \
            pytest.approx(100 * m["direction"], abs=0.06)
    words = text.split("\n\n", 1)[1]
    assert f"{100 * result['coverage']['LSTM (prices)']:.1f}%" in words
    assert f"{100 * result['coverage']['LSTM (returns)']:.1f}%" in words
    assert f"{result['models']['LSTM (prices)']['mase']:.3f} against {result['models']['naive']['mase']:.3f}" in words
    assert f"{result['days']['test']} test days" in words and 3 <= len(re.findall(r"[.!?](?: |$)", words)) <= 6


def test_the_suite_writes_the_json_and_a_small_png(timeseries_dir, tmp_path):
    text = stock.suite({}, out_dir=tmp_path, data_dir=str(timeseries_dir), max_steps=2, options=TINY)
    saved = json.loads((tmp_path / "stock-experiment.json").read_text())
    assert saved["command"] == stock.COMMAND and set(saved["models"]) == set(MODELS)
    png = tmp_path / "stock-experiment.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size < 300_000
    assert text == stock.report(saved)


def test_the_house_rules_hold_here():
    tree = ast.parse(open(stock.__file__).read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno - node.lineno + 1 <= 60, node.name
    public = [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    assert all(ast.get_docstring(n) for n in public)
