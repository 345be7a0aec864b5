"""What the lab measures inside the network: the gradient reaching every time step
(backpropagation through time) and the memory gates' values.

The fused ``nn.RNN/LSTM/GRU`` returns its outputs, but the gradient of an output
tensor is only the direct one from the read-out, not the one that flows back through
the later steps. So the probe unrolls the same module step by step with
`rnn_core.models.step_rnn` (same weights) and keeps the gradient of every carried
state: ``dL/dh_t`` is then the full BPTT gradient, through every later step.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.rnn import step_rnn


def unroll(rnn: nn.RNNBase, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Run ``rnn`` over ``x`` (B, L, input) one step at a time.

    Returns:
        (h_t for t = 1..L, each (B, H); the carried cell state c_t of an LSTM, each
        (1, B, H), empty for an RNN or GRU). All are nodes of one graph.
    """
    hs, cs, state = [], [], None
    for t in range(x.size(1)):
        h, state = step_rnn(rnn, x[:, t], state)
        hs.append(h)
        if isinstance(state, tuple):
            cs.append(state[1])
    return hs, cs


def step_gradients(model, batch: dict) -> dict:
    """The norm of the loss's gradient with respect to each step's state, on ``batch``.

    ``h_norms[t]`` is ``||dL/dh_{t+1}||`` (Frobenius norm over the batch and units; L
    is the batch's mean cross-entropy), the full gradient through every later step.
    For an LSTM ``c_norms[t]`` is the gradient reaching the cell state ``c_{t+1}``
    from the steps after it (the cell's additive path, its "error carousel"); the
    last step's cell feeds nothing later, so it has none (``nan``).

    Args:
        model: a `rnn_core.gradlab.model.MemoryNet` (its ``rnn`` and ``head``).
        batch: ``{"x", "targets"}`` as `rnn_core.gradlab.task.make_batch` gives.

    Returns:
        ``{"h_norms": [...], "c_norms": [...] or None, "loss": float}``; the model's
        parameter gradients are left untouched.
    """
    with torch.enable_grad():
        hs, cs = unroll(model.rnn, batch["x"])
        for node in hs + cs:
            node.retain_grad()
        loss = F.cross_entropy(model.head(hs[-1]), batch["targets"])
        # gradients with respect to the states only: the weights' .grad stay as they were
        torch.autograd.backward(loss, inputs=hs + cs)
    h_norms = [float(h.grad.norm()) for h in hs]
    c_norms = None
    if cs:
        c_norms = [float(c.grad.norm()) if c.grad is not None else math.nan for c in cs[:-1]] + [math.nan]
    return {"h_norms": h_norms, "c_norms": c_norms, "loss": float(loss.detach())}


@torch.no_grad()
def gate_trace(rnn: nn.RNNBase, x: torch.Tensor) -> list[list[float]] | None:
    """The memory gate of one sequence ``x`` (L, input), unit by unit and step by step:
    the forget gate of an LSTM (1 = keep the cell), the update gate of a GRU (1 = keep
    the state). None for a plain RNN, which has no gate.

    Returns:
        ``[unit][step]`` values in 0..1 (H lists of L).
    """
    if isinstance(rnn, nn.LSTM):
        which, parts = 1, 4   # gates are (input, forget, cell, output)
    elif isinstance(rnn, nn.GRU):
        which, parts = 1, 3   # (reset, update, new)
    else:
        return None
    hs, _ = unroll(rnn, x[None])
    h_prev = [torch.zeros(1, rnn.hidden_size)] + hs[:-1]
    w_ih, w_hh = rnn.weight_ih_l0.chunk(parts)[which], rnn.weight_hh_l0.chunk(parts)[which]
    b = rnn.bias_ih_l0.chunk(parts)[which] + rnn.bias_hh_l0.chunk(parts)[which]
    gates = torch.stack([torch.sigmoid(F.linear(x[t], w_ih) + F.linear(h[0], w_hh) + b)
                         for t, h in enumerate(h_prev)], dim=1)  # (H, L)
    return gates.tolist()
