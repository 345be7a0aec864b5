"""Checkpoints as a folder: ``model.safetensors`` + ``config.json`` (+ ``metrics.json``).

A model whose weights exceed `MAX_FILE_BYTES` (a Hugging Face Space takes files up to
10 MB without Git LFS) is stored in shards as the Hub does: ``model-00001-of-00002.safetensors``
... and ``model.safetensors.index.json`` mapping each tensor to its file.

Weights are safetensors only (pickles are unsafe to load and break on refactors).
``config.json`` holds everything needed to rebuild the model without the training
code: the architecture name, its constructor arguments, the encoder's vocabulary,
the task and a format version; the loader refuses a bundle it cannot honour.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .models import create_model

FORMAT_VERSION = 1
WEIGHTS, CONFIG, METRICS = "model.safetensors", "config.json", "metrics.json"
INDEX = "model.safetensors.index.json"
MAX_FILE_BYTES = 10_000_000


ASSETS_ENV = "RNN_GALLERY_ASSETS"


def assets_dir(task: str) -> Path:
    """Folder of the shipped checkpoint for ``task``: ``assets/<task>`` in the project,
    or ``$RNN_GALLERY_ASSETS/<task>`` when that is set (tests, other deployments)."""
    root = os.environ.get(ASSETS_ENV) or Path(__file__).resolve().parents[1] / "assets"
    return Path(root) / task


class CheckpointError(ValueError):
    """A checkpoint folder is missing, incomplete or of another format."""


QSCALE = ".int8_scale"  # suffix of the per-row scales of an int8-stored table


def _quantize_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-row int8: w ~= q * scale[:, None]."""
    scale = w.abs().amax(dim=1).clamp(min=1e-8) / 127
    return torch.round(w / scale[:, None]).to(torch.int8), scale.half()


def save_pretrained(model: torch.nn.Module, out_dir: str | Path, task: str,
                    encoder: dict, extra: dict | None = None, half: bool = False,
                    int8_embeddings: bool = False) -> Path:
    """Write ``model`` (built by `create_model`) and its config to ``out_dir``.

    Args:
        task: the task preset's name, checked again on load.
        encoder: the encoder's ``to_dict()`` (vocabulary and settings).
        extra: more JSON-able facts for the model card (training config, data...).
        half: store floating weights as float16 (halves the file; upcast on load).
        int8_embeddings: store embedding tables (most of a word model's size) as
            int8 with one scale per row (a quarter of float32); upcast on load.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for k, v in model.state_dict().items():
        if int8_embeddings and k.endswith("embed.weight") and v.dim() == 2:
            tensors[k], tensors[k + QSCALE] = _quantize_rows(v.float())
        else:
            tensors[k] = (v.half() if half and v.is_floating_point() else v).contiguous()
    _save_weights(tensors, out)
    config = {"format_version": FORMAT_VERSION, "task": task,
              "architecture": model.architecture, "model_args": model.model_args,
              "encoder": encoder, **(extra or {})}
    (out / CONFIG).write_text(json.dumps(config, indent=1))
    return out


def _save_weights(tensors: dict[str, torch.Tensor], out: Path) -> None:
    """One ``model.safetensors``, or shards of at most `MAX_FILE_BYTES` and their index."""
    for old in [out / WEIGHTS, out / INDEX, *out.glob("model-*-of-*.safetensors")]:
        old.unlink(missing_ok=True)
    size = lambda t: t.numel() * t.element_size()
    total = sum(size(t) for t in tensors.values())
    if total <= MAX_FILE_BYTES:
        save_file(tensors, str(out / WEIGHTS))
        return
    shards, current, used = [], {}, 0
    for name, t in tensors.items():  # greedy, in the state dict's order
        if current and used + size(t) > MAX_FILE_BYTES:
            shards.append(current)
            current, used = {}, 0
        current[name], used = t, used + size(t)
    shards.append(current)
    weight_map = {}
    for i, shard in enumerate(shards, 1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(out / name))
        weight_map.update({k: name for k in shard})
    (out / INDEX).write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=1))


def weight_files(path: str | Path) -> list[Path]:
    """The weights files of a checkpoint folder: ``model.safetensors``, or the shards
    its index names.

    Raises:
        CheckpointError: neither is there, or the index is unreadable.
    """
    path = Path(path)
    if (path / INDEX).exists():
        try:
            names = sorted(set(json.loads((path / INDEX).read_text())["weight_map"].values()))
        except (json.JSONDecodeError, KeyError, AttributeError) as e:
            raise CheckpointError(f"{path / INDEX} is not a valid shard index") from e
        if any("/" in n or "\\" in n or not (path / n).is_file() for n in names):
            raise CheckpointError(f"{path / INDEX} names shards that are not in {path}")
        return [path / n for n in names]
    if not (path / WEIGHTS).exists():
        raise CheckpointError(f"no {WEIGHTS} in {path}")
    return [path / WEIGHTS]


def read_config(path: str | Path) -> dict:
    """Read and check a checkpoint's ``config.json``."""
    path = Path(path)
    try:
        config = json.loads((path / CONFIG).read_text())
    except FileNotFoundError as e:
        raise CheckpointError(f"no {CONFIG} in {path}") from e
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path / CONFIG} is not valid JSON: {e}") from e
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {config.get('format_version')!r}; "
                              f"this code reads version {FORMAT_VERSION}")
    return config


