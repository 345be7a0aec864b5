"""Free Spoken Digit Dataset: single digits, and connected digit strings made from them.

Files are ``recordings/{digit}_{speaker}_{take}.wav`` (8 kHz mono). The usual split
keeps takes 0-4 of every speaker and digit for testing. FSDD has no connected speech,
so `make_connected` builds it: clips of one speaker, silence-trimmed, joined with
random pauses ("four one seven"), optionally augmented, all driven by one numpy
Generator so the same seed gives the same audio.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..encoders.audio import SAMPLE_RATE, digits_to_words, load_audio, trim_silence
from . import SOURCES, DataError, locate

_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
TEST_TAKES = 5  # takes 0-4 are the test set: the convention of the data set's README


@dataclass(frozen=True)
class Clip:
    """One recording: ``path`` holds ``speaker`` saying ``digit`` (take number ``take``)."""
    path: Path
    digit: int
    speaker: str
    take: int


def list_clips(data_dir: str | Path | None = None) -> list[Clip]:
    """Every recording of the set, sorted by (speaker, digit, take); other files are
    ignored. See `rnn_core.data.locate` for where the set is looked for."""
    folder = locate(SOURCES["fsdd"], data_dir) / "recordings"
    clips = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m:
            clips.append(Clip(path, int(m[1]), m[2], int(m[3])))
    if not clips:
        raise DataError(f"no recordings named like 0_jackson_0.wav in {folder}")
    return sorted(clips, key=lambda c: (c.speaker, c.digit, c.take))


def usual_split(clips: Sequence[Clip], test_takes: int = TEST_TAKES) -> tuple[list[Clip], list[Clip]]:
    """(train, test): takes below ``test_takes`` of each speaker and digit are test."""
    return [c for c in clips if c.take >= test_takes], [c for c in clips if c.take < test_takes]


def speaker_split(clips: Sequence[Clip], held_out: str) -> tuple[list[Clip], list[Clip]]:
    """(train, test) where the test set is every clip of speaker ``held_out``: how well
    the model does on a voice it never heard."""
    speakers = sorted({c.speaker for c in clips})
    if held_out not in speakers:
        raise ValueError(f"unknown speaker {held_out!r}; the clips have {', '.join(speakers)}")
    return [c for c in clips if c.speaker != held_out], [c for c in clips if c.speaker == held_out]


def by_speaker(clips: Sequence[Clip]) -> dict[str, list[Clip]]:
    """Clips grouped by speaker (the input of `random_connected`)."""
    groups: dict[str, list[Clip]] = {}
    for c in clips:
        groups.setdefault(c.speaker, []).append(c)
    return groups


@lru_cache(maxsize=4096)  # all of FSDD, trimmed, is ~25 MB of float32
def _cached_clip(path: str, sr: int, trim: bool) -> np.ndarray:
    wave, _ = load_audio(path, target_sr=sr)
    if trim:
        wave = trim_silence(wave, sr)
    wave = np.ascontiguousarray(wave)
    wave.flags.writeable = False  # shared by every caller: nobody may change it in place
    return wave


def load_clip(clip: Clip, sr: int = SAMPLE_RATE, trim: bool = False) -> np.ndarray:
    """The clip's wave at ``sr`` (read-only, cached), optionally silence-trimmed."""
    return _cached_clip(str(clip.path), sr, trim)


def augment(wave: np.ndarray, rng: np.random.Generator, sr: int = SAMPLE_RATE,
            speed: tuple[float, float] = (0.9, 1.1), pitch: tuple[float, float] = (-1.5, 1.5),
            pitch_prob: float = 0.3, gain_db: tuple[float, float] = (-10.0, 6.0),
            snr_db: tuple[float, float] | None = (10.0, 40.0)) -> np.ndarray:
    """A randomly altered copy of ``wave``, for training.

    In order: speed perturbation (resampling, which moves tempo and pitch together,
    as in Kaldi's 3-way speed perturbation), with probability ``pitch_prob`` a pitch
    shift of ``pitch`` semitones at constant tempo (a phase vocoder: ~5 ms per 3 s,
    so not on every clip), a gain, and white noise at a signal-to-noise ratio drawn
    from ``snr_db`` (None: no noise). Every draw comes from ``rng``.
    """
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    factor = rng.uniform(*speed)
    if abs(factor - 1.0) > 1e-3:
        # played back at sr, fewer samples sound faster (and higher)
        wave = librosa.resample(wave, orig_sr=sr, target_sr=sr / factor, res_type="soxr_hq")
    steps = rng.uniform(*pitch)
    if rng.random() < pitch_prob and abs(steps) > 0.05:
        wave = librosa.effects.pitch_shift(wave, sr=sr, n_steps=steps, n_fft=512, hop_length=128)
    wave = wave * np.float32(10 ** (rng.uniform(*gain_db) / 20))
    if snr_db is not None:
        power = float(np.mean(np.square(wave, dtype=np.float64)))
        noise_power = power / 10 ** (rng.uniform(*snr_db) / 10)
        wave = wave + rng.normal(0.0, np.sqrt(noise_power), len(wave)).astype(np.float32)
    peak = float(np.max(np.abs(wave))) if len(wave) else 0.0
    if peak > 0.99:  # keep it a valid wave rather than clipping
        wave = wave * np.float32(0.99 / peak)
    return wave.astype(np.float32, copy=False)


