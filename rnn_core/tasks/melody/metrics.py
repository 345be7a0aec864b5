"""Scoring the melody generator (`python -m rnn_core evaluate melody`): likelihood of
held-out tunes beside an event n-gram, and what sampled continuations of their
openings look like beside what the tunes really do next."""
from __future__ import annotations

from pathlib import Path

import torch

from ...baselines import NGram, symbols
from ...data.nottingham import load_tunes
from ...encoders.events import MelodyEncoder
from ...encoders.melody import PITCH_HIGH, PITCH_LOW, Melody, bar_steps, in_key_ratio
from ...metrics import histogram, total_variation
from .data import examples, nll_per_event
from .predictor import MelodyGenerator, allowed_mask, model_sampler, sample_events

SPLITS = ("dev", "test", "all")
PRIMER_BARS, SAMPLE_BARS = 4, 16                       # the samples `evaluate` describes
DURATION_BINS = (1, 2, 3, 4, 6, 8, 12, 16, 0)          # steps; 0 = anything else
PITCH_BINS = tuple(range(PITCH_LOW, PITCH_HIGH + 1))


def describe_notes(melodies: list[Melody]) -> dict:
    """Pitch and duration histograms, in-key ratio (white keys) of the notes of ``melodies``."""
    notes = [n for m in melodies for n in m.notes]
    return {"pitch": histogram([p for p, _, _ in notes], PITCH_BINS),
            "duration": histogram([e - s for _, s, e in notes], DURATION_BINS),
            "in_key": in_key_ratio(p for p, _, _ in notes), "notes": len(notes)}


def ngram_sampler(ngram: NGram, order: int, enc: MelodyEncoder, prefix: list[int]):
    """(start, step) for `sample_events` that draw from an n-gram model after ``prefix``."""
    ids = torch.tensor([ord(c) - 0x100 for c in ngram.vocab])
    history = [symbols(prefix)]

    def logits() -> torch.Tensor:
        out = torch.full((1, enc.vocab_size), float("-inf"))
        out[0, ids] = torch.log(torch.tensor(ngram.distribution(history[0], order), dtype=torch.float))
        return out

    def step(tokens):
        history[0] += symbols(tokens.tolist())
        return logits()

    return logits, step


def primer_and_truth(tune: Melody) -> tuple[Melody, Melody] | None:
    """A tune's first `PRIMER_BARS` bars and the (up to) `SAMPLE_BARS` bars after them;
    None for a tune too short to have both."""
    lines = tune.bar_lines() + [tune.length]
    if len(lines) <= PRIMER_BARS + 1:
        return None
    end = lines[min(PRIMER_BARS + SAMPLE_BARS, len(lines) - 1)]
    return tune.crop(0, lines[PRIMER_BARS]), tune.crop(lines[PRIMER_BARS], end)


def sample_continuations(gen: MelodyGenerator, primers: list[Melody], seed: int = 0,
                         ngram: tuple[NGram, int] | None = None) -> list[Melody]:
    """`SAMPLE_BARS` bars sampled after each primer (temperature 1, no scale mask) by
    the model, or by ``ngram`` = (model, order); returns the continuations alone."""
    enc, out = gen.encoder, []
    g = torch.Generator().manual_seed(seed)
    allowed = allowed_mask(enc, None)
    for primer in primers:
        bar_len = bar_steps(primer.meter_at(primer.length - 1))
        prefix = enc.encode(primer, end=False)
        start, step = (model_sampler(gen.model, enc, prefix, 1, bar_len) if ngram is None
                       else ngram_sampler(*ngram, enc, prefix))
        with torch.no_grad():
            events = sample_events(start, step, enc, SAMPLE_BARS * bar_len, bar_len, bar_len, allowed, 1.0, g)
        whole = enc.decode(prefix + events[0].tolist())
        out.append(whole.crop(primer.length, whole.length))
    return out


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev",
             device: str = "cpu") -> dict:
    """Negative log-likelihood per event on held-out tunes beside the best n-gram, and
    what sampled continuations of each tune's first bars look like (in-key ratio,
    distances of their pitch and duration histograms to those of the bars the tunes
    really continue with) beside the n-gram's samples.

    ``dev``/``test`` are tunes of the standard split; ``all`` scores every tune in the
    folder given (tunes nobody trained on), with the baseline fitted on the standard
    data's training split.
    """
    if split not in SPLITS:
        raise ValueError(f"melody has no split {split!r}; choose {', '.join(SPLITS)}")
    gen = MelodyGenerator.from_pretrained(weights)
    enc = gen.encoder
    tunes = load_tunes(None if data_dir is None else str(data_dir))
    if split == "all":
        scored = [m for items in tunes.values() for _, m in items]
        train_tunes = [m for _, m in load_tunes(None)["train"]]  # the standard data's training part
    else:
        scored = [m for _, m in tunes[split]]
        train_tunes = [m for _, m in tunes["train"]]
    items = examples(enc, scored)
    nll = nll_per_event(gen.model.to(device), items)
    gen.model.cpu()  # sampling (below) runs on the CPU, as the tab's does
    seqs = [[enc.bos] + y.tolist() for _, y in items]  # each tune's tokens, without encoding it again
    ngram = NGram([symbols(enc.encode(m)) for m in train_tunes], max_order=12)
    by_order, _ = ngram.nll_by_order([symbols(s) for s in seqs], start=1)
    order = min(by_order, key=by_order.get)

    # sampled continuations of each tune's opening, against what the tune really does next
    pairs = [p for p in map(primer_and_truth, scored) if p is not None]
    primers = [primer for primer, _ in pairs]
    data = describe_notes([truth for _, truth in pairs])
    samples = {"model": describe_notes(sample_continuations(gen, primers)),
               "ngram": describe_notes(sample_continuations(gen, primers, ngram=(ngram, order)))}
    described = {who: {"in_key_ratio": round(d["in_key"], 4),
                       "pitch_distance": round(total_variation(d["pitch"], data["pitch"]), 4),
                       "duration_distance": round(total_variation(d["duration"], data["duration"]), 4),
                       "notes": d["notes"]} for who, d in samples.items()}
    return {"task": MelodyGenerator.task, "split": split, "tunes": len(seqs), "events": sum(len(s) - 1 for s in seqs),
            "nll_per_event": round(nll, 4),
            "baseline": {"name": f"event {order}-gram, interpolated Witten-Bell smoothing "
                                 "(order chosen on this split)", "order": order,
                         "nll_per_event": round(by_order[order], 4)},
            "nll_ratio_to_baseline": round(nll / by_order[order], 4),
            "samples": {"primer_bars": PRIMER_BARS, "bars": SAMPLE_BARS, "temperature": 1.0,
                        "data_in_key_ratio": round(data["in_key"], 4), **described},
            "parameters": gen.parameters, "cell": gen.describe()}
