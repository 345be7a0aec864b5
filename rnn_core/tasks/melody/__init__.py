"""Melody (one-to-many): a primer (or nothing) in, a folk melody out, an event at a
time (Nottingham)."""
from ...models import CELLS
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, metrics, train
from .predictor import KEYS, MelodyGenerator

SPEC = TaskSpec(
    data_source="nottingham", recipe=train.Recipe, presets=train.PRESETS, predictor=MelodyGenerator,
    train=train.train, evaluate=metrics.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("nll_per_event", "Nottingham dev nats/event", higher_is_better=False),
    splits=metrics.SPLITS,
    # What a visitor may set in the retrain panel; the defaults train for 2 minutes.
    retrain_bounds={
        "cell": Option("lstm", choices=CELLS),
        "hidden": Option(256, 16, 512),
        "layers": Option(1, 1, 3),
        "lr": Option(3e-3, 1e-5, 0.05),
        "epochs": Option(30, 1, 80),
        "max_minutes": Option(2.0, 0.1, 10.0),
    },
    # A short run underfits, so no dropout; full precision for the visitor's copy.
    retrain_fixed={"dropout": 0.0, "half": False},
    # The tab's inputs: primer source, typed notes, upload, meter, bars, temperature,
    # tempo, key, scale, variations, seed, include the primer, which model.
    items="events",
    api=ApiExample("/melody_generate", lambda rng: ("none", "", None, "4/4", 8, 1.0, 120, KEYS[0], "none", 1,
                                                    rng.randrange(1000), True, "pretrained")),
)
