"""The melody generator behind the tab: continue a primer (or start from nothing) for a
number of bars, in a key and scale, with several variations at once.

The network was trained on tunes moved to C major / A minor; a primer is moved there
first (`diatonic_shift`), continued, and moved back (or to the key asked for).
Sampling keeps the bars whole: a bar line comes exactly when a bar is full, and only
then; notes outside a range around the primer (`note_range`) are masked out, and so,
with a scale, are notes outside it. Only the primer's last bars are played back.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...decoding import sample
from ...encoders.events import MelodyEncoder
from ...encoders.melody import (MAJOR_KEY_NAMES, METERS, PITCH_HIGH, PITCH_LOW, WHITE_KEYS, Melody, bar_steps,
                                diatonic_shift, fit_range, key_name)
from ...encoders.notation import note_name
from ...options import Option
from ...predictor import Predictor

SCALES = {"none": None, "the key's scale": WHITE_KEYS, "pentatonic": (0, 2, 4, 7, 9)}
# by the circle of fifths, as key signatures go
KEYS = ("the primer's key",) + tuple(key_name(-t) for t in (0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5))
MAX_PRIMER_BARS = 64
# A long primer is read whole but played back only by its last bars (a folk tune's
# strain): 33 bars replayed before each of 4 variations were minutes of audio.
REPLAYED_PRIMER_BARS = 8
# New notes stay within a fourth of the primer's range (and span at least an octave
# and a fourth). The Nottingham tunes (in C) sit around D5, an octave above a tune
# typed in the 4th octave: unmasked, a continuation drifted up towards them, the more
# so after a long primer and at a high temperature (to G6 and beyond).
RANGE_MARGIN, RANGE_MIN_SPAN = 5, 17
NO_PRIMER_RANGE = (60, 84)  # C4..C6 (in C): 98% of the Nottingham tunes' notes


@dataclass
class Generated:
    """One variation: the primer and continuation as one melody (in the output key),
    where the continuation starts (step), and the key it is in."""
    melody: Melody
    primer_steps: int
    key: str


def key_offset(key: str) -> int:
    """Semitones from C major to the major key of ``key`` ("G major / E minor" -> 7)."""
    return MAJOR_KEY_NAMES.index(key.split()[0])


def allowed_mask(enc: MelodyEncoder, scale: tuple[int, ...] | None,
                 pitches: tuple[int, int] | None = None) -> torch.Tensor:
    """(V,) True for tokens a continuation may contain: hold, rest, and notes (in
    ``scale``'s pitch classes of C, when given; between ``pitches`` = (low, high),
    when given). Never <s>, </s>, meters or bars."""
    low, high = pitches or (enc.low, enc.high)
    mask = torch.zeros(enc.vocab_size, dtype=torch.bool)
    mask[[enc.hold, enc.rest]] = True
    for p in range(enc.low, enc.high + 1):
        mask[enc.note_id(p)] = (scale is None or p % 12 in scale) and low <= p <= high
    return mask


def note_range(primer: Melody, low: int = PITCH_LOW, high: int = PITCH_HIGH) -> tuple[int, int]:
    """The pitches new notes may take after ``primer``: its range widened by
    `RANGE_MARGIN` each side (then evenly to `RANGE_MIN_SPAN`), inside [low, high];
    `NO_PRIMER_RANGE` without a primer."""
    if not primer.notes:
        return NO_PRIMER_RANGE
    pitches = [p for p, _, _ in primer.notes]
    lo, hi = min(pitches) - RANGE_MARGIN, max(pitches) + RANGE_MARGIN
    short = max(0, RANGE_MIN_SPAN - (hi - lo))
    lo, hi = lo - short // 2, hi + short - short // 2
    return max(lo, low), min(hi, high)


def replay_start(primer: Melody) -> int:
    """The step from which ``primer`` is played back: the start of its last
    `REPLAYED_PRIMER_BARS` bars (0 for a shorter primer)."""
    lines = primer.bar_lines() if primer.length else [0]
    return lines[-REPLAYED_PRIMER_BARS] if len(lines) > REPLAYED_PRIMER_BARS else 0


def sample_events(start, step, enc: MelodyEncoder, steps: int, bar_len: int, pos: int,
                  allowed: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """Sample ``steps`` grid steps for a batch of sequences, inserting bar lines.

    Args:
        start: () -> (B, V) logits after the prefix.
        step: (B,) token ids -> (B, V) logits for the next token.
        pos: steps already in the current bar when the prefix ends.
        allowed: (V,) mask of tokens that may be sampled (see `allowed_mask`), applied
            as a logits hook of the shared sampler (`rnn_core.decoding.sample`).

    Returns:
        (B, n) token ids, bar lines included.
    """
    logits = start()
    out, made = [], 0
    blocked = torch.where(allowed, 0.0, float("-inf"))
    while made < steps:
        if pos == bar_len:
            tokens = torch.full((logits.size(0),), enc.bar, dtype=torch.long)
            pos = 0
        else:
            tokens, _ = sample(logits, generator, temperature, hook=lambda scores: scores + blocked)
            made, pos = made + 1, pos + 1
        out.append(tokens)
        if made < steps or pos == bar_len:
            logits = step(tokens)
    return torch.stack(out, 1)


def model_sampler(model, enc: MelodyEncoder, prefix: list[int], batch: int, bar_len: int):
    """(start, step) for `sample_events` from a `SequenceLM`: ``batch`` sequences
    after ``prefix``, each keeping its own history for the lookback inputs."""
    history = [list(prefix) for _ in range(batch)]
    state = {}

    def start():
        (logits, state["s"], _), _ = model(torch.tensor([enc.model_inputs(prefix)] * batch))
        return logits[:, -1]

    def step(tokens):
        for h, t in zip(history, tokens.tolist()):
            h.append(t)
        logits, state["s"], _ = model.step(torch.tensor([enc.next_inputs(h, bar_len) for h in history]), state["s"])
        return logits

    return start, step


class MelodyGenerator(Predictor):
    """A loaded melody language model."""

    task, encoder_class = "melody", MelodyEncoder
    generation_options = {
        "bars": Option(16, 1, 64),
        "temperature": Option(1.0, 0.05, 3.0),
        "tempo": Option(120.0, 30.0, 300.0),
        "variations": Option(1, 1, 4),
        "seed": Option(0, 0, 2**31 - 1),
        "meter": Option("4/4", choices=METERS),
    }

    def prepare(self, primer: Melody | None, meter: str = "4/4") -> tuple[Melody, int, list[str]]:
        """The primer as the network reads it: at most `MAX_PRIMER_BARS` bars, moved to
        C major / A minor and into the model's range. Returns (primer, shift to get
        back to its key, notes for the visitor)."""
        notes = []
        if primer is None or not primer.notes:
            return Melody([], [(0, meter)], 0), 0, notes
        limit = MAX_PRIMER_BARS * bar_steps(primer.meters[0][1])
        if primer.length > limit:
            primer = primer.crop(0, limit)
            notes.append(f"The primer was cut to its first {MAX_PRIMER_BARS} bars.")
        shift = diatonic_shift([p for p, _, _ in primer.notes], [e - s for _, s, e in primer.notes])
        moved, octaves = fit_range(primer.transpose(shift), PITCH_LOW, PITCH_HIGH)
        if any(not PITCH_LOW <= p + shift + octaves <= PITCH_HIGH for p, _, _ in primer.notes):
            notes.append("Some primer notes were outside the model's range (G2 to C7) and were moved by octaves.")
        elif octaves:
            count = abs(octaves) // 12
            notes.append(f"The primer was read {count} octave{'s' * (count > 1)} {'up' if octaves > 0 else 'down'}, "
                         "nearer the middle of the tunes the model learned, and moved back afterwards.")
        return moved, -(shift + octaves), notes

    def generate(self, primer: Melody | None, bars: int = 16, temperature: float = 1.0, meter: str = "4/4",
                 key: str = KEYS[0], scale: str = "none", variations: int = 1, seed: int = 0,
                 include_primer: bool = True) -> tuple[list[Generated], list[str]]:
        """Continue ``primer`` (a melody in any key; None = start from nothing) by
        ``bars`` bars (after completing the primer's last bar), ``variations`` times.
        New notes stay near the primer's range (`note_range`); with ``include_primer``
        each variation starts with the primer's last bars (`replay_start`).

        Returns:
            ([one `Generated` per variation], notes for the visitor)
        """
        enc = self.encoder
        moved, back, notes = self.prepare(primer, meter)
        meter = moved.meter_at(max(moved.length - 1, 0)) if moved.notes else meter
        bar_len = bar_steps(meter)
        # steps already in the last bar (a full bar, or no primer, makes a bar line come first)
        pos = moved.length - moved.bar_lines()[-1] if moved.length else bar_len
        steps = (bar_len - pos) % bar_len + bars * bar_len
        prefix = enc.encode(moved, end=False) if moved.notes else [enc.bos, enc.meter_id(meter)]
        low, high = note_range(moved, enc.low, enc.high)
        generator = torch.Generator().manual_seed(int(seed))
        start, step = model_sampler(self.model, enc, prefix, variations, bar_len)
        with torch.no_grad():
            events = sample_events(start, step, enc, steps, bar_len, pos,
                                   allowed_mask(enc, SCALES[scale], (low, high)), temperature, generator)
        out_shift, key_label = output_key(key, back)
        notes.append(f"New notes stay between {note_name(low + out_shift)} and {note_name(high + out_shift)}, "
                     + ("around the primer's range" if moved.notes else "where the tunes the model learned go")
                     + ", so the melody stays singable.")
        first = replay_start(moved) if include_primer else moved.length
        if 0 < first < moved.length:
            notes.append(f"The primer is {len(moved.bar_lines())} bars long: only its last {REPLAYED_PRIMER_BARS} "
                         "bars are played before the new ones (the model read all of it).")
        results = []
        for row in events.tolist():
            whole = enc.decode(prefix + row)
            whole = whole.crop(first, whole.length)
            results.append(Generated(whole.transpose(out_shift), moved.length - first, key_label))
        return results, notes


def output_key(key: str, back: int) -> tuple[int, str]:
    """(semitones from the network's C major to the output, the key's name): the
    primer's own key (``back``) or, for a key asked for, its tonic in the octave that
    keeps the tune nearest where it was."""
    if key == KEYS[0]:
        return back, key_name(-back)
    t = key_offset(key)
    return min((t + 12 * k for k in (-1, 0, 1)), key=lambda s: abs(s - back)), key
