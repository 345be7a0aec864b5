"""Translation (many-to-many, encoder-decoder): English in, French out, with the
attention that shows which English words each French word looked at (Tatoeba)."""
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, metrics, train
from .predictor import Translator

# Sentences the load test and warm-up send.
SENTENCES = ["I'm very happy to see you.", "Where is the train station?", "Tom doesn't like cheese.",
             "We should go home before it rains."]

SPEC = TaskSpec(
    data_source="tatoeba", recipe=train.Recipe, presets=train.PRESETS, predictor=Translator,
    train=train.train, evaluate=metrics.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("bleu", "Tatoeba test BLEU (sacreBLEU, all references)", higher_is_better=True),
    splits=metrics.SPLITS,
    # What a visitor may set in the retrain panel: a few minutes on one core.
    retrain_bounds={
        "attention": Option("general", choices=("general", "dot", "additive", "none")),
        "hidden": Option(128, 16, 256),
        "lr": Option(3e-3, 1e-5, 0.05),
        "epochs": Option(2, 1, 10),
        "max_minutes": Option(3.0, 0.1, 10.0),
    },
    # A short run on a server's CPU: a smaller network on the commonest words, one
    # validation an epoch, full precision for the visitor's copy.
    retrain_fixed={"embed": 128, "min_freq": 5, "train_pairs": 60000, "half": False, "int8_embeddings": False,
                   "evals_per_epoch": 1},
    items="French tokens",
    api=ApiExample("/translation_translate", lambda rng: (rng.choice(SENTENCES), 5, "pretrained")),
)
