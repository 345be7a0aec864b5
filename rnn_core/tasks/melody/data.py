"""Nottingham tunes as model inputs: event tokens (`rnn_core.encoders.events`) of
each key-normalised tune, batched by length and cut into chunks that continue each
other, and how well a language model predicts them."""
from __future__ import annotations

import random

import torch

from ...data.nottingham import load_tunes
from ...encoders.events import MelodyEncoder
from ...encoders.melody import Melody
from ...models import TBPTT
from ...runtime import device_of, evaluating, to_device


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
    model, total, count, device = TBPTT(lm), 0.0, 0, device_of(lm)
    with evaluating(lm):
        for b in tune_batches(items, 64, 512):
            b = to_device(b, device)
            _, loss = model(**b)
            n = int((b["targets"] >= 0).sum())
            total, count = total + float(loss) * n, count + n
    return total / count
