"""What every task's predictor shares: a loaded model, its encoder, its config and the
figures `evaluate` wrote; loading from and saving to a checkpoint folder; the bounded
settings a visitor may give it."""
from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import assets_dir, load_pretrained, read_metrics, save_pretrained
from .models import count_parameters
from .options import Option, clamp_options
from .summary import Summary, model_summary

_BUNDLE_KEYS = ("task", "architecture", "model_args", "encoder", "format_version")


class Predictor:
    """Base of the task predictors. Subclasses set ``task`` and ``encoder_class``, and
    ``generation_options`` when a visitor tunes how they generate."""

    task: str = ""
    encoder_class: type = object
    generation_options: dict[str, Option] = {}

    def __init__(self, model: torch.nn.Module, encoder, config: dict, metrics: dict | None = None):
        self.model, self.encoder, self.config = model.eval(), encoder, config
        self.metrics = metrics or {}

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None):
        """Load a checkpoint folder (default: the shipped one, `assets_dir`)."""
        path = path or assets_dir(cls.task)
        model, config = load_pretrained(path, task=cls.task)
        return cls(model, cls.encoder_class.from_dict(config["encoder"]), config, read_metrics(path))

    @classmethod
    def trained(cls, model: torch.nn.Module, encoder, record: dict, out_dir: str | Path | None = None,
                **save_options):
        """The predictor a training run ends with, around ``model`` and the run's
        ``record`` (`rnn_core.train.run_record`); saved to ``out_dir`` when given
        (``save_options``: `save_pretrained`'s ``half``, ``int8_embeddings``)."""
        predictor = cls(model, encoder, {"task": cls.task, **record})
        if out_dir is not None:
            predictor.save(out_dir, **save_options)
        return predictor

    def save(self, out_dir: str | Path, half: bool = False, int8_embeddings: bool = False) -> Path:
        """Write this model as a checkpoint folder (e.g. a visitor's retrained one)."""
        extra = {k: v for k, v in self.config.items() if k not in _BUNDLE_KEYS}
        return save_pretrained(self.model, out_dir, self.task, self.encoder.to_dict(), extra,
                               half=half, int8_embeddings=int8_embeddings)

    @classmethod
    def generation_settings(cls, values: dict) -> tuple[dict, list[str]]:
        """Clamp a visitor's settings to `generation_options`; returns (settings, notes)."""
        return clamp_options(values, cls.generation_options)

    @property
    def parameters(self) -> int:
        """Number of trainable parameters."""
        return count_parameters(self.model)

    def summary(self) -> Summary:
        """The network's layers, output shapes and parameters (`rnn_core.summary`), from
        one forward pass over its head's ``example_batch()``, made once: a card that is
        redrawn (the forecast tab's, at every change of series) reuses it."""
        if getattr(self, "_summary", None) is None:
            self._summary = model_summary(self.model, **self.model.example_batch())
        return self._summary

    def describe(self) -> str:
        """One line on the network, e.g. '2-layer LSTM, hidden 512, embedding 64'
        (the language models' form; other tasks say more)."""
        a = self.model.model_args
        return f"{a['num_layers']}-layer {a['cell'].upper()}, hidden {a['hidden_size']}, embedding {a['embed_dim']}"
