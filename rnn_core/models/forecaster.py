"""Many-to-one regression with a multi-step head: a window of the past in, the next H
steps out, each as a few quantiles (a median and an interval around it)."""
from __future__ import annotations

import torch
import torch.nn as nn

from .rnn import final_hidden, make_rnn


def pinball_loss(pred: torch.Tensor, targets: torch.Tensor, quantiles: torch.Tensor,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean quantile (pinball) loss of ``pred`` (B, H, Q) against ``targets`` (B, H),
    counting only steps where ``mask`` (B, H) is true. Its minimiser is each quantile
    of the target's distribution; for the median that is the MAE's minimiser."""
    err = targets[..., None] - pred
    loss = torch.maximum(quantiles * err, (quantiles - 1) * err).mean(-1)
    if mask is None:
        return loss.mean()
    mask = mask.to(loss.dtype)
    return (loss * mask).sum() / mask.sum().clamp(min=1)


class Forecaster(nn.Module):
    """A window of features (B, W, F) -> (B, horizon, Q) quantiles of the next steps.

    The recurrent body reads the window; its last hidden state feeds one linear layer
    that gives every step ahead at once (the *direct* multi-step strategy; a model
    with ``horizon=1`` can also be rolled forward, the *recursive* one). With
    ``residual``, the outputs are changes from the last value of the target (feature
    0): the network starts from the naive forecast and learns what to add to it.

    Args:
        input_size: features per step (the scaled target first).
        horizon: steps ahead it forecasts.
        quantiles: the levels it outputs, ascending; the middle one is the point forecast.
    """

    def __init__(self, input_size: int, horizon: int, hidden_size: int = 64, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
                 residual: bool = True):
        super().__init__()
        self.horizon, self.quantiles, self.residual = horizon, tuple(quantiles), residual
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, horizon * len(self.quantiles))

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)``: windows, targets and their mask."""
        g = torch.Generator().manual_seed(seed)
        return {"x": torch.randn(batch_size, length, self.rnn.input_size, generator=g),
                "targets": torch.randn(batch_size, self.horizon, generator=g),
                "mask": torch.ones(batch_size, self.horizon, dtype=torch.bool)}

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        """x: (B, W, F); targets, mask: (B, horizon) scaled target and where it was observed;
        ``lengths`` is accepted for the head contract (windows are always full).

        Returns:
            (quantiles (B, horizon, Q), pinball loss or None)
        """
        _, state = self.rnn(x)
        pred = self.out(self.drop(final_hidden(self.rnn, state))).view(x.size(0), self.horizon, len(self.quantiles))
        if self.residual:
            pred = pred + x[:, -1, 0, None, None]
        loss = None
        if targets is not None:
            loss = pinball_loss(pred, targets, torch.tensor(self.quantiles, device=x.device, dtype=pred.dtype), mask)
        return pred, loss
