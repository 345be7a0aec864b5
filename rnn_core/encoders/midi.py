"""Melodies as event tokens on a 16th-note grid, and back to MIDI.

A `Melody` is a monophonic line in grid steps (a step is a 16th note). Its tokens:

    <s> [meter 6/8] bar e e e ... bar e e ... </s>

with one event ``e`` per step: ``note P`` (a note of pitch P starts), ``hold`` (the
sounding note, or the silence, goes on) or ``rest`` (silence starts). ``bar`` marks
each bar line and takes no time; a meter token comes first and wherever the meter
changes. This is Magenta's melody encoding (note-on / no-event / note-off) plus bar
lines, which give the network the metre explicitly. Any melody on the grid encodes
and decodes exactly.

Keys: `diatonic_shift` finds the transposition that puts a melody on the white keys
(C major / A minor); models are trained on key-normalised tunes and their output is
transposed back.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

STEPS_PER_QUARTER = 4          # a 16th-note grid
PITCH_LOW, PITCH_HIGH = 43, 96  # the pitches a token exists for (G2..C7)
METERS = ("4/4", "3/4", "2/4", "2/2", "3/2", "6/4", "5/4", "6/8", "9/8", "12/8", "3/8")
SPECIAL = ("<s>", "</s>", "bar", "hold", "rest")
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
        current = self.meters[0][1] if self.meters else "4/4"
        for s, m in self.meters:
            if s <= step:
                current = m
        return current

    def transpose(self, semitones: int) -> "Melody":
        return Melody([(p + semitones, s, e) for p, s, e in self.notes], list(self.meters), self.length)

    def crop(self, start: int, end: int) -> "Melody":
        """Steps [start, end), notes cut at the edges, meters re-based to ``start``."""
        notes = [(p, max(s, start) - start, min(e, end) - start) for p, s, e in self.notes if s < end and e > start]
        meters = [(0, self.meter_at(start))] + [(s - start, m) for s, m in self.meters if start < s < end]
        return Melody(notes, meters, end - start)

    def then(self, other: "Melody") -> "Melody":
        """This melody followed by ``other``."""
        k = self.length
        meters = list(self.meters)
        for s, m in other.meters:
            if m != meters[-1][1]:
                meters.append((s + k, m))
        return Melody(self.notes + [(p, s + k, e + k) for p, s, e in other.notes], meters, k + other.length)


class MelodyEncoder:
    """Melody <-> token ids. ``encode``/``decode``/``vocab_size``/``to_dict``/``from_dict``,
    like every encoder of the project.

    ``lookback`` (in bars, e.g. (1, 2, 4, 8)) adds what the network reads beside each
    token: the tokens that came that many bars before the one to predict (Magenta's
    Lookback RNN). Folk tunes repeat themselves by the bar and by the phrase, and
    these inputs let a small network copy instead of remembering (`model_inputs`).
    """

    def __init__(self, low: int = PITCH_LOW, high: int = PITCH_HIGH, meters: tuple = METERS,
                 lookback: tuple[int, ...] = ()):
        self.low, self.high, self.meters, self.lookback = low, high, tuple(meters), tuple(lookback)
        self.tokens = list(SPECIAL) + [f"meter {m}" for m in self.meters] + \
            [f"note {p}" for p in range(low, high + 1)]
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.bos, self.eos, self.bar, self.hold, self.rest = (self.index[t] for t in SPECIAL)
        self.first_note = self.index[f"note {low}"]

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def to_dict(self) -> dict:
        return {"type": "midi", "low": self.low, "high": self.high, "meters": list(self.meters),
                "lookback": list(self.lookback)}

    @classmethod
    def from_dict(cls, d: dict) -> "MelodyEncoder":
        return cls(d["low"], d["high"], tuple(d["meters"]), tuple(d.get("lookback", ())))

    @property
    def channels(self) -> int:
        """Token ids the network reads at each step."""
        return 1 + len(self.lookback)

    def model_inputs(self, ids: list[int]) -> list[list[int]]:
        """What the network reads at each position i of ``ids``: ``ids[i]``, then for each
        lookback lag the token that many bars before position i + 1 (the one it
        predicts), or ``<s>`` before the start. A bar is a bar line plus its steps."""
        rows, bar_len = [], bar_steps("4/4")
        for i, t in enumerate(ids):
            meter = self.meter_of(t)
            if meter is not None:
                bar_len = bar_steps(meter)
            rows.append([t] + self._looking_back(ids, i + 1, bar_len))
        return rows

    def next_inputs(self, ids: list[int], bar_len: int) -> list[int]:
        """`model_inputs` of the last position of ``ids`` alone (for generation)."""
        return [ids[-1]] + self._looking_back(ids, len(ids), bar_len)

    def _looking_back(self, ids: list[int], j: int, bar_len: int) -> list[int]:
        return [ids[j - k * (bar_len + 1)] if j >= k * (bar_len + 1) else self.bos for k in self.lookback]

    def note_id(self, pitch: int) -> int:
        return self.first_note + pitch - self.low

    def pitch_of(self, token: int) -> int | None:
        """The pitch of a note token, None for any other token."""
        return token - self.first_note + self.low if token >= self.first_note else None

    def meter_id(self, meter: str) -> int:
        return self.index[f"meter {meter}"]

    def meter_of(self, token: int) -> str | None:
        name = self.tokens[token]
        return name[6:] if name.startswith("meter ") else None

    def encode(self, melody: Melody, end: bool = True) -> list[int]:
        """Token ids of ``melody`` from ``<s>``; with ``end``, ``</s>`` closes it.

        Raises:
            MelodyError: a pitch or meter the vocabulary has no token for.
        """
        events = [self.hold] * melody.length
        for p, s, e in melody.notes:
            if not self.low <= p <= self.high:
                raise MelodyError(f"pitch {p} is outside {self.low}..{self.high}")
            events[s] = self.note_id(p)
            if e < melody.length and events[e] == self.hold:
                events[e] = self.rest
        # silence before the first note is a rest, not a hold of nothing
        first = min((s for _, s, _ in melody.notes), default=melody.length)
        if first > 0:
            events[0] = self.rest
        meters = dict(melody.meters)
        ids, lines = [self.bos], set(melody.bar_lines())
        for step in range(melody.length):
            if step in meters and (step == 0 or meters[step] != melody.meter_at(step - 1)):
                if meters[step] not in self.meters:
                    raise MelodyError(f"meter {meters[step]} is not one of {', '.join(self.meters)}")
                ids.append(self.meter_id(meters[step]))
            if step in lines:
                ids.append(self.bar)
            ids.append(events[step])
        if end:
            ids.append(self.eos)
        return ids

    def decode(self, ids) -> Melody:
        """A melody from token ids (anything before ``<s>``'s content and after ``</s>``
        is ignored, and so is a hold or rest with nothing to hold)."""
        notes, meters, step, current = [], [], 0, None
        for t in ids:
            t = int(t)
            if t == self.eos:
                break
            meter = self.meter_of(t)
            if meter is not None:
                if not meters or meters[-1][1] != meter:
                    meters.append((step, meter))
                continue
            if t in (self.bos, self.bar):
                continue
            pitch = self.pitch_of(t)
            if pitch is not None or t == self.rest:
                if current is not None:
                    notes.append((current[0], current[1], step))
                current = (pitch, step) if pitch is not None else None
            step += 1
        if current is not None:
            notes.append((current[0], current[1], step))
        if not meters or meters[0][0] != 0:
            meters.insert(0, (0, "4/4"))
        return Melody(notes, meters, step)


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


def key_name(shift: int) -> str:
    """The key a melody with diatonic shift ``shift`` is in, e.g. 5 -> "G major / E minor"."""
    tonic = (-shift) % 12
    return f"{NOTE_NAMES[tonic]} major / {NOTE_NAMES[(tonic + 9) % 12]} minor"


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


# ---- MIDI ------------------------------------------------------------------------

def melody_from_midi(source, max_steps: int | None = None) -> tuple[Melody, list[str]]:
    """The melody of a MIDI file (path, bytes or ``pretty_midi.PrettyMIDI``), on the
    16th-note grid; returns (melody, notes for the visitor about what was changed).

    The melody track is the non-drum track with the highest mean pitch among those
    holding at least a quarter of the notes; where it plays chords, its top voice is
    taken.

    Raises:
        MelodyError: not a MIDI file, no pitched notes, ...
    """
    import pretty_midi

    notes_out: list[str] = []
    if isinstance(source, pretty_midi.PrettyMIDI):
        pm = source
    else:
        try:
            data = source if isinstance(source, bytes) else open(source, "rb").read()
            pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        except MelodyError:
            raise
        except Exception as e:  # mido/pretty_midi raise many types on a broken file
            raise MelodyError("This is not a MIDI file that can be read: it is damaged or not MIDI.") from e
    tracks = [i for i in pm.instruments if not i.is_drum and i.notes]
    if not tracks:
        has_drums = any(i.is_drum and i.notes for i in pm.instruments)
        raise MelodyError("This MIDI file has only drums: there is no melody to continue." if has_drums
                          else "This MIDI file has no notes.")
    total = sum(len(i.notes) for i in tracks)
    candidates = [i for i in tracks if len(i.notes) >= total / 4] or tracks
    track = max(candidates, key=lambda i: np.mean([n.pitch for n in i.notes]))
    if len(tracks) > 1:
        notes_out.append(f"Took the melody from track '{track.name or tracks.index(track) + 1}' "
                         f"(the highest of {len(tracks)} pitched tracks).")
    per_step = pm.resolution / STEPS_PER_QUARTER

    def grid(t: float) -> int:
        return int(round(pm.time_to_tick(t) / per_step))

    raw = [(n.pitch, grid(n.start), grid(n.end)) for n in track.notes]
    if max_steps is not None and any(s >= max_steps for _, s, _ in raw):
        raw = [(p, s, min(e, max_steps)) for p, s, e in raw if s < max_steps]
        notes_out.append(f"The file is long: only its first {max_steps // 16} bars (of 4/4) were read.")
    notes, chords = top_voice(raw)
    if chords:
        notes_out.append(f"The melody track plays chords in {chords} place(s): took the top voice.")
    meters = []
    for ts in pm.time_signature_changes:
        m = f"{ts.numerator}/{ts.denominator}"
        if m not in METERS:
            notes_out.append(f"Meter {m} is not one the model knows; reading it as 4/4.")
            m = "4/4"
        step = grid(ts.time)
        if not meters or meters[-1][1] != m:
            meters.append((step, m))
    meters = [(s, m) for s, m in meters if max_steps is None or s < max_steps]
    if not meters or meters[0][0] != 0:
        meters.insert(0, (0, "4/4"))
    return Melody(notes, meters), notes_out


def top_voice(notes: list[tuple[int, int, int]]) -> tuple[list[tuple[int, int, int]], int]:
    """A monophonic line from possibly overlapping notes: at each onset the highest
    pitch wins, and a note is cut where the next one starts. Notes shorter than one
    step after snapping to the grid last one step. Returns (notes, chords found)."""
    by_start: dict[int, tuple[int, int]] = {}
    chords = 0
    for p, s, e in notes:
        e = max(e, s + 1)
        if s in by_start:
            chords += 1
            if p <= by_start[s][0]:
                continue
        by_start[s] = (p, e)
    starts = sorted(by_start)
    line = []
    for k, s in enumerate(starts):
        p, e = by_start[s]
        if k + 1 < len(starts):
            e = min(e, starts[k + 1])
        line.append((p, s, e))
    return line, chords


def melody_to_midi(melody: Melody, tempo: float = 120.0, program: int = 0, velocity: int = 90,
                   segments: list[tuple[int, int, str]] | None = None):
    """A ``pretty_midi.PrettyMIDI`` of ``melody`` at ``tempo`` quarter notes a minute.

    ``segments`` [(start step, end step, name)] splits the notes into named tracks
    (e.g. the primer and the continuation)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    step_s = 60.0 / tempo / STEPS_PER_QUARTER
    for s, m in melody.meters:
        num, den = (int(x) for x in m.split("/"))
        pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, s * step_s))
    segments = segments or [(0, melody.length, "melody")]
    for lo, hi, name in segments:
        inst = pretty_midi.Instrument(program=program, name=name)
        inst.notes = [pretty_midi.Note(velocity, p, s * step_s, e * step_s)
                      for p, s, e in melody.notes if lo <= s < hi]
        pm.instruments.append(inst)
    # "all notes off" at the very end, so the file lasts its full length even when the
    # melody ends on a rest (players and pretty_midi/mido read the length from events)
    pm.instruments[-1].control_changes.append(pretty_midi.ControlChange(123, 0, melody.length * step_s))
    return pm


