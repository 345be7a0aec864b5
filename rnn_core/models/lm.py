"""One-to-many head: the next-token language model shared by every generator,
and its truncated-BPTT wrapper for the training loop."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rnn import detach_state, make_rnn, run_rnn, step_rnn


class SequenceLM(nn.Module):
    """One-to-many: embedding -> stacked unidirectional RNN -> next-token logits.

    Shared by every generator (characters, melody events). ``state`` carries the
    recurrence across calls: truncated backpropagation through time during training,
    one token at a time during generation.

    Args:
        vocab_size: number of token ids.
        embed_dim, hidden_size, num_layers, cell, dropout: the recurrent body
            (never bidirectional: a generator cannot read the future).
        channels: token ids read at each step (1 = the previous token; more = extra
            context tokens, e.g. a melody's events one and two bars back, as in
            Magenta's Lookback RNN); their embeddings are concatenated.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, cell: str = "lstm", dropout: float = 0.2, channels: int = 1):
        super().__init__()
        self.channels = channels
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = make_rnn(cell, embed_dim * channels, hidden_size, num_layers, bidirectional=False,
                            dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)

    def _embed(self, x: torch.Tensor, has_channels: bool) -> torch.Tensor:
        e = self.embed(x)
        return e.flatten(-2) if has_channels else e

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)``: ids (with the model's channels)
        and next-token targets."""
        g = torch.Generator().manual_seed(seed)
        vocab = self.embed.num_embeddings
        shape = (batch_size, length) + ((self.channels,) if self.channels > 1 else ())
        return {"x": torch.randint(0, vocab, shape, generator=g),
                "targets": torch.randint(0, vocab, (batch_size, length), generator=g)}

    def step(self, token: torch.Tensor, state=None):
        """Read one step per sequence, (B,) ids (or (B, channels)) -> (logits (B, V),
        new state, top-layer output (B, H)).

        For generation: the hand-written step (`step_rnn`) is many times faster than
        the fused kernel on a single time step, and gives the same numbers."""
        out, state = step_rnn(self.rnn, self._embed(token, token.dim() == 2), state)
        return self.out(out), state, out

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, state=None):
        """x: (B, T) ids, or (B, T, channels); targets: (B, T) next ids (-1 = ignore);
        state: from a previous call.

        Returns:
            ((logits (B, T, V), new state, top-layer outputs (B, T, H)), mean
            cross-entropy per token or None)
        """
        out, state = run_rnn(self.rnn, self.drop(self._embed(x, x.dim() == 3)), lengths, state)
        logits = self.out(self.drop(out))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return (logits, state, out), loss


class TBPTT(nn.Module):
    """Wraps a `SequenceLM` for the shared training loop: each call continues from the state
    the previous call left (detached, so gradients stop at the chunk boundary)."""

    def __init__(self, lm: nn.Module):
        super().__init__()
        self.lm, self.state = lm, None

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """The wrapped LM's example batch."""
        return self.lm.example_batch(batch_size, length, seed)

    def forward(self, x, *, lengths=None, targets=None, reset: bool = False):
        """The wrapped LM's forward from the carried state -> (logits, loss); chunks are
        full-length (``lengths`` is accepted for the head contract and passed on)."""
        if reset:
            self.state = None
        (logits, state, _), loss = self.lm(x, lengths=lengths, targets=targets, state=self.state)
        self.state = detach_state(state)
        return logits, loss
