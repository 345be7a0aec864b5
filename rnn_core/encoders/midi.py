"""Melodies from MIDI files and back to MIDI, on the 16th-note grid."""
from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from .melody import METERS, STEPS_PER_QUARTER, Melody, MelodyError


class MidiMelody(NamedTuple):
    """What `read_midi` found: the melody on the grid, the file's first tempo (quarter
    notes a minute) and notes for the visitor about what was changed."""
    melody: Melody
    tempo: float
    notes: list[str]


def melody_from_midi(source, max_steps: int | None = None) -> tuple[Melody, list[str]]:
    """The melody of a MIDI file (path, bytes or ``pretty_midi.PrettyMIDI``), on the
    16th-note grid; returns (melody, notes for the visitor about what was changed).
    `read_midi` also gives the file's tempo.

    Raises:
        MelodyError: not a MIDI file, no pitched notes, ...
    """
    melody, _, notes = read_midi(source, max_steps)
    return melody, notes


def read_midi(source, max_steps: int | None = None) -> MidiMelody:
    """The melody of a MIDI file (path, bytes or ``pretty_midi.PrettyMIDI``) on the
    16th-note grid, and its first tempo (120 bpm, MIDI's default, where it sets none).

    The grid is counted in ticks, so the tempo never moves a note: played at the
    file's tempo, the melody keeps the piece's pace.
    The melody track is the non-drum track with the highest mean pitch among those
    holding at least a quarter of the notes; where it plays chords, its top voice is
    taken.

    Raises:
        MelodyError: not a MIDI file, no pitched notes, ...
    """
    notes_out: list[str] = []
    pm = _parse(source, max_steps, notes_out)
    track = _melody_track(pm, notes_out)
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
    return MidiMelody(Melody(notes, meters), _first_tempo(pm, notes_out), notes_out)


def _first_tempo(pm, notes_out: list[str]) -> float:
    """The tempo a file starts at (pretty_midi puts MIDI's default 120 bpm first where
    the file sets none at its start), with a note when it changes later."""
    # MIDI keeps whole microseconds a quarter note: 90 bpm reads 90.00009; 0.01 bpm is
    # far finer than anyone hears
    tempi = pm.get_tempo_changes()[1].round(2)
    first = float(tempi[0]) if len(tempi) else 120.0
    if any(abs(t - first) > 0.05 for t in tempi):
        notes_out.append(f"The file changes tempo; the melody keeps its first, {first:.4g} bpm.")
    return first


def _parse(source, max_steps: int | None, notes_out: list[str]):
    """``source`` as a ``pretty_midi.PrettyMIDI`` (only the first events of a dense
    file are read, with a note); anything unreadable is a `MelodyError`."""
    import pretty_midi

    if isinstance(source, pretty_midi.PrettyMIDI):
        return source
    try:
        data = source if isinstance(source, bytes) else open(source, "rb").read()
        first, dense = _first_steps(data, max_steps)
        pm = pretty_midi.PrettyMIDI(io.BytesIO(first))
    except MelodyError:
        raise
    except Exception as e:  # mido/pretty_midi raise many types on a broken file
        raise MelodyError("This is not a MIDI file that can be read: it is damaged or not MIDI.") from e
    if dense:
        notes_out.append(f"The file is dense: only the first {MAX_TRACK_EVENTS:,} events of each "
                         "track were read.")
    return pm


def _melody_track(pm, notes_out: list[str]):
    """The non-drum track with the highest mean pitch among those holding at least a
    quarter of the notes (with a note when there was a choice)."""
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
    return track


MAX_TRACK_EVENTS = 8192  # 64 bars of 16th-note chords of four notes, on and off
MAX_TRACKS = 32


def _first_steps(data: bytes, max_steps: int | None) -> tuple[bytes, bool]:
    """The MIDI file ``data`` cut after ``max_steps`` 16th notes (plus a bar, for the
    note-offs of notes still sounding), after `MAX_TRACK_EVENTS` events in a track and
    after `MAX_TRACKS` tracks, as MIDI bytes; and whether the event budget cut it.

    Why: pretty_midi turns every tick and note of a file into tables (a 200,000-note
    file is refused as "likely corrupt", a dense one takes half a minute), while a
    primer needs only its first bars: mido reads the events once, and only those kept
    go on, so the work per file is bounded by its size.
    """
    if max_steps is None:
        return data, False
    import mido

    midi = mido.MidiFile(file=io.BytesIO(data))
    limit, dense = (max_steps + 16) * midi.ticks_per_beat / STEPS_PER_QUARTER, False
    del midi.tracks[MAX_TRACKS:]
    for track in midi.tracks:
        tick, kept = 0, mido.MidiTrack()
        for message in track:
            tick += message.time
            if tick > limit:
                break
            if len(kept) >= MAX_TRACK_EVENTS:
                dense = True
                break
            kept.append(message)
        track[:] = kept
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue(), dense


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
