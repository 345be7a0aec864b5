"""The speech model against voices and sounds unlike FSDD: digit strings read fluently
(no pause between digits), synthetic voices nobody trained on, audio with no digits
(which must come out as "no digits heard"), and whether its confidence means what it
says (calibration). `evaluate` adds these figures to metrics.json; `fit_temperature`
is how a checkpoint's confidence gets calibrated after training.
"""
from __future__ import annotations

import numpy as np

from ...data.fsdd import Clip
from ...data.scenes import non_speech, unfamiliar_sound
from ...data.voices import load as load_voices
from ...decoding import ctc_greedy_frames
from ...encoders.audio import SAMPLE_RATE, CTCAlphabet, features, sound_frames
from ...metrics import cer
from .data import connected_strings, voice_splits, voice_wave
from .predictor import SpeechRecognizer, batch_log_probs, best_transcript, calibrated, place_letters
from .refusal import OTHER_WORDS_SECONDS, digit_score, fit_refusal, other_sound_seconds, refused

TEMPERATURES = tuple(np.round(np.geomspace(0.5, 8, 13), 2))  # x1.26 apart: each fit runs the beam 13 times
FLUENT = (-0.03, 0.04)   # seconds between digits of a fluent string (negative: overlap)


def answers(log_probs: list[np.ndarray], alphabet: CTCAlphabet, temperature: float = 1.0
            ) -> tuple[list[str], list[float]]:
    """The beam search's transcript and confidence of each utterance."""
    out = [best_transcript(calibrated(lp, temperature), alphabet) for lp in log_probs]
    return [t for t, _ in out], [c for _, c in out]


def calibration(confidence: list[float], correct: list[bool], bins: int = 10) -> dict:
    """Expected calibration error (|accuracy - confidence| over ``bins`` equal-width
    bins, weighted by their share of answers) and how the answers given at least 90%
    confidence fare."""
    conf, right = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    ece = sum(abs(right[which == b].mean() - conf[which == b].mean()) * np.mean(which == b)
              for b in range(bins) if np.any(which == b))
    sure = conf >= 0.9
    return {"ece": round(float(ece), 4), "answers": len(conf), "share_at_least_90": round(float(sure.mean()), 4),
            "accuracy_at_least_90": round(float(right[sure].mean()), 4) if sure.any() else None}


def _words(placed: list[tuple[int, int]], space: int) -> list[list[int]]:
    """The frames of each word's letters, from (label, frame) pairs."""
    words: list[list[int]] = [[]]
    for label, frame in placed:
        if label == space:
            words.append([])
        else:
            words[-1].append(frame)
    return [w for w in words if w]


def alignment_figures(rec: SpeechRecognizer, waves: list[np.ndarray], log_probs: list[np.ndarray],
                      truth: list[str], spans: list[list[tuple[int, int]]] | None = None) -> dict:
    """Where the letters land, for the tab's alignment (`place_letters`) and for the greedy
    path's spikes, over the utterances each transcribes right: "letters_on_speech" is
    the share of letters within one frame of sound (`sound_frames`); with ``spans``
    (each word's true samples, as `make_connected` gives them), "words_in_place" is the
    share of words whose letters' median frame is on its own word (one frame's slack)."""
    hop = round(rec.frame_seconds * SAMPLE_RATE)
    space = rec.encoder.space_id
    counts = {k: np.zeros(4, dtype=int) for k in ("placed", "greedy")}  # on sound, letters, in place, words
    for i, (wave, lp, text) in enumerate(zip(waves, log_probs, truth)):
        sound = sound_frames(wave, hop, len(lp))
        beam, _ = best_transcript(lp, rec.encoder)
        ways = {"greedy": ctc_greedy_frames(lp)}
        if beam == text:
            ways["placed"] = place_letters(lp, text, wave, rec.frame_seconds, rec.encoder)
        for name, placed in ways.items():
            if rec.encoder.decode([label for label, _ in placed]).split() != text.split():
                continue
            letters = [f for label, f in placed if label != space]
            counts[name][:2] += sound[letters].sum(), len(letters)
            if spans is not None:
                words = _words(placed, space)
                counts[name][2:] += sum(a / hop - 1 <= np.median(w) <= b / hop + 1
                                        for w, (a, b) in zip(words, spans[i])), len(words)
    out = {}
    for name, (on, letters, in_place, words) in counts.items():
        prefix = "" if name == "placed" else "greedy_"
        out[prefix + "letters_on_speech"] = round(float(on / max(letters, 1)), 4)
        if spans is not None:
            out[prefix + "words_in_place"] = round(float(in_place / max(words, 1)), 4)
    return out


def fit_temperature(log_probs: list[np.ndarray], truth: list[str], alphabet: CTCAlphabet) -> float:
    """The temperature (of `TEMPERATURES`) whose confidences are best calibrated on
    these held-out utterances (lowest expected calibration error)."""
    def error(t):
        hyps, conf = answers(log_probs, alphabet, t)
        return calibration(conf, [h == y for h, y in zip(hyps, truth)])["ece"]

    return float(min(TEMPERATURES, key=error))


