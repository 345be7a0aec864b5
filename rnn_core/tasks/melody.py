"""Melody generation (one-to-many): a language model of folk-tune events.

Nottingham tunes, moved to C major / A minor, become event tokens on a 16th-note
grid (`rnn_core.encoders.midi`). Training reads tunes in batches of similar length,
each tune from its start, cut into chunks with the state carried between them.
"""
from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import torch

from ..baselines import NGram, symbols
from ..checkpoint import save_pretrained
from ..data.nottingham import load_tunes
from ..encoders.midi import PITCH_HIGH, PITCH_LOW, Melody, MelodyEncoder, bar_steps, in_key_ratio
from ..models import TBPTT, create_model
from ..train import TrainConfig, TrainResult, config_dict, train as train_loop
from .melody_predictor import MelodyGenerator, allowed_mask, histogram, model_sampler, sample_events
from .options import Option, clamp_options

NAME = "melody"
DATA_SOURCE = "nottingham"
PREDICTOR = MelodyGenerator

# The shipped model's recipe (`python -m rnn_core train melody`).
PRESET = {"cell": "lstm", "hidden": 384, "layers": 2, "embed": 32, "dropout": 0.3, "epochs": 80,
          "lr": 2e-3, "batch_size": 32, "seq_len": 256, "max_minutes": 25, "seed": 0,
          "half": True, "evals_per_epoch": 1, "patience": 8, "lookback": "1,2,4,8"}

# What a visitor may set in the retrain panel; the defaults train for 2 minutes.
RETRAIN_OPTIONS = {
    "cell": Option("lstm", choices=("rnn", "lstm", "gru")),
    "hidden": Option(256, 16, 512),
    "layers": Option(1, 1, 3),
    "lr": Option(3e-3, 1e-5, 0.05),
    "epochs": Option(30, 1, 80),
    "max_minutes": Option(2.0, 0.1, 10.0),
}

PRIMER_BARS, SAMPLE_BARS = 4, 16                       # the samples `evaluate` describes
DURATION_BINS = (1, 2, 3, 4, 6, 8, 12, 16, 0)          # steps; 0 = anything else
PITCH_BINS = tuple(range(PITCH_LOW, PITCH_HIGH + 1))


def retrain_options(values: dict) -> tuple[dict, list[str]]:
    """Clamp a visitor's retrain settings to `RETRAIN_OPTIONS`; returns (options, notes).
    A short run underfits, so no dropout; full precision for the visitor's copy."""
    options, notes = clamp_options(values, RETRAIN_OPTIONS)
    return {**options, "dropout": 0.0, "half": False}, notes


def make_encoder(lookback: str = "") -> MelodyEncoder:
    """The event encoder, with lookback lags given as "1,2,4,8" (bars; "" = none)."""
    return MelodyEncoder(lookback=tuple(int(k) for k in lookback.replace(" ", "").split(",") if k))


