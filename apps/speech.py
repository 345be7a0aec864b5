"""Speech tab (many-to-many): record or upload spoken digits ("four one seven") and a
CTC network spells out what it hears, frame by frame; see the spectrogram it read and
the letters it emitted along the same time axis.

Run alone with ``python -m apps.speech``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import gradio as gr
import matplotlib.pyplot as plt
import numpy as np

from rnn_core.checkpoint import assets_dir
from rnn_core.encoders.audio import DIGIT_WORDS, HOP_MS, AudioError
from rnn_core.tasks import TASKS
from rnn_core.tasks.speech.examples import shipped_examples
from rnn_core.tasks.speech.metrics import CONDITIONS, SPEAKERS_FILE
from rnn_core.tasks.speech.predictor import MAX_SECONDS, SpeechRecognizer

from .layout import MAX_UPLOAD_MB, WIDE_PLOT, model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .shipped import MODEL_CHOICES, card_of, pick_model, shipped_model

SPEC = TASKS["speech"]

MAX_UPLOAD_BYTES = 50_000_000  # refused before reading: only the first seconds are used anyway
# Rows of the posterior map: the letters the digit words use (others only if the network
# gives them some probability), so the map stays readable.
DIGIT_LETTERS = sorted(set("".join(DIGIT_WORDS)))

pretrained = shipped_model(SPEC)

# How the landing header and this tab's own header present it (DIAGRAM: example inputs
# and outputs written on the unrolled network).
TITLE = "Speech"
SHAPE = "many-to-many"
DIAGRAM = (["frame", "frame", "frame", "frame"], ["f", "_", "o", "u"])
SUMMARY = "Say or upload digits; it answers at every audio frame and spells out what it heard."


def _source(audio):
    """What `load_audio` reads: a file path (checked for size first) or Gradio's
    ``(rate, samples)`` tuple."""
    if audio is None:
        raise Refusal("No audio given: record yourself saying a few digits, or upload a recording.")
    if isinstance(audio, tuple):
        return audio
    path = Path(audio if isinstance(audio, (str, os.PathLike)) else getattr(audio, "name", str(audio)))
    if not path.is_file():
        raise Refusal("The recording did not arrive: please record or upload it again.")
    size = path.stat().st_size
    if size == 0:
        raise Refusal("The file is empty: record or upload some speech.")
    if size > MAX_UPLOAD_BYTES:
        raise Refusal(f"That file is over {MAX_UPLOAD_BYTES // 1_000_000} MB: upload a shorter recording "
                       f"(only the first {MAX_SECONDS:g} s are used anyway).")
    return str(path)


def headline(r: dict) -> str:
    """The transcript in words and digits, its confidence, the greedy reading, notes; for
    a refused clip, why (`SpeechRecognizer.transcribe`'s "why")."""
    greedy = f"`{r['greedy']}`" if r["greedy"] else "nothing"
    notes = list(r["notes"])
    if r["text"]:
        top = f"## {r['text']} → {r['digits']}\n\nconfidence {r['confidence']:.0%}"
        if r["other_words"]:
            notes.insert(0, "Other words were heard around the digits: only the digits are written out "
                            "(the network knows the ten digit words and nothing else).")
    else:
        cut = "; the cut may have split the last word" if r["duration"] >= MAX_SECONDS - 0.01 else ""
        top = f"## No digits heard\n\nWhy: {r['why']}{cut}."
    if r["clipped"]:
        notes.append("The recording is clipped (the microphone was overloaded): speak a little further away.")
    lines = [f"{top} · {r['duration']:.2f} s of audio · letter by letter (best path, no word list): {greedy}"]
    return "\n\n".join(lines + [f"- {n}" for n in notes])


def _rgba(values: np.ndarray, cmap: str) -> np.ndarray:
    return plt.get_cmap(cmap)(np.clip(values, 0, 1))


def heard_plot(r: dict):
    """Log-mel spectrogram (top) and, on the same time axis, each output frame's label
    probabilities (bottom): blank as a grey row, letters in blue, and the answer's
    letters written where the alignment places them (`place_letters`)."""
    post, labels = r["posteriors"], r["labels"]
    emitted = {letter for letter, _, _ in r["alignment"]}
    rows = [0, 1] + [i for i, c in enumerate(labels[2:], 2)
                     if c in DIGIT_LETTERS or c in emitted or post[:, i].max() > 0.1]
    names = ["blank", "space"] + [labels[i] for i in rows[2:]]
    # one RGBA image: the blank row greyed so it reads as "nothing new", letters in blue
    image = np.concatenate([_rgba(post[:, :1].T * 0.7, "Greys"), _rgba(post[:, rows[1:]].T, "Blues")])
    end = len(post) * r["frame_seconds"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.5), dpi=100, sharex=True,
                                      gridspec_kw={"height_ratios": [2, 3]})
    feats = r["features"]
    heard = len(feats) * HOP_MS / 1000  # seconds of features (the last output frame may end earlier)
    top.imshow(feats.T, origin="lower", aspect="auto", cmap="magma", extent=[0, heard, 0, feats.shape[1]])
    top.set_ylabel("mel band")
    top.set_title("what the network hears: log-mel spectrogram", fontsize=10, loc="left")
    bottom.imshow(image, aspect="auto", interpolation="nearest", extent=[0, end, len(rows) - 0.5, -0.5])
    bottom.set_yticks(range(len(rows)), names, fontsize=8)
    fs = r["frame_seconds"]
    xs = [(frame + 0.5) * fs for _, frame, _ in r["alignment"]]
    # letters closer than ~0.15 inch (a long recording) would overlap: stagger them on two
    # lines and shrink them (the axes are ~11 inches wide)
    gap = float(np.median(np.diff(xs))) / max(end, 1e-9) * 11 if len(xs) > 1 else 1.0
    dense = gap < 0.15
    size = 11 if not dense else max(6.0, min(11.0, 2 * gap * 72 / 0.7))
    bottom.set_title("what it says at each frame: label probabilities (darker = surer); on top, "
                     "where each letter of the answer sits", fontsize=10, loc="left", pad=30 if dense else 18)
    for k, ((letter, frame, _), x) in enumerate(zip(r["alignment"], xs)):
        row = names.index("space" if letter == " " else letter)
        bottom.add_patch(plt.Rectangle((frame * fs, row - 0.5), fs, 1, fill=False, edgecolor="#e07b1a",
                                       linewidth=0.8 if dense else 1.5))
        bottom.text(x, 1.01 + 0.05 * (dense and k % 2), "␣" if letter == " " else letter, ha="center",
                    va="bottom", fontsize=size, color="#b5480b", fontweight="bold",
                    transform=bottom.get_xaxis_transform())
        top.axvline(x, color="white", alpha=0.35, linewidth=0.8)
    bottom.set_xlabel("seconds")
    bottom.set_xlim(0, max(end, heard))
    fig.tight_layout()
    plt.close(fig)
    return fig


