"""Audio in, features and CTC labels out: the speech tab's encoder.

`load_audio` turns whatever a visitor gives (a file, or Gradio's ``(rate, samples)``
tuple) into one clean 8 kHz mono float wave, or an `AudioError` that says what is
wrong with it. `log_mel` turns a wave into normalised log-mel frames, and
`CTCAlphabet` maps transcripts ("four one seven") to CTC label ids and back.
"""
from __future__ import annotations

import string
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 8000  # FSDD's rate; telephone band, all a digit needs
MIN_SECONDS = 0.1
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_WORD_TO_DIGIT = {w: str(i) for i, w in enumerate(DIGIT_WORDS)}


class AudioError(ValueError):
    """Audio a visitor gave that cannot be used; the message is meant for them."""


# ----------------------------------------------------------------------------- loading

def _to_float(data: np.ndarray) -> np.ndarray:
    """Samples of any dtype as float32 in [-1, 1]."""
    if data.dtype.kind == "f":
        return data.astype(np.float32, copy=False)
    if data.dtype.kind == "i":
        return (data / float(2 ** (8 * data.itemsize - 1))).astype(np.float32)
    if data.dtype.kind == "u":  # 8-bit WAV is unsigned, centred on 128
        half = float(2 ** (8 * data.itemsize - 1))
        return ((data - half) / half).astype(np.float32)
    raise AudioError(f"Audio samples of type {data.dtype} are not supported.")


