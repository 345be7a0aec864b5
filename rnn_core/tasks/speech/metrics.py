"""Scoring the speech recogniser (`python -m rnn_core evaluate speech`): digit
accuracy on single clips and character error rate on connected strings, beside an
MFCC + SVM baseline; and the held-out-speaker protocol."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...data.fsdd import Clip, list_clips, load_clip
from ...data.scenes import noisy_room
from ...decoding import ctc_greedy
from ...encoders.audio import DIGIT_WORDS, CTCAlphabet, features
from ...metrics import cer
from .data import clip_features, connected_strings, partition
from .predictor import SpeechRecognizer, batch_log_probs, beam_texts, greedy_text
from .real_voices import FLUENT, real_voice_figures

SPLITS = ("dev", "test", "all", "speakers")
EVAL_SEED = 1234   # the connected strings `evaluate` scores are the same for every model
# The shipped recipe's held-out-speaker figures, beside its weights (the model card's source)
SPEAKERS_FILE = "speakers.json"
# How a speaker is scored (`condition_figures`), each as exact-match accuracy and CER
CONDITIONS = {"single": "single digits", "gapless": "strings of 3-6 digits joined with no pause",
              "pauses": "strings of 3-6 digits with pauses", "noisy": "the gapless strings in a noisy room"}


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


def condition_figures(rec: SpeechRecognizer, scored: list[Clip], seed: int, strings: int = 200) -> dict:
    """The network on ``scored`` clips in each of `CONDITIONS`: the clips alone,
    ``strings`` connected strings of one speaker's clips read gapless (`FLUENT`: no
    pause, or a cross-faded overlap), as many with pauses, and the gapless ones again in
    a noisy room (`scenes.noisy_room`: reverb, noise at 10-20 dB SNR, half of them
    band-limited). {condition: {"exact", "cer", "items"}}; the same seed, the same
    audio for every model."""
    gapless = connected_strings(scored, strings, seed, gap=FLUENT)
    rng = np.random.default_rng(seed + 2)
    pauses = connected_strings(scored, strings, seed + 1)
    # single clips: their cached features (`evaluate` has just computed them)
    sets = {"single": ([clip_features(c, rec.n_mels) for c in scored], [DIGIT_WORDS[c.digit] for c in scored]),
            "gapless": ([features(w, rec.n_mels) for w, _ in gapless], [t for _, t in gapless]),
            "pauses": ([features(w, rec.n_mels) for w, _ in pauses], [t for _, t in pauses]),
            "noisy": ([features(noisy_room(w, rng), rec.n_mels) for w, _ in gapless], [t for _, t in gapless])}
    out = {}
    for name, (feats, truth) in sets.items():
        (hyps,) = transcripts(rec.model, feats, rec.encoder, (8,))
        out[name] = {"exact": round(float(np.mean([h == t for h, t in zip(hyps, truth)])), 4),
                     "cer": round(cer(hyps, truth), 4), "items": len(truth)}
    return out


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
    more = {"conditions": condition_figures(rec, scored, EVAL_SEED + 2, connected)} if connected else {}
    if voices:
        more["real_voices"] = real_voice_figures(rec, scored, EVAL_SEED + 1, connected)
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
    clip of its speaker in every condition of `condition_figures`; figures per speaker,
    and per condition the mean over speakers and the worst speaker.

        python -m rnn_core train speech --fsdd false --out runs/voices      # no FSDD speaker
        for s in george jackson lucas nicolas yweweler; do
            python -m rnn_core train speech --held-out $s --init runs/voices --out runs/speakers/$s; done
        python -m rnn_core evaluate speech --weights runs/speakers --split speakers --suite speakers
    """
    runs = sorted(p for p in Path(folder).iterdir() if (p / "config.json").is_file())
    per = {}
    for run in runs:
        m = evaluate(run, data_dir, "test", connected, device, voices=False)
        if not m["held_out"]:
            raise ValueError(f"{run} was trained on every speaker; train it with --held-out NAME (the recipe's held_out)")
        per[m["held_out"]] = {**{name: m["conditions"][name] for name in CONDITIONS},
                              "baseline_single": m["baseline"]["digit_accuracy"]}
    if not per:
        raise ValueError(f"{folder} holds no checkpoints (one folder per held-out speaker)")
    summary = {}
    for name in CONDITIONS:
        exact = {speaker: v[name]["exact"] for speaker, v in per.items()}
        worst = min(exact, key=exact.get)
        summary[name] = {"mean": round(float(np.mean(list(exact.values()))), 4), "worst": exact[worst],
                         "worst_speaker": worst,
                         "mean_cer": round(float(np.mean([v[name]["cer"] for v in per.values()])), 4)}
    summary["baseline_single"] = {"mean": round(float(np.mean([v["baseline_single"] for v in per.values()])), 4)}
    return {"task": SpeechRecognizer.task, "split": "speakers", "speakers": per, "conditions": summary}


