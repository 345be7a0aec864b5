"""``python -m rnn_core bench melody``: the time to generate and to synthesise 16 bars
for one visitor, and training throughput (figures, not asserts)."""
from __future__ import annotations

from pathlib import Path

import torch

from ...bench import describe_machine, time_calls, train_throughput
from ...encoders.midi import melody_to_midi
from ...models import TBPTT, create_model
from ...synth import render
from .data import tune_batches
from .predictor import MelodyGenerator


def bench(weights: str | Path | None = None, repeats: int = 20, data_dir: str | None = None) -> dict:
    """Print the time to generate 16 bars (and to synthesise them, separately) and
    training throughput (events/s). ``data_dir`` is unused: the timed
    inputs are made up (the time hardly depends on their content)."""
    gen = MelodyGenerator.from_pretrained(weights)
    made = {}

    def one(variations=1):
        made["r"], _ = gen.generate(None, bars=16, variations=variations, seed=len(made))

    single = time_calls(one, repeats, warmup=2)
    four = time_calls(lambda: one(4), max(3, repeats // 4), warmup=1)
    midi = melody_to_midi(made["r"][0].melody, 120)
    synth = time_calls(lambda: render(midi.instruments[0].notes), max(3, repeats // 2), warmup=1)
    lm = create_model(gen.model.architecture, **gen.model.model_args)
    enc = gen.encoder
    items = [(torch.randint(0, enc.vocab_size, (600, enc.channels)), torch.randint(0, enc.vocab_size, (600,)))
             for _ in range(32 * 4)]
    eps = train_throughput(TBPTT(lm), tune_batches(items, 32, 256), lambda b: int((b["targets"] >= 0).sum()))
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"16 bars (4/4, {made['r'][0].melody.length} steps), one variation: p50 {single['p50_ms']:.0f} ms, "
          f"p95 {single['p95_ms']:.0f} ms")
    print(f"16 bars, four variations at once: p50 {four['p50_ms']:.0f} ms, p95 {four['p95_ms']:.0f} ms")
    print(f"synthesising the 16 bars to audio (separately): p50 {synth['p50_ms']:.0f} ms, "
          f"p95 {synth['p95_ms']:.0f} ms")
    print(f"training throughput: {eps:,.0f} events/s (32 tunes x 256-event chunks)")
    return {"generate_16_bars": single, "generate_16_bars_4_variations": four, "synthesis": synth,
            "train_events_per_s": eps}
