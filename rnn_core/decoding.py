"""Decoding: sampling the next token of a language model (temperature, top-k, top-p),
and reading a CTC network's per-frame label posteriors (greedy best path, prefix beam
search with an optional lexicon, forced alignment of a known labelling)."""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, hook: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Next-token probabilities after a logits hook, temperature, top-k and nucleus
    (top-p) filtering: the one sampling path of every generator (text and melody).

    Args:
        logits: (V,) scores, or (B, V) for a batch of sequences.
        temperature: > 0; below 1 sharpens, above 1 flattens.
        top_k: keep only the k most likely tokens (0 = all).
        top_p: keep the smallest set of most likely tokens whose probability
            reaches ``top_p`` (1 = all).
        hook: changes the logits first, e.g. a key mask that adds -inf to the
            notes outside the scale (`rnn_core.tasks.melody.predictor.allowed_mask`).

    Returns:
        probabilities of ``logits``' shape, each row summing to 1, zero outside the kept set.
    """
    if hook is not None:
        logits = hook(logits)
    probs = torch.softmax(logits.float() / max(temperature, 1e-4), dim=-1)
    if 0 < top_k < probs.size(-1):
        kth = torch.topk(probs, top_k, dim=-1).values[..., -1:]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        total = sorted_p.sum(-1, keepdim=True)
        # keep a token if the mass before it is still below top_p (so the first always stays)
        keep_sorted = (torch.cumsum(sorted_p, -1) / total - sorted_p / total) < top_p
        keep = torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    return probs / probs.sum(-1, keepdim=True)


def sample(logits: torch.Tensor, generator: torch.Generator, temperature: float = 1.0,
           top_k: int = 0, top_p: float = 1.0, hook: Callable[[torch.Tensor], torch.Tensor] | None = None):
    """Draw the next token (`filter_logits`' arguments); returns (id, or (B,) ids for a
    batch, and the filtered distribution it was drawn from)."""
    probs = filter_logits(logits, temperature, top_k, top_p, hook)
    drawn = torch.multinomial(probs, 1, generator=generator)
    return (int(drawn) if probs.dim() == 1 else drawn[:, 0]), probs


# ---------------------------------------------------------------------------------------
# CTC decoding. Inputs are (T, C) log-probabilities (log_softmax over C labels, per frame),
# numpy or torch; the blank label is id 0 unless said otherwise.

_NEG_INF = float("-inf")


def _log_probs_array(log_probs) -> np.ndarray:
    """(T, C) float64 numpy view of numpy or torch log-probabilities."""
    if isinstance(log_probs, torch.Tensor):
        log_probs = log_probs.detach().cpu().double().numpy()
    lp = np.asarray(log_probs, dtype=np.float64)
    if lp.ndim != 2:
        raise ValueError(f"expected (frames, labels) log-probabilities, got shape {lp.shape}")
    return lp


def ctc_greedy_frames(log_probs, blank: int = 0) -> list[tuple[int, int]]:
    """Best-path decoding with the frame of each emitted label.

    The most likely label is taken at every frame, runs of the same label are
    collapsed and blanks removed ("aa-a" -> "aa", "aaa" -> "a").

    Returns:
        (label, frame) pairs in order; ``frame`` is the first frame of the run that
        emitted the label, which is where an alignment plot should mark it.
    """
    best = _log_probs_array(log_probs).argmax(axis=1)
    if best.size == 0:
        return []
    # a label is emitted where the argmax changes to a non-blank label
    starts = np.flatnonzero(np.concatenate(([True], best[1:] != best[:-1])) & (best != blank))
    return [(int(best[t]), int(t)) for t in starts]


def ctc_greedy(log_probs, blank: int = 0) -> list[int]:
    """Best-path label sequence (see `ctc_greedy_frames`, which also gives frames)."""
    return [label for label, _ in ctc_greedy_frames(log_probs, blank)]


def ctc_align(log_probs, labels: list[int], blank: int = 0, allowed=None) -> list[tuple[int, int]]:
    """Forced alignment: the most probable CTC path that spells ``labels`` (Viterbi).

    Args:
        log_probs: (T, C) per-frame log-probabilities, numpy or torch.
        labels: the labelling to place (e.g. the beam search's answer), blanks excluded.
        allowed: optional (T,) booleans: frames where a label (not blank) may be
            emitted; the path keeps to blanks elsewhere. Where that leaves no valid
            path (too few allowed frames), the constraint is dropped.

    Returns:
        (label, frame) pairs, one per label of ``labels`` in order, ``frame`` being the
        first frame of the run that emits it (as in `ctc_greedy_frames`); [] for no labels.
    """
    lp = _log_probs_array(log_probs)
    if not labels:
        return []
    if not len(lp):
        raise ValueError("no frames to align labels in")
    ext = np.full(2 * len(labels) + 1, blank)
    ext[1::2] = labels
    frames, states = len(lp), len(ext)
    score = lp[:, ext]
    if allowed is not None:
        score = np.where(np.asarray(allowed, bool)[:, None] | (ext == blank)[None, :], score, -np.inf)
    # a state is entered from itself, the one before, or (a label differing from the
    # label two back, with a blank between them) skipping that blank
    skip = np.zeros(states, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    best = np.full(states, -np.inf)
    best[:2] = score[0, :2]
    back = np.zeros((frames, states), np.int8)  # 0: stay, 1: from s-1, 2: from s-2
    for t in range(1, frames):
        came = np.stack([best, np.r_[-np.inf, best[:-1]], np.where(skip, np.r_[-np.inf, -np.inf, best[:-2]], -np.inf)])
        back[t] = came.argmax(axis=0)
        best = came.max(axis=0) + score[t]
    ends = [states - 1, states - 2]
    end = max(ends, key=lambda s: best[s])
    if not np.isfinite(best[end]):
        if allowed is None:
            raise ValueError(f"{len(labels)} labels cannot be placed in {frames} frames")
        return ctc_align(lp, labels, blank)
    path = np.empty(frames, int)
    path[-1] = end
    for t in range(frames - 1, 0, -1):
        path[t - 1] = path[t] - back[t, path[t]]
    starts = np.flatnonzero((path % 2 == 1) & np.r_[True, path[1:] != path[:-1]])
    return [(int(ext[path[t]]), int(t)) for t in starts]


def _logadd(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) on Python floats (np.logaddexp on scalars is ~10x slower)."""
    if a < b:
        a, b = b, a
    if b == _NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


def _lexicon_sets(lexicon: Iterable, alphabet) -> tuple[set[tuple[int, ...]], set[tuple[int, ...]]]:
    """(every prefix of every word, the words) as label-id tuples."""
    words = set()
    for w in lexicon:
        if isinstance(w, str):
            if alphabet is None:
                raise ValueError("a lexicon of strings needs the alphabet that encodes them")
            w = alphabet.encode(w)
        if len(w):
            words.add(tuple(int(i) for i in w))
    if not words:
        raise ValueError("the lexicon is empty")
    return {w[:k] for w in words for k in range(len(w) + 1)}, words


def ctc_prefix_beam(log_probs, beam: int = 8, blank: int = 0, lexicon: Iterable | None = None,
                    alphabet=None, space: int | None = None, prune: float = 1e-3,
                    top_k: int | None = None) -> list[tuple[list[int], float]]:
    """CTC prefix beam search: the most probable labellings, not the most probable paths.

    Each hypothesis keeps two log-probabilities, of its paths ending in a blank and
    in a non-blank, so that paths that collapse to the same labelling are summed
    (and "a-a" stays distinct from "aa" -> "a").

    Args:
        log_probs: (T, C) per-frame log-probabilities, numpy or torch.
        beam: hypotheses kept after each frame.
        blank: id of the blank label.
        lexicon: optional allowed words (strings, encoded with ``alphabet``, or
            sequences of label ids). A hypothesis is kept only while its current
            partial word is a prefix of a lexicon word; a ``space`` may only close a
            complete word, and at the end the last word must be complete too. So
            the output is always a sequence of lexicon words, or empty.
        alphabet: the encoder that turns lexicon strings into ids (anything with
            ``encode``); its ``space_id`` is the default for ``space``.
        space: label that separates words (default ``alphabet.space_id``, else 1).
        prune: labels below this probability in a frame are not tried as extensions.
        top_k: at most this many labels tried per frame (default ``beam``). With the
            threshold this bounds the work: ~250 frames x 28 labels in a few ms.

    Returns:
        Up to ``beam`` (labels, log-probability) pairs, best first. With a lexicon,
        a trailing space is dropped (its labelling merged with the one without it);
        if no hypothesis ends on a complete word, the words before the unfinished
        one are returned (a recording cut mid-word).
    """
    lp = _log_probs_array(log_probs)
    top_k = beam if top_k is None else top_k
    log_prune = math.log(prune) if prune > 0 else _NEG_INF
    lex = None
    if lexicon is not None:
        prefixes, words = _lexicon_sets(lexicon, alphabet)
        lex = (prefixes, words, getattr(alphabet, "space_id", 1) if space is None else space)
    # prefix -> [log p(paths ending in blank), log p(paths ending in non-blank)]
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, _NEG_INF]}
    partial: dict[tuple[int, ...], tuple[int, ...]] = {(): ()}  # current word of each prefix
    for row in lp:
        k = min(top_k, len(row))
        cand = np.argpartition(row, -k)[-k:] if k < len(row) else np.arange(len(row))
        cand = [int(c) for c in cand if c != blank and row[c] >= log_prune]
        nxt = _extend(beams, partial, row.tolist(), cand, blank, lex)
        beams = dict(heapq.nlargest(beam, nxt.items(), key=lambda kv: _logadd(kv[1][0], kv[1][1])))
        if lex is not None:
            partial = {p: partial[p] for p in beams}
    return _finish(beams, partial if lex is not None else None, lex[1] if lex is not None else None,
                   lex[2] if lex is not None else space, beam)


