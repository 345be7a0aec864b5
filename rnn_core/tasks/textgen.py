"""Text generation (one-to-many): a character-level language model of Tiny Shakespeare.

Training reads the text as parallel contiguous streams cut into chunks, carrying the
recurrent state from one chunk to the next (truncated backpropagation through time),
so the network sees context far longer than one chunk.
"""
from __future__ import annotations

import functools
import itertools
import math
import random
import threading
from pathlib import Path

import torch
import torch.nn as nn

from ..checkpoint import save_pretrained
from ..data.shakespeare import load_text, split as split_text
from ..encoders.text import CharEncoder
from ..models import TBPTT, create_model
from ..train import TrainConfig, TrainResult, config_dict, train as train_loop
from .options import Option, clamp_options
from .textgen_predictor import TextGenerator

NAME = "textgen"
DATA_SOURCE = "tinyshakespeare"
PREDICTOR = TextGenerator

# The shipped model's recipe (`python -m rnn_core train textgen`).
PRESET = {"cell": "lstm", "hidden": 512, "layers": 2, "embed": 64, "dropout": 0.25, "epochs": 60,
          "lr": 2e-3, "batch_size": 64, "seq_len": 128, "max_minutes": 50, "seed": 0,
          "half": True, "live_samples": False, "evals_per_epoch": 2}


# What a visitor may set in the retrain panel; the defaults train for 3 minutes.
RETRAIN_OPTIONS = {
    "cell": Option("lstm", choices=("rnn", "lstm", "gru")),
    "hidden": Option(256, 16, 512),
    "layers": Option(1, 1, 3),
    "lr": Option(3e-3, 1e-5, 0.05),
    "epochs": Option(20, 1, 50),
    "max_minutes": Option(3.0, 0.1, 10.0),
}


def retrain_options(values: dict) -> tuple[dict, list[str]]:
    """Clamp a visitor's retrain settings to `RETRAIN_OPTIONS`; returns (options, notes).
    A retrain shows a sample at every validation and keeps full precision."""
    options, notes = clamp_options(values, RETRAIN_OPTIONS)
    # A 3-minute run underfits, so no dropout; one validation an epoch keeps the
    # budget for training.
    return {**options, "live_samples": True, "half": False, "dropout": 0.0, "evals_per_epoch": 1}, notes


@functools.lru_cache(maxsize=2)
def load_data(data_dir: str | None = None):
    """(encoder, train ids, validation ids); the encoder knows every character of the text."""
    text = load_text(data_dir)
    enc = CharEncoder.build(text)
    train_text, val_text = split_text(text)
    return (enc, torch.tensor(enc.encode(train_text), dtype=torch.long),
            torch.tensor(enc.encode(val_text), dtype=torch.long))


def stream_chunks(ids: torch.Tensor, batch_size: int, seq_len: int, offset: int = 0) -> list[dict]:
    """Cut ``ids`` into ``batch_size`` contiguous streams and those into chunks of
    ``seq_len``: chunk k+1 of every stream continues chunk k, so a carried state is
    the true context. The first chunk of a pass says ``reset``."""
    n = (len(ids) - 1 - offset) // batch_size
    if n < 1:
        raise ValueError(f"{len(ids)} tokens are too few for {batch_size} streams")
    x = ids[offset:offset + batch_size * n].view(batch_size, n)
    y = ids[offset + 1:offset + 1 + batch_size * n].view(batch_size, n)
    return [{"x": x[:, t:t + seq_len], "targets": y[:, t:t + seq_len], "reset": t == 0}
            for t in range(0, n, seq_len)]