def transcribe(audio, which, retrained=None):
    """Handler: (headline Markdown, figure) for a recording (a file path or
    ``(rate, samples)``)."""
    rec: SpeechRecognizer = pick_model(which, retrained, pretrained)
    try:
        r = rec.transcribe(_source(audio))
    except AudioError as e:  # unreadable, too short, silent...: its message is for the visitor
        raise Refusal(str(e)) from None
    return headline(r), heard_plot(r)


@card_of(pretrained)
def card(rec: SpeechRecognizer) -> str:
    """The model card, from the checkpoint's config.json and metrics.json."""
    m = rec.metrics
    acc, base = m.get("digit_accuracy"), m.get("baseline") or {}
    cer = m.get("connected_cer")
    return model_card_md("Pretrained model", [
        ("network", rec.describe()), ("parameters", f"{rec.parameters:,}"),
        ("data", rec.config.get("data", "Free Spoken Digit Dataset")),
        ("single digits right", f"{acc:.1%} ({m.get('clips', '?')} clips, {m.get('split', '?')} split)"
         if acc is not None else "not evaluated yet"),
        ("baseline on the same clips", f"{base['digit_accuracy']:.1%} ({base.get('name', 'baseline')})"
         if "digit_accuracy" in base else None),
        ("connected strings: character error rate", f"{cer:.3f} ({m.get('connected_string_accuracy', 0):.0%} "
         "of strings exactly right)" if cer is not None else None),
        ("scored speakers", ", ".join(m["speakers"]) + (" (never heard in training)" if m.get("held_out") else "")
         if m.get("speakers") else None),
        *_speaker_rows(),
        *_real_voice_rows(m.get("real_voices") or {}, m.get("conditions") or {}),
    ], note="Figures from `python -m rnn_core evaluate speech`. It knows the ten digit words only, "
            "spoken in English.")


def _speaker_rows() -> list[tuple[str, str | None]]:
    """Model-card rows for the held-out-speaker rotation of the shipped recipe
    (``assets/speech/speakers.json``: ``evaluate speech --split speakers --write-metrics``
    on one run per FSDD speaker, each trained without that speaker), if shipped."""
    path = assets_dir("speech") / SPEAKERS_FILE
    if not path.is_file():
        return []
    rotation = json.loads(path.read_text())
    return [(f"a speaker never heard ({len(rotation['speakers'])} runs, one per FSDD speaker): {CONDITIONS[name]}",
             f"{c['mean']:.0%} exactly right on average, worst {c['worst_speaker']} {c['worst']:.0%}")
            for name, c in rotation["conditions"].items() if name in CONDITIONS]


