"""A small built-in synthesiser: notes -> pleasant mono audio with numpy/scipy only.

The tone is a soft electric-piano / harp pluck: a few harmonics whose amplitudes fall with
harmonic number and whose decay gets faster going up (so the note mellows as it rings),
a 5 ms attack, a 70 ms release after the note end, and a light fixed-seed reverb.
No system packages (fluidsynth, soundfonts) are needed, so it runs anywhere the app runs.
"""
from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 22050

# Relative amplitudes of harmonics 1..6: roughly 1/n^1.5, a soft, rounded tone.
_HARMONIC_AMPS = np.array([1.0, 0.42, 0.22, 0.12, 0.07, 0.04])
_ATTACK = 0.005     # s; long enough to avoid a click, short enough to sound plucked
_RELEASE = 0.07     # s; fade after note end so legato and staccato notes never click
_DECAY = 1.4        # s; time constant of the fundamental at A4 (higher notes ring shorter)
_BRIGHT_DECAY = 0.7  # each harmonic decays this much faster (relative) than the one below
_REVERB_MIX = 0.2   # wet level added to the dry signal
_REVERB_LEN = 0.6   # s of impulse response; exp(-_REVERB_LEN / _REVERB_TAU) ~ 0.003
_REVERB_TAU = 0.1   # s; decay time constant of the reverb impulse
_PEAK = 0.8


def _note_audio(freq: float, gain: float, dur: float, sample_rate: int) -> np.ndarray:
    """One note, `dur` seconds of sound (release not included), vectorised over its samples."""
    n = int(round((dur + _RELEASE) * sample_rate))
    t = np.arange(n) / sample_rate
    # Drop harmonics near Nyquist: they would alias into inharmonic whistles.
    # (Always keep the fundamental: render() clamps it to at most 0.45 * sample_rate.)
    n_harm = max(1, int(np.sum(np.arange(1, len(_HARMONIC_AMPS) + 1) * freq < 0.45 * sample_rate)))
    # Higher notes ring shorter (as on real plucked strings); harmonic k decays
    # (1 + _BRIGHT_DECAY * (k - 1)) times faster than the fundamental, so the attack is
    # bright and the sustain mellow.
    tau = _DECAY * (440.0 / freq) ** 0.35
    decay = np.exp(-t / tau)
    decay_step = np.exp(-t * (_BRIGHT_DECAY / tau))
    # sin(k x) by the Chebyshev recurrence sin((k+1)x) = 2 cos(x) sin(kx) - sin((k-1)x) and the
    # decays by repeated products: 4 transcendental calls per sample instead of 2 per harmonic.
    phase = 2 * np.pi * freq * t
    two_cos = 2 * np.cos(phase)
    sin_prev, sin_k = np.zeros(n), np.sin(phase)
    wave = np.zeros(n)
    for amp in _HARMONIC_AMPS[:n_harm]:
        wave += amp * decay * sin_k
        sin_prev, sin_k = sin_k, two_cos * sin_k - sin_prev
        decay = decay * decay_step
    # Raised-cosine attack and release: continuous slope at both ends, so no clicks.
    env = np.ones(n)
    na = min(n, max(1, int(_ATTACK * sample_rate)))
    env[:na] = 0.5 - 0.5 * np.cos(np.pi * np.arange(na) / na)
    i_end = min(n, int(round(dur * sample_rate)))
    nr = n - i_end
    if nr > 0:
        env[i_end:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, nr + 1) / nr)
    return gain * wave * env


def _reverb_ir(sample_rate: int) -> np.ndarray:
    """Exponentially decaying noise impulse, fixed seed so renders are deterministic."""
    n = int(_REVERB_LEN * sample_rate)
    rng = np.random.default_rng(1234)
    ir = rng.standard_normal(n) * np.exp(-np.arange(n) / (_REVERB_TAU * sample_rate))
    ir[: int(0.01 * sample_rate)] = 0.0  # 10 ms pre-delay keeps the attack crisp
    return ir / np.sqrt(np.sum(ir ** 2))  # unit energy: wet level ~ dry level before the mix


def render(notes, sample_rate: int = SAMPLE_RATE, tail: float = 0.8) -> np.ndarray:
    """Render notes (objects with .pitch, .start, .end, .velocity, e.g. pretty_midi.Note).

    Returns mono float32 audio of length ceil((max end + tail) * sample_rate) (just `tail`
    seconds of silence for no notes), peak-normalised to 0.8 unless silent. Notes with
    end <= start are skipped; out-of-range pitches are clamped to 20 Hz .. 0.45 * rate.
    """
    notes = [nt for nt in notes if nt.end > nt.start]
    last = max((float(nt.end) for nt in notes), default=0.0)
    total = int(math.ceil((last + tail) * sample_rate))
    out = np.zeros(total, dtype=np.float64)
    for nt in notes:
        freq = 440.0 * 2.0 ** ((float(nt.pitch) - 69.0) / 12.0)
        freq = min(max(freq, 20.0), 0.45 * sample_rate)
        # Square law: a clearly audible dynamic range (v=64 is ~12 dB below v=127).
        gain = (min(max(float(nt.velocity), 1.0), 127.0) / 127.0) ** 2
        i0 = max(0, int(round(float(nt.start) * sample_rate)))
        if i0 >= total:
            continue
        wave = _note_audio(freq, gain, float(nt.end) - max(float(nt.start), 0.0), sample_rate)
        wave = wave[: total - i0]  # a tail shorter than the release truncates it
        out[i0:i0 + len(wave)] += wave
    if total and np.any(out):
        # float32 FFTs: ~3x faster than float64 here and far below audible precision.
        ir = _reverb_ir(sample_rate).astype(np.float32)
        # imported here, not at the top: scipy.signal takes ~1 s to import, which the
        # gallery's start-up would otherwise pay before its first page
        from scipy.signal import fftconvolve
        out = out + _REVERB_MIX * fftconvolve(out.astype(np.float32), ir)[:total]
        peak = np.max(np.abs(out))
        if peak > 0:
            out *= _PEAK / peak
    return out.astype(np.float32)


def to_int16(audio) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 (clipped), the array half of gr.Audio's (rate, array)."""
    a = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    return np.round(a * 32767).astype(np.int16)

