"""Melodies as event tokens on the 16th-note grid (`rnn_core.encoders.melody`).

A melody's tokens:

    <s> [meter 6/8] bar e e e ... bar e e ... </s>

with one event ``e`` per step: ``note P`` (a note of pitch P starts), ``hold`` (the
sounding note, or the silence, goes on) or ``rest`` (silence starts). ``bar`` marks
each bar line and takes no time; a meter token comes first and wherever the meter
changes. This is Magenta's melody encoding (note-on / no-event / note-off) plus bar
lines, which give the network the metre explicitly. Any melody on the grid encodes
and decodes exactly.
"""
from __future__ import annotations

from .melody import METERS, PITCH_HIGH, PITCH_LOW, Melody, MelodyError, bar_steps

SPECIAL = ("<s>", "</s>", "bar", "hold", "rest")


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
        """Number of event tokens."""
        return len(self.tokens)

    def to_dict(self) -> dict:
        """Type, pitch range, meters and lookback."""
        return {"type": "midi", "low": self.low, "high": self.high, "meters": list(self.meters),
                "lookback": list(self.lookback)}

    @classmethod
    def from_dict(cls, d: dict) -> "MelodyEncoder":
        """The encoder ``to_dict`` described."""
        if d.get("type") != "midi":
            raise ValueError(f"not a melody event encoder: {d.get('type')!r}")
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
        """The token of a note of ``pitch``."""
        return self.first_note + pitch - self.low

    def pitch_of(self, token: int) -> int | None:
        """The pitch of a note token, None for any other token."""
        return token - self.first_note + self.low if token >= self.first_note else None

    def meter_id(self, meter: str) -> int:
        """The token of ``meter`` ("6/8")."""
        return self.index[f"meter {meter}"]

    def meter_of(self, token: int) -> str | None:
        """The meter a token sets, or None for any other token."""
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