def _join(a: np.ndarray, b: np.ndarray, gap, sr: int) -> np.ndarray:
    """``a`` then ``b``: after ``gap`` (an array of silence, or seconds; negative
    seconds overlap the two with a linear cross-fade)."""
    if isinstance(gap, np.ndarray):
        return np.concatenate([a, gap, b])
    n = int(round(gap * sr))
    if n >= 0:
        return np.concatenate([a, np.zeros(n, np.float32), b])
    k = min(-n, len(a), len(b))
    ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
    mixed = a[len(a) - k:] * (1 - ramp) + b[:k] * ramp
    return np.concatenate([a[:len(a) - k], mixed, b[k:]])


_augment = augment  # make_connected's ``augment`` flag shadows the function's name


def _fade(wave: np.ndarray, sr: int, ms: float = 5.0) -> np.ndarray:
    """Short linear fade in and out, so a trimmed edge does not click."""
    n = min(int(ms * sr / 1000), len(wave) // 2)
    if n == 0:
        return wave
    out = np.array(wave, dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32)
    out[:n] *= ramp
    out[len(out) - n:] *= ramp[::-1]
    return out


def make_connected(clips: Sequence[Clip], digits: Sequence[int], rng: np.random.Generator,
                   sr: int = SAMPLE_RATE, pause: tuple[float, float] = (0.05, 0.4),
                   augment: bool = True, speaker: str | None = None,
                   gap: tuple[float, float] | None = None, spans: list | None = None) -> tuple[np.ndarray, str]:
    """One speaker saying ``digits`` in a row, e.g. [4, 1, 7] -> (wave, "four one seven").

    The speaker (``speaker``, else one drawn among those with every needed digit) and
    one take per digit are drawn from ``clips``; each take is silence-trimmed and
    faded at its edges. A pause of ``pause`` seconds (uniform) goes before, between
    and after the digits, so without augmentation the length is the sum of the
    trimmed takes plus len(digits) + 1 pauses. ``gap`` (seconds, uniform) replaces
    the pauses between digits: fluent speech is (-0.03, 0.04), where a negative gap
    overlaps the takes with a cross-fade. With ``augment``, `augment` (speed, pitch,
    gain, noise) is applied to the whole string: one voice, one session.

    ``spans``, a list, receives the (start, end) sample of each digit's take in the
    wave: where each word truly is, to score an alignment (not with ``augment``, whose
    speed change would move them).
    """
    if spans is not None and augment:
        raise ValueError("spans are only known without augment (it changes the speed)")
    digits = [int(d) for d in digits]
    if not digits or any(not 0 <= d <= 9 for d in digits):
        raise ValueError(f"expected one or more digits 0-9, got {digits}")
    takes: dict[str, dict[int, list[Clip]]] = {}
    for c in clips:
        takes.setdefault(c.speaker, {}).setdefault(c.digit, []).append(c)
    able = sorted(s for s, by_digit in takes.items() if all(d in by_digit for d in digits))
    if speaker is None:
        if not able:
            raise ValueError(f"no speaker in the clips has takes of every digit in {digits}")
        speaker = able[int(rng.integers(len(able)))]
    elif speaker not in able:
        raise ValueError(f"speaker {speaker!r} has no takes of every digit in {digits}")
    def silence() -> np.ndarray:
        return np.zeros(int(rng.uniform(*pause) * sr), dtype=np.float32)

    wave, after = silence(), None
    for i, d in enumerate(digits):
        options = takes[speaker][d]
        word = _fade(load_clip(options[int(rng.integers(len(options)))], sr, trim=True), sr)
        wave = np.concatenate([wave, word]) if after is None else _join(wave, word, after, sr)
        if spans is not None:  # the take ends the wave so far (a cross-fade only shortens what came before)
            spans.append((len(wave) - len(word), len(wave)))
        after = silence() if gap is None or i == len(digits) - 1 else float(rng.uniform(*gap))
    wave = np.concatenate([wave, after])
    if augment:
        wave = _augment(wave, rng, sr)
    return wave, digits_to_words("".join(map(str, digits)))


def random_connected(clips_by_speaker: Mapping[str, Sequence[Clip]], rng: np.random.Generator,
                     min_len: int = 1, max_len: int = 6, **kwargs) -> tuple[np.ndarray, str]:
    """A random digit string of ``min_len``..``max_len`` digits by a random speaker
    (see `by_speaker`); ``kwargs`` go to `make_connected`."""
    speakers = sorted(clips_by_speaker)
    if not speakers:
        raise ValueError("no clips to draw from")
    speaker = speakers[int(rng.integers(len(speakers)))]
    have = sorted({c.digit for c in clips_by_speaker[speaker]})
    n = int(rng.integers(min_len, max_len + 1))
    digits = [have[int(i)] for i in rng.integers(len(have), size=n)]
    return make_connected(clips_by_speaker[speaker], digits, rng, speaker=speaker, **kwargs)
