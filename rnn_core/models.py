"""Recurrent cells and the task heads built on them.

Every head has the same call, borrowed from makemore/nanoGPT:
``forward(x, lengths=None, targets=None) -> (output, loss)``, so one training loop
(`rnn_core.train`) trains all of them. Heads are registered by name in `MODELS`
and built with `create_model`, which records the arguments so a checkpoint can
rebuild the exact same module (`rnn_core.checkpoint`).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = ("rnn", "lstm", "gru")


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
             bidirectional: bool = False, dropout: float = 0.0) -> nn.RNNBase:
    """Build a batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU`` from its name.

    The torch modules are used (not hand-written cells) because they take the fast
    oneDNN path on CPU. Dropout only applies between stacked layers, so it is
    dropped for one layer to avoid torch's warning.
    """
    cell = cell.lower()
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return getattr(nn, cell.upper())(
        input_size, hidden_size, num_layers=num_layers, batch_first=True,
        bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)


def init_state(rnn: nn.RNNBase, batch_size: int):
    """Zero initial state: ``(h, c)`` for an LSTM, ``h`` for a GRU or RNN."""
    p = next(rnn.parameters())
    dirs = 2 if rnn.bidirectional else 1
    h = p.new_zeros(rnn.num_layers * dirs, batch_size, rnn.hidden_size)
    return (h, h.clone()) if isinstance(rnn, nn.LSTM) else h


def run_rnn(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor | None = None, state=None):
    """Run ``rnn`` over a padded batch, packing it when lengths are given.

    Packing keeps padding out of the recurrence, so the backward direction of a
    bidirectional net starts at each sequence's real last token.

    Returns:
        (outputs padded to ``x``'s length, final state)
    """
    if lengths is None:
        return rnn(x, state)
    packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True,
                                  enforce_sorted=False)
    out, state = rnn(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
    return out, state


def final_hidden(rnn: nn.RNNBase, state) -> torch.Tensor:
    """The top layer's final hidden state, both directions concatenated: (B, H*dirs)."""
    h = state[0] if isinstance(state, tuple) else state
    dirs = 2 if rnn.bidirectional else 1
    return torch.cat([h[-dirs + i] for i in range(dirs)], dim=-1)


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

    def embed_tokens(self, x: torch.Tensor, subwords: torch.Tensor | None = None) -> torch.Tensor:
        """Word vectors (B, T, E), plus the mean of their subword vectors if any."""
        e = self.embed(x)
        if self.sub_embed is not None and subwords is not None:
            count = (subwords > 0).sum(-1, keepdim=True).clamp(min=1)
            e = e + self.sub_embed(subwords).sum(2) / count
        return e

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
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

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, subwords: torch.Tensor | None = None):
        """Returns (log of the mean member probability (B, C), NLL loss or None)."""
        logp = torch.stack([F.log_softmax(m(x, lengths, subwords=subwords)[0], dim=-1)
                            for m in self.members])
        logits = torch.logsumexp(logp, dim=0) - math.log(len(self.members))
        loss = F.nll_loss(logits, targets) if targets is not None else None
        return logits, loss


