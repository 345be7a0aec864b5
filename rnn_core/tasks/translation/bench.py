"""``python -m rnn_core bench latency translation``: one sentence translated, greedy
and with beam 5, and the first word the tab shows (figures, not asserts)."""
from __future__ import annotations

from pathlib import Path

from ...bench import describe_machine, time_calls
from .predictor import Translator

BENCH_SENTENCE = "I think we should leave before it starts raining, because the road is long."  # 16 tokens


def bench(weights: str | Path | None = None, repeats: int = 50, data_dir: str | None = None) -> dict:
    """Print and return the latency of one translation (greedy, beam 5, beam 10).
    ``data_dir`` is unused: the timed sentence is made up."""
    model = Translator.from_pretrained(weights)
    print(f"machine: {describe_machine()}; model: {model.describe()}")
    figures = {}
    for beam in (1, 5, 10):
        t = time_calls(lambda: model.translate(BENCH_SENTENCE, beam=beam), repeats)
        figures[f"beam{beam}"] = t
        print(f"one {len(BENCH_SENTENCE.split())}-word sentence, beam {beam}: p50 {t['p50_ms']:.1f} ms, "
              f"p95 {t['p95_ms']:.1f} ms (n={t['n']})")
    return figures