def load_pretrained(path: str | Path, task: str | None = None) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model saved in ``path`` and load its weights (eval mode, float32).

    Raises:
        CheckpointError: missing files, another format version, another task, or
            weights that do not fit the architecture.
    """
    path = Path(path)
    config = read_config(path)
    if task is not None and config.get("task") != task:
        raise CheckpointError(f"{path} holds a {config.get('task')!r} model, not {task!r}")
    stored = {}
    for file in weight_files(path):
        try:
            stored.update(load_file(str(file)))
        except Exception as e:  # safetensors raises its own error types on a damaged file
            raise CheckpointError(f"{file} is not a readable safetensors file") from e
    model = _build(config, sum(v.numel() for k, v in stored.items() if not k.endswith(QSCALE)), path)
    state = {}
    for k, v in stored.items():
        if k.endswith(QSCALE):
            continue
        if k + QSCALE in stored:
            v = v.float() * stored[k + QSCALE].float()[:, None]
        state[k] = v.float() if v.is_floating_point() else v
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"weights in {path} do not fit {config['architecture']}: {e}") from e
    return model.eval(), config


def _build(config: dict, stored: int, path: Path) -> torch.nn.Module:
    """The model ``config`` describes, built only once it is known to hold as many
    numbers as the weights file (``stored``): a config from elsewhere (a visitor's
    upload) claiming a hidden size of a million must not allocate terabytes first."""
    try:
        with torch.device("meta"):  # shapes only, no memory
            probe = create_model(config["architecture"], **config["model_args"])
    except Exception as e:  # unknown architecture, missing or absurd arguments
        raise CheckpointError(f"{path} describes no model this code can build: {e}") from e
    wanted = sum(t.numel() for t in probe.state_dict().values())
    if wanted != stored:
        raise CheckpointError(f"weights in {path} do not fit {config['architecture']}: "
                              f"{stored:,} numbers stored, {wanted:,} needed")
    return create_model(config["architecture"], **config["model_args"])


def write_metrics(path: str | Path, metrics: dict) -> None:
    """Write ``metrics.json`` (only `rnn_core evaluate` calls this)."""
    Path(path, METRICS).write_text(json.dumps(metrics, indent=1, sort_keys=True))


def read_metrics(path: str | Path) -> dict:
    """The figures ``evaluate`` wrote for this checkpoint, or {} if none yet."""
    try:
        return json.loads(Path(path, METRICS).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
