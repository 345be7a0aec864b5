"""Sentiment (many-to-one): a sentence in, positive or negative out (SST-2)."""
from ...models import CELLS
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, metrics, train
from .predictor import SentimentPredictor

# Sentences the load test and warm-up send (two clear, three harder).
SENTENCES = ["A gorgeous, witty, seductive movie.", "The plot is paper-thin and the jokes never land.",
             "not bad at all", "an utterly tedious film with one great scene",
             "It's not a great film, but the performances are so warm that I didn't mind."]

SPEC = TaskSpec(
    data_source="sst2", more_sources=("imdb", "offdomain"), recipe=train.Recipe, presets=train.PRESETS,
    predictor=SentimentPredictor,
    train=train.train, evaluate=metrics.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("accuracy", "SST-2 dev accuracy", higher_is_better=True), splits=train.SPLITS,
    # What a visitor may set in the retrain panel; the defaults finish in about 90 s on 2 vCPU.
    retrain_bounds={
        "cell": Option("gru", choices=CELLS),
        "bidirectional": Option(True),
        "hidden": Option(96, 8, 256),
        "layers": Option(1, 1, 3),
        "epochs": Option(4, 1, 20),
        "lr": Option(3e-3, 1e-5, 0.05),
        "max_minutes": Option(1.5, 0.1, 10.0),
        "embed": Option(96, 8, 256),
    },
    # A retrain is always one network (no ensemble, no subwords, no teachers), whatever
    # the shipped recipe uses, so that it fits its time budget.
    retrain_fixed={"members": 1, "subword_buckets": 0, "teachers": ""},
    items="tokens",
    suites={"behaviour": metrics.behaviour_table, "offdomain": metrics.offdomain_table},
    companions=metrics.write_baseline,
    api=ApiExample("/sentiment_classify", lambda rng: (rng.choice(SENTENCES),)),
)