# ---- typed notes -----------------------------------------------------------------

_VALUES = {"1": 16, "2": 8, "4": 4, "8": 2, "16": 1}


def parse_notes(text: str, meter: str = "4/4") -> Melody:
    """A melody from typed notes: ``D4 E4 F#4 G4/2 | A4/8 B4/8 R C5``.

    Each note is a name (A-G, then # or b), an octave (C4 = middle C) and an optional
    ``/value``: 1 whole, 2 half, 4 quarter (the default), 8 eighth, 16 sixteenth; a
    trailing ``.`` dots it. ``R`` is a rest. ``|`` bar lines are optional; when the
    first comes before a bar is full, the notes before it are a pickup (anacrusis).

    Raises:
        MelodyError: naming the first word that is not a note.
    """
    notes, step, first_line = [], 0, None
    for word in text.replace("|", " | ").replace(",", " ").split():
        if word == "|":
            first_line = step if first_line is None else first_line
            continue
        name, _, value = word.partition("/")
        dotted = value.endswith(".") or (not value and name.endswith("."))
        value, name = value.rstrip("."), name.rstrip(".")
        if value and value not in _VALUES:
            raise MelodyError(f"'{word}': the length after / must be 1, 2, 4, 8 or 16.")
        steps = _VALUES[value or "4"]
        steps += steps // 2 if dotted else 0
        if name.upper() in ("R", "-"):
            step += steps
            continue
        pitch = note_number(name)
        if pitch is None:
            raise MelodyError(f"'{word}' is not a note: write a name, maybe # or b, and an octave, "
                              f"like C4, F#4 or Bb3 (R for a rest).")
        notes.append((pitch, step, step + steps))
        step += steps
    pickup = bar_steps(meter) - first_line if first_line and first_line < bar_steps(meter) else 0
    return Melody([(p, s + pickup, e + pickup) for p, s, e in notes], [(0, meter)], step + pickup)


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
