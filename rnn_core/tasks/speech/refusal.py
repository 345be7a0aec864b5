"""When the speech tab refuses to answer, and why: a threshold on the calibrated
confidence chosen on validation for a stated false-refusal rate, what the sound itself
looks like (clipped, steady tones, noise), and whether words other than digits were
heard around the digits (a carrier phrase: "my number is ...").

The network is trained to say nothing for audio with no digits (an empty transcript);
the threshold catches what it still answers unsure. It is chosen after training on the
validation utterances (`fit_refusal`) as the highest that refuses at most
`MAX_FALSE_REFUSAL` of the real digit utterances there, and kept in config.json.
"""
from __future__ import annotations

import numpy as np

from ...encoders.audio import SAMPLE_RATE, sound_frames

MAX_FALSE_REFUSAL = 0.02   # the share of real digit strings the threshold may refuse (on validation)
# Sound this long, farther than WORD_PAD_SECONDS from every digit word: other words were heard.
# Chosen on the corpus's dev voices (80 utterances a style, shipped model): 0.2 s / 0.35 s
# flags 73% of carrier phrases, 4% of strings with pauses, no fluent string or single digit
# (0.12 s flagged 19% of those with pauses: a slow word outlasts its letters).
OTHER_WORDS_SECONDS = 0.35
WORD_PAD_SECONDS = 0.2


def digit_score(text: str, confidence: float) -> float:
    """How sure the answer is that digits were said: its calibrated confidence, or 0
    when no digit word was heard."""
    return float(confidence) if text else 0.0


def choose_threshold(digit_scores, max_false_refusal: float = MAX_FALSE_REFUSAL) -> float:
    """The highest threshold (refuse a score below it) that refuses at most
    ``max_false_refusal`` of ``digit_scores``, the scores of real digit utterances."""
    s = np.sort(np.asarray(digit_scores, dtype=float))
    if not len(s):
        return 0.0
    k = int(np.floor(max_false_refusal * len(s)))  # this many may fall below the threshold
    return float(s[min(k, len(s) - 1)])


def fit_refusal(digit_scores, none_scores, max_false_refusal: float = MAX_FALSE_REFUSAL) -> dict:
    """The threshold for ``digit_scores`` (real digit utterances) and what it does on
    validation: the share of them refused and the share of ``none_scores`` (audio with
    no digits) refused, by `refused_scores`'s rule."""
    t = choose_threshold(digit_scores, max_false_refusal)
    return {"threshold": round(t, 4), "max_false_refusal": max_false_refusal,
            "false_refusal": round(float(np.mean(refused_scores(digit_scores, t))), 4) if len(digit_scores) else None,
            "refused_no_digits": round(float(np.mean(refused_scores(none_scores, t))), 4)
            if len(none_scores) else None}


def refused_scores(scores, threshold: float) -> np.ndarray:
    """Which `digit_score` values are refused: under ``threshold``, or 0 (no digit word
    heard), the rule of `refused`."""
    s = np.asarray(scores, dtype=float)
    return (s < threshold) | (s <= 0)


def refused(text: str, confidence: float, threshold: float) -> bool:
    """Whether an answer is withheld: no digit word heard, or a score under ``threshold``."""
    return bool(refused_scores([digit_score(text, confidence)], threshold)[0])


def clipped_share(wave: np.ndarray) -> float:
    """Share of samples at the wave's full-scale peak (within 1%): above ~1% the
    recording was overloaded (a flat-topped wave)."""
    peak = float(np.max(np.abs(wave))) if len(wave) else 0.0
    if peak < 0.5:  # quiet recordings cannot have hit the converter's limit
        return 0.0
    return float(np.mean(np.abs(wave) >= 0.99 * peak))


def sound_hint(wave: np.ndarray, sr: int = SAMPLE_RATE) -> str:
    """A few words on what the sound looks like, for a refused clip: clipped, "steady
    pitches, like music or a beep", "noise, with no voice in it", or "" (nothing
    telling). Measured on its loud frames: a note or a tone keeps its spectrum from one
    10 ms frame to the next (median correlation of consecutive log spectra above 0.975;
    speech, whose formants move, sits at 0.93-0.96 on FSDD strings and synthetic
    sentences) with most energy in a few bins (the strongest 8 of 257 hold 85%+);
    noise has a flat spectrum (flatness above 0.1)."""
    import librosa

    if clipped_share(wave) > 0.01:
        return "it is clipped (the microphone was overloaded)"
    spec = np.abs(librosa.stft(np.asarray(wave, np.float32), n_fft=512, hop_length=80)) ** 2
    energy = spec.sum(axis=0)
    loud = energy > 0.1 * (energy.max() + 1e-20)
    if loud.sum() < 3:
        return ""
    s = spec[:, loud]
    if float(np.median(librosa.feature.spectral_flatness(S=s, power=1.0)[0])) > 0.1:
        return "it sounds like noise, with no voice in it"
    share = np.sort(s / (s.sum(axis=0, keepdims=True) + 1e-20), axis=0)[-8:].sum(axis=0)
    logs = np.log(s + 1e-10)
    logs = (logs - logs.mean(axis=0)) / (logs.std(axis=0) + 1e-9)
    steadiness = np.mean(logs[:, 1:] * logs[:, :-1], axis=0)  # correlation of neighbouring frames
    if np.median(steadiness) > 0.975 and np.median(share) > 0.85:
        return "it has steady pitches, like music or a beep"
    return ""


def other_sound_seconds(wave: np.ndarray, alignment: list[tuple[int, int]], space_id: int,
                        frame_seconds: float, frames: int) -> float:
    """Seconds of sound (`sound_frames`) farther than `WORD_PAD_SECONDS` from every
    digit word of the answer (``alignment``: (label, frame) of its letters and spaces):
    words that are not digits, or a long noise. All of the sound, for no digits."""
    hop = round(frame_seconds * SAMPLE_RATE)
    sound = sound_frames(wave, hop, frames)
    covered = np.zeros(frames, dtype=bool)
    pad = int(round(WORD_PAD_SECONDS / frame_seconds))
    word: list[int] = []
    for label, frame in list(alignment) + [(space_id, -1)]:
        if label != space_id:
            word.append(frame)
        elif word:
            covered[max(0, min(word) - pad):max(word) + pad + 1] = True
            word = []
    return float(np.sum(sound & ~covered) * frame_seconds)
