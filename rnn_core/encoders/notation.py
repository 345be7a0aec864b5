"""Melodies from typed notes (``D4 E4 F#4 G4 | A4/8 ...``), and note names."""
from __future__ import annotations

from .melody import NOTE_NAMES, STEPS_PER_QUARTER, Melody, MelodyError, bar_steps

_VALUES = {"1": 16, "2": 8, "4": 4, "8": 2, "16": 1}


def parse_notes(text: str, meter: str = "4/4") -> Melody:
    """A melody from typed notes: ``D4 E4 F#4 G4 | A4/8 B4/8 R C5/2``.

    Each note is a name (A-G, then # or b), an octave (C4 = middle C) and an optional
    ``/value``: 1 whole, 2 half, 4 quarter (the default), 8 eighth, 16 sixteenth; a
    trailing ``.`` dots it. ``R`` is a rest. ``|`` bar lines are optional; when the
    first comes before a bar is full, the notes before it are a pickup (anacrusis).
    Where they are written, each bar between two of them must fill the meter's bar, and
    the first and last may not overfill it (`check_bars`).

    Raises:
        MelodyError: naming the first word that is not a note, or the first bar that
            does not fit the meter.
    """
    notes, step, lines = [], 0, []
    for word in text.replace("|", " | ").replace(",", " ").split():
        if word == "|":
            lines.append(step)
            continue
        name, _, value = word.partition("/")
        dotted = value.endswith(".") or (not value and name.endswith("."))
        value, name = value.rstrip("."), name.rstrip(".")
        if value and value not in _VALUES:
            raise MelodyError(f"'{_shortened(word)}': the length after / must be 1, 2, 4, 8 or 16.")
        steps = _VALUES[value or "4"]
        steps += steps // 2 if dotted else 0
        if name.upper() in ("R", "-"):
            step += steps
            continue
        pitch = note_number(name)
        if pitch is None:
            raise MelodyError(f"'{_shortened(word)}' is not a note: write a name, maybe # or b, and an octave, "
                              f"like C4, F#4 or Bb3 (R for a rest).")
        notes.append((pitch, step, step + steps))
        step += steps
    check_bars(lines, step, meter)
    first_line = lines[0] if lines else None
    pickup = bar_steps(meter) - first_line if first_line and first_line < bar_steps(meter) else 0
    return Melody([(p, s + pickup, e + pickup) for p, s, e in notes], [(0, meter)], step + pickup)


_UNITS = {1: "whole note", 2: "half note", 4: "quarter note", 8: "eighth note", 16: "16th note"}


def check_bars(lines: list[int], end: int, meter: str) -> None:
    """Check the bars a visitor marked with ``|`` (``lines``: the steps where they
    stand; ``end``: the tune's length) against ``meter``: a bar between two lines holds
    exactly a bar, the first (a pickup) and the last at most a bar. Empty bars (``||``,
    a line at the start or the end) are no bars.

    Why: the bar lines of the melody come from the meter alone, so a bar written too
    full or too short used to be read on silently, every later bar line then off the
    one the visitor wrote.

    Raises:
        MelodyError: naming the first bar that does not fit, and what it holds.
    """
    if not lines:
        return  # no bar lines written: the meter alone places them
    full = bar_steps(meter)
    edges = sorted(set([0, *lines, end]))
    bars = [b - a for a, b in zip(edges, edges[1:])]
    for k, held in enumerate(bars):
        inside = 0 < k < len(bars) - 1
        if held > full or (inside and held < full):
            num, den = (int(x) for x in meter.split("/"))
            count = held * den / (4 * STEPS_PER_QUARTER)
            unit = _UNITS.get(den, f"1/{den} note") + ("" if count == 1 else "s")
            raise MelodyError(f"Bar {k + 1} holds {count:g} {unit} but a bar of {meter} has {num}: "
                              "check its notes or move a bar line (|).")


def _shortened(word: str, limit: int = 24) -> str:
    """A visitor's word as quoted back in a message: a 20,000-character "word" is cut."""
    return word if len(word) <= limit else word[:limit] + "..."


def note_number(name: str) -> int | None:
    """"C4" -> 60, "F#5" -> 78, "Bb3" -> 58; None if it is not a note name."""
    if len(name) < 2 or name[0].upper() not in "CDEFGAB":
        return None
    pc = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[name[0].upper()]
    rest = name[1:]
    while rest and rest[0] in "#b":
        pc += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    try:
        octave = int(rest)
    except ValueError:
        return None
    if not -1 <= octave <= 9:
        return None
    pitch = 12 * (octave + 1) + pc
    return pitch if 0 <= pitch <= 127 else None


def note_name(pitch: int) -> str:
    """60 -> "C4"."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"
