"""``python -m rnn_core bench latency textgen``: generation speed for one visitor
(figures, not asserts; training throughput is ``bench throughput textgen``)."""
from __future__ import annotations

import time
from pathlib import Path

from ...bench import describe_machine
from .predictor import TextGenerator


def bench(weights: str | Path | None = None, repeats: int = 200, data_dir: str | None = None) -> dict:
    """Print and return generation speed for one visitor (characters/s over ``repeats``
    x 5 characters, 100 at least). ``data_dir`` is unused: the prime is made up (the
    time hardly depends on the content)."""
    gen = TextGenerator.from_pretrained(weights)
    prime, _ = gen.prepare("ROMEO:\n")
    n = max(100, repeats * 5)
    list(gen.generate(prime, 20))  # warm-up
    t = time.perf_counter()
    for _ in gen.generate(prime, n, temperature=0.8, seed=1):
        pass
    cps = n / (time.perf_counter() - t)
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"generation, one visitor: {cps:,.0f} characters/s ({n} characters, with the hidden state recorded)")
    return {"generate_chars_per_s": cps}