def examples(enc: MelodyEncoder, melodies: list[Melody]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(inputs (T, channels), next tokens (T,)) of each melody, from ``<s>`` to ``</s>``."""
    out = []
    for m in melodies:
        ids = enc.encode(m)
        out.append((torch.tensor(enc.model_inputs(ids)[:-1]), torch.tensor(ids[1:])))
    return out


def load_data(data_dir: str | None = None, lookback: str = "") -> tuple[MelodyEncoder, dict[str, list]]:
    """(encoder, {split: `examples` of its tunes})."""
    enc = make_encoder(lookback)
    tunes = load_tunes(None if data_dir is None else str(data_dir))
    return enc, {split: examples(enc, [m for _, m in items]) for split, items in tunes.items()}


def tune_batches(items: list[tuple[torch.Tensor, torch.Tensor]], batch_size: int, seq_len: int,
                 rng: random.Random | None = None) -> list[dict]:
    """Batches of tunes (`examples`) of similar length, padding ignored by the loss,
    each cut into chunks of ``seq_len`` that continue each other; a batch's first
    chunk says ``reset``. With ``rng`` the grouping and the order are shuffled."""
    keys = [len(y) * (1 + (rng.random() * 0.2 if rng else 0)) for _, y in items]
    order = sorted(range(len(items)), key=keys.__getitem__)
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng:
        rng.shuffle(groups)
    out = []
    for g in groups:
        width = max(len(items[i][1]) for i in g)
        x = torch.zeros(len(g), width, items[g[0]][0].shape[1], dtype=torch.long)
        y = torch.full((len(g), width), -1, dtype=torch.long)
        for row, i in enumerate(g):
            inputs, targets = items[i]
            x[row, :len(targets)], y[row, :len(targets)] = inputs, targets
        out += [{"x": x[:, t:t + seq_len], "targets": y[:, t:t + seq_len], "reset": t == 0}
                for t in range(0, width, seq_len)]
    return out


def nll_per_event(lm: torch.nn.Module, items: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Mean negative log-likelihood (nats) of every token after ``<s>`` of each tune
    (`examples`), each read from its start."""
    model, total, count = TBPTT(lm), 0.0, 0
    was_training = lm.training
    lm.eval()
    with torch.no_grad():
        for b in tune_batches(items, 64, 512):
            _, loss = model(**b)
            n = int((b["targets"] >= 0).sum())
            total, count = total + float(loss) * n, count + n
    lm.train(was_training)
    return total / count


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None) -> tuple[MelodyGenerator, TrainResult]:
    """Train an event LM on the training tunes, validating on the dev tunes.

    Returns:
        (a generator around the best weights, the training result)
    """
    o = {**PRESET, **(options or {})}
    enc, data = load_data(data_dir, o["lookback"])
    torch.manual_seed(o["seed"])
    lm = create_model("SequenceLM", vocab_size=enc.vocab_size, embed_dim=o["embed"], hidden_size=o["hidden"],
                      num_layers=o["layers"], cell=o["cell"], dropout=o["dropout"], channels=enc.channels)
    rng = random.Random(o["seed"])
    steps = len(tune_batches(data["train"], o["batch_size"], o["seq_len"]))
    cfg = TrainConfig(epochs=o["epochs"], lr=o["lr"], max_minutes=o["max_minutes"], seed=o["seed"],
                      eval_every=max(10, steps // o["evals_per_epoch"]), patience=o["patience"], clip=1.0)
    result = train_loop(TBPTT(lm), lambda epoch: tune_batches(data["train"], o["batch_size"], o["seq_len"], rng),
                        steps, lambda m: {"nll_per_event": nll_per_event(m.lm, data["dev"])}, cfg,
                        metric="nll_per_event", higher_is_better=False, on_progress=on_progress, stop=stop,
                        count_tokens=lambda b: int((b["targets"] >= 0).sum()))
    events = sum(len(y) for _, y in data["train"])
    extra = {"options": o, "train": config_dict(cfg),
             "data": f"Nottingham folk tunes, {len(data['train'])} for training ({events:,} events); "
                     f"validated on {len(data['dev'])} others",
             "result": {"best": result.best, "steps": result.steps, "stopped": result.stopped,
                        "minutes": round(result.elapsed / 60, 2)}}
    if out_dir is not None:
        save_pretrained(lm, out_dir, NAME, enc.to_dict(), extra, half=o["half"])
    return MelodyGenerator(lm.eval(), enc, {"task": NAME, **extra}), result


# ---- describing generated melodies ---------------------------------------------------

def describe_notes(melodies: list[Melody]) -> dict:
    """Pitch and duration histograms, in-key ratio (white keys) of the notes of ``melodies``."""
    notes = [n for m in melodies for n in m.notes]
    return {"pitch": histogram([p for p, _, _ in notes], PITCH_BINS),
            "duration": histogram([e - s for _, s, e in notes], DURATION_BINS),
            "in_key": in_key_ratio(p for p, _, _ in notes), "notes": len(notes)}


def distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two histograms (0 = same, 1 = disjoint)."""
    return float(0.5 * np.abs(p - q).sum())


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


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev") -> dict:
    """Negative log-likelihood per event on held-out tunes beside the best n-gram, and
    what sampled continuations of each tune's first bars look like (in-key ratio,
    distances of their pitch and duration histograms to those of the bars the tunes
    really continue with) beside the n-gram's samples.

    ``dev``/``test`` are tunes of the standard split; ``all`` scores every tune in the
    folder given (tunes nobody trained on), with the baseline fitted on the standard
    data's training split.
    """
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
    nll = nll_per_event(gen.model, items)
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
                       "pitch_distance": round(distance(d["pitch"], data["pitch"]), 4),
                       "duration_distance": round(distance(d["duration"], data["duration"]), 4),
                       "notes": d["notes"]} for who, d in samples.items()}
    return {"task": NAME, "split": split, "tunes": len(seqs), "events": sum(len(s) - 1 for s in seqs),
            "nll_per_event": round(nll, 4),
            "baseline": {"name": f"event {order}-gram, interpolated Witten-Bell smoothing "
                                 "(order chosen on this split)", "order": order,
                         "nll_per_event": round(by_order[order], 4)},
            "nll_ratio_to_baseline": round(nll / by_order[order], 4),
            "samples": {"primer_bars": PRIMER_BARS, "bars": SAMPLE_BARS, "temperature": 1.0,
                        "data_in_key_ratio": round(data["in_key"], 4), **described},
            "parameters": gen.parameters, "cell": gen.describe()}


def bench(weights: str | Path | None = None, repeats: int = 20, retrain: bool = False,
          data_dir: str | None = None) -> dict:
    """Print the time to generate 16 bars (and to synthesise them, separately) and
    training throughput (events/s)."""
    import time

    from ..bench import describe_machine, time_calls, train_throughput
    from ..encoders.midi import melody_to_midi
    from ..synth import render

    gen = MelodyGenerator.from_pretrained(weights)
    made = {}

    def one(variations=1):
        made["r"], _ = gen.generate(None, bars=16, variations=variations, seed=len(made))

    single = time_calls(one, repeats, warmup=2)
    four = time_calls(lambda: one(4), max(3, repeats // 4), warmup=1)
    midi = melody_to_midi(made["r"][0].melody, 120)
    synth = time_calls(lambda: render(midi.instruments[0].notes), max(3, repeats // 2), warmup=1)
    lm = create_model(gen.model.architecture, **gen.model.model_args)
    enc = gen.encoder
    items = [(torch.randint(0, enc.vocab_size, (600, enc.channels)), torch.randint(0, enc.vocab_size, (600,)))
             for _ in range(32 * 4)]
    eps = train_throughput(TBPTT(lm), tune_batches(items, 32, 256), lambda b: int((b["targets"] >= 0).sum()))
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"16 bars (4/4, {made['r'][0].melody.length} steps), one variation: p50 {single['p50_ms']:.0f} ms, "
          f"p95 {single['p95_ms']:.0f} ms")
    print(f"16 bars, four variations at once: p50 {four['p50_ms']:.0f} ms, p95 {four['p95_ms']:.0f} ms")
    print(f"synthesising the 16 bars to audio (separately): p50 {synth['p50_ms']:.0f} ms, "
          f"p95 {synth['p95_ms']:.0f} ms")
    print(f"training throughput: {eps:,.0f} events/s (32 tunes x 256-event chunks)")
    out = {"generate_16_bars": single, "generate_16_bars_4_variations": four, "synthesis": synth,
           "train_events_per_s": eps}
    if retrain:
        t = time.perf_counter()
        _, result = train(retrain_options({})[0], data_dir=data_dir)
        out["retrain"] = {"seconds": time.perf_counter() - t, **result.best}
        print(f"retrain with the UI's defaults: {out['retrain']['seconds']:.0f} s, "
              f"dev {result.best['nll_per_event']:.3f} nats/event")
    return out

