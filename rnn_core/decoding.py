"""Decoding: sampling the next token of a language model (temperature, top-k, top-p)."""
from __future__ import annotations

import torch


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0) -> torch.Tensor:
    """Next-token probabilities after temperature, top-k and nucleus (top-p) filtering.

    Args:
        logits: (V,) scores.
        temperature: > 0; below 1 sharpens, above 1 flattens.
        top_k: keep only the k most likely tokens (0 = all).
        top_p: keep the smallest set of most likely tokens whose probability
            reaches ``top_p`` (1 = all).

    Returns:
        (V,) probabilities summing to 1, zero outside the kept set.
    """
    probs = torch.softmax(logits.float() / max(temperature, 1e-4), dim=-1)
    if 0 < top_k < probs.numel():
        kth = torch.topk(probs, top_k).values[-1]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        cum = torch.cumsum(sorted_p, 0) / sorted_p.sum()
        # keep a token if the mass before it is still below top_p (so the first always stays)
        keep_sorted = (cum - sorted_p / sorted_p.sum()) < top_p
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[order[keep_sorted]] = True
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    return probs / probs.sum()


def sample(logits: torch.Tensor, generator: torch.Generator, temperature: float = 1.0,
           top_k: int = 0, top_p: float = 1.0) -> tuple[int, torch.Tensor]:
    """Draw one token id; returns (id, the filtered distribution it was drawn from)."""
    probs = filter_logits(logits, temperature, top_k, top_p)
    return int(torch.multinomial(probs, 1, generator=generator)), probs
