"""Padding and length-bucketed batching shared by the sequence tasks."""
from __future__ import annotations

import random

import torch


def pad_batch(seqs: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a (B, T) tensor; returns (ids, lengths)."""
    lengths = torch.tensor([max(1, len(s)) for s in seqs])
    x = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return x, lengths


def bucketed_batches(seqs: list[list[int]], labels: list[int], batch_size: int,
                     seed: int | None = None, pool: int = 50) -> list[dict]:
    """Batches of similar-length sequences, as ``model(**batch)`` keyword dicts.

    Sorting within pools of ``pool * batch_size`` random examples keeps padding
    (and so wasted recurrence) small while batches stay shuffled; ``seed=None``
    keeps the original order (for evaluation).
    """
    order = list(range(len(seqs)))
    rng = random.Random(seed)
    if seed is not None:
        rng.shuffle(order)
        span = pool * batch_size
        order = [i for k in range(0, len(order), span)
                 for i in sorted(order[k:k + span], key=lambda i: len(seqs[i]))]
    batches = []
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        x, lengths = pad_batch([seqs[i] for i in idx])
        batches.append({"x": x, "lengths": lengths,
                        "targets": torch.tensor([labels[i] for i in idx], dtype=torch.long)})
    if seed is not None:
        rng.shuffle(batches)
    return batches
