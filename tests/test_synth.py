"""Tests for the built-in synthesiser (rnn_core.synth)."""
import math
from types import SimpleNamespace

import numpy as np
import pretty_midi

from rnn_core.synth import SAMPLE_RATE, render, to_int16


def note(pitch, start, end, velocity=100):
    return pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end)


MELODY = [note(60, 0.0, 0.5), note(64, 0.5, 1.0, 80), note(67, 1.0, 1.25),
          note(72, 1.25, 2.1, 120), note(55, 1.25, 2.1, 60)]  # last two: a chord


def test_length_for_known_notes_and_for_no_notes():
    assert len(render(MELODY)) == math.ceil((2.1 + 0.8) * SAMPLE_RATE)
    assert len(render(MELODY, sample_rate=16000, tail=0.5)) == math.ceil(2.6 * 16000)
    silent = render([], tail=0.8)
    assert len(silent) == math.ceil(0.8 * SAMPLE_RATE)
    assert silent.dtype == np.float32 and not np.any(silent)


def test_peak_and_dtype():
    audio = render(MELODY)
    assert audio.dtype == np.float32
    assert np.isclose(np.max(np.abs(audio)), 0.8, atol=1e-6)
    assert np.all(np.isfinite(audio))


def test_deterministic():
    assert np.array_equal(render(MELODY), render(list(MELODY)))


def test_fundamental_of_a4_is_440_hz():
    audio = render([note(69, 0.0, 2.0)])
    seg = audio[int(0.1 * SAMPLE_RATE):int(1.9 * SAMPLE_RATE)].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=8 * len(seg)))
    freqs = np.fft.rfftfreq(8 * len(seg), 1.0 / SAMPLE_RATE)
    assert abs(freqs[np.argmax(spec)] - 440.0) < 2.0


def test_silent_before_start_and_decays_after_end():
    start, end, tail = 0.5, 1.0, 1.0
    audio = render([note(60, start, end)], tail=tail)
    assert np.max(np.abs(audio[:int(start * SAMPLE_RATE) - 1])) < 1e-4
    assert np.max(np.abs(audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)])) > 0.5
    # Release (70 ms) and reverb (0.6 s) are over by end + 0.7 s.
    assert np.max(np.abs(audio[int((end + 0.75) * SAMPLE_RATE):])) < 1e-3


def test_no_clicks_at_note_boundaries():
    # Abrupt starts/stops show up as sample-to-sample jumps far above a smooth wave's slope.
    audio = render([note(57, 0.2, 0.4), note(57, 0.4, 0.6), note(64, 0.6, 0.7)], tail=0.3)
    assert np.max(np.abs(np.diff(audio))) < 0.25
    assert abs(audio[0]) < 1e-6


def test_to_int16_range():
    out = to_int16(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], dtype=np.float32))
    assert out.dtype == np.int16
    assert out.tolist() == [-32767, -32767, 0, 16384, 32767, 32767]
    big = to_int16(render(MELODY))
    assert 0.75 * 32767 < np.max(np.abs(big.astype(np.int32))) <= 0.81 * 32767


def test_degenerate_notes_ignored_and_odd_pitches_work():
    base = [note(60, 0.0, 0.5)]
    # pretty_midi.Note refuses end < start, but other note-like objects may carry it.
    bad = [note(64, 0.3, 0.3), SimpleNamespace(pitch=67, start=0.4, end=0.2, velocity=90)]
    assert np.array_equal(render(base + bad), render(base))
    odd = render([note(0, 0.0, 0.3), note(127, 0.3, 0.6), note(140, 0.6, 0.9, 0), note(-5, 0.9, 1.0)])
    high = render([note(140, 0.0, 0.5)]).astype(np.float64)  # ~37 kHz asked: clamped, not aliased
    peak_hz = np.argmax(np.abs(np.fft.rfft(high))) * SAMPLE_RATE / len(high)
    assert abs(peak_hz - 0.45 * SAMPLE_RATE) < 20
    assert len(odd) == math.ceil(1.8 * SAMPLE_RATE) and np.all(np.isfinite(odd))
    assert np.isclose(np.max(np.abs(odd)), 0.8, atol=1e-6)
