"""The melody generator behind the tab: continue a primer (or start from nothing) for a
number of bars, in a key and scale, with several variations at once.

The network was trained on tunes moved to C major / A minor; a primer is moved there
first (`diatonic_shift`), continued, and moved back (or to the key asked for).
Sampling keeps the bars whole: a bar line comes exactly when a bar is full, and only
then; with a scale, notes outside it are masked out.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...decoding import sample
from ...encoders.events import MelodyEncoder
from ...encoders.melody import (MAJOR_KEY_NAMES, METERS, PITCH_HIGH, PITCH_LOW, WHITE_KEYS, Melody, bar_steps,
                                diatonic_shift, fit_range, key_name)
from ...options import Option
from ...predictor import Predictor

SCALES = {"none": None, "the key's scale": WHITE_KEYS, "pentatonic": (0, 2, 4, 7, 9)}
# by the circle of fifths, as key signatures go
KEYS = ("the primer's key",) + tuple(key_name(-t) for t in (0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5))
MAX_PRIMER_BARS = 64



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


def allowed_mask(enc: MelodyEncoder, scale: tuple[int, ...] | None) -> torch.Tensor:
    """(V,) True for tokens a continuation may contain: hold, rest, and notes (in
    ``scale``'s pitch classes of C, when given). Never <s>, </s>, meters or bars."""
    mask = torch.zeros(enc.vocab_size, dtype=torch.bool)
    mask[[enc.hold, enc.rest]] = True
    for p in range(enc.low, enc.high + 1):
        mask[enc.note_id(p)] = scale is None or p % 12 in scale
    return mask


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
        generator = torch.Generator().manual_seed(int(seed))
        start, step = model_sampler(self.model, enc, prefix, variations, bar_len)
        with torch.no_grad():
            events = sample_events(start, step, enc, steps, bar_len, pos, allowed_mask(enc, SCALES[scale]),
                                   temperature, generator)
        if key == KEYS[0]:
            out_shift, key_label = back, key_name(-back)
        else:
            # the chosen key's tonic, in the octave that keeps the tune nearest where it was
            t = key_offset(key)
            out_shift = min((t + 12 * k for k in (-1, 0, 1)), key=lambda s: abs(s - back))
            key_label = key
        results = []
        for row in events.tolist():
            whole = enc.decode(prefix + row)
            if not include_primer:
                whole = whole.crop(moved.length, whole.length)
            results.append(Generated(whole.transpose(out_shift), moved.length if include_primer else 0, key_label))
        return results, notes
