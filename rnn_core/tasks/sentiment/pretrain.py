"""The sentiment network's body pretrained as a language model on unlabelled
reviews, before it ever sees a label (Dai & Le 2015; ULMFiT, Howard & Ruder 2018).

The classifier reads a sentence with a bidirectional LSTM. Here the same embedding
table and the same LSTM learn to predict words first: the forward direction the next
word, the backward direction the previous one, over IMDB's 49,403 reviews and SST-2's
training phrases. A network that has learned to continue "the battery died after two
..." knows more of everyday English than 67,000 labelled movie phrases can teach; the
classifier then starts from these weights (`Recipe.lm_minutes`) and is fine-tuned on
its labels as usual.

On two CPU cores the budget is minutes, not ULMFiT's GPU hours, so the output layer
predicts only the ``output_words`` most frequent words (the rest are one "other"
class) through the embedding table itself (weight tying), which keeps a step cheap and
teaches the embeddings from every predicted word. The pretrained body is cached in
the download cache, keyed by everything that shapes it, so runs of the same recipe
share it.
"""
from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ...data import cache_dir
from ...encoders.text import WordEncoder
from ...models.rnn import make_rnn
from ...train import TrainConfig, train
from ..spec import Metric
from . import vectors

METRIC = Metric("perplexity", "held-out perplexity", higher_is_better=False)


class BidirectionalLM(nn.Module):
    """The classifier's body (``embed``, ``rnn``: same names and shapes as in
    `SequenceClassifier`) with two tied output heads: forward states predict the next
    token, backward states the previous one.

    Args:
        output_ids: the vocabulary ids the heads predict; any other id is the last
            class, "other".
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, cell: str,
                 output_ids: torch.Tensor, dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = make_rnn(cell, embed_dim, hidden_size, 1, bidirectional=True)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.ModuleList(nn.Linear(hidden_size, embed_dim) for _ in range(2))
        self.other = nn.Parameter(torch.zeros(2, embed_dim))
        self.bias = nn.Parameter(torch.zeros(2, len(output_ids) + 1))
        self.register_buffer("output_ids", output_ids.long(), persistent=False)
        target = torch.full((vocab_size,), len(output_ids), dtype=torch.long)
        target[output_ids] = torch.arange(len(output_ids))
        self.register_buffer("target_of", target, persistent=False)

    def forward(self, x: torch.Tensor):
        """x: (B, T) contiguous token ids. Returns (None, mean cross-entropy of both
        directions over every predictable position)."""
        out, _ = self.rnn(self.drop(self.embed(x)))
        h = self.drop(out).view(x.size(0), x.size(1), 2, -1)
        words = self.embed(self.output_ids)
        y = self.target_of[x]
        losses = []
        for d, (states, wanted) in enumerate(((h[:, :-1, 0], y[:, 1:]), (h[:, 1:, 1], y[:, :-1]))):
            table = torch.cat([words, self.other[d:d + 1]])
            logits = self.proj[d](states) @ table.T + self.bias[d]
            losses.append(F.cross_entropy(logits.reshape(-1, logits.size(-1)), wanted.reshape(-1)))
        return None, (losses[0] + losses[1]) / 2


def token_stream(enc: WordEncoder, sst_dir: str | None = None) -> torch.Tensor:
    """The word vectors' corpus (`vectors.corpus`: every IMDB review, then every SST-2
    training phrase) as one stream of ids."""
    ids = [i for tokens in vectors.corpus(sst_dir) for i in enc.encode_tokens(tokens)]
    return torch.tensor(ids, dtype=torch.long)


def frequent_ids(stream: torch.Tensor, vocab_size: int, k: int) -> torch.Tensor:
    """The ``k`` ids most frequent in ``stream`` (never padding or unknown): the words
    the heads predict."""
    counts = torch.bincount(stream, minlength=vocab_size)
    counts[:2] = -1
    return counts.argsort(descending=True)[:min(k, int((counts > 0).sum()))]


def pretrain(enc: WordEncoder, embed_dim: int, hidden_size: int, cell: str, minutes: float,
             init: dict | None = None, seed: int = 0, output_words: int = 4000, length: int = 64,
             batch_size: int = 64, sst_dir: str | None = None, max_steps: int | None = None,
             log=print) -> BidirectionalLM:
    """Train a `BidirectionalLM` for ``minutes`` on `token_stream` (the last 1% held
    out), keeping its best held-out weights.

    Args:
        init: starting weights for the body (e.g. word2vec rows as ``embed.weight``).
        output_words: how many of the stream's most frequent ids the heads predict.
        length: tokens a training row holds (rows are cut from the stream and shuffled).
        max_steps: stop after this many steps even within ``minutes`` (tests).
    """
    torch.manual_seed(seed)
    stream = token_stream(enc, sst_dir)
    output_ids = frequent_ids(stream, enc.vocab_size, output_words)
    rows = stream[: len(stream) // length * length].view(-1, length)
    held = max(1, len(rows) // 100)
    train_rows, val_rows = rows[:-held], rows[-held:][:256]
    model = BidirectionalLM(enc.vocab_size, embed_dim, hidden_size, cell, output_ids)
    if init:
        model.load_state_dict(init, strict=False)
    steps = -(-len(train_rows) // batch_size)
    log(f"language model: {len(stream):,} tokens, {len(train_rows):,} rows of {length}, "
        f"{len(output_ids):,} output words, {minutes} min")

    def epoch_batches(epoch):
        order = torch.randperm(len(train_rows), generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        for i in range(steps):
            yield {"x": train_rows[order[i * batch_size:(i + 1) * batch_size]]}

    def validate(m):
        with torch.no_grad():
            return {"perplexity": float(torch.exp(m(val_rows)[1]))}

    cfg = TrainConfig(epochs=100, lr=2e-3, max_minutes=minutes, seed=seed, eval_every=200, patience=None,
                      max_steps=max_steps)
    result = train(model, epoch_batches, steps, validate, cfg, metric=METRIC,
                   count_tokens=lambda b: b["x"].numel())
    log(f"language model: held-out perplexity {result.best['perplexity']:.1f} after {result.steps} steps")
    return model


def cached_pretrain(enc: WordEncoder, embed_dim: int, hidden_size: int, cell: str, minutes: float,
                    init: dict | None = None, seed: int = 0, sst_dir: str | None = None) -> dict[str, torch.Tensor]:
    """The body (``embed.weight`` and the ``rnn.*`` tensors) of a `pretrain`ed model,
    trained once per vocabulary and settings and kept in the download cache."""
    digest = hashlib.sha256()
    digest.update(json.dumps([enc.vocab, embed_dim, hidden_size, cell, minutes, seed]).encode())
    for tensor in (init or {}).values():
        digest.update(np.ascontiguousarray(tensor.float().numpy()).tobytes())
    path = cache_dir() / "sentiment" / f"lm-{digest.hexdigest()[:12]}.safetensors"
    if path.exists():
        return load_file(path)
    start = time.time()
    model = pretrain(enc, embed_dim, hidden_size, cell, minutes, init, seed, sst_dir=sst_dir)
    body = {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith(("embed.", "rnn."))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in body.items()}, str(tmp))
    tmp.replace(path)  # a half-written cache file is never read
    print(f"language model cached in {path} ({(time.time() - start) / 60:.1f} min)")
    return body