def _real_voice_rows(v: dict, conditions: dict) -> list[tuple[str, str | None]]:
    """Model-card rows for the figures on voices and sounds unlike the training data."""
    def strings(key):
        f = v.get(key)
        return f"{f['exact']:.0%} exactly right, CER {f['cer']:.3f} ({f['items']})" if f else None

    def refused(key, what):
        f = v.get(key)
        return f"{f['refused']:.0%} ({f['items']} clips: {what})" if f and "refused" in f else None

    cal, noisy, carrier = v.get("calibration") or {}, conditions.get("noisy"), v.get("voices_carrier") or {}
    threshold = (v.get("refusal") or {}).get("threshold")
    return [
        ("digits read fluently (FSDD takes joined with no pause)", strings("fsdd_fluent")),
        ("the same strings in a noisy, reverberant room", f"{noisy['exact']:.0%} exactly right, CER "
         f"{noisy['cer']:.3f} ({noisy['items']})" if noisy else None),
        ("voices never trained on: fluent strings", strings("voices_fluent")),
        ("voices never trained on: strings with pauses", strings("voices_paused")),
        ("voices never trained on: digits inside a sentence (digits only)",
         strings("voices_carrier") + (f"; other words noted on {carrier['other_words']:.0%}"
                                      if carrier.get("other_words") is not None else "") if carrier else None),
        ("audio with no digits refused", refused("no_digits", "noise, tones, tunes, chords, babble, sentences")),
        ("sounds like nothing in training refused", refused("kept_aside_sounds", "keypad tones, sweeps, claps")),
        ("real digit strings refused", f"{v['fsdd_fluent']['refused']:.1%} (FSDD strings; threshold "
         f"{threshold:.0%} confidence, chosen on validation for at most 2%)"
         if threshold is not None and "refused" in v.get("fsdd_fluent", {}) else None),
        ("answers given 90%+ confidence that are right",
         f"{cal['accuracy_at_least_90']:.0%} (calibration error {cal['ece']:.3f})"
         if cal.get("accuracy_at_least_90") is not None else None),
    ]


_ALIGNMENT_NOTE = (
    "The orange letters mark where each letter of the answer sits: the most probable path through "
    "the network's frame probabilities that spells the answer (a *forced alignment*), with letters "
    "kept to frames that have sound. Why the sound rule: CTC trains the letters to come in the right "
    "order, not at the right time, and this network reads the recording in both directions, so its "
    "own spikes (the dark blue cells) often sit in the silence before or after a word. With the rule, "
    "{placed} of the words of fluent FSDD strings land on their own word, against {greedy} for the "
    "raw spikes (`python -m rnn_core evaluate speech`).")


def alignment_note(rec: SpeechRecognizer) -> str:
    """What the alignment plot shows, with the checkpoint's measured figures."""
    a = ((rec.metrics.get("real_voices") or {}).get("alignment") or {}).get("fsdd_fluent") or {}
    if "words_in_place" not in a:
        return _ALIGNMENT_NOTE.split(" With the rule")[0] + "."
    return _ALIGNMENT_NOTE.format(placed=f"{a['words_in_place']:.0%}", greedy=f"{a['greedy_words_in_place']:.0%}")


def example_files() -> list[str]:
    """The shipped example recordings (``assets/speech/examples/*.wav``), if any."""
    return [str(p) for p in shipped_examples()]


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "the recording goes in as a sequence of short frames and the network "
                 "answers at every frame: a letter, a space, or CTC's <i>blank</i> (_), meaning \"nothing "
                 "new here\". Repeated letters and blanks collapse into the transcript, so training needs "
                 "only the words, never which frame each letter sits on.",
                 *DIAGRAM)
    with gr.Row():
        with gr.Column(scale=3):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath",
                             label=f"Say a few digits, e.g. \"four one seven\" (the first {MAX_SECONDS:g} s "
                             f"are used; files up to {MAX_UPLOAD_MB} MB)")
            examples = example_files()
            if examples:
                gr.Examples([[e] for e in examples], audio, label="example recordings (synthetic voices)",
                            example_labels=[Path(e).stem.replace("_", " ") for e in examples])
        with gr.Column(scale=2):
            which = gr.Radio(list(MODEL_CHOICES), value=MODEL_CHOICES[0], label="model")
            go = gr.Button("Transcribe", variant="primary")
            result = gr.Markdown()
    # the figure's own titles say what it shows; the label is its alt text
    plot = gr.Plot(label="spectrogram and label probabilities per frame", show_label=False, format="png",
                   elem_classes=[WIDE_PLOT])
    gr.Markdown(alignment_note(pretrained()))
    with gr.Accordion("Model card", open=False):
        gr.Markdown(card())
    retrained = retrain_panel(
        SPEC, pretrained=pretrained,
        labels={"hidden": "hidden units (per direction)"},
        budget_note="Trains a fresh recogniser on the Free Spoken Digit Dataset (single digits and "
        "strings made of them); the defaults take 2.5 minutes on 2 CPU cores.")
    go.click(transcribe, [audio, which, retrained], [result, plot], api_name="speech_transcribe",
             concurrency_id="predict")
    # new audio: clear the last answer, so it is never shown beside a recording it is not about
    audio.change(lambda: ("", None), None, [result, plot], queue=False, show_progress="hidden",
                 api_visibility="private")


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: speech") as demo:
        build()
    demo.launch()
