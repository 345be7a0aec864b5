"""Text generation (one-to-many): a prime in, Shakespeare-like text out, a character
at a time (Tiny Shakespeare)."""
from ...models import CELLS
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, train
from .predictor import TextGenerator

# Primes the load test and warm-up send.
PRIMES = ["ROMEO:\n", "First Citizen:\n", "To be, or not to be", "KING HENRY:\nWhat say you"]

SPEC = TaskSpec(
    data_source="tinyshakespeare", recipe=train.Recipe, presets=train.PRESETS, predictor=TextGenerator,
    train=train.train, evaluate=train.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("val_nats_per_char", "Tiny Shakespeare validation nats/char", higher_is_better=False),
    splits=train.SPLITS,
    # What a visitor may set in the retrain panel; the defaults train for 3 minutes.
    retrain_bounds={
        "cell": Option("lstm", choices=CELLS),
        "hidden": Option(256, 16, 512),
        "layers": Option(1, 1, 3),
        "lr": Option(3e-3, 1e-5, 0.05),
        "epochs": Option(20, 1, 50),
        "max_minutes": Option(3.0, 0.1, 10.0),
    },
    # A 3-minute run underfits, so no dropout; one validation an epoch keeps the budget
    # for training; each validation shows a sample; full precision for the visitor's copy.
    retrain_fixed={"live_samples": True, "half": False, "dropout": 0.0, "evals_per_epoch": 1},
    items="characters",
    api=ApiExample("/textgen_generate",
                   lambda rng: (rng.choice(PRIMES), 400, 0.8, 0, 1.0, rng.randrange(1000), "pretrained")),
)