def _read_file(path: Path, max_seconds: float) -> tuple[np.ndarray, int, bool]:
    """(samples, rate, cut): at most ``max_seconds`` of the file, read without decoding
    the rest where the format allows it."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        keep = int(max_seconds * info.samplerate)
        data, sr = sf.read(str(path), frames=keep, dtype="float32", always_2d=True)
        return data, sr, info.frames > keep
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass  # not a format libsndfile knows: let librosa/audioread try (needs ffmpeg)
    try:
        import librosa

        with warnings.catch_warnings():  # librosa warns that it falls back to audioread
            warnings.simplefilter("ignore")
            data, sr = librosa.load(str(path), sr=None, mono=False, duration=max_seconds + 0.5)
    except Exception as e:  # audioread raises many unrelated types
        raise AudioError(f"Could not read {path.name} as audio: it is damaged or in a format this "
                         "server cannot decode. Please use a WAV, FLAC, OGG or MP3 file.") from e
    data = np.atleast_2d(data).T  # librosa gives (channels, n)
    keep = int(max_seconds * sr)
    return data[:keep], sr, len(data) > keep


def _samples(source, max_seconds: float) -> tuple[np.ndarray, int, bool]:
    """(samples (n,) or (n, channels), sample rate, whether it was cut to
    ``max_seconds``) of a path or a ``(sample_rate, samples)`` tuple."""
    if not isinstance(source, tuple):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"The audio file {path.name} does not exist.")
        return _read_file(path, max_seconds)
    if len(source) != 2 or not np.isscalar(source[0]):
        raise AudioError("Expected audio as (sample_rate, samples).")
    sr, data = int(source[0]), np.asarray(source[1])
    if sr <= 0:
        raise AudioError(f"The sample rate {sr} is not valid.")
    if data.ndim == 2 and data.shape[0] <= 8 < data.shape[1]:
        data = data.T  # (channels, n) -> (n, channels)
    keep = int(max_seconds * sr)
    return data[:keep], sr, len(data) > keep


def load_audio(source, target_sr: int = SAMPLE_RATE,
               max_seconds: float = 60.0) -> tuple[np.ndarray, list[str]]:
    """One mono float32 wave at ``target_sr``, checked for what would make it useless.

    Args:
        source: a path to an audio file (WAV, FLAC, OGG, MP3...), or a
            ``(sample_rate, samples)`` tuple as Gradio's Audio component gives:
            int16/int32/uint8/float samples, shape (n,) or (n, channels).
        target_sr: output sample rate.
        max_seconds: anything longer is cut to its first ``max_seconds``.

    Returns:
        (wave in [-1, 1], notes): notes are sentences for the visitor about what was
        changed (cut, rescaled), empty when nothing was.

    Raises:
        AudioError: unreadable file, empty, shorter than 0.1 s, non-finite samples,
            or (near) silence.
    """
    notes: list[str] = []
    data, sr, cut = _samples(source, max_seconds)
    if cut:
        notes.append(f"The recording is longer than {max_seconds:g} s; only the first "
                     f"{max_seconds:g} s were used.")
    if data.ndim not in (1, 2):
        raise AudioError(f"Expected mono or multi-channel audio, got an array of shape {data.shape}.")
    if data.size == 0:
        raise AudioError("The recording is empty. Please record or upload some speech.")
    wave = _to_float(data)
    if wave.ndim == 2:
        wave = wave.mean(axis=1)
    if not np.all(np.isfinite(wave)):
        raise AudioError("The audio holds invalid (NaN or infinite) samples.")
    if len(wave) < MIN_SECONDS * sr:
        raise AudioError(f"The recording is only {len(wave) / sr:.2f} s long; "
                         f"please record at least {MIN_SECONDS:g} s.")
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0:  # float input outside [-1, 1]: scale, don't clip away the shape
        wave = wave / peak
        notes.append("The audio was louder than full scale and was turned down.")
        peak = 1.0
    if peak < 1e-3 or float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) < 1e-4:
        raise AudioError("The recording is silent. Check the microphone and speak a little louder.")
    if sr != target_sr:
        import librosa

        wave = librosa.resample(wave, orig_sr=sr, target_sr=target_sr, res_type="soxr_hq")
    return np.ascontiguousarray(wave, dtype=np.float32), notes


# ---------------------------------------------------------------------------- features

def trim_silence(wave: np.ndarray, sr: int = SAMPLE_RATE, top_db: float = 30.0,
                 pad_ms: float = 20.0) -> np.ndarray:
    """``wave`` without its leading and trailing silence.

    Silence is what lies more than ``top_db`` below the loudest 32 ms frame; ``pad_ms``
    of it is kept at each end so that soft onsets (the "f" of "four") survive. A wave
    with nothing above the threshold is returned unchanged.
    """
    import librosa

    frame = 1 << int(np.ceil(np.log2(0.032 * sr)))
    _, (start, end) = librosa.effects.trim(wave, top_db=top_db, frame_length=frame,
                                           hop_length=frame // 4)
    if end <= start:
        return wave
    pad = int(pad_ms * sr / 1000)
    return wave[max(0, start - pad):min(len(wave), end + pad)]


def log_mel(wave: np.ndarray, sr: int = SAMPLE_RATE, n_mels: int = 40, hop_ms: float = 10.0,
            win_ms: float = 25.0, fmin: float = 20.0, fmax: float = 4000.0) -> np.ndarray:
    """(frames, n_mels) float32 log-mel features, normalised per utterance and band.

    The mel bands span ``fmin``..``fmax`` (capped at Nyquist) whatever ``sr`` is, so
    the same sound gives nearly the same features at 8, 16 or 44.1 kHz. Levels are
    floored 80 dB below the loudest bin (so digital silence between words cannot
    dominate), then each band gets zero mean and unit variance over the utterance:
    the model sees the shape of the sound, not the microphone's gain.
    """
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1 or wave.size == 0:
        raise ValueError(f"expected a non-empty mono wave, got shape {wave.shape}")
    win = int(round(win_ms * sr / 1000))
    hop = int(round(hop_ms * sr / 1000))
    n_fft = 1 << int(np.ceil(np.log2(win)))
    mel = librosa.feature.melspectrogram(y=wave, sr=sr, n_fft=n_fft, hop_length=hop,
                                         win_length=win, n_mels=n_mels, fmin=fmin,
                                         fmax=min(fmax, sr / 2), power=2.0)
    ref = float(mel.max())
    # the floor (amin) is relative too, or a quiet recording would hit it before top_db
    db = librosa.power_to_db(mel, ref=ref, amin=ref * 1e-10 + 1e-30, top_db=80.0).T
    db = (db - db.mean(axis=0)) / (db.std(axis=0) + 1e-5)
    return db.astype(np.float32)


HOP_MS = 10.0  # the speech model's feature hop; the network may subsample it (`CTCRecognizer.stride`)


def features(wave: np.ndarray, n_mels: int) -> np.ndarray:
    """The speech model's input for an 8 kHz wave: (frames, n_mels) normalised log-mel
    every `HOP_MS` (the same for training, evaluation and a visitor's recording)."""
    return LogMelFeatures(n_mels).encode(wave)


@dataclass(frozen=True)
class LogMelFeatures:
    """The speech model's input encoder: an 8 kHz wave -> (frames, n_mels) log-mel
    (`features`); ``decode`` gives each frame's start time in seconds (a spectrogram
    cannot be turned back into the sound, but the alignment view needs its times)."""
    n_mels: int = 40
    hop_ms: float = HOP_MS

    def encode(self, wave: np.ndarray) -> np.ndarray:
        """(frames, n_mels) normalised log-mel of ``wave``."""
        return log_mel(wave, n_mels=self.n_mels, hop_ms=self.hop_ms)

    def decode(self, feats: np.ndarray) -> np.ndarray:
        """(frames,) start time in seconds of each frame of ``feats``."""
        return np.arange(len(feats)) * self.hop_ms / 1000.0

    def to_dict(self) -> dict:
        """Type, bands and hop."""
        return {"type": "log_mel", "n_mels": self.n_mels, "hop_ms": self.hop_ms}

    @classmethod
    def from_dict(cls, d: dict) -> "LogMelFeatures":
        """The features ``to_dict`` described."""
        if d.get("type") != "log_mel":
            raise ValueError(f"not log-mel features: {d.get('type')!r}")
        return cls(int(d["n_mels"]), float(d["hop_ms"]))


def sound_frames(wave: np.ndarray, frame_samples: int, frames: int, floor: float = 0.1,
                 margin: int = 1) -> np.ndarray:
    """(frames,) booleans: frames of ``frame_samples`` samples whose RMS is above
    ``floor`` times the loudest frame's, widened by ``margin`` frames each side (a
    word's soft onset and tail). Frames past the end of the wave are silent."""
    hop = max(1, int(frame_samples))
    whole = min(len(wave) // hop, frames)
    rms = np.zeros(frames)
    rms[:whole] = np.sqrt(np.mean(np.square(wave[:whole * hop].reshape(whole, hop), dtype=np.float64), axis=1))
    if whole < frames and whole * hop < len(wave):  # a last partial frame
        rms[whole] = np.sqrt(np.mean(np.square(wave[whole * hop:], dtype=np.float64)))
    loud = rms > floor * (rms.max() + 1e-12)
    return np.convolve(loud, np.ones(2 * margin + 1), mode="same") > 0


# ------------------------------------------------------------------------------ labels

class CTCAlphabet:
    """CTC labels: blank (id 0), space (id 1), then letters (a-z by default).

    All 26 letters, not only the 15 the digit words use, so one alphabet (and one
    output layer size, 28) fits any English word list; the unused ones cost nothing.
    """

    BLANK = "<blank>"

    def __init__(self, letters: str = string.ascii_lowercase):
        if len(set(letters)) != len(letters) or " " in letters:
            raise ValueError("letters must be distinct and exclude the space")
        self.labels = [self.BLANK, " "] + list(letters)
        self.index = {c: i for i, c in enumerate(self.labels)}
        self.blank_id, self.space_id = 0, 1

    @property
    def vocab_size(self) -> int:
        """Number of labels, blank included."""
        return len(self.labels)

    def encode(self, text: str) -> list[int]:
        """Label ids of ``text``: lower-cased, runs of whitespace read as one space.

        Raises ValueError on a character outside the alphabet: a CTC target must not
        silently lose letters."""
        text = " ".join(text.lower().split())
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise ValueError(f"characters outside the alphabet: {''.join(unknown)!r}")
        return [self.index[c] for c in text]

    def decode(self, ids) -> str:
        """Text of label ids (blanks skipped)."""
        return "".join(self.labels[int(i)] for i in ids if int(i) != self.blank_id)

    def to_dict(self) -> dict:
        """Type and letters."""
        return {"type": "ctc_chars", "letters": "".join(self.labels[2:])}

    @classmethod
    def from_dict(cls, d: dict) -> "CTCAlphabet":
        """The alphabet ``to_dict`` described."""
        if d.get("type") != "ctc_chars":
            raise ValueError(f"not a CTC alphabet: {d.get('type')!r}")
        return cls(d["letters"])


def words_to_digits(text: str) -> str:
    """"four one seven" -> "417"; a word that is not a digit word becomes "?"."""
    return "".join(_WORD_TO_DIGIT.get(w, "?") for w in text.lower().split())


def digits_to_words(digits: str) -> str:
    """"417" -> "four one seven" (whitespace ignored; anything else is a ValueError)."""
    digits = "".join(str(digits).split())
    if digits and not (digits.isdigit() and digits.isascii()):
        raise ValueError(f"not a string of digits: {digits!r}")
    return " ".join(DIGIT_WORDS[int(d)] for d in digits)