class SequenceLM(nn.Module):
    """One-to-many: embedding -> stacked unidirectional RNN -> next-token logits.

    Shared by every generator (characters, melody events). ``state`` carries the
    recurrence across calls: truncated backpropagation through time during training,
    one token at a time during generation.

    Args:
        vocab_size: number of token ids.
        embed_dim, hidden_size, num_layers, cell, dropout: the recurrent body
            (never bidirectional: a generator cannot read the future).
        channels: token ids read at each step (1 = the previous token; more = extra
            context tokens, e.g. a melody's events one and two bars back, as in
            Magenta's Lookback RNN); their embeddings are concatenated.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, cell: str = "lstm", dropout: float = 0.2, channels: int = 1):
        super().__init__()
        self.channels = channels
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = make_rnn(cell, embed_dim * channels, hidden_size, num_layers, bidirectional=False,
                            dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)

    def _embed(self, x: torch.Tensor, has_channels: bool) -> torch.Tensor:
        e = self.embed(x)
        return e.flatten(-2) if has_channels else e

    def step(self, token: torch.Tensor, state=None):
        """Read one step per sequence, (B,) ids (or (B, channels)) -> (logits (B, V),
        new state, top-layer output (B, H)).

        For generation: the hand-written step (`step_rnn`) is many times faster than
        the fused kernel on a single time step, and gives the same numbers."""
        out, state = step_rnn(self.rnn, self._embed(token, token.dim() == 2), state)
        return self.out(out), state, out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                targets: torch.Tensor | None = None, state=None):
        """x: (B, T) ids, or (B, T, channels); targets: (B, T) next ids (-1 = ignore);
        state: from a previous call.

        Returns:
            ((logits (B, T, V), new state, top-layer outputs (B, T, H)), mean
            cross-entropy per token or None)
        """
        out, state = run_rnn(self.rnn, self.drop(self._embed(x, x.dim() == 3)), lengths, state)
        logits = self.out(self.drop(out))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return (logits, state, out), loss


class TBPTT(nn.Module):
    """Wraps a `SequenceLM` for the shared training loop: each call continues from the state
    the previous call left (detached, so gradients stop at the chunk boundary)."""

    def __init__(self, lm: nn.Module):
        super().__init__()
        self.lm, self.state = lm, None

    def forward(self, x, targets=None, reset: bool = False):
        if reset:
            self.state = None
        (logits, state, _), loss = self.lm(x, targets=targets, state=self.state)
        self.state = detach_state(state)
        return logits, loss


def step_rnn(rnn: nn.RNNBase, x: torch.Tensor, state=None):
    """One time step of a unidirectional ``nn.RNN/LSTM/GRU``, written out by hand.

    Generation feeds one token at a time; for a single step, torch's fused CPU
    kernel spends milliseconds on setup (a 2x512 LSTM ran at ~230 steps/s), while
    these few matrix products run at thousands per second. Same weights, same state
    layout as the module; tests check it matches it to 1e-5.

    Args:
        x: (B, input_size) the step's input.
        state: as returned by the module (``(h, c)`` for an LSTM), or None.

    Returns:
        (top layer's output (B, H), new state)
    """
    is_lstm, is_gru = isinstance(rnn, nn.LSTM), isinstance(rnn, nn.GRU)
    if state is None:
        state = init_state(rnn, x.size(0))
    h_all, c_all = state if is_lstm else (state, None)
    hs, cs, inp = [], [], x
    for layer in range(rnn.num_layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
        h = h_all[layer]
        gi, gh = F.linear(inp, w_ih, b_ih), F.linear(h, w_hh, b_hh)
        if is_lstm:
            i, f, g, o = (gi + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c_all[layer] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            cs.append(c)
        elif is_gru:
            ir, iz, in_ = gi.chunk(3, dim=-1)
            hr, hz, hn = gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            h = (1 - z) * torch.tanh(in_ + r * hn) + z * h
        else:
            h = torch.tanh(gi + gh) if rnn.nonlinearity == "tanh" else torch.relu(gi + gh)
        hs.append(h)
        inp = h
    h_new = torch.stack(hs)
    return inp, ((h_new, torch.stack(cs)) if is_lstm else h_new)


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


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

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Output frames of inputs of ``lengths`` frames (Conv1d's length formula)."""
        for conv in self.convs:
            lengths = _conv_length(conv, lengths)
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
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


# name -> constructor; a new head registered here is covered by tests/test_models.py.
MODELS: dict[str, type[nn.Module]] = {
    "SequenceClassifier": SequenceClassifier,
    "EnsembleClassifier": EnsembleClassifier,
    "SequenceLM": SequenceLM,
    "CTCRecognizer": CTCRecognizer,
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
