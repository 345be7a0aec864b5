"""Training the melody generator (one-to-many): a language model of folk-tune events.

Nottingham tunes, moved to C major / A minor, become event tokens on a 16th-note
grid (`rnn_core.encoders.events`). Training reads tunes in batches of similar length,
each tune from its start, cut into chunks with the state carried between them.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path

from ...fit import Plan, fit
from ...models import TBPTT, create_model
from ...runtime import Runtime
from ...train import TrainResult
from ..spec import Metric
from .data import load_data, nll_per_event, tune_batches
from .predictor import MelodyGenerator

METRIC = Metric("nll_per_event", "dev nats/event", higher_is_better=False)


@dataclass
class Recipe:
    """The shipped model's recipe (`python -m rnn_core train melody`)."""
    cell: str = "lstm"
    hidden: int = 384
    layers: int = 2
    embed: int = 32
    dropout: float = 0.3
    epochs: int = 80
    lr: float = 2e-3
    batch_size: int = 32
    seq_len: int = 256                # events per chunk (truncated BPTT)
    max_minutes: float | None = 25
    seed: int = 0
    half: bool = True                 # store the weights as float16
    evals_per_epoch: int = 1
    patience: int | None = 8          # validations without improvement before stopping
    lookback: str = "1,2,4,8"         # bars back whose events are also read ("" = none)


# Named recipes (`TaskSpec.presets`, ``train melody --preset NAME``): recipe fields over
# the defaults. tiny: seconds on one core (one pass of small batches, no clock, so a
# seed gives one model); large: for a GPU.
PRESETS = {
    "tiny": {"hidden": 32, "layers": 1, "embed": 16, "dropout": 0.0, "epochs": 1, "batch_size": 8,
             "seq_len": 64, "max_minutes": None, "half": False},
    "default": {},
    "large": {"hidden": 768, "layers": 3, "embed": 64, "dropout": 0.4, "batch_size": 64},
}


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple[MelodyGenerator, TrainResult]:
    """Train an event LM on the training tunes, validating on the dev tunes.

    Returns:
        (a generator around the best weights, the training result)
    """
    return fit(Recipe, plan, MelodyGenerator, options, data_dir, out_dir, on_progress=on_progress, stop=stop,
               runtime=runtime, max_steps=max_steps)


def plan(r: Recipe, data_dir: str | None = None) -> Plan:
    """The tunes, their batches and the network of recipe ``r`` (`rnn_core.fit`)."""
    enc, data = load_data(data_dir, r.lookback)
    rng = random.Random(r.seed)
    steps = len(tune_batches(data["train"], r.batch_size, r.seq_len))
    events = sum(len(y) for _, y in data["train"])

    def network():
        return TBPTT(create_model("SequenceLM", vocab_size=enc.vocab_size, embed_dim=r.embed, hidden_size=r.hidden,
                                  num_layers=r.layers, cell=r.cell, dropout=r.dropout, channels=enc.channels))

    return Plan(encoder=enc, network=network, steps_per_epoch=steps,
                epoch_batches=lambda epoch: tune_batches(data["train"], r.batch_size, r.seq_len, rng),
                validate=lambda m: {"nll_per_event": nll_per_event(m.lm, data["dev"])}, metric=METRIC,
                count=lambda b: int((b["targets"] >= 0).sum()),
                data=f"Nottingham folk tunes, {len(data['train'])} for training ({events:,} events); "
                     f"validated on {len(data['dev'])} others",
                loop={"eval_every": max(10, steps // r.evals_per_epoch), "patience": r.patience, "clip": 1.0},
                saved=lambda m: m.lm, save={"half": r.half})
