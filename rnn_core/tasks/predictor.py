"""What every task's predictor shares: a loaded model, its encoder, its config and the
figures `evaluate` wrote; loading from and saving to a checkpoint folder."""
from __future__ import annotations

from pathlib import Path

import torch

from ..checkpoint import assets_dir, load_pretrained, read_metrics, save_pretrained
from ..models import count_parameters

_BUNDLE_KEYS = ("task", "architecture", "model_args", "encoder", "format_version")


class Predictor:
    """Base of the task predictors. Subclasses set ``task`` and ``encoder_class``."""

    task: str = ""
    encoder_class: type = object

    def __init__(self, model: torch.nn.Module, encoder, config: dict, metrics: dict | None = None):
        self.model, self.encoder, self.config = model.eval(), encoder, config
        self.metrics = metrics or {}

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None):
        """Load a checkpoint folder (default: the shipped one, `assets_dir`)."""
        path = path or assets_dir(cls.task)
        model, config = load_pretrained(path, task=cls.task)
        return cls(model, cls.encoder_class.from_dict(config["encoder"]), config, read_metrics(path))

    def save(self, out_dir: str | Path) -> Path:
        """Write this model as a checkpoint folder (e.g. a visitor's retrained one)."""
        extra = {k: v for k, v in self.config.items() if k not in _BUNDLE_KEYS}
        return save_pretrained(self.model, out_dir, self.task, self.encoder.to_dict(), extra)

    @property
    def parameters(self) -> int:
        """Number of trainable parameters."""
        return count_parameters(self.model)