def _next_word(word: tuple[int, ...], label: int, lex: tuple) -> tuple[int, ...] | None:
    """The current word after ``label`` under the lexicon ``lex`` (prefixes, words,
    space), or None where the lexicon forbids it: a space closes only a complete word,
    any other label must keep the word a prefix of one."""
    prefixes, words, space = lex
    if label == space:
        return () if word in words else None
    longer = word + (label,)
    return longer if longer in prefixes else None


def _extend(beams: dict, partial: dict, row: list[float], cand: list[int], blank: int,
            lex: tuple | None) -> dict:
    """One frame of the prefix beam search: every hypothesis continued by a blank, by
    its last label repeated, and by each candidate label (``partial`` gains the current
    word of each new prefix when there is a lexicon)."""
    p_blank = row[blank]
    nxt: dict[tuple[int, ...], list[float]] = {}
    for prefix, (pb, pnb) in beams.items():
        total = _logadd(pb, pnb)
        entry = nxt.setdefault(prefix, [_NEG_INF, _NEG_INF])
        entry[0] = _logadd(entry[0], total + p_blank)
        last = prefix[-1] if prefix else None
        if last is not None:  # the last label repeated without a blank: same prefix
            entry[1] = _logadd(entry[1], pnb + row[last])
        for c in cand:
            new_word = _next_word(partial[prefix], c, lex) if lex is not None else ()
            if new_word is None:
                continue
            # after the same label, only paths ending in blank start a new label
            p = (pb if c == last else total) + row[c]
            if p == _NEG_INF:
                continue
            new = prefix + (c,)
            e = nxt.setdefault(new, [_NEG_INF, _NEG_INF])
            e[1] = _logadd(e[1], p)
            if lex is not None:
                partial[new] = new_word
    return nxt


def _finish(beams: dict, partial: dict | None, words: set | None, space: int | None,
            beam: int) -> list[tuple[list[int], float]]:
    """Final ranking; with a lexicon, only hypotheses that end on a complete word, or,
    when none does (a recording cut inside a word), the complete words before the cut."""
    scores: dict[tuple[int, ...], float] = {}
    cut: dict[tuple[int, ...], float] = {}
    for prefix, (pb, pnb) in beams.items():
        if pb == pnb == _NEG_INF:
            continue
        target = scores
        if partial is not None:
            if partial[prefix] and partial[prefix] not in words:
                # stopped inside a word: keep what came before it, as a fallback
                target, prefix = cut, prefix[:len(prefix) - len(partial[prefix])]
            while prefix and prefix[-1] == space:
                prefix = prefix[:-1]
        target[prefix] = _logadd(target.get(prefix, _NEG_INF), _logadd(pb, pnb))
    scores = scores or cut
    if not scores:
        return [([], _NEG_INF)]
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:beam]
    return [(list(prefix), score) for prefix, score in ranked]