def nats_per_char(lm: nn.Module, ids: torch.Tensor, streams: int = 16, seq_len: int = 256) -> float:
    """Mean negative log-likelihood (nats) of each character of ``ids`` given all before
    it in its stream (the model reads ``streams`` contiguous pieces in parallel)."""
    total, count, state = 0.0, 0, None
    was_training = lm.training
    lm.eval()
    with torch.no_grad():
        for chunk in stream_chunks(ids, streams, seq_len):
            (logits, state, _), loss = lm(chunk["x"], targets=chunk["targets"], state=state)
            total += float(loss) * chunk["targets"].numel()
            count += chunk["targets"].numel()
    lm.train(was_training)
    return total / count


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None) -> tuple[TextGenerator, TrainResult]:
    """Train a character LM on the first 90% of Tiny Shakespeare, validating on the rest.

    With ``live_samples``, every validation also writes a short sample (in the
    metrics, as ``sample``) so a UI can show the network learning.

    Returns:
        (a generator around the best weights, the training result)
    """
    o = {**PRESET, **(options or {})}
    enc, train_ids, val_ids = load_data(None if data_dir is None else str(data_dir))
    torch.manual_seed(o["seed"])
    lm = create_model("SequenceLM", vocab_size=enc.vocab_size, embed_dim=o["embed"],
                      hidden_size=o["hidden"], num_layers=o["layers"], cell=o["cell"], dropout=o["dropout"])
    model = TBPTT(lm)
    rng = random.Random(o["seed"])
    steps = len(stream_chunks(train_ids, o["batch_size"], o["seq_len"]))
    cfg = TrainConfig(epochs=o["epochs"], lr=o["lr"], max_minutes=o["max_minutes"], seed=o["seed"],
                      eval_every=max(20, steps // o["evals_per_epoch"]), patience=6, clip=1.0)

    def epoch_batches(epoch):
        # a new offset each epoch, so chunk boundaries fall in new places
        return stream_chunks(train_ids, o["batch_size"], o["seq_len"], offset=rng.randrange(o["seq_len"]))

    def validate(m):
        metrics = {"val_nats_per_char": nats_per_char(m.lm, val_ids)}
        if o["live_samples"]:
            gen = TextGenerator(m.lm, enc, {})
            metrics["sample"] = "".join(s.char for s in gen.generate("\n", 160, temperature=0.8, seed=next(seeds)))
        return metrics

    seeds = itertools.count()
    result = train_loop(model, epoch_batches, steps, validate, cfg,
                        metric="val_nats_per_char", higher_is_better=False,
                        on_progress=on_progress, stop=stop, count_tokens=lambda b: b["x"].numel())
    best = result.best.get("val_nats_per_char", math.nan)
    extra = {"options": o, "train": config_dict(cfg),
             "data": f"Tiny Shakespeare, first 90% ({len(train_ids):,} characters); "
                     f"validated on the last 10% ({len(val_ids):,})",
             "result": {"best": {"val_nats_per_char": best}, "bits_per_char": best / math.log(2),
                        "steps": result.steps, "stopped": result.stopped, "minutes": round(result.elapsed / 60, 2)}}
    if out_dir is not None:
        save_pretrained(lm, out_dir, NAME, enc.to_dict(), extra, half=o["half"])
    return TextGenerator(lm.eval(), enc, {"task": NAME, **extra}), result


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev") -> dict:
    """Validation nats (and bits) per character of a checkpoint beside the n-gram baseline.

    ``dev`` is the last 10% of the text; ``all`` scores the whole file given (text
    nobody trained on), with the baseline fitted on the standard training split.
    """
    from ..baselines import char_ngram

    if split == "test":
        raise ValueError("Tiny Shakespeare has train and validation only; use --split dev (or all)")
    gen = TextGenerator.from_pretrained(weights)
    text = load_text(data_dir)
    if split == "all":
        train_text = split_text(load_text())[0]  # the standard data's training part
        scored = text
    else:
        train_text, scored = split_text(text)
    ids = torch.tensor(gen.encoder.encode(scored), dtype=torch.long)
    nats = nats_per_char(gen.model, ids)
    baseline = char_ngram(train_text, scored)
    return {"task": NAME, "split": split, "characters": len(ids),
            "val_nats_per_char": round(nats, 4), "val_bits_per_char": round(nats / math.log(2), 4),
            "baseline": {k: baseline[k] for k in ("name", "order", "val_nats_per_char")},
            "parameters": gen.parameters, "cell": gen.describe()}


def bench(weights: str | Path | None = None, repeats: int = 200, retrain: bool = False,
          data_dir: str | None = None) -> dict:
    """Print generation speed for one visitor and training throughput (characters/s)."""
    import time

    from ..bench import describe_machine, train_throughput

    gen = TextGenerator.from_pretrained(weights)
    prime, _ = gen.prepare("ROMEO:\n")
    n = max(100, repeats * 5)
    list(gen.generate(prime, 20))  # warm-up
    t = time.perf_counter()
    for _ in gen.generate(prime, n, temperature=0.8, seed=1):
        pass
    cps = n / (time.perf_counter() - t)
    lm = create_model(gen.model.architecture, **gen.model.model_args)
    ids = torch.randint(0, gen.encoder.vocab_size, (64 * 128 * 8 + 1,))
    tps = train_throughput(TBPTT(lm), stream_chunks(ids, 64, 128), lambda b: b["x"].numel())
    print(f"machine: {describe_machine()}; model: {gen.describe()}")
    print(f"generation, one visitor: {cps:,.0f} characters/s ({n} characters, with the hidden state recorded)")
    print(f"training throughput: {tps:,.0f} characters/s (64 streams x 128)")
    out = {"generate_chars_per_s": cps, "train_chars_per_s": tps}
    if retrain:
        t = time.perf_counter()
        _, result = train(retrain_options({})[0], data_dir=data_dir)
        out["retrain"] = {"seconds": time.perf_counter() - t, **result.best}
        print(f"retrain with the UI's defaults: {out['retrain']['seconds']:.0f} s, "
              f"val {result.best['val_nats_per_char']:.3f} nats/char")
    return out
