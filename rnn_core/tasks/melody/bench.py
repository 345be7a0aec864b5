"""``python -m rnn_core bench latency melody``: the time to generate and to synthesise
16 bars for one visitor (figures, not asserts; training throughput is ``bench
throughput melody``)."""
from __future__ import annotations

from pathlib import Path

from ...bench import describe_machine, time_calls
from ...encoders.midi import melody_to_midi
from ...synth import render
from .predictor import MelodyGenerator


def bench(weights: str | Path | None = None, repeats: int = 20, data_dir: str | None = None) -> dict:
    """Print and return the time to generate 16 bars (one variation and four at once)
    and to synthesise them, separately. ``data_dir`` is unused: the timed inputs are
    made up (the time hardly depends on their content)."""
    gen = MelodyGenerator.from_pretrained(weights)
    made = {}

    def one(variations=1):
        made["r"], _ = gen.generate(None, bars=16, variations=variations, seed=len(made))

    single = time_calls(one, repeats, warmup=2)
    four = time_calls(lambda: one(4), max(3, repeats // 4), warmup=1)
    midi = melody_to_midi(made["r"][0].melody, 120)
    synth = time_calls(lambda: render(midi.instruments[0].notes), max(3, repeats // 2), warmup=1)
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"16 bars (4/4, {made['r'][0].melody.length} steps), one variation: p50 {single['p50_ms']:.0f} ms, "
          f"p95 {single['p95_ms']:.0f} ms")
    print(f"16 bars, four variations at once: p50 {four['p50_ms']:.0f} ms, p95 {four['p95_ms']:.0f} ms")
    print(f"synthesising the 16 bars to audio (separately): p50 {synth['p50_ms']:.0f} ms, "
          f"p95 {synth['p95_ms']:.0f} ms")
    return {"generate_16_bars": single, "generate_16_bars_4_variations": four, "synthesis": synth}
