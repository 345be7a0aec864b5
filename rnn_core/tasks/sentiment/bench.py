"""``python -m rnn_core bench latency sentiment``: the latency of one visitor's request
(figures, not asserts; training throughput is ``bench throughput sentiment``)."""
from __future__ import annotations

from pathlib import Path

from ...bench import describe_machine, time_calls
from ...encoders.text import tokenize
from .predictor import SentimentPredictor

BENCH_SENTENCE = ("the film opens with a quiet , patient stretch that some viewers will find slow , "
                  "but the performances are so warm and the writing so sharp that by the end you "
                  "are moved , amused and quite surprised .")  # 40 tokens


def bench(weights: str | Path | None = None, repeats: int = 200, data_dir: str | None = None) -> dict:
    """Print and return the latency of one prediction, alone and with everything the
    tab shows. ``data_dir`` is unused: the timed inputs are made up (the time hardly
    depends on their content)."""
    predictor = SentimentPredictor.from_pretrained(weights)
    n_words = len(tokenize(BENCH_SENTENCE))
    plain = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=False), repeats)
    full = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=True), max(10, repeats // 10))
    print(f"machine: {describe_machine()}; model: {predictor.describe()}")
    print(f"one prediction, {n_words}-word sentence: p50 {plain['p50_ms']:.2f} ms, "
          f"p95 {plain['p95_ms']:.2f} ms (n={plain['n']})")
    print(f"prediction + running verdict + occlusion ({2 * n_words + 1} sequences): "
          f"p50 {full['p50_ms']:.1f} ms, p95 {full['p95_ms']:.1f} ms (n={full['n']})")
    return {"predict": plain, "predict_explained": full}
