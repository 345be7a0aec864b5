"""``python -m rnn_core bench sentiment``: the latency of one visitor's request and
training throughput (figures, not asserts)."""
from __future__ import annotations

import random
from pathlib import Path

from ...batching import bucketed_batches
from ...bench import describe_machine, time_calls, train_throughput
from ...encoders.text import tokenize
from ...models import create_model
from .predictor import SentimentPredictor

BENCH_SENTENCE = ("the film opens with a quiet , patient stretch that some viewers will find slow , "
                  "but the performances are so warm and the writing so sharp that by the end you "
                  "are moved , amused and quite surprised .")  # 40 tokens


def bench(weights: str | Path | None = None, repeats: int = 200, data_dir: str | None = None) -> dict:
    """Print and return latency of one prediction (alone, and with everything the tab
    shows) and training throughput. ``data_dir`` is unused: the timed
    inputs are made up (the time hardly depends on their content)."""
    predictor = SentimentPredictor.from_pretrained(weights)
    n_words = len(tokenize(BENCH_SENTENCE))
    plain = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=False), repeats)
    full = time_calls(lambda: predictor.predict(BENCH_SENTENCE, explain=True), max(10, repeats // 10))
    rng = random.Random(0)
    seqs = [[rng.randrange(2, predictor.encoder.vocab_size) for _ in range(rng.randint(3, 40))]
            for _ in range(64 * 21)]
    model = create_model(predictor.model.architecture, **predictor.model.model_args)
    subs = [[predictor.encoder.subwords(predictor.encoder.vocab[i]) for i in s] for s in seqs] \
        if predictor.encoder.subword_buckets else None
    tps = train_throughput(model, bucketed_batches(seqs, [0] * len(seqs), 64, seed=0, subwords=subs),
                           lambda b: int(b["lengths"].sum()))
    print(f"machine: {describe_machine()}; model: {predictor.describe()}")
    print(f"one prediction, {n_words}-word sentence: p50 {plain['p50_ms']:.2f} ms, "
          f"p95 {plain['p95_ms']:.2f} ms (n={plain['n']})")
    print(f"prediction + running verdict + occlusion ({2 * n_words + 1} sequences): "
          f"p50 {full['p50_ms']:.1f} ms, p95 {full['p95_ms']:.1f} ms (n={full['n']})")
    print(f"training throughput: {tps:,.0f} tokens/s (batch 64, 3-40 tokens)")
    return {"predict": plain, "predict_explained": full, "train_tokens_per_s": tps}
