"""Tiny Shakespeare as model inputs: the text as character ids, cut into parallel
contiguous streams (truncated backpropagation through time), and how well a
language model predicts it."""
from __future__ import annotations

import functools

import torch
import torch.nn as nn

from ...data.shakespeare import load_text, split as split_text
from ...encoders.text import CharEncoder
from ...runtime import device_of, evaluating, to_device


@functools.lru_cache(maxsize=2)
def load_data(data_dir: str | None = None):
    """(encoder, train ids, validation ids); the encoder knows every character of the text."""
    text = load_text(data_dir)
    enc = CharEncoder.build(text)
    train_text, val_text = split_text(text)
    return (enc, torch.tensor(enc.encode(train_text), dtype=torch.long),
            torch.tensor(enc.encode(val_text), dtype=torch.long))


def stream_chunks(ids: torch.Tensor, batch_size: int, seq_len: int, offset: int = 0) -> list[dict]:
    """Cut ``ids`` into ``batch_size`` contiguous streams and those into chunks of
    ``seq_len``: chunk k+1 of every stream continues chunk k, so a carried state is
    the true context. The first chunk of a pass says ``reset``."""
    n = (len(ids) - 1 - offset) // batch_size
    if n < 1:
        raise ValueError(f"{len(ids)} tokens are too few for {batch_size} streams")
    x = ids[offset:offset + batch_size * n].view(batch_size, n)
    y = ids[offset + 1:offset + 1 + batch_size * n].view(batch_size, n)
    return [{"x": x[:, t:t + seq_len], "targets": y[:, t:t + seq_len], "reset": t == 0}
            for t in range(0, n, seq_len)]


def nats_per_char(lm: nn.Module, ids: torch.Tensor, streams: int = 16, seq_len: int = 256) -> float:
    """Mean negative log-likelihood (nats) of each character of ``ids`` given all before
    it in its stream (the model reads ``streams`` contiguous pieces in parallel)."""
    total, count, state, device = 0.0, 0, None, device_of(lm)
    with evaluating(lm):
        for chunk in stream_chunks(ids, streams, seq_len):
            chunk = to_device(chunk, device)
            (logits, state, _), loss = lm(chunk["x"], targets=chunk["targets"], state=state)
            total += float(loss) * chunk["targets"].numel()
            count += chunk["targets"].numel()
    return total / count
