"""Training and evaluating the text generator (one-to-many): a character-level
language model of Tiny Shakespeare.

Training reads the text as parallel contiguous streams cut into chunks, carrying the
recurrent state from one chunk to the next (truncated backpropagation through time),
so the network sees context far longer than one chunk.
"""
from __future__ import annotations

import copy
import itertools
import math
import random
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from ...data.shakespeare import load_text, split as split_text
from ...fit import Plan, fit
from ...models import TBPTT, create_model
from ...runtime import Runtime, device_of
from ...train import TrainResult
from ..spec import Metric
from .data import load_data, nats_per_char, stream_chunks
from .predictor import TextGenerator

METRIC = Metric("val_nats_per_char", "val nats/char", higher_is_better=False)
SPLITS = ("dev", "all")


@dataclass
class Recipe:
    """The shipped model's recipe (`python -m rnn_core train textgen`)."""
    cell: str = "lstm"
    hidden: int = 512
    layers: int = 2
    embed: int = 64
    dropout: float = 0.25
    epochs: int = 60
    lr: float = 2e-3
    batch_size: int = 64              # parallel streams
    seq_len: int = 128                # characters per chunk (truncated BPTT)
    max_minutes: float | None = 50
    seed: int = 0
    half: bool = True                 # store the weights as float16
    live_samples: bool = False        # write a sample at every validation (the UI shows it)
    evals_per_epoch: int = 2


# Named recipes (`TaskSpec.presets`, ``train textgen --preset NAME``): recipe fields over
# the defaults. tiny: seconds on one core (one pass of small batches, no clock, so a
# seed gives one model); large: for a GPU.
PRESETS = {
    "tiny": {"hidden": 32, "layers": 1, "embed": 16, "dropout": 0.0, "epochs": 1, "batch_size": 8,
             "seq_len": 32, "max_minutes": None, "half": False},
    "default": {},
    "large": {"hidden": 1024, "layers": 3, "embed": 128, "dropout": 0.3, "batch_size": 128, "seq_len": 256},
}


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple[TextGenerator, TrainResult]:
    """Train a character LM on the first 90% of Tiny Shakespeare, validating on the rest.

    With ``live_samples``, every validation also writes a short sample (in the
    metrics, as ``sample``) so a UI can show the network learning.

    Returns:
        (a generator around the best weights, the training result)
    """
    return fit(Recipe, plan, TextGenerator, options, data_dir, out_dir, on_progress=on_progress, stop=stop,
               runtime=runtime, max_steps=max_steps)


def plan(r: Recipe, data_dir: str | None = None) -> Plan:
    """The text, its streams and the network of recipe ``r`` (`rnn_core.fit`)."""
    enc, train_ids, val_ids = load_data(None if data_dir is None else str(data_dir))
    rng = random.Random(r.seed)
    steps = len(stream_chunks(train_ids, r.batch_size, r.seq_len))
    seeds = itertools.count()

    def network():
        return TBPTT(create_model("SequenceLM", vocab_size=enc.vocab_size, embed_dim=r.embed,
                                  hidden_size=r.hidden, num_layers=r.layers, cell=r.cell, dropout=r.dropout))

    def epoch_batches(epoch):
        # a new offset each epoch, so chunk boundaries fall in new places
        return stream_chunks(train_ids, r.batch_size, r.seq_len, offset=rng.randrange(r.seq_len))

    def validate(m):
        metrics = {"val_nats_per_char": nats_per_char(m.lm, val_ids)}
        if r.live_samples:  # the generator samples on the CPU (a copy, if training runs elsewhere)
            gen = TextGenerator(m.lm if device_of(m.lm).type == "cpu" else copy.deepcopy(m.lm).cpu(), enc, {})
            metrics["sample"] = "".join(s.char for s in gen.generate("\n", 160, temperature=0.8, seed=next(seeds)))
        return metrics

    def figures(m, result):
        best = result.best.get("val_nats_per_char", math.nan)
        return {"best": {"val_nats_per_char": best},  # not the live sample
                "bits_per_char": best / math.log(2)}

    return Plan(encoder=enc, network=network, epoch_batches=epoch_batches, steps_per_epoch=steps,
                validate=validate, metric=METRIC, count=lambda b: b["x"].numel(),
                data=f"Tiny Shakespeare, first 90% ({len(train_ids):,} characters); "
                     f"validated on the last 10% ({len(val_ids):,})",
                loop={"eval_every": max(20, steps // r.evals_per_epoch), "patience": 6, "clip": 1.0},
                saved=lambda m: m.lm, figures=figures, save={"half": r.half})


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "dev",
             device: str = "cpu") -> dict:
    """Validation nats (and bits) per character of a checkpoint beside the n-gram baseline.

    ``dev`` is the last 10% of the text; ``all`` scores the whole file given (text
    nobody trained on), with the baseline fitted on the standard training split.
    """
    from ...baselines import char_ngram

    if split not in SPLITS:
        raise ValueError(f"textgen has no split {split!r} (Tiny Shakespeare has train and validation "
                         f"only); choose {' or '.join(SPLITS)}")
    gen = TextGenerator.from_pretrained(weights)
    text = load_text(data_dir)
    if split == "all":
        train_text = split_text(load_text())[0]  # the standard data's training part
        scored = text
    else:
        train_text, scored = split_text(text)
    ids = torch.tensor(gen.encoder.encode(scored), dtype=torch.long)
    nats = nats_per_char(gen.model.to(device), ids)
    baseline = char_ngram(train_text, scored)
    return {"task": TextGenerator.task, "split": split, "characters": len(ids),
            "val_nats_per_char": round(nats, 4), "val_bits_per_char": round(nats / math.log(2), 4),
            "baseline": {k: baseline[k] for k in ("name", "order", "val_nats_per_char")},
            "parameters": gen.parameters, "cell": gen.describe()}


