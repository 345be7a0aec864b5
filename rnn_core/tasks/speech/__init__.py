"""Speech (many-to-many): spoken digits in, a transcript out, a letter at a time with
CTC (FSDD)."""
from ...models import CELLS
from ...options import Option
from ..spec import ApiExample, Metric, TaskSpec
from . import bench, metrics, train
from .examples import shipped_examples
from .predictor import SpeechRecognizer

SPEC = TaskSpec(
    data_source="fsdd", recipe=train.Recipe, presets=train.PRESETS, predictor=SpeechRecognizer,
    train=train.train, evaluate=metrics.evaluate, bench=bench.bench, metric=train.METRIC,
    quality=Metric("digit_accuracy", "FSDD test single-digit accuracy", higher_is_better=True),
    splits=metrics.SPLITS, suites={"speakers": metrics.speakers_table, "refusal": metrics.refusal_table},
    # What a visitor may set in the retrain panel; the defaults train for 2.5 minutes.
    retrain_bounds={
        "cell": Option("gru", choices=CELLS),
        "hidden": Option(96, 16, 256),
        "layers": Option(2, 1, 3),
        "lr": Option(5e-3, 1e-5, 0.05),
        "epochs": Option(30, 1, 60),
        "max_minutes": Option(2.5, 0.1, 10.0),
    },
    # A few minutes underfit, so no dropout and no augmentation, and fewer (costly,
    # long) connected strings: in a 1-minute trial on 2 busy vCPUs this reached ~55%
    # digit accuracy where the full recipe was still emitting only blanks. Full
    # precision for the visitor's copy.
    retrain_fixed={"dropout": 0.0, "augment": False, "connected_share": 0.3, "half": False},
    items="utterances",
    api=ApiExample("/speech_transcribe", lambda rng: (shipped_examples()[0], "pretrained")),
)
