"""Melodies on a 16th-note grid, and their keys.

A `Melody` is a monophonic line in grid steps (a step is a 16th note).

Keys: `diatonic_shift` finds the transposition that puts a melody on the white keys
(C major / A minor); models are trained on key-normalised tunes and their output is
transposed back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STEPS_PER_QUARTER = 4          # a 16th-note grid
PITCH_LOW, PITCH_HIGH = 43, 96  # the pitches a token exists for (G2..C7)
METERS = ("4/4", "3/4", "2/4", "2/2", "3/2", "6/4", "5/4", "6/8", "9/8", "12/8", "3/8")
WHITE_KEYS = (0, 2, 4, 5, 7, 9, 11)
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


class MelodyError(ValueError):
    """A melody (or MIDI file) the gallery cannot use, with a message for the visitor."""


def bar_steps(meter: str) -> int:
    """Grid steps in one bar of ``meter`` ("6/8" -> 12)."""
    num, den = (int(x) for x in meter.split("/"))
    return num * STEPS_PER_QUARTER * 4 // den


@dataclass
class Melody:
    """A monophonic line: notes as (pitch, start step, end step), sorted, never
    overlapping; meters as (step, "n/d") with the first at step 0; ``length`` in steps."""
    notes: list[tuple[int, int, int]]
    meters: list[tuple[int, str]] = field(default_factory=lambda: [(0, "4/4")])
    length: int = 0

    def __post_init__(self):
        self.notes = sorted(self.notes, key=lambda n: n[1])
        self.length = max(self.length, max((e for _, _, e in self.notes), default=0))

    def bar_lines(self) -> list[int]:
        """Steps where bars start (bar 1 at step 0), up to ``length``."""
        lines, step, i = [], 0, 0
        meters = self.meters or [(0, "4/4")]
        while step < self.length or not lines:
            while i + 1 < len(meters) and meters[i + 1][0] <= step:
                i += 1
            lines.append(step)
            step += bar_steps(meters[i][1])
        return lines

    def meter_at(self, step: int) -> str:
        """The meter in force at ``step``."""
        current = self.meters[0][1] if self.meters else "4/4"
        for s, m in self.meters:
            if s <= step:
                current = m
        return current

    def transpose(self, semitones: int) -> "Melody":
        """The same melody, every pitch moved by ``semitones``."""
        return Melody([(p + semitones, s, e) for p, s, e in self.notes], list(self.meters), self.length)

    def crop(self, start: int, end: int) -> "Melody":
        """Steps [start, end), notes cut at the edges, meters re-based to ``start``."""
        notes = [(p, max(s, start) - start, min(e, end) - start) for p, s, e in self.notes if s < end and e > start]
        meters = [(0, self.meter_at(start))] + [(s - start, m) for s, m in self.meters if start < s < end]
        return Melody(notes, meters, end - start)


# ---- keys ------------------------------------------------------------------------

def in_key_ratio(pitches, shift: int = 0) -> float:
    """Share of ``pitches`` on the white keys after transposing by ``shift``."""
    pitches = np.asarray(list(pitches), dtype=int)
    if pitches.size == 0:
        return 1.0
    return float(np.isin((pitches + shift) % 12, WHITE_KEYS).mean())


def diatonic_shift(pitches, weights=None) -> int:
    """The transposition (-6..5 semitones) that puts most of ``pitches`` on the white
    keys, i.e. moves the melody's major (or relative minor) key to C major / A minor.

    Where several keys fit equally (a tune that never plays the 4th or 7th degree),
    the one that puts most weight (``weights``, e.g. note lengths) on the C major
    triad wins, then the smallest move."""
    pitches = np.asarray(list(pitches), dtype=int)
    w = np.ones(len(pitches)) if weights is None else np.asarray(list(weights), dtype=float)

    def fit(s: int):
        pcs = (pitches + s) % 12
        return (in_key_ratio(pitches, s), float(w[np.isin(pcs, (0, 4, 7))].sum()), -abs(s))

    return max(range(-6, 6), key=fit)


# Key names as musicians spell them: flats in the flat keys, sharps in the sharp keys,
# and each relative minor spelled like its major ("B major / G# minor", not "Ab minor").
MAJOR_KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_KEY_NAMES = ("A", "Bb", "B", "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#")


def key_name(shift: int) -> str:
    """The key a melody with diatonic shift ``shift`` is in, e.g. 5 -> "G major / E minor"."""
    tonic = (-shift) % 12
    return f"{MAJOR_KEY_NAMES[tonic]} major / {MINOR_KEY_NAMES[tonic]} minor"


def fit_range(melody: Melody, low: int = PITCH_LOW, high: int = PITCH_HIGH) -> tuple[Melody, int]:
    """Move a melody by whole octaves so it sits inside [low, high] if it can (else
    centred); returns (melody, semitones moved). Notes still outside are folded in."""
    if not melody.notes:
        return melody, 0
    ps = [p for p, _, _ in melody.notes]
    centre = (low + high) / 2
    best = min(range(-8, 9), key=lambda k: (max(0, low - min(ps) - 12 * k) + max(0, max(ps) + 12 * k - high),
                                            abs((min(ps) + max(ps)) / 2 + 12 * k - centre)))
    moved = melody.transpose(12 * best)
    notes = []
    for p, s, e in moved.notes:
        while p < low:
            p += 12
        while p > high:
            p -= 12
        notes.append((p, s, e))
    return Melody(notes, moved.meters, moved.length), 12 * best

