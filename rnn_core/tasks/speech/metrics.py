"""Scoring the speech recogniser (`python -m rnn_core evaluate speech`): digit
accuracy on single clips and character error rate on connected strings, beside an
MFCC + SVM baseline; and the held-out-speaker protocol."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...data.fsdd import Clip, list_clips, load_clip
from ...decoding import ctc_greedy
from ...encoders.audio import DIGIT_WORDS, CTCAlphabet, features
from ...metrics import cer
from .data import clip_features, connected_strings, partition
from .predictor import SpeechRecognizer, batch_log_probs, beam_texts, greedy_text
from .real_voices import real_voice_figures

SPLITS = ("dev", "test", "all", "speakers")
EVAL_SEED = 1234   # the connected strings `evaluate` scores are the same for every model


def transcripts(model: torch.nn.Module, feats: list[np.ndarray], alphabet: CTCAlphabet,
                beams: tuple[int, ...] = (0,)) -> list[list[str]]:
    """One list of transcripts per entry of ``beams``: greedy for 0, else the best of
    a lexicon beam search of that width (the network runs once for all of them)."""
    log_probs = batch_log_probs(model, feats)
    return [[beam_texts(lp, alphabet, beam)[0][0] if beam else greedy_text(ctc_greedy(lp), alphabet) for lp in log_probs]
            for beam in beams]


def scores(hyps: list[str], truth: list[str], n_single: int) -> dict:
    """Exact-match accuracy of the first ``n_single`` (single digits) and, of the rest
    (connected strings), character error rate and exact-match accuracy."""
    def exact(h, t):
        return float(np.mean([a == b for a, b in zip(h, t)])) if t else 0.0

    return {"digit_accuracy": exact(hyps[:n_single], truth[:n_single]),
            "connected_cer": cer(hyps[n_single:], truth[n_single:]),
            "string_accuracy": exact(hyps[n_single:], truth[n_single:])}


def evaluation_clips(data_dir: str | None, split: str, held_out: str) -> tuple[list[Clip], list[Clip]]:
    """(scored clips, clips the baseline is fitted on) for ``split``: see `evaluate`."""
    if split not in SPLITS[:3]:
        raise ValueError(f"unknown split {split!r}; choose dev, test or all")
    if split == "all":
        scored = list_clips(data_dir)
        standard = partition(list_clips(None), held_out)  # the standard data's training part
        return scored, standard["train"] + standard["dev"]
    parts = partition(list_clips(data_dir), held_out)
    if split == "dev":
        return parts["dev"], parts["train"]
    return parts["test"], parts["train"] + parts["dev"]


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "test",
             connected: int = 200, device: str = "cpu", voices: bool = True) -> dict:
    """Digit accuracy on single clips and character error rate on connected strings,
    beside an MFCC + SVM baseline on the single clips.

    Splits: ``test`` = takes 0-4 of every speaker (for a checkpoint trained with
    ``held_out``: every clip of that speaker); ``dev`` = the takes that validated
    training; ``all`` = every clip in the folder given (e.g. speakers nobody
    trained on), the baseline then fitted on the standard data's training part;
    ``speakers`` = the held-out-speaker rotation (`speaker_rotation`).
    A single clip counts as right when the beam search's transcript (digit-word
    lexicon) is exactly its digit's word. ``connected`` strings of 3-6 digits are
    made (without augmentation, seed `EVAL_SEED`) from the scored clips. ``device``
    runs the network (the decoders and the baseline run on the CPU). With ``voices``,
    ``real_voices`` adds fluent strings, held-out synthetic voices, audio with no
    digits and calibration (`rnn_core.tasks.speech.real_voices.real_voice_figures`).
    """
    from ...baselines import mfcc_svm

    if split == "speakers":
        return speaker_rotation(weights, data_dir, connected, device)
    rec = SpeechRecognizer.from_pretrained(weights)
    held_out = rec.config.get("options", {}).get("held_out", "")
    scored, fit = evaluation_clips(data_dir, split, held_out)
    singles = [clip_features(c, rec.n_mels) for c in scored]
    truth = [DIGIT_WORDS[c.digit] for c in scored]
    strings = connected_strings(scored, connected, EVAL_SEED) if connected else []
    string_feats, string_truth = [features(w, rec.n_mels) for w, _ in strings], [t for _, t in strings]
    greedy, beam = (scores(hyps, truth + string_truth, len(singles))
                    for hyps in transcripts(rec.model.to(device), singles + string_feats, rec.encoder, (0, 8)))
    baseline = mfcc_svm([load_clip(c) for c in fit], [c.digit for c in fit],
                        [load_clip(c) for c in scored], [c.digit for c in scored])
    more = {"real_voices": real_voice_figures(rec, scored, EVAL_SEED + 1, connected)} if voices else {}
    return {"task": SpeechRecognizer.task, "split": split, "held_out": held_out or None, "clips": len(scored),
            "speakers": sorted({c.speaker for c in scored}), "connected_strings": len(strings),
            "digit_accuracy": round(beam["digit_accuracy"], 4),
            "connected_cer": round(beam["connected_cer"], 4),
            "connected_string_accuracy": round(beam["string_accuracy"], 4),
            "greedy": {k: round(v, 4) for k, v in greedy.items()},
            "baseline": {"name": baseline["name"], "digit_accuracy": round(baseline["digit_accuracy"], 4),
                         "fitted_on": f"{len(fit)} clips"},
            "parameters": rec.parameters, "cell": rec.describe(), **more}


def speaker_rotation(folder: str | Path, data_dir: str | None = None, connected: int = 200,
                     device: str = "cpu") -> dict:
    """The held-out-speaker protocol: ``folder`` holds one checkpoint per speaker, each
    trained without that speaker (``--held-out NAME``), and each is scored on every
    clip of its speaker; figures are given per speaker and as the mean over speakers.

        for s in jackson nicolas yweweler george lucas; do
            python -m rnn_core train speech --held-out $s --out runs/speakers/$s; done
        python -m rnn_core evaluate speech --weights runs/speakers --split speakers
    """
    runs = sorted(p for p in Path(folder).iterdir() if (p / "config.json").is_file())
    per = {}
    for run in runs:
        m = evaluate(run, data_dir, "test", connected, device, voices=False)
        if not m["held_out"]:
            raise ValueError(f"{run} was trained on every speaker; train it with --held-out NAME (the recipe's held_out)")
        per[m["held_out"]] = {"digit_accuracy": m["digit_accuracy"], "connected_cer": m["connected_cer"],
                              "baseline_digit_accuracy": m["baseline"]["digit_accuracy"]}
    if not per:
        raise ValueError(f"{folder} holds no checkpoints (one folder per held-out speaker)")
    mean = {k: round(float(np.mean([v[k] for v in per.values()])), 4) for k in next(iter(per.values()))}
    return {"task": SpeechRecognizer.task, "split": "speakers", "speakers": per, **mean}
