"""Speech data for training and scoring: the FSDD splits, cached features of single
clips, connected digit strings (with pauses, or fluent), the synthetic-voice corpus,
audio with no digits, and length-pooled CTC batches."""
from __future__ import annotations

import functools

import numpy as np
import torch

from ...batching import pad_features
from ...data.fsdd import Clip, augment, by_speaker, load_clip, random_connected, speaker_split, usual_split
from ...data.scenes import non_speech, scene
from ...data.specaugment import spec_augment, vtlp
from ...data.voices import Utterance
from ...encoders.audio import DIGIT_WORDS, SAMPLE_RATE, CTCAlphabet, features, load_audio

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
                      augmented: bool = False, gap: tuple[float, float] | None = None,
                      spans: list | None = None) -> list[tuple[np.ndarray, str]]:
    """``n`` (wave, transcript) connected strings of ``min_len``..``max_len`` digits, each
    by one speaker of ``clips``, with pauses between the digits or, with ``gap``, read
    fluently (see `make_connected`); the same seed gives the same strings. ``spans``, a
    list, receives each string's word spans (see `make_connected`)."""
    rng, groups = np.random.default_rng(seed), by_speaker(clips)
    out = []
    for _ in range(n):
        where = [] if spans is not None else None
        out.append(random_connected(groups, rng, min_len, max_len, augment=augmented, gap=gap, spans=where))
        if spans is not None:
            spans.append(where)
    return out


def ctc_batch(items: list[tuple[np.ndarray, str]], alphabet: CTCAlphabet) -> dict:
    """(features, transcript) pairs as the keyword arguments of ``CTCRecognizer(**batch)``."""
    x, lengths = pad_features([f for f, _ in items])
    ids = [alphabet.encode(t) for _, t in items]
    targets = torch.zeros(len(ids), max(1, max(map(len, ids))), dtype=torch.long)  # "" (no digits) is a target too
    for i, s in enumerate(ids):
        targets[i, :len(s)] = torch.tensor(s)
    return {"x": x, "lengths": lengths, "targets": targets,
            "target_lengths": torch.tensor([len(s) for s in ids])}


def training_batches(clips: list[Clip], r, epoch: int, alphabet: CTCAlphabet, pool: int = 8,
                     voices: list[Utterance] | None = None):
    """Yield one epoch of batches. For every training clip once (a share ``aug_share``
    augmented when ``augment``) come ``connected_share`` connected strings (a share
    ``fluent_share`` of them fluent: no pause, or a slight overlap, between digits),
    ``voices_share`` items of the synthetic-voice corpus (``voices``: digits fluent,
    paused, single or inside a carrier phrase, and sentences with no digit) and
    ``negative_share`` items of noise, tones, tunes or babble with an empty transcript.
    With ``augment``, a share ``scene_share`` of everything is put in a simulated room
    (`scenes.scene`), and the features of a share ``vtlp_share`` get another vocal
    tract's length (`specaugment.vtlp`) and of ``mask_share`` SpecAugment's masks.
    Without ``fsdd`` (or with no ``clips``), every corpus utterance comes once and
    the shares count per utterance: the synthetic voices alone, the start that
    held-out-speaker runs share (no FSDD speaker in it).

    Items are made a pool of ``pool`` batches at a time, sorted by length within it
    (little padding) and the pool's batches shuffled; connected strings, whose length
    is known only once made, are why it is pools and not the whole epoch at once.
    """
    rng = np.random.default_rng([r.seed, epoch])
    voices = voices or []
    clips = clips if r.fsdd else []
    groups = by_speaker(clips)
    if clips:
        n = len(clips)
        recipes = ([("clip", c) for c in clips] + [("connected", None)] * round(r.connected_share * n)
                   + [("voice", v) for v in (rng.choice(len(voices), round(r.voices_share * n)) if voices else [])])
        babble = [load_clip(clips[int(i)]) for i in rng.choice(n, min(n, 40), replace=False)]
    else:
        n = len(voices)
        recipes = [("voice", v) for v in range(n)]
        babble = [voice_wave(voices[int(i)]) for i in rng.choice(n, min(n, 40), replace=False)]
    recipes += [("none", None)] * round(r.negative_share * n)
    order = rng.permutation(len(recipes))
    span = pool * r.batch_size
    for k in range(0, len(order), span):
        items = [_item(*recipes[i], r, rng, groups, voices, babble) for i in order[k:k + span]]
        items.sort(key=lambda it: len(it[0]))
        batches = [items[j:j + r.batch_size] for j in range(0, len(items), r.batch_size)]
        for j in rng.permutation(len(batches)):
            yield ctc_batch(batches[j], alphabet)


