"""Sentence pairs as the network reads them: id lists, length-bucketed batches, and
the decoder's validation loss."""
from __future__ import annotations

import math

import torch

from ...batching import bucketed_groups, pad_batch
from ...encoders.bilingual import PairEncoder

MAX_TOKENS = 40  # training pairs longer than this on either side are left out (0.1%)


def encode_pairs(enc: PairEncoder, pairs) -> list[tuple[list[int], list[int]]]:
    """(source ids, target ids) of each pair, without those over `MAX_TOKENS`."""
    out = []
    for en, fr in pairs:
        src, tgt = enc.encode(en), enc.encode_target(fr)
        if len(src) <= MAX_TOKENS and len(tgt) <= MAX_TOKENS + 2:
            out.append((src, tgt))
    return out


def pair_batch(items: list[tuple[list[int], list[int]]]) -> dict:
    """One batch as ``model(**batch)``'s keyword arguments."""
    x, lengths = pad_batch([s for s, _ in items])
    targets, _ = pad_batch([t for _, t in items])
    return {"x": x, "lengths": lengths, "targets": targets}


def batches(items, batch_size: int, seed: int | None = None) -> list[dict]:
    """Batches of pairs of similar source (then target) length, shuffled when ``seed``
    is given (`rnn_core.batching.bucketed_groups`)."""
    keys = [(len(src), len(tgt)) for src, tgt in items]
    return [pair_batch([items[i] for i in idx]) for idx in bucketed_groups(keys, batch_size, seed)]


@torch.no_grad()
def token_loss(model, items, batch_size: int = 256) -> float:
    """Mean cross-entropy per target token (nats) of teacher-forced decoding."""
    model.eval()
    total = count = 0.0
    for b in batches(items, batch_size):
        _, loss = model(**b)
        n = int((b["targets"][:, 1:] != 0).sum())
        total, count = total + float(loss) * n, count + n
    return total / max(count, 1) if count else math.nan
