"""Where a recording happens, simulated for training: silence around the speech,
background noise (white, pink, brown, or babble of other voices), a small room's
reverb, a telephone's or a cheap microphone's band, the level; and audio with no
digits at all (noise, music-like tones, tunes from the melody synthesiser, chords,
babble, some clipped) for the model to learn to say nothing, with other such sounds
kept aside for evaluation (`unfamiliar_sound`).

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


def noisy_room(wave: np.ndarray, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``wave`` for evaluation, always reverberant and noisy: a room (`reverb`), a
    telephone or thin-microphone band half the time, and white, pink or brown noise at
    10-20 dB SNR; 0.2 s of silence either side (so the noise is heard alone too)."""
    wave = reverb(np.asarray(wave, dtype=np.float32), rng, sr)
    if rng.random() < 0.5:
        wave = band_limit(wave, rng, sr)
    pad = np.zeros(int(0.2 * sr), np.float32)
    wave = np.concatenate([pad, wave, pad])
    noise = coloured_noise(len(wave), NOISES[int(rng.integers(3))], rng)
    power = float(np.mean(wave ** 2)) + 1e-12
    return level(wave + noise * np.float32(np.sqrt(power / 10 ** (rng.uniform(10, 20) / 10))), rng, (-12.0, -1.0))


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


def melody(seconds: float, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A random tune played by the melody tab's own synthesiser (`rnn_core.synth`): notes
    of 0.1-0.5 s in one octave and a half, sometimes two at once."""
    from types import SimpleNamespace

    from ..synth import render

    notes, t = [], 0.0
    while t < seconds:
        dur = float(rng.uniform(0.1, 0.5))
        for _ in range(1 + int(rng.random() < 0.3)):
            notes.append(SimpleNamespace(pitch=int(rng.integers(55, 80)), start=t, end=t + dur,
                                         velocity=int(rng.integers(60, 120))))
        t += dur
    return render(notes, sample_rate=sr, tail=0.2)[:int(seconds * sr)]


def chord(seconds: float, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A held chord of 2-4 pure sine tones (what a test tone or an organ sounds like)."""
    t = np.arange(int(seconds * sr)) / sr
    root = 110 * 2 ** (int(rng.integers(0, 30)) / 12)
    steps = rng.choice([0, 3, 4, 7, 10, 12, 16], size=int(rng.integers(2, 5)), replace=False)
    return sum(np.sin(2 * np.pi * root * 2 ** (k / 12) * t + rng.uniform(0, 6.3)) for k in steps).astype(np.float32)


def clipped(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``wave`` driven 12-30 dB into hard clipping (an overloaded microphone)."""
    gain = 10 ** (rng.uniform(12, 30) / 20)
    peak = float(np.max(np.abs(wave))) + 1e-12
    return np.clip(wave / peak * gain, -1.0, 1.0).astype(np.float32)


NON_SPEECH = ("noise", "tones", "melody", "chord", "babble")


def non_speech(rng: np.random.Generator, voices: list[np.ndarray] | None = None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """0.5-3 s with no digit in it: coloured noise, music-like tones, a tune from the
    melody synthesiser, a held chord, or babble (when ``voices``), at a random level;
    one in eight of them clipped."""
    seconds = rng.uniform(0.5, 3.0)
    kind = NON_SPEECH[int(rng.integers(len(NON_SPEECH) if voices else len(NON_SPEECH) - 1))]
    if kind == "noise":
        wave = coloured_noise(int(seconds * sr), NOISES[int(rng.integers(3))], rng)
    elif kind == "tones":
        wave = tones(seconds, rng, sr)
    elif kind == "melody":
        wave = melody(seconds, rng, sr)
    elif kind == "chord":
        wave = chord(seconds, rng, sr)
    else:
        wave = babble(int(seconds * sr), voices, rng)
    if rng.random() < 0.125:
        wave = clipped(wave, rng)
    return level(wave, rng)


DTMF = ((697, 770, 852, 941), (1209, 1336, 1477))


def unfamiliar_sound(rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Sounds with no digit that no training item is like, kept aside for evaluation: a
    telephone keypad's tones (DTMF), a frequency sweep, or clapping (a train of
    decaying bursts), 1-3 s at a random level."""
    seconds = rng.uniform(1.0, 3.0)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    kind = int(rng.integers(3))
    if kind == 0:   # keypad presses: 0.1-0.2 s tone pairs, 0.05-0.15 s apart
        wave, at = np.zeros(n, np.float32), 0
        while at < n:
            k = int(rng.uniform(0.1, 0.2) * sr)
            low, high = rng.choice(DTMF[0]), rng.choice(DTMF[1])
            tt = np.arange(min(k, n - at)) / sr
            wave[at:at + len(tt)] = np.sin(2 * np.pi * low * tt) + np.sin(2 * np.pi * min(high, 0.45 * sr) * tt)
            at += k + int(rng.uniform(0.05, 0.15) * sr)
    elif kind == 1:  # a sweep up or down between 100 Hz and 3.5 kHz
        f0, f1 = sorted(rng.uniform(100, 3500, 2))[::int(rng.choice([1, -1]))]
        wave = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * seconds)))
    else:           # claps: 3-8 short bursts of noise
        wave = np.zeros(n, np.float32)
        for at in sorted(rng.integers(0, max(1, n - sr // 10), int(rng.integers(3, 9)))):
            k = sr // 10
            wave[at:at + k] += rng.normal(0, 1, k) * np.exp(-np.arange(k) / (0.012 * sr))
    return level(np.asarray(wave, np.float32), rng)
