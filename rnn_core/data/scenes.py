"""Where a recording happens, simulated for training: silence around the speech,
background noise (white, pink, brown, or babble of other voices), a small room's
reverb, a telephone's or a cheap microphone's band, the level; and audio with no
digits at all (noise, music-like tones) for the model to learn to say nothing.

Every draw comes from one numpy Generator: the same seed gives the same audio.
"""
from __future__ import annotations

import numpy as np

from ..encoders.audio import SAMPLE_RATE

NOISES = ("white", "pink", "brown", "babble")


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of unit-RMS noise: white (flat), pink (1/f power) or brown (1/f^2)."""
    white = rng.normal(0.0, 1.0, n)
    if colour != "white":
        spectrum = np.fft.rfft(white)
        f = np.arange(len(spectrum), dtype=np.float64)
        f[0] = 1.0
        spectrum /= np.sqrt(f) if colour == "pink" else f
        white = np.fft.irfft(spectrum, n)
    return (white / (np.sqrt(np.mean(white ** 2)) + 1e-12)).astype(np.float32)


def babble(n: int, voices: list[np.ndarray], rng: np.random.Generator, talkers: int = 4) -> np.ndarray:
    """Several other recordings played at once, reversed (so no word is clear), looped
    to ``n`` samples, at unit RMS: the murmur of a room."""
    out = np.zeros(n, dtype=np.float32)
    for _ in range(talkers):
        v = voices[int(rng.integers(len(voices)))][::-1]
        start = int(rng.integers(len(v)))
        out += np.resize(np.roll(v, -start), n)
    return out / (np.sqrt(np.mean(out ** 2)) + 1e-12)


def reverb(wave: np.ndarray, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A small room: the wave convolved with decaying noise (RT60 0.1-0.5 s)."""
    rt60 = rng.uniform(0.1, 0.5)
    t = np.arange(int(rt60 * sr)) / sr
    ir = rng.normal(0.0, 1.0, len(t)) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0 / rng.uniform(0.2, 0.6)  # the direct sound above the reflections
    from scipy.signal import fftconvolve

    wet = fftconvolve(wave, ir)[:len(wave)]  # np.convolve is ~100x slower at these lengths
    return (wet * (np.max(np.abs(wave)) / (np.max(np.abs(wet)) + 1e-12))).astype(np.float32)


def band_limit(wave: np.ndarray, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A telephone (300-3400 Hz) or a thin microphone's band (150-250 Hz up to 2.5-3.8 kHz)."""
    from scipy.signal import butter, sosfilt

    low, high = (300.0, 3400.0) if rng.random() < 0.5 else (rng.uniform(150, 250), rng.uniform(2500, 3800))
    sos = butter(4, [low, min(high, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    return sosfilt(sos, wave).astype(np.float32)


def scene(wave: np.ndarray, rng: np.random.Generator, voices: list[np.ndarray] | None = None,
          sr: int = SAMPLE_RATE, snr_db: tuple[float, float] = (5.0, 35.0)) -> np.ndarray:
    """``wave`` as if recorded somewhere: 0-0.8 s of silence before and after, reverb
    (30%), a band limit (30%), background noise at ``snr_db`` (80%; babble when
    ``voices`` are given, else coloured noise) and a level from -25 to +3 dB (peak
    kept below 1)."""
    wave = np.asarray(wave, dtype=np.float32)
    if rng.random() < 0.3:
        wave = reverb(wave, rng, sr)
    if rng.random() < 0.3:
        wave = band_limit(wave, rng, sr)
    wave = np.concatenate([np.zeros(int(rng.uniform(0, 0.8) * sr), np.float32), wave,
                           np.zeros(int(rng.uniform(0, 0.8) * sr), np.float32)])
    if rng.random() < 0.8:
        kinds = NOISES if voices else NOISES[:3]
        kind = kinds[int(rng.integers(len(kinds)))]
        noise = babble(len(wave), voices, rng) if kind == "babble" else coloured_noise(len(wave), kind, rng)
        power = float(np.mean(wave ** 2)) + 1e-12
        wave = wave + noise * np.float32(np.sqrt(power / 10 ** (rng.uniform(*snr_db) / 10)))
    return level(wave, rng)


def level(wave: np.ndarray, rng: np.random.Generator, gain_db: tuple[float, float] = (-25.0, 3.0)) -> np.ndarray:
    """``wave`` scaled to a random peak level (dBFS), never clipping."""
    peak = float(np.max(np.abs(wave))) + 1e-12
    return (wave * np.float32(min(10 ** (rng.uniform(*gain_db) / 20), 0.99) / peak)).astype(np.float32)


def tones(seconds: float, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Something like music: a few notes with harmonics and a decay, some chords."""
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    t0 = 0
    while t0 < len(out):
        dur = int(rng.uniform(0.1, 0.6) * sr)
        t = np.arange(dur) / sr
        note = np.zeros(dur)
        for _ in range(int(rng.integers(1, 4))):
            f0 = 110 * 2 ** (int(rng.integers(0, 36)) / 12)
            note += sum(np.sin(2 * np.pi * f0 * k * t) / k ** rng.uniform(1, 2.5) for k in range(1, 6) if f0 * k < sr / 2)
        note *= np.exp(-t * rng.uniform(1, 8))
        out[t0:t0 + dur] += note[:len(out) - t0].astype(np.float32)
        t0 += dur
    return out


def non_speech(rng: np.random.Generator, voices: list[np.ndarray] | None = None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """0.5-3 s with no digit in it: coloured noise, babble (when ``voices``) or tones,
    at a random level."""
    seconds = rng.uniform(0.5, 3.0)
    kind = int(rng.integers(3 if voices else 2))
    if kind == 0:
        wave = coloured_noise(int(seconds * sr), NOISES[int(rng.integers(3))], rng)
    elif kind == 1:
        wave = tones(seconds, rng, sr)
    else:
        wave = babble(int(seconds * sr), voices, rng)
    return level(wave, rng)
