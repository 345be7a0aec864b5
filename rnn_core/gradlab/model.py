"""The lab's network: one recurrent layer (RNN, LSTM or GRU) reading one-hot symbols,
and a linear read-out of its last hidden state.

Training runs the fused ``nn.RNN/LSTM/GRU`` (fast on CPU). The measurements
(`rnn_core.gradlab.probe`) unroll the same module step by step with
`rnn_core.models.step_rnn`, sharing its weights, so every hidden state is a node of
the graph whose gradient can be read.

The recurrent weight scale: at initialisation every square block of ``weight_hh``
(one per gate) is rescaled to the spectral radius asked for, the quantity that
decides whether a plain RNN's gradient shrinks (< 1) or grows (> 1) step by step.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.rnn import make_rnn
from .task import SYMBOLS, VOCAB


def hh_blocks(rnn: nn.RNNBase) -> list[torch.Tensor]:
    """The square recurrent blocks of ``weight_hh_l0``: one for an RNN, one per gate
    (LSTM: input, forget, cell, output; GRU: reset, update, new)."""
    w = rnn.weight_hh_l0
    return list(w.detach().split(rnn.hidden_size, dim=0))


def spectral_radius(rnn: nn.RNNBase) -> float:
    """The largest |eigenvalue| over the recurrent blocks of ``weight_hh_l0``."""
    return max(float(torch.linalg.eigvals(b).abs().max()) for b in hh_blocks(rnn))


class MemoryNet(nn.Module):
    """One recurrent layer + a linear read-out of the last state (many-to-one).

    Args:
        cell: ``rnn``, ``lstm`` or ``gru``.
        hidden: hidden units.
        scale: spectral radius every recurrent block is rescaled to at init.
        memory_bias: added at init to the bias of the gate that keeps the memory: the
            LSTM's forget gate, the GRU's update gate (a plain RNN has none). A bias
            b keeps about sigmoid(b) of the memory per step: 0.73 at 1 (the usual
            LSTM choice) fades over a few steps, 0.993 at 5 lasts about 150 steps, the
            scale of the lab's gaps (cf. the "chrono" initialisation of Tallec &
            Ollivier 2018). Measured at a 100-step gap, 32 units: with the lab's
            settings (random gap, radius 0.6, Adam at 0.001) a bias of 1 left the LSTM
            at chance (29%) after 30 s, 5 solves it in about 2 s; earlier (blank gap,
            radius 1, Adam at 0.01) 1 and 3 were at chance after 30 s, 5 took 10 s.
    """

    def __init__(self, cell: str, hidden: int, scale: float, memory_bias: float = 5.0):
        super().__init__()
        self.cell = cell
        self.rnn = make_rnn(cell, VOCAB, hidden)
        self.head = nn.Linear(hidden, SYMBOLS)
        with torch.no_grad():
            w = self.rnn.weight_hh_l0
            for i, block in enumerate(hh_blocks(self.rnn)):
                radius = float(torch.linalg.eigvals(block).abs().max())
                w[i * hidden:(i + 1) * hidden] *= scale / max(radius, 1e-8)
            if cell in ("lstm", "gru"):  # the forget (LSTM) and update (GRU) gates are both second
                self.rnn.bias_ih_l0[hidden:2 * hidden] += memory_bias

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None):
        """``x``: (B, L, VOCAB) one-hot -> (logits (B, SYMBOLS), mean cross-entropy or None)."""
        out, _ = self.rnn(x)
        logits = self.head(out[:, -1])
        return logits, (F.cross_entropy(logits, targets) if targets is not None else None)
