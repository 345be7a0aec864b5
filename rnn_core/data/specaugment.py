"""Augmentation of log-mel features for speech training: vocal-tract-length
perturbation (VTLP) and SpecAugment's masks. They act on the features, after
`encoders.audio.features`, so they cost microseconds where a wave-level change costs
a resampling.
"""
from __future__ import annotations

import numpy as np


def vtlp(feats: np.ndarray, rng: np.random.Generator, warp: tuple[float, float] = (0.9, 1.1)) -> np.ndarray:
    """(frames, bands) features with the frequency axis warped by a factor drawn from
    ``warp``: a longer or shorter vocal tract moves every formant by about the same
    ratio (Jaitly & Hinton, 2013). Band ``i`` takes the value at ``i / alpha``, linear in
    the lower 80% of bands and bent in the top 20% so the last band stays the last
    (the piecewise-linear warp of the paper, on mel bands rather than the filterbank)."""
    alpha = float(rng.uniform(*warp))
    n = feats.shape[1]
    bands = np.arange(n, dtype=np.float64)
    knee = 0.8 * (n - 1) * min(alpha, 1.0)
    src = np.where(bands <= knee, bands / alpha,
                   knee / alpha + (bands - knee) * ((n - 1) - knee / alpha) / max((n - 1) - knee, 1e-9))
    lo = np.clip(np.floor(src).astype(int), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    w = (src - lo).astype(np.float32)
    return (feats[:, lo] * (1 - w) + feats[:, hi] * w).astype(np.float32)


def spec_augment(feats: np.ndarray, rng: np.random.Generator, freq_masks: int = 2, max_bands: int = 5,
                 time_masks: int = 2, max_frames: int = 12, max_share: float = 0.1) -> np.ndarray:
    """A copy of (frames, bands) features with ``freq_masks`` bands of up to
    ``max_bands`` and ``time_masks`` spans of up to ``max_frames`` (and at most
    ``max_share`` of the frames each) set to 0, the per-utterance mean of normalised
    features (Park et al., 2019, without time warping). Short masks: a digit lasts
    30-60 frames, and a mask that hides a whole word would teach the network to skip
    words."""
    out = feats.copy()
    frames, bands = out.shape
    for _ in range(freq_masks):
        width = int(rng.integers(0, max_bands + 1))
        start = int(rng.integers(0, max(1, bands - width)))
        out[:, start:start + width] = 0.0
    for _ in range(time_masks):
        width = int(rng.integers(0, max(1, min(max_frames, int(max_share * frames))) + 1))
        start = int(rng.integers(0, max(1, frames - width)))
        out[start:start + width] = 0.0
    return out
