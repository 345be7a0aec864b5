"""Training the English -> French translator: a bidirectional GRU encoder and an
attentional GRU decoder (`rnn_core.models.Seq2Seq`) on Tatoeba's pairs, split by
English sentence; validation is the decoder's loss per French token on the dev part."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ...data.tatoeba import load_pairs, split_pairs
from ...encoders.bilingual import PairEncoder
from ...fit import Plan, fit
from ...models import create_model
from ...runtime import Runtime
from ...train import TrainResult
from ..spec import Metric
from .data import batches, encode_pairs, token_loss
from .predictor import Translator

METRIC = Metric("val_loss", "dev loss per French token (nats)", higher_is_better=False)


@dataclass
class Recipe:
    """The shipped model's recipe (`python -m rnn_core train translation`)."""
    attention: str = "general"        # general | dot | additive | none (the 2014 fixed vector)
    cell: str = "gru"
    embed: int = 256
    hidden: int = 256                 # per encoder direction; the decoder has twice this
    dropout: float = 0.2
    label_smoothing: float = 0.1
    min_freq: int = 3                 # words seen fewer times in training are <unk>
    sample_share: float = 0.0         # scheduled sampling: the share of the decoder's inputs
                                      # taken from its own predictions by the end of training
    epochs: int = 8
    lr: float = 2e-3
    batch_size: int = 64
    max_minutes: float | None = 100
    train_pairs: int | None = None    # use only this many training pairs (None: all)
    seed: int = 0
    half: bool = True                 # store the weights as float16
    int8_embeddings: bool = True      # and the two embedding tables (most of the size) as int8
    evals_per_epoch: int = 2


# tiny: seconds on one core (tests); large: for a GPU.
PRESETS = {
    "tiny": {"embed": 16, "hidden": 16, "epochs": 1, "batch_size": 8, "max_minutes": None, "half": False,
             "dropout": 0.0, "train_pairs": 200, "min_freq": 1, "int8_embeddings": False},
    "default": {},
    "large": {"embed": 512, "hidden": 512, "batch_size": 128, "epochs": 20, "min_freq": 1},
}


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple[Translator, TrainResult]:
    """Train a translator on Tatoeba's training part, validating on its dev part.

    Returns:
        (a translator around the best weights, the training result)
    """
    return fit(Recipe, plan, Translator, options, data_dir, out_dir, on_progress=on_progress, stop=stop,
               runtime=runtime, max_steps=max_steps)


def plan(r: Recipe, data_dir: str | None = None) -> Plan:
    """The pairs, their batches and the network of recipe ``r`` (`rnn_core.fit`)."""
    parts = split_pairs(load_pairs(data_dir))
    train_pairs = parts["train"][:r.train_pairs] if r.train_pairs else parts["train"]
    enc = PairEncoder.build(train_pairs, min_freq=r.min_freq)
    train_items = encode_pairs(enc, train_pairs)
    dev_items = encode_pairs(enc, parts["dev"] or parts["train"][:50])
    steps = -(-len(train_items) // r.batch_size)
    total = steps * r.epochs

    def network():
        return create_model("Seq2Seq", src_vocab=len(enc.src), tgt_vocab=len(enc.tgt), embed_dim=r.embed,
                            hidden_size=r.hidden, cell=r.cell, attention=r.attention, dropout=r.dropout,
                            label_smoothing=r.label_smoothing)

    def epoch_batches(epoch):
        # the share of sampled inputs grows linearly with the epochs, from 0
        share = r.sample_share * epoch / max(1, r.epochs - 1)
        return [{**b, "sample_share": share} for b in batches(train_items, r.batch_size, seed=r.seed + epoch)]

    return Plan(encoder=enc, network=network, epoch_batches=epoch_batches, steps_per_epoch=steps,
                validate=lambda m: {"val_loss": round(token_loss(m, dev_items), 4)}, metric=METRIC,
                count=lambda b: int((b["targets"] != 0).sum()),
                data=f"Tatoeba English-French, training part ({len(train_items):,} pairs, "
                     f"split by English sentence); validated on the dev part ({len(dev_items):,} pairs)",
                loop={"eval_every": max(20, steps // r.evals_per_epoch), "patience": 4, "clip": 1.0},
                save={"half": r.half, "int8_embeddings": r.int8_embeddings}, figures=lambda m, result: {"steps_planned": total})
