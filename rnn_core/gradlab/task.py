"""The lab's long-range memory task: remember the first symbol across a gap.

Each sequence starts with one of `SYMBOLS` signal symbols, then ``gap`` distractor
steps (a blank symbol); after the last one the network must name the first symbol (a
many-to-one classification). Nothing between the first step and the answer carries
any information about it, so the only way to learn the task is to carry it across the
whole gap, and the gradient that teaches the first step to store it must travel back
through every distractor step (backpropagation through time). Chance is 1 / `SYMBOLS`.

This is the "remember the first symbol" version of Hochreiter & Schmidhuber's (1997)
long-time-lag experiments (their noise-free variant). Measured on one core, a 32-unit
LSTM solves it at a 100-step gap in about 10 s; with four random distractor symbols
instead of one blank it needed about 40 s and more on some seeds, too close to the
lab's one-minute budget, so the gap is blank (the plain RNN fails either way).

Data is made on the fly from a seed: the same seed gives the same batches.
"""
from __future__ import annotations

import torch

SYMBOLS = 4        # what is to be remembered (chance = 1/4)
DISTRACTORS = 1    # what fills the gap (one blank symbol; `make_batch` takes any number)
VOCAB = SYMBOLS + DISTRACTORS
CHANCE = 1.0 / SYMBOLS


def make_batch(batch_size: int, gap: int, generator: torch.Generator) -> dict:
    """A batch of sequences of ``gap + 1`` steps, one-hot encoded.

    Returns:
        ``{"x": (B, gap + 1, VOCAB) float, "targets": (B,) long}``: the keyword
        arguments of `MemoryNet.forward`.
    """
    first = torch.randint(0, SYMBOLS, (batch_size,), generator=generator)
    rest = torch.randint(SYMBOLS, VOCAB, (batch_size, gap), generator=generator)
    tokens = torch.cat([first[:, None], rest], dim=1)
    return {"x": torch.nn.functional.one_hot(tokens, VOCAB).float(), "targets": first}


def batches(seed: int, epoch: int, steps: int, batch_size: int, gap: int):
    """The ``steps`` training batches of one epoch, a stream of its own per (seed, epoch)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch + 1)
    for _ in range(steps):
        yield make_batch(batch_size, gap, g)


def fixed_batch(seed: int, batch_size: int, gap: int) -> dict:
    """A batch that is the same for every call with the same arguments (validation, probe)."""
    return make_batch(batch_size, gap, torch.Generator().manual_seed(10_000_019 + seed))
