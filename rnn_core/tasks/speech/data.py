"""Speech data for training and scoring: the FSDD splits, cached features of single
clips, connected digit strings, and length-pooled CTC batches."""
from __future__ import annotations

import functools

import numpy as np
import torch

from ...batching import pad_features
from ...data.fsdd import Clip, augment, by_speaker, load_clip, random_connected, speaker_split, usual_split
from ...encoders.audio import DIGIT_WORDS, CTCAlphabet, features

DEV_TAKES = (5, 6, 7)


def partition(clips: list[Clip], held_out: str = "") -> dict[str, list[Clip]]:
    """{"train", "dev", "test"}: test = takes 0-4 (or every clip of speaker
    ``held_out``); dev = `DEV_TAKES` of the other speakers; train = the rest."""
    rest, test = speaker_split(clips, held_out) if held_out else usual_split(clips)
    return {"train": [c for c in rest if c.take not in DEV_TAKES],
            "dev": [c for c in rest if c.take in DEV_TAKES], "test": test}


@functools.lru_cache(maxsize=8192)  # all of FSDD is ~20 MB of features
def clip_features(clip: Clip, n_mels: int) -> np.ndarray:
    """Features of an unaltered single clip, computed once per process."""
    return features(load_clip(clip), n_mels)


def connected_strings(clips: list[Clip], n: int, seed: int, min_len: int = 3, max_len: int = 6,
                      augmented: bool = False) -> list[tuple[np.ndarray, str]]:
    """``n`` (wave, transcript) connected strings of ``min_len``..``max_len`` digits, each
    by one speaker of ``clips``; the same seed gives the same strings."""
    rng, groups = np.random.default_rng(seed), by_speaker(clips)
    return [random_connected(groups, rng, min_len, max_len, augment=augmented) for _ in range(n)]


def ctc_batch(items: list[tuple[np.ndarray, str]], alphabet: CTCAlphabet) -> dict:
    """(features, transcript) pairs as the keyword arguments of ``CTCRecognizer(**batch)``."""
    x, lengths = pad_features([f for f, _ in items])
    ids = [alphabet.encode(t) for _, t in items]
    targets = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for i, s in enumerate(ids):
        targets[i, :len(s)] = torch.tensor(s)
    return {"x": x, "lengths": lengths, "targets": targets,
            "target_lengths": torch.tensor([len(s) for s in ids])}


def training_batches(clips: list[Clip], r, epoch: int, alphabet: CTCAlphabet, pool: int = 8):
    """Yield one epoch of batches: every training clip once (a share ``aug_share``
    augmented when ``augment``) and ``connected_share`` as many connected strings.

    Items are made a pool of ``pool`` batches at a time, sorted by length within it
    (little padding) and the pool's batches shuffled; connected strings, whose length
    is known only once made, are why it is pools and not the whole epoch at once.
    """
    rng = np.random.default_rng([r.seed, epoch])
    groups = by_speaker(clips)
    recipes = list(clips) + [None] * round(r.connected_share * len(clips))  # None = connected
    order = rng.permutation(len(recipes))
    span = pool * r.batch_size
    for k in range(0, len(order), span):
        items = []
        for i in order[k:k + span]:
            clip = recipes[i]
            if clip is None:
                wave, text = random_connected(groups, rng, 1, r.max_digits, augment=r.augment)
                items.append((features(wave, r.n_mels), text))
            elif r.augment and rng.random() < r.aug_share:
                items.append((features(augment(load_clip(clip), rng), r.n_mels), DIGIT_WORDS[clip.digit]))
            else:
                items.append((clip_features(clip, r.n_mels), DIGIT_WORDS[clip.digit]))
        items.sort(key=lambda it: len(it[0]))
        batches = [items[j:j + r.batch_size] for j in range(0, len(items), r.batch_size)]
        for j in rng.permutation(len(batches)):
            yield ctc_batch(batches[j], alphabet)


def validation_set(dev: list[Clip], r) -> tuple[list[np.ndarray], list[str], int]:
    """(features, transcripts, number of single clips): the dev clips, then
    ``dev_connected`` fixed connected strings made of them."""
    strings = connected_strings(dev, r.dev_connected, seed=r.seed + 1) if r.dev_connected else []
    feats = [clip_features(c, r.n_mels) for c in dev] + [features(w, r.n_mels) for w, _ in strings]
    return feats, [DIGIT_WORDS[c.digit] for c in dev] + [t for _, t in strings], len(dev)
