"""The encoder-decoder for translation (many-to-many, of another length).

A bidirectional recurrent encoder reads the source; a recurrent decoder writes the
target a token at a time, starting from the encoder's summary. With attention
(Luong et al. 2015) each output step looks back over all the source positions:
``score(h_t, s_i)`` is ``h_t . W s_i`` ("general"), ``h_t . s_i`` ("dot") or
``v . tanh(W1 s_i + W2 h_t)`` ("additive", Bahdanau et al.'s score), softmaxed over
the source; the context vector and the decoder state make the output. Without
attention ("none", Sutskever et al. 2014 / Cho et al. 2014) the whole source must
pass through one fixed vector, the encoder's final state, given to every step.

Attention is computed after the decoder's recurrent step (Luong's placement), so
teacher-forced training runs the decoder over the whole target at once, which is
what makes training on a CPU affordable; generation runs the same code one step at a
time (`Seq2Seq.step`). The output layer shares its weights with the target
embedding (Press & Wolf 2017): the largest table is stored once.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rnn import final_hidden, make_rnn, run_rnn, step_rnn

ATTENTIONS = ("general", "dot", "additive", "none")


class Seq2Seq(nn.Module):
    """Bidirectional encoder, attentional decoder, tied output layer.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 is padding on both sides).
        embed_dim: embedding size, also the size of the attentional output vector.
        hidden_size: per direction of the encoder; the decoder has twice this.
        attention: one of `ATTENTIONS`.
        label_smoothing: of the training loss (0: plain cross-entropy).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 256, hidden_size: int = 256,
                 cell: str = "gru", attention: str = "general", dropout: float = 0.2,
                 label_smoothing: float = 0.1):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"unknown attention {attention!r}; choose one of {', '.join(ATTENTIONS)}")
        self.attention, self.label_smoothing = attention, label_smoothing
        d = 2 * hidden_size  # the encoder's output (both directions) and the decoder's state
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=0)
        self.encoder = make_rnn(cell, embed_dim, hidden_size, bidirectional=True)
        self.bridge = nn.Linear(d, d)
        self.decoder = make_rnn(cell, embed_dim, d)
        if attention == "general":
            self.score_w = nn.Linear(d, d, bias=False)
        elif attention == "additive":
            self.score_src, self.score_dec = nn.Linear(d, d, bias=False), nn.Linear(d, d)
            self.score_v = nn.Linear(d, 1, bias=False)
        self.combine = nn.Linear(2 * d, embed_dim)
        self.out_bias = nn.Parameter(torch.zeros(tgt_vocab))
        self.drop = nn.Dropout(dropout)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        """Read the source: (memory (B, S, 2H), source mask (B, S), decoder's first state)."""
        mask = x != 0
        memory, state = run_rnn(self.encoder, self.drop(self.src_embed(x)), lengths)
        summary = final_hidden(self.encoder, state)
        h0 = torch.tanh(self.bridge(summary)).unsqueeze(0)
        first = (h0, torch.zeros_like(h0)) if isinstance(self.decoder, nn.LSTM) else h0
        return memory, mask, first

    def attend(self, h: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
        """Decoder states ``h`` (B, T, 2H) over the source: (context (B, T, 2H),
        weights (B, T, S)); without attention the context is the source's summary
        (the mean of the memory: one fixed vector for every step) and weights are None."""
        if self.attention == "none":
            fixed = (memory * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
            return fixed.unsqueeze(1).expand(-1, h.size(1), -1), None
        if self.attention == "general":
            scores = h @ self.score_w(memory).transpose(1, 2)
        elif self.attention == "dot":
            scores = h @ memory.transpose(1, 2)
        else:
            scores = self.score_v(torch.tanh(self.score_src(memory).unsqueeze(1)
                                             + self.score_dec(h).unsqueeze(2))).squeeze(-1)
        weights = scores.masked_fill(~mask.unsqueeze(1), float("-inf")).softmax(-1)
        return weights @ memory, weights

    def logits(self, h, memory, mask):
        """Output scores over the French vocabulary for decoder states ``h``, and the
        attention weights."""
        context, weights = self.attend(h, memory, mask)
        out = self.drop(torch.tanh(self.combine(torch.cat([context, h], -1))))
        return F.linear(out, self.tgt_embed.weight, self.out_bias), weights

    def step(self, y: torch.Tensor, state, memory, mask):
        """One decoding step for tokens ``y`` (B,): (log-probabilities (B, V), new
        state, attention weights (B, S) or None)."""
        # the hand-written step: torch's fused kernel costs milliseconds of setup per call
        h, state = step_rnn(self.decoder, self.tgt_embed(y), state)
        scores, weights = self.logits(h.unsqueeze(1), memory, mask)
        return scores.squeeze(1).log_softmax(-1), state, None if weights is None else weights.squeeze(1)

    def forward(self, x: torch.Tensor, *, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, sample_share: float = 0.0):
        """Teacher-forced decoding of ``targets`` (B, T: ``<s> ... </s>``, 0-padded).

        With ``sample_share`` > 0 (training), that share of the decoder's input tokens
        are the network's own previous predictions instead of the reference's
        (scheduled sampling in two passes, Duckworth et al. 2019), so it learns to
        continue from its own mistakes as it must when it generates.

        Without ``targets``, the scores of the first French token (and no loss).

        Returns:
            (logits (B, T-1, V) for targets[:, 1:], mean token loss or None)
        """
        memory, mask, state = self.encode(x, lengths)
        if targets is None:
            h, _ = self.decoder(self.tgt_embed(torch.full_like(x[:, :1], 2)), state)  # <s>
            return self.logits(h, memory, mask)[0], None
        inputs = targets[:, :-1]
        if sample_share > 0 and self.training:
            with torch.no_grad():
                h, _ = self.decoder(self.tgt_embed(inputs), state)
                guess = self.logits(h, memory, mask)[0].argmax(-1)
            swap = torch.rand(inputs.shape, device=inputs.device) < sample_share
            swap[:, 0] = False  # the first input is always <s>
            inputs = torch.where(swap & (inputs != 0), guess.roll(1, dims=1), inputs)
        h, _ = self.decoder(self.tgt_embed(inputs), state)
        logits, _ = self.logits(h, memory, mask)
        gold = targets[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1), ignore_index=0,
                               label_smoothing=self.label_smoothing if self.training else 0.0)
        return logits, loss

    def example_batch(self, batch_size: int = 2, length: int = 8, seed: int = 0) -> dict:
        """A valid random batch for ``self(**batch)``: sources and ``<s> ... </s>`` targets."""
        g = torch.Generator().manual_seed(seed)
        lengths = torch.randint(1, length + 1, (batch_size,), generator=g)
        lengths[0] = length
        x = torch.randint(4, max(5, self.src_embed.num_embeddings), (batch_size, length), generator=g)
        x[torch.arange(length)[None, :] >= lengths[:, None]] = 0
        targets = torch.randint(4, max(5, self.tgt_embed.num_embeddings), (batch_size, length + 2), generator=g)
        targets[:, 0], targets[:, -1] = 2, 3  # <s>, </s>
        return {"x": x, "lengths": lengths, "targets": targets}
