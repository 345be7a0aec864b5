"""Building and running the recurrent cells every head is made of.

``nn.RNN``/``nn.LSTM``/``nn.GRU`` by name (`make_rnn`), their zero state, a packed
run over a padded batch, the final hidden state, and a hand-written single step
for fast generation.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


CELLS = ("rnn", "lstm", "gru")


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
             bidirectional: bool = False, dropout: float = 0.0) -> nn.RNNBase:
    """Build a batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU`` from its name.

    The torch modules are used (not hand-written cells) because they take the fast
    oneDNN path on CPU. Dropout only applies between stacked layers, so it is
    dropped for one layer to avoid torch's warning.
    """
    cell = cell.lower()
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return getattr(nn, cell.upper())(
        input_size, hidden_size, num_layers=num_layers, batch_first=True,
        bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)


def init_state(rnn: nn.RNNBase, batch_size: int):
    """Zero initial state: ``(h, c)`` for an LSTM, ``h`` for a GRU or RNN."""
    p = next(rnn.parameters())
    dirs = 2 if rnn.bidirectional else 1
    h = p.new_zeros(rnn.num_layers * dirs, batch_size, rnn.hidden_size)
    return (h, h.clone()) if isinstance(rnn, nn.LSTM) else h


def run_rnn(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor | None = None, state=None):
    """Run ``rnn`` over a padded batch, packing it when lengths are given.

    Packing keeps padding out of the recurrence, so the backward direction of a
    bidirectional net starts at each sequence's real last token.

    Returns:
        (outputs padded to ``x``'s length, final state)
    """
    if lengths is None:
        return rnn(x, state)
    packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True,
                                  enforce_sorted=False)
    out, state = rnn(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
    return out, state


def final_hidden(rnn: nn.RNNBase, state) -> torch.Tensor:
    """The top layer's final hidden state, both directions concatenated: (B, H*dirs)."""
    h = state[0] if isinstance(state, tuple) else state
    dirs = 2 if rnn.bidirectional else 1
    return torch.cat([h[-dirs + i] for i in range(dirs)], dim=-1)


def step_rnn(rnn: nn.RNNBase, x: torch.Tensor, state=None):
    """One time step of a unidirectional ``nn.RNN/LSTM/GRU``, written out by hand.

    Generation feeds one token at a time; for a single step, torch's fused CPU
    kernel spends milliseconds on setup (a 2x512 LSTM ran at ~230 steps/s), while
    these few matrix products run at thousands per second. Same weights, same state
    layout as the module; tests check it matches it to 1e-5.

    Args:
        x: (B, input_size) the step's input.
        state: as returned by the module (``(h, c)`` for an LSTM), or None.

    Returns:
        (top layer's output (B, H), new state)
    """
    is_lstm, is_gru = isinstance(rnn, nn.LSTM), isinstance(rnn, nn.GRU)
    if state is None:
        state = init_state(rnn, x.size(0))
    h_all, c_all = state if is_lstm else (state, None)
    hs, cs, inp = [], [], x
    for layer in range(rnn.num_layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
        h = h_all[layer]
        gi, gh = F.linear(inp, w_ih, b_ih), F.linear(h, w_hh, b_hh)
        if is_lstm:
            i, f, g, o = (gi + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c_all[layer] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            cs.append(c)
        elif is_gru:
            ir, iz, in_ = gi.chunk(3, dim=-1)
            hr, hz, hn = gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            h = (1 - z) * torch.tanh(in_ + r * hn) + z * h
        else:
            h = torch.tanh(gi + gh) if rnn.nonlinearity == "tanh" else torch.relu(gi + gh)
        hs.append(h)
        inp = h
    h_new = torch.stack(hs)
    return inp, ((h_new, torch.stack(cs)) if is_lstm else h_new)


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
