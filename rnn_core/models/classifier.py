"""Many-to-one heads: a sequence classifier and an ensemble of them."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rnn import final_hidden, make_rnn, run_rnn


class SequenceClassifier(nn.Module):
    """Many-to-one: embedding -> (bi)RNN -> pooled summary -> class logits.

    Args:
        vocab_size: number of token ids (id 0 is padding, id 1 unknown).
        num_classes: output classes.
        embed_dim, hidden_size, num_layers, cell, bidirectional: the recurrent body.
        dropout: on embeddings, between layers, and before the output layer.
        pooling: ``"last"`` (the final hidden state: the textbook many-to-one),
            ``"max"`` (max over time of every output) or ``"maxlast"`` (both).
        word_dropout: while training, the share of tokens replaced by unknown,
            so the network learns to cope with words it has never seen.
        subword_buckets: > 0 adds hashed character n-gram embeddings (fastText
            style), averaged and added to each word's vector; a word replaced by
            unknown keeps its n-grams, so the network learns to read unseen words
            from their pieces.
    """

    def __init__(self, vocab_size: int, num_classes: int = 2, embed_dim: int = 128,
                 hidden_size: int = 128, num_layers: int = 1, cell: str = "lstm",
                 bidirectional: bool = True, dropout: float = 0.3, pooling: str = "last",
                 word_dropout: float = 0.0, subword_buckets: int = 0, pad_id: int = 0, unk_id: int = 1):
        super().__init__()
        if pooling not in ("last", "max", "maxlast"):
            raise ValueError(f"unknown pooling {pooling!r}")
        self.pooling, self.word_dropout = pooling, word_dropout
        self.pad_id, self.unk_id = pad_id, unk_id
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.sub_embed = nn.Embedding(subword_buckets + 1, embed_dim, padding_idx=0) if subword_buckets else None
        self.rnn = make_rnn(cell, embed_dim, hidden_size, num_layers, bidirectional, dropout)
        self.drop = nn.Dropout(dropout)
        width = hidden_size * (2 if bidirectional else 1) * (2 if pooling == "maxlast" else 1)
        self.out = nn.Linear(width, num_classes)

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)`` (ids, lengths, targets and
        subword ids if the model reads them): for contract tests and benchmarks."""
        g = torch.Generator().manual_seed(seed)
        vocab, classes = self.embed.num_embeddings, self.out.out_features
        batch = {"x": torch.randint(2, max(3, vocab), (batch_size, length), generator=g),
                 "lengths": torch.randint(1, length + 1, (batch_size,), generator=g).sort(descending=True).values,
                 "targets": torch.randint(0, classes, (batch_size,), generator=g)}
        batch["lengths"][0] = length
        if self.sub_embed is not None:
            batch["subwords"] = torch.randint(0, self.sub_embed.num_embeddings, (batch_size, length, 3), generator=g)
        return batch

    def embed_tokens(self, x: torch.Tensor, subwords: torch.Tensor | None = None) -> torch.Tensor:
        """Word vectors (B, T, E), plus the mean of their subword vectors if any."""
        e = self.embed(x)
        if self.sub_embed is not None and subwords is not None:
            count = (subwords > 0).sum(-1, keepdim=True).clamp(min=1)
            e = e + self.sub_embed(subwords).sum(2) / count
        return e

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, subwords: torch.Tensor | None = None):
        """x: (B, T) token ids; lengths: (B,); targets: (B,) class ids;
        subwords: (B, T, K) subword ids (0 = none), used if the model has them.

        Returns:
            (logits (B, num_classes), cross-entropy loss or None)
        """
        if self.training and self.word_dropout > 0:
            drop = (torch.rand_like(x, dtype=torch.float) < self.word_dropout) & (x != self.pad_id)
            x = x.masked_fill(drop, self.unk_id)
        out, state = run_rnn(self.rnn, self.drop(self.embed_tokens(x, subwords)), lengths)
        feats = []
        if self.pooling in ("last", "maxlast"):
            feats.append(final_hidden(self.rnn, state))
        if self.pooling in ("max", "maxlast"):
            if lengths is not None:
                pad = torch.arange(x.size(1), device=x.device)[None, :] >= lengths[:, None]
                out = out.masked_fill(pad[..., None], float("-inf"))
            feats.append(out.max(dim=1).values)
        logits = self.out(self.drop(torch.cat(feats, dim=-1)))
        loss = F.cross_entropy(logits, targets) if targets is not None else None
        return logits, loss


class EnsembleClassifier(nn.Module):
    """Several `SequenceClassifier` members voting by their average class probability.

    Members are trained one after another by the same loop, with different seeds, and
    then assembled; averaging the probabilities of independently trained networks
    cancels part of each one's variance.

    Args:
        members: the constructor arguments of each member.
    """

    def __init__(self, members: list[dict]):
        super().__init__()
        self.members = nn.ModuleList(SequenceClassifier(**m) for m in members)

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)`` (the first member's)."""
        return self.members[0].example_batch(batch_size, length, seed)

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, subwords: torch.Tensor | None = None):
        """Returns (log of the mean member probability (B, C), NLL loss or None)."""
        logp = torch.stack([F.log_softmax(m(x, lengths=lengths, subwords=subwords)[0], dim=-1)
                            for m in self.members])
        logits = torch.logsumexp(logp, dim=0) - math.log(len(self.members))
        loss = F.nll_loss(logits, targets) if targets is not None else None
        return logits, loss