def _item(kind: str, what, r, rng: np.random.Generator, groups, voices: list[Utterance],
          babble: list[np.ndarray]) -> tuple[np.ndarray, str]:
    """One training item (features, transcript) of a `training_batches` recipe."""
    feats, text = _wave_item(kind, what, r, rng, groups, voices, babble)
    if r.augment and rng.random() < r.vtlp_share:
        feats = vtlp(feats, rng)
    if r.augment and rng.random() < r.mask_share:
        feats = spec_augment(feats, rng)
    return feats, text


def _wave_item(kind: str, what, r, rng: np.random.Generator, groups, voices: list[Utterance],
               babble: list[np.ndarray]) -> tuple[np.ndarray, str]:
    """The features and transcript of one item, before feature augmentation."""
    if kind == "clip" and not (r.augment and rng.random() < r.aug_share):
        return clip_features(what, r.n_mels), DIGIT_WORDS[what.digit]  # unaltered: cached
    if kind == "clip":
        wave, text = augment(load_clip(what), rng), DIGIT_WORDS[what.digit]
    elif kind == "connected":
        gap = (-0.03, 0.04) if rng.random() < r.fluent_share else None
        wave, text = random_connected(groups, rng, 1, r.max_digits, augment=r.augment, gap=gap)
    elif kind == "voice":  # synthetic voices vary less than people: speed and pitch them too
        utterance = voices[int(what)]
        wave, text = voice_wave(utterance), utterance.text
        if r.augment:
            wave = augment(wave, rng, snr_db=None)
    else:
        wave, text = non_speech(rng, babble), ""
    if r.augment and rng.random() < r.scene_share:
        wave = scene(wave, rng, babble)
    return features(wave, r.n_mels), text


@functools.lru_cache(maxsize=4096)  # the whole corpus is ~40 MB of 8 kHz float waves
def _voice_wave(path: str) -> np.ndarray:
    wave, _ = load_audio(path, SAMPLE_RATE)
    wave.setflags(write=False)
    return wave


def voice_wave(utterance: Utterance) -> np.ndarray:
    """The wave of a corpus utterance (read once per process)."""
    return _voice_wave(str(utterance.path))


def voice_splits(items: list[Utterance]) -> dict[str, list[Utterance]]:
    """{"train", "dev", "held_out"} of the synthetic-voice corpus: the held-out voices'
    items, and every tenth item of the other voices for validation."""
    seen = [u for u in items if not u.held_out]
    return {"train": [u for i, u in enumerate(seen) if i % 10 != 9],
            "dev": [u for i, u in enumerate(seen) if i % 10 == 9],
            "held_out": [u for u in items if u.held_out]}


def validation_set(dev: list[Clip], r, voices: list[Utterance] | None = None
                   ) -> tuple[list[np.ndarray], list[str], int]:
    """(features, transcripts, number of single clips): the dev clips, then
    ``dev_connected`` fixed connected strings made of them (half of them fluent, when
    the recipe trains on fluent strings), then the corpus's dev ``voices``."""
    strings = connected_strings(dev, r.dev_connected, seed=r.seed + 1) if r.dev_connected and dev else []
    if r.fluent_share and r.dev_connected and dev:
        strings += connected_strings(dev, r.dev_connected // 2, seed=r.seed + 2, gap=(-0.03, 0.04))
    voices = voices or []
    feats = ([clip_features(c, r.n_mels) for c in dev] + [features(w, r.n_mels) for w, _ in strings]
             + [features(voice_wave(u), r.n_mels) for u in voices])
    texts = [DIGIT_WORDS[c.digit] for c in dev] + [t for _, t in strings] + [u.text for u in voices]
    return feats, texts, len(dev)
