"""Decoding a translation: greedy and beam search over `Seq2Seq.step`, with length
normalisation (Wu et al. 2016's ``((5 + n) / 6) ** alpha``), returning every finished
hypothesis with its attention."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...encoders.bilingual import BOS, EOS


@dataclass
class Hypothesis:
    """One finished translation: target ids (without ``<s>``/``</s>``), the sum of its
    tokens' log-probabilities, its length-normalised score, and its attention
    (one row per output token and one for ``</s>``, over the source; None without attention)."""
    ids: list[int]
    logprob: float
    score: float
    attention: torch.Tensor | None
    finished: bool = True


def length_penalty(n: int, alpha: float) -> float:
    """GNMT's length penalty: scores are divided by it, so long outputs are not
    punished for having more tokens to pay for (alpha 0: raw log-probability)."""
    return ((5 + n) / 6) ** alpha


@torch.no_grad()
def beam_search(model, src: torch.Tensor, bos: int, eos: int, beam: int = 5, max_len: int = 60,
                alpha: float = 0.6) -> list[Hypothesis]:
    """The ``beam`` best translations of one source (ids (S,)), best first; width 1 is
    greedy decoding. Hypotheses unfinished at ``max_len`` are returned marked so."""
    memory, mask, state = model.encode(src.unsqueeze(0), torch.tensor([src.numel()]))
    ys = torch.full((1,), bos, dtype=torch.long)
    scores = torch.zeros(1)
    tokens = torch.zeros(1, 0, dtype=torch.long)
    attn = None if model.attention == "none" else memory.new_zeros(1, 0, memory.size(1))
    done: list[Hypothesis] = []
    for t in range(max_len):
        k = ys.numel()
        logp, state, weights = model.step(ys, state, memory.expand(k, -1, -1), mask.expand(k, -1))
        cand = (scores.unsqueeze(1) + logp).view(-1)
        top, idx = cand.topk(min(2 * beam, cand.numel()))
        rows, words = idx // logp.size(1), idx % logp.size(1)
        keep = []
        for s, r, w in zip(top.tolist(), rows.tolist(), words.tolist()):
            a = None if attn is None else torch.cat([attn[r], weights[r:r + 1]])
            if w == eos:
                ids = tokens[r].tolist()
                done.append(Hypothesis(ids, s, s / length_penalty(len(ids) + 1, alpha), a))
            else:
                keep.append((s, r, w, a))
            if len(keep) == beam:
                break
        if not keep or len(done) >= beam:  # as many finished as the beam is wide (fairseq's rule)
            break
        rows_t = torch.tensor([r for _, r, _, _ in keep])
        scores = torch.tensor([s for s, _, _, _ in keep])
        ys = torch.tensor([w for _, _, w, _ in keep])
        tokens = torch.cat([tokens[rows_t], ys.unsqueeze(1)], 1)
        attn = None if attn is None else torch.stack([a for *_, a in keep])
        state = state[:, rows_t] if not isinstance(state, tuple) else tuple(s[:, rows_t] for s in state)
    else:
        for i, s in enumerate(scores.tolist()):
            ids = tokens[i].tolist()
            done.append(Hypothesis(ids, s, s / length_penalty(len(ids), alpha),
                                   None if attn is None else attn[i], finished=False))
    return sorted(done, key=lambda h: -h.score)[:beam]


def specials(encoder) -> tuple[int, int]:
    """(``<s>``, ``</s>``) ids of the encoder's French vocabulary."""
    return encoder.tgt.stoi[BOS], encoder.tgt.stoi[EOS]
