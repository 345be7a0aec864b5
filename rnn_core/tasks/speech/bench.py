"""``python -m rnn_core bench latency speech``: transcription latency for one visitor
(figures, not asserts; training throughput is ``bench throughput speech``)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ...bench import describe_machine, time_calls
from ...data import DataError
from ...data.fsdd import by_speaker, list_clips, random_connected, usual_split
from ...encoders.audio import SAMPLE_RATE
from .predictor import SpeechRecognizer


def bench_waves(data_dir: str | None = None, seconds=(1.0, 5.0)) -> dict[float, np.ndarray]:
    """Waves of exactly ``seconds`` for timing: the start of twelve real connected
    digits where the data is available, else tone bursts (the timing depends on the
    length, hardly on the content)."""
    try:
        clips = usual_split(list_clips(data_dir))[1]
        wave, _ = random_connected(by_speaker(clips), np.random.default_rng(0), 12, 12, augment=False)
    except DataError:
        t = np.arange(int(max(seconds) * SAMPLE_RATE)) / SAMPLE_RATE
        wave = (0.3 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    return {s: np.resize(wave, int(s * SAMPLE_RATE)) for s in seconds}  # repeats itself if short


def bench(weights: str | Path | None = None, repeats: int = 50, data_dir: str | None = None) -> dict:
    """Print and return transcription latency (features + network + greedy + beam) for
    a 1 s and a 5 s recording, on one intra-op thread and on one per core."""
    rec = SpeechRecognizer.from_pretrained(weights)
    print(f"machine: {describe_machine()}; model: {rec.describe()}")
    out = {}
    # one intra-op thread (the server's policy) and one per core (torch's default): for
    # this small bidirectional GRU one thread is faster and much steadier on 2 cores
    default_threads = torch.get_num_threads()
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for s, wave in bench_waves(data_dir).items():
            out[f"transcribe_{s:g}s_{threads}_threads"] = t = time_calls(
                lambda: rec.transcribe((SAMPLE_RATE, wave)), repeats, warmup=2)
            print(f"transcribe a {s:g} s recording, {threads} intra-op thread(s): p50 {t['p50_ms']:.0f} ms, "
                  f"p95 {t['p95_ms']:.0f} ms")
    torch.set_num_threads(default_threads)
    return out
