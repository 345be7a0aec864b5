"""The speech recogniser behind the tab: a recording in, its digits out, with what the
network heard along the way (log-mel spectrogram, per-frame label posteriors, and
where each letter of the answer sits)."""
from __future__ import annotations

import numpy as np
import torch

from ...batching import pad_features
from ...decoding import ctc_align, ctc_greedy, ctc_prefix_beam
from ...encoders.audio import (DIGIT_WORDS, HOP_MS, SAMPLE_RATE, CTCAlphabet, features, load_audio,
                               sound_frames, words_to_digits)
from ...predictor import Predictor
from ...runtime import device_of, evaluating
from .refusal import OTHER_WORDS_SECONDS, clipped_share, other_sound_seconds, refused, sound_hint

MAX_SECONDS = 20.0   # longer recordings are cut (with a note): a digit string is short


def batch_log_probs(model: torch.nn.Module, feats: list[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
    """Per-frame label log-probabilities (T', V) of each feature matrix, trimmed to its
    real output frames. Utterances are batched by length, so padding stays small."""
    order = sorted(range(len(feats)), key=lambda i: len(feats[i]))
    out: list[np.ndarray | None] = [None] * len(feats)
    with evaluating(model):
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            x, lengths = pad_features([feats[i] for i in idx])
            (log_probs, out_lengths), _ = model(x.to(device_of(model)), lengths=lengths)
            log_probs = log_probs.float().cpu()
            for row, i in enumerate(idx):
                out[i] = log_probs[row, :int(out_lengths[row])].numpy()
    return out


def beam_texts(log_probs: np.ndarray, alphabet: CTCAlphabet, beam: int = 8) -> list[tuple[str, float]]:
    """Best transcripts made of digit words (prefix beam search with the digit lexicon),
    as (text, log-probability), best first; [("", -inf)] if no word fits."""
    return [(alphabet.decode(ids), score) for ids, score in
            ctc_prefix_beam(log_probs, beam=beam, lexicon=DIGIT_WORDS, alphabet=alphabet)]


def calibrated(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """Per-frame log-probabilities softened (``temperature`` > 1) or sharpened (< 1) and
    renormalised: temperature scaling, fitted so that confidence means accuracy."""
    if temperature == 1.0:
        return log_probs
    z = log_probs / temperature
    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)


def best_transcript(log_probs: np.ndarray, alphabet: CTCAlphabet, beam: int = 8) -> tuple[str, float]:
    """(text, confidence): the beam search's best sequence of digit words ("" for none)
    and its share of the probability of all the beam's transcripts."""
    hyps = beam_texts(log_probs, alphabet, beam)
    text, best = hyps[0]
    scores = np.array([s for _, s in hyps])
    return text, 0.0 if not np.isfinite(best) else float(1.0 / np.exp(scores - best).sum())


def place_letters(log_probs: np.ndarray, text: str, wave: np.ndarray, frame_seconds: float,
                  alphabet: CTCAlphabet) -> list[tuple[int, int]]:
    """(label, frame) of each label of ``text``: the most probable path that spells it
    (forced alignment), letters kept to frames with sound (`sound_frames`).

    Why not the greedy path's spikes: CTC trains letters to come in order, not on
    time, and this network reads both ways, so its spikes drift into the silence
    before and after the words (on fluent FSDD strings a fifth of the words' letters
    sit off their word). The posteriors still order the letters; sound decides only
    which frames may carry one. `real_voices.alignment_figures` measures both.
    """
    allowed = sound_frames(wave, round(frame_seconds * SAMPLE_RATE), len(log_probs))
    return ctc_align(log_probs, alphabet.encode(text), alphabet.blank_id, allowed)


def greedy_text(labels: list[int], alphabet: CTCAlphabet) -> str:
    """The best path's labels (`ctc_greedy`) as text, whitespace tidied (the greedy
    path may emit stray spaces)."""
    return " ".join(alphabet.decode(labels).split())


class SpeechRecognizer(Predictor):
    """A loaded CTC digit recogniser (`rnn_core.models.CTCRecognizer`)."""

    task, encoder_class = "speech", CTCAlphabet

    @property
    def n_mels(self) -> int:
        """Log-mel bands the network reads."""
        return self.model.model_args.get("n_mels", 40)

    @property
    def temperature(self) -> float:
        """The calibration temperature fitted after training (1: none)."""
        return float(self.config.get("calibration", {}).get("temperature", 1.0))

    @property
    def frame_seconds(self) -> float:
        """Seconds per output frame (the feature hop times the network's stride)."""
        return HOP_MS / 1000 * self.model.stride

    @property
    def refusal_threshold(self) -> float:
        """The confidence under which an answer is withheld (`refusal.fit_refusal`,
        chosen on validation; 0: only "no digit word heard" is refused)."""
        return float(self.config.get("refusal", {}).get("threshold", 0.0))

    def describe(self) -> str:
        """One line on the network (front end, cell, size) for the tab."""
        a = self.model.model_args
        front = (f"conv front end ({a['conv_channels']} channels, stride 2) + " if a.get("conv_channels")
                 else "")
        return (f"{front}{a.get('num_layers', 2)}-layer bidirectional {a.get('cell', 'gru').upper()}, "
                f"hidden {a.get('hidden_size', 128)} per direction, {self.n_mels} log-mel bands, CTC")

    def transcribe(self, source, beam: int = 8) -> dict:
        """Transcribe a recording of spoken digits.

        Args:
            source: anything `load_audio` takes (a file path, or Gradio's
                ``(sample_rate, samples)``); at most `MAX_SECONDS` are used.
            beam: width of the prefix beam search.

        Returns:
            {"text": the beam search's transcript, made of digit words only ("" if
            none fits, or if refused); "heard": the beam's best transcript even when
            refused; "greedy": the best-path transcript (may misspell);
            "digits": "text" as digits ("417"); "confidence": the best transcript's
            share of the probability of all the beam's transcripts, after the
            checkpoint's calibration (`temperature`: fitted on held-out data so that
            answers given 90% are right about 90% of the time); "refused": no digit
            word heard, or confidence under `refusal_threshold`; "why": for a refused
            clip, the reason in words (and what the sound looks like: clipped, tones,
            noise); "other_words": digits were heard among other sound at least
            `OTHER_WORDS_SECONDS` long (a carrier phrase: "my number is ..."); "clipped":
            the recording was overloaded; "features": (T, n_mels) log-mel;
            "posteriors": (T', V) label probabilities per output frame;
            "labels": the label of each posterior column ("<blank>", " ", letters);
            "alignment": [(letter, frame, seconds)] of each letter and space of
            "text" (`place_letters`; [] for no digits); "frame_seconds"; "duration" (s); "notes": what `load_audio` changed}

        Raises:
            AudioError: unreadable, empty, too short or silent audio (its message is
                meant for the visitor).
        """
        wave, notes = load_audio(source, max_seconds=MAX_SECONDS)
        feats = features(wave, self.n_mels)
        (log_probs,) = batch_log_probs(self.model, [feats])
        heard, confidence = best_transcript(calibrated(log_probs, self.temperature), self.encoder, beam)
        greedy = greedy_text(ctc_greedy(log_probs), self.encoder)
        withheld = refused(heard, confidence, self.refusal_threshold)
        text = "" if withheld else heard
        placed = place_letters(log_probs, text, wave, self.frame_seconds, self.encoder)
        labels = self.encoder.labels
        other = (other_sound_seconds(wave, placed, self.encoder.space_id, self.frame_seconds, len(log_probs))
                 if text else 0.0)
        return {"text": text, "heard": heard, "greedy": greedy,
                "digits": words_to_digits(text), "confidence": confidence,
                "refused": withheld, "why": self.refusal_reason(heard, confidence, greedy, wave) if withheld else "",
                "other_words": other >= OTHER_WORDS_SECONDS,
                "clipped": clipped_share(wave) > 0.01,
                "features": feats, "posteriors": np.exp(log_probs), "labels": list(labels),
                "alignment": [(labels[label], frame, round(frame * self.frame_seconds, 3)) for label, frame in placed],
                "frame_seconds": self.frame_seconds, "duration": len(wave) / SAMPLE_RATE, "notes": notes}

    def refusal_reason(self, heard: str, confidence: float, greedy: str, wave: np.ndarray) -> str:
        """Why a clip was refused, in a sentence for the visitor: what the network
        heard (``heard``: the beam's transcript, ``greedy``: the best path) and what the
        sound ``wave`` looks like (`refusal.sound_hint`)."""
        if heard:
            why = (f"it heard \"{heard}\" at only {confidence:.0%} confidence, under the "
                   f"{self.refusal_threshold:.0%} this model asks for")
        elif confidence > 0:  # the beam chose the empty transcript
            why = f"the network is {confidence:.0%} sure no digit word (zero to nine, in English) was said"
        elif greedy:  # letters, but no sequence of whole digit words fits them
            why = "what it heard does not spell whole digit words (zero to nine)"
        else:
            why = "the network heard no digit word (zero to nine, in English)"
        hint = sound_hint(wave)
        return f"{why}; {hint}" if hint else why