def speakers_table(m: dict) -> str:
    """``evaluate speech --split speakers --suite speakers``: one table per condition,
    each speaker's exact-match accuracy and CER (never heard in training), then the
    mean and the worst."""
    if m.get("split") != "speakers":
        raise ValueError("the speakers table needs --split speakers (one checkpoint per held-out speaker)")
    out = []
    for name, what in CONDITIONS.items():
        s = m["conditions"][name]
        rows = [f"| {speaker} | {v[name]['exact']:.3f} | {v[name]['cer']:.3f} |"
                + (f" {v['baseline_single']:.3f} |" if name == "single" else "")
                for speaker, v in m["speakers"].items()]
        head = "| held-out speaker | exact | CER |" + (" MFCC + SVM |" if name == "single" else "")
        rule = "|---|---|---|" + ("---|" if name == "single" else "")
        mean = f"| **mean** | **{s['mean']:.3f}** | {s['mean_cer']:.3f} |" + (
            f" {m['conditions']['baseline_single']['mean']:.3f} |" if name == "single" else "")
        out += [f"{name}: {what}", "", head, rule, *rows, mean,
                f"worst: {s['worst_speaker']} {s['worst']:.3f}", ""]
    return "\n".join(out)


REFUSAL_ROWS = (("fsdd_fluent", "FSDD strings read gapless (real voices: digits)"),
                ("voices_fluent", "held-out synthetic voices, gapless strings"),
                ("voices_paused", "held-out synthetic voices, strings with pauses"),
                ("voices_single", "held-out synthetic voices, single digits"),
                ("voices_carrier", "held-out synthetic voices, digits inside a carrier phrase"),
                ("no_digits", "no digits: noise, tones, tunes, chords, babble, sentences"),
                ("kept_aside_sounds", "no digits, like nothing in training: keypad tones, sweeps, claps"))


def refusal_table(m: dict) -> str:
    """``evaluate speech --suite refusal``: per set, exactly right, refused at the
    checkpoint's threshold (wanted for the sets with no digits only), and "other words
    heard" (wanted for the carrier phrases only)."""
    v = m.get("real_voices") or {}
    if "refusal" not in v:
        raise ValueError("no refusal figures: evaluate with the voices (not --split speakers)")
    r = v["refusal"]
    out = [f"refusal threshold {r['threshold']:.3f} (confidence), chosen on validation for at most "
           f"{r.get('max_false_refusal', 0.02):.0%} false refusals ({r.get('fitted_on', 'not fitted: no threshold')})",
           "", "| set | items | exactly right | refused | other words heard |", "|---|---|---|---|---|"]
    for key, what in REFUSAL_ROWS:
        f = v.get(key)
        if f:
            other = f.get("other_words")
            out.append(f"| {what} | {f['items']} | {f['exact']:.3f} | {f['refused']:.3f} | "
                       f"{'' if other is None else f'{other:.3f}'} |")
    return "\n".join(out)
