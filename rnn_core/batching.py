"""Padding and length-bucketed batching shared by the sequence tasks."""
from __future__ import annotations

import random

import numpy as np
import torch


def pad_batch(seqs: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a (B, T) tensor; returns (ids, lengths)."""
    lengths = torch.tensor([max(1, len(s)) for s in seqs])
    x = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return x, lengths


def pad_subwords(subs: list[list[list[int]]], length: int) -> torch.Tensor:
    """Per-token id lists (e.g. character n-grams) padded with 0 into (B, T, K)."""
    k = max(1, max((len(t) for s in subs for t in s), default=1))
    out = torch.zeros(len(subs), length, k, dtype=torch.long)
    for i, s in enumerate(subs):
        for j, t in enumerate(s[:length]):
            out[i, j, :len(t)] = torch.tensor(t, dtype=torch.long)
    return out


def token_batch(seqs: list[list[int]], labels: list[int] | None = None,
            subwords: list[list[list[int]]] | None = None) -> dict:
    """One batch as the keyword arguments of ``model(**batch)``."""
    x, lengths = pad_batch(seqs)
    batch = {"x": x, "lengths": lengths}
    if labels is not None:  # class ids, or (a teacher's) class probabilities per row
        soft = isinstance(labels[0], (list, tuple))
        batch["targets"] = torch.tensor(labels, dtype=torch.float32 if soft else torch.long)
    if subwords is not None:
        batch["subwords"] = pad_subwords(subwords, x.size(1))
    return batch


def bucketed_groups(keys: list, batch_size: int, seed: int | None = None, pool: int = 50) -> list[list[int]]:
    """Indices of the examples in batches of similar ``keys`` (lengths).

    Sorting within pools of ``pool * batch_size`` random examples keeps padding
    (and so wasted recurrence) small while batches stay shuffled; ``seed=None``
    keeps the original order (for evaluation).
    """
    order = list(range(len(keys)))
    rng = random.Random(seed)
    if seed is not None:
        rng.shuffle(order)
        span = pool * batch_size
        order = [i for k in range(0, len(order), span) for i in sorted(order[k:k + span], key=lambda i: keys[i])]
    groups = [order[k:k + batch_size] for k in range(0, len(order), batch_size)]
    if seed is not None:
        rng.shuffle(groups)
    return groups


def bucketed_batches(seqs: list[list[int]], labels: list[int], batch_size: int,
                     seed: int | None = None, pool: int = 50,
                     subwords: list[list[list[int]]] | None = None) -> list[dict]:
    """Batches of similar-length sequences (`bucketed_groups`), as ``model(**batch)``
    keyword dicts. ``subwords``, when given, holds each token's subword ids and
    travels with its sequence."""
    return [token_batch([seqs[i] for i in idx], [labels[i] for i in idx],
                        None if subwords is None else [subwords[i] for i in idx])
            for idx in bucketed_groups([len(s) for s in seqs], batch_size, seed, pool)]


def pad_features(feats: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (T, F) feature matrices into (B, T_max, F); returns (x, lengths)."""
    lengths = torch.tensor([len(f) for f in feats])
    x = torch.zeros(len(feats), int(lengths.max()), feats[0].shape[1])
    for i, f in enumerate(feats):
        x[i, :len(f)] = torch.from_numpy(np.asarray(f, dtype=np.float32))
    return x, lengths
