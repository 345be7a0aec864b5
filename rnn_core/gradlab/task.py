"""The lab's long-range memory task: remember the first symbol across a gap.

Each sequence starts with one of `SYMBOLS` signal symbols, then ``gap`` distractor
steps, each a random one of `DISTRACTORS` symbols of their own; after the last one
the network must name the first symbol (a many-to-one classification). Nothing
between the first step and the answer carries any information about it, so the only
way to learn the task is to carry it across the whole gap, and the gradient that
teaches the first step to store it must travel back through every distractor step
(backpropagation through time). Chance is 1 / `SYMBOLS`.

This is the "remember the first symbol" version of Hochreiter & Schmidhuber's (1997)
long-time-lag experiments. The gap is random, not one blank symbol repeated: with a
blank there are only `SYMBOLS` different sequences, so a network whose final state
merely differs by first symbol is "solved" by its read-out alone (measured: a random
radius-2 RNN scored 100% before any training on one seed). Measured on one core with
the lab's settings (radius 0.6, Adam at 0.001), a 32-unit LSTM solves the random gap
of 100 steps in about 2 s.

Data is made on the fly from a seed: the same seed gives the same batches.
"""
from __future__ import annotations

import torch

SYMBOLS = 4        # what is to be remembered (chance = 1/4)
DISTRACTORS = 4    # what fills the gap: random symbols of their own (`make_batch` takes any number)
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
