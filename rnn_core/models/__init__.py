"""Recurrent cells and the task heads built on them.

Every head has the same call, borrowed from makemore/nanoGPT:
``forward(x, *, lengths=None, targets=None, ...) -> (output, loss)`` (keyword-only
after ``x``, so no head can take its arguments in another order), and an
``example_batch()`` of keyword arguments for that call, so one training loop
(`rnn_core.train`) trains all of them and one test (tests/test_models.py) and one
benchmark exercise every head the same way. Heads are registered by name in `MODELS`
and built with `create_model`, which records the arguments so a checkpoint can
rebuild the exact same module (`rnn_core.checkpoint`).
"""
from __future__ import annotations

import torch.nn as nn

from .classifier import EnsembleClassifier, SequenceClassifier
from .ctc import CTCRecognizer
from .forecaster import Forecaster, pinball_loss
from .lm import TBPTT, SequenceLM
from .seq2seq import ATTENTIONS, Seq2Seq
from .rnn import CELLS, detach_state, final_hidden, init_state, make_rnn, run_rnn, step_rnn

__all__ = [
    "CELLS", "make_rnn", "init_state", "run_rnn", "final_hidden", "step_rnn", "detach_state",
    "SequenceClassifier", "EnsembleClassifier", "SequenceLM", "TBPTT", "CTCRecognizer", "Forecaster", "pinball_loss",
    "Seq2Seq", "ATTENTIONS",
    "MODELS", "create_model", "count_parameters",
]

# name -> constructor; a new head registered here is covered by tests/test_models.py.
MODELS: dict[str, type[nn.Module]] = {
    "SequenceClassifier": SequenceClassifier,
    "EnsembleClassifier": EnsembleClassifier,
    "SequenceLM": SequenceLM,
    "CTCRecognizer": CTCRecognizer,
    "Forecaster": Forecaster,
    "Seq2Seq": Seq2Seq,
}


def create_model(architecture: str, **model_args) -> nn.Module:
    """Build a registered model and remember how it was built (for checkpoints)."""
    if architecture not in MODELS:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(MODELS)}")
    model = MODELS[architecture](**model_args)
    model.architecture, model.model_args = architecture, dict(model_args)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
