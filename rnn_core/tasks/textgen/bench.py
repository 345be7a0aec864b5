"""``python -m rnn_core bench textgen``: generation speed for one visitor and training
throughput (figures, not asserts)."""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ...bench import describe_machine, train_throughput
from ...models import TBPTT, create_model
from .data import stream_chunks
from .predictor import TextGenerator


def bench(weights: str | Path | None = None, repeats: int = 200, data_dir: str | None = None) -> dict:
    """Print generation speed for one visitor and training throughput (characters/s).
    ``data_dir`` is unused: the timed inputs are made up (the time hardly depends on
    their content)."""
    gen = TextGenerator.from_pretrained(weights)
    prime, _ = gen.prepare("ROMEO:\n")
    n = max(100, repeats * 5)
    list(gen.generate(prime, 20))  # warm-up
    t = time.perf_counter()
    for _ in gen.generate(prime, n, temperature=0.8, seed=1):
        pass
    cps = n / (time.perf_counter() - t)
    lm = create_model(gen.model.architecture, **gen.model.model_args)
    ids = torch.randint(0, gen.encoder.vocab_size, (64 * 128 * 8 + 1,))
    tps = train_throughput(TBPTT(lm), stream_chunks(ids, 64, 128), lambda b: b["x"].numel())
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"generation, one visitor: {cps:,.0f} characters/s ({n} characters, with the hidden state recorded)")
    print(f"training throughput: {tps:,.0f} characters/s (64 streams x 128)")
    return {"generate_chars_per_s": cps, "train_chars_per_s": tps}
