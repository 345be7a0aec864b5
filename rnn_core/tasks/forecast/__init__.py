"""Forecasting (many-to-one regression with a multi-step head): a window of a time
series in, the next steps out as a median and an 80% interval, beside the naive,
seasonal-naive and ridge forecasts (temperatures, sunspots, PM2.5, or a CSV)."""
from ...models import CELLS
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, metrics, stock, train, unseen
from .predictor import ForecastPredictor

SPEC = TaskSpec(
    data_source="timeseries", recipe=train.Recipe, presets=train.PRESETS, predictor=ForecastPredictor,
    train=train.train, evaluate=metrics.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("mase", "MASE 12 steps ahead (or the longest), mean of the series", higher_is_better=False),
    splits=metrics.SPLITS,
    # What a visitor may set in the retrain panel (the series comes from the tab); the
    # defaults train in about a minute on one core.
    retrain_bounds={
        "cell": Option("lstm", choices=CELLS),
        "hidden": Option(48, 8, 128),
        "layers": Option(1, 1, 2),
        "lr": Option(3e-3, 1e-5, 0.05),
        "window": Option(0, 0, 400),
        "epochs": Option(300, 1, 1000),
        "max_minutes": Option(1.0, 0.1, 5.0),
    },
    retrain_fixed={"dropout": 0.0},
    suites={"tail": metrics.table, "stock": stock.suite, "unseen": unseen.suite},
    items="windows",
    # series, steps ahead, origin (% into the test tail), which model
    api=ApiExample("/forecast_answer", lambda rng: (rng.choice(["sunspots", "temperatures", "pm25", "stock"]),
                                                    rng.randint(1, 24), rng.randint(0, 100), "pretrained")),
)
