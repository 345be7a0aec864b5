"""Many-to-many head: a CTC speech recogniser, with its padding-mask and
convolution-length helpers."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rnn import make_rnn, run_rnn


def _mask_time(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero (B, T, ...) frames at or beyond each sequence's length."""
    keep = torch.arange(x.size(1), device=x.device)[None, :] < lengths.to(x.device)[:, None]
    return x * keep.view(*keep.shape, *([1] * (x.dim() - 2))).to(x.dtype)


def _conv_length(conv: nn.Conv1d, lengths: torch.Tensor) -> torch.Tensor:
    """Output frames of ``conv`` over inputs of ``lengths`` frames (torch's formula)."""
    (k,), (s,), (p,), (d,) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    return torch.div(lengths + 2 * p - d * (k - 1) - 1, s, rounding_mode="floor") + 1


class CTCRecognizer(nn.Module):
    """Many-to-many: audio frames -> (conv front end) -> bidirectional RNN -> per-frame
    label log-probabilities, trained with CTC (Graves et al., 2006).

    CTC needs no frame-level alignment: the network emits one label or a blank per
    frame, and the loss sums over every path that collapses to the transcript. A
    speech recogniser may listen to the whole utterance before deciding, so the RNN
    is always bidirectional.

    Args:
        vocab_size: CTC labels, blank (id 0) included.
        n_mels: features per input frame.
        hidden_size, num_layers, cell, dropout: the recurrent body (per direction).
        conv_channels: 0 = the RNN reads the features directly; else two Conv1d
            layers over time (kernel 5 stride 2, then kernel 3) with that many
            channels, each followed by a per-frame LayerNorm and ReLU. The stride
            halves the frames the RNN reads (10 ms -> 20 ms, still several per
            letter) and so roughly halves its cost.

    Padding never changes a sequence's output: frames past each length are zeroed
    before and after every convolution (so a conv sees the same zeros an unpadded
    sequence is padded with), the norm is per frame (a GroupNorm or BatchNorm over
    time would mix padding into the statistics), and the RNN is packed.
    """

    KERNELS = ((5, 2, 2), (3, 1, 1))  # (kernel, stride, padding) of the two conv layers

    def __init__(self, vocab_size: int, n_mels: int = 40, hidden_size: int = 128, num_layers: int = 2,
                 cell: str = "gru", dropout: float = 0.1, conv_channels: int = 0):
        super().__init__()
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        width = n_mels
        if conv_channels:
            for kernel, stride, padding in self.KERNELS:
                self.convs.append(nn.Conv1d(width, conv_channels, kernel, stride, padding))
                self.norms.append(nn.LayerNorm(conv_channels))
                width = conv_channels
        self.rnn = make_rnn(cell, width, hidden_size, num_layers, bidirectional=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden_size, vocab_size)

    @property
    def stride(self) -> int:
        """Input frames per output frame."""
        return math.prod(conv.stride[0] for conv in self.convs)

    def example_batch(self, batch_size: int = 2, length: int = 40, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)``: features, frame counts and
        0-padded transcripts short enough for CTC to align."""
        g = torch.Generator().manual_seed(seed)
        n_mels = self.convs[0].in_channels if self.convs else self.rnn.input_size
        labels = max(1, min(3, length // (4 * self.stride)))
        return {"x": torch.randn(batch_size, length, n_mels, generator=g),
                "lengths": torch.full((batch_size,), length, dtype=torch.long),
                "targets": torch.randint(1, self.out.out_features, (batch_size, labels), generator=g)}

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, target_lengths: torch.Tensor | None = None):
        """x: (B, T, n_mels) features; lengths: (B,) frames (None = all T);
        targets: (B, S) label ids padded with 0 (the blank, never a target label);
        target_lengths: (B,) (None = the non-zero ids of each row).

        Returns:
            ((log_probs (B, T', V), out_lengths (B,)), loss or None). The loss is
            torch's CTC loss with ``reduction="mean"``: each utterance's negative
            log-likelihood divided by its transcript length, averaged over the batch,
            so long strings do not drown single digits. ``zero_infinity`` zeroes the
            loss of an utterance too short for its transcript instead of failing.
        """
        if lengths is None:
            lengths = torch.full((x.size(0),), x.size(1), dtype=torch.long, device=x.device)
        h = _mask_time(x, lengths)
        for conv, norm in zip(self.convs, self.norms):
            lengths = _conv_length(conv, lengths)
            h = conv(h.transpose(1, 2)).transpose(1, 2)
            h = _mask_time(torch.relu(norm(h)), lengths)
        out, _ = run_rnn(self.rnn, self.drop(h), lengths)
        log_probs = F.log_softmax(self.out(self.drop(out)), dim=-1)
        loss = None
        if targets is not None:
            if target_lengths is None:
                target_lengths = (targets > 0).sum(dim=1)
            loss = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths,
                              blank=0, reduction="mean", zero_infinity=True)
        return (log_probs, lengths), loss