def negatives(n: int, seed: int, sentences: list) -> tuple[list[np.ndarray], list[str]]:
    """``n`` waves of noise, tones and babble made with ``seed``, then the corpus
    ``sentences`` (utterances with no digits): all should come out as ""."""
    rng = np.random.default_rng(seed)
    babble = [voice_wave(u) for u in sentences[:20]]
    waves = [non_speech(rng, babble or None) for _ in range(n)] + [voice_wave(u) for u in sentences]
    return waves, [""] * len(waves)


def refusal_on_validation(model, feats: list[np.ndarray], texts: list[str], temperature: float,
                          alphabet: CTCAlphabet, n_mels: int, seed: int = 99) -> dict:
    """`refusal.fit_refusal` on validation utterances (``feats``, ``texts``): the
    threshold refusing at most `refusal.MAX_FALSE_REFUSAL` of those with digits, and what
    it does to those with none and to 100 clips of noise, tones, tunes and chords made
    with ``seed`` (none of them the ones `evaluate` scores)."""
    rng = np.random.default_rng(seed)
    feats = list(feats) + [features(non_speech(rng), n_mels) for _ in range(100)]
    texts = list(texts) + [""] * 100
    hyps, conf = answers(batch_log_probs(model, feats), alphabet, temperature)
    scores = [digit_score(h, c) for h, c in zip(hyps, conf)]
    return {**fit_refusal([sc for sc, t in zip(scores, texts) if t], [sc for sc, t in zip(scores, texts) if not t]),
            "fitted_on": f"{sum(map(bool, texts))} validation utterances with digits, {texts.count('')} without"}


def real_voice_figures(rec: SpeechRecognizer, scored: list[Clip], seed: int, strings: int = 200) -> dict:
    """Fluent strings of the scored FSDD clips, the held-out synthetic voices (fluent,
    paused, single digits, inside a carrier phrase), audio with no digits (noise, tones,
    tunes, chords, babble and the held-out voices' sentences) and sounds like none in
    training (keypad tones, sweeps, claps: `scenes.unfamiliar_sound`); then calibration
    over all of it, and refusal: the share of each set the tab refuses at the
    checkpoint's threshold ("refused"), and for strings with digits whether it says other
    words were heard ("other_words": wanted for carrier phrases only). Voices are
    skipped, with a note, where the corpus has not been built."""
    items: dict[str, tuple[list[np.ndarray], list[str]]] = {}
    spans: list = []
    fluent = connected_strings(scored, strings, seed, gap=FLUENT, spans=spans) if strings else []
    items["fsdd_fluent"] = ([w for w, _ in fluent], [t for _, t in fluent])
    corpus = voice_splits(load_voices())
    held = corpus["held_out"]
    for style in ("fluent", "paused", "single", "carrier"):
        chosen = [u for u in held if u.style == style]
        items[f"voices_{style}"] = ([voice_wave(u) for u in chosen], [u.text for u in chosen])
    items["no_digits"] = negatives(100, seed, [u for u in held if u.style == "sentence"])
    rng = np.random.default_rng(seed + 1)
    items["kept_aside_sounds"] = ([unfamiliar_sound(rng) for _ in range(100)], [""] * 100)
    out, every_conf, every_right = {}, [], []
    threshold = rec.refusal_threshold
    for name, (waves, truth) in items.items():
        if not waves:
            continue
        lps = batch_log_probs(rec.model, [features(w, rec.n_mels) for w in waves])
        if name in ("fsdd_fluent", "voices_fluent"):  # FSDD strings: where each word is, is known
            out.setdefault("alignment", {})[name] = alignment_figures(
                rec, waves, lps, truth, spans if name == "fsdd_fluent" else None)
        hyps, conf = answers(lps, rec.encoder, rec.temperature)
        right = [h == t for h, t in zip(hyps, truth)]
        if name != "kept_aside_sounds":  # calibration: over what the network was trained for
            every_conf += conf
            every_right += right
        out[name] = {"items": len(waves), "exact": round(float(np.mean(right)), 4),
                     "refused": round(float(np.mean([refused(h, c, threshold) for h, c in zip(hyps, conf)])), 4)}
        if truth[0]:
            out[name]["cer"] = round(cer(hyps, truth), 4)
            out[name]["other_words"] = round(float(np.mean([
                other_sound_seconds(w, place_letters(lp, h, w, rec.frame_seconds, rec.encoder), rec.encoder.space_id,
                                    rec.frame_seconds, len(lp)) >= OTHER_WORDS_SECONDS
                for w, lp, h in zip(waves, lps, hyps) if h])), 4) if any(hyps) else None
    if held:
        out["held_out_voices"] = sorted({u.voice for u in held})
    else:
        out["note"] = "the synthetic-voice corpus is not built (python -m rnn_core.data.voices): no voice figures"
    out["calibration"] = {"temperature": rec.temperature, **calibration(every_conf, every_right)}
    out["refusal"] = {"threshold": threshold, **{k: v for k, v in rec.config.get("refusal", {}).items()
                                                  if k != "threshold"}}
    return out
