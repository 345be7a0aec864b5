"""Melody tab (one-to-many): give a primer (or none) and a folk-tune model writes on;
hear it, download it as MIDI, and see it as a piano roll.

Run alone with ``python -m apps.melody``.
"""
from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import matplotlib.pyplot as plt
import numpy as np

from rnn_core.encoders.melody import METERS, STEPS_PER_QUARTER, MelodyError, bar_steps
from rnn_core.encoders.midi import melody_to_midi, read_midi
from rnn_core.encoders.notation import note_name, parse_notes
from rnn_core.synth import SAMPLE_RATE, render, to_int16
from rnn_core.tasks import TASKS
from rnn_core.tasks.melody.predictor import KEYS, MAX_PRIMER_BARS, SCALES, Generated, MelodyGenerator

from .layout import WIDE_PLOT, model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .scratch import new_folder
from .shipped import MODEL_CHOICES, card_of, pick_model, shipped_model

SPEC = TASKS["melody"]

# Traditional tunes (public domain), typed in the primer's note form; (notes, meter).
EXAMPLES = {
    "Twinkle, twinkle (Ah! vous dirai-je, maman)": ("C4 C4 G4 G4 | A4 A4 G4/2 | F4 F4 E4 E4 | D4 D4 C4/2", "4/4"),
    "Scarborough Fair": ("D4/2 D4 | A4/2 A4 | E4. F4/8 E4 | D4/2.", "3/4"),
    "The Irish Washerwoman (jig)": ("B4/8 G4/8 G4/8 D4/8 G4/8 G4/8 | B4/8 G4/8 B4/8 D5/8 C5/8 B4/8 | "
                                    "C5/8 A4/8 A4/8 E4/8 A4/8 A4/8 | C5/8 A4/8 C5/8 E5/8 D5/8 C5/8", "6/8"),
    "Greensleeves": ("A4/8 | C5/4 D5/8 E5/8. F5/16 E5/8 | D5/4 B4/8 G4/8. A4/16 B4/8 | "
                     "C5/4 A4/8 A4/8. G#4/16 A4/8 | B4/4 G#4/8 E4/4", "6/8"),
    "Soldier's Joy (reel)": ("D4/8 F#4/8 A4/8 F#4/8 D4/8 F#4/8 A4/8 F#4/8 | G4/8 B4/8 A4/8 G4/8 F#4/8 A4/8 "
                             "D5/8 F#4/8", "4/4"),
}
PRIMERS = ("none", "typed notes", "MIDI file")
MAX_UPLOAD_BYTES = 2_000_000  # parsing is linear in the size (about 2 CPU-s a MB); a tune is a few kB
ROLL_COLOURS = {"primer": "#7a8ca8", "new": "#e07b1a"}
SLOTS = 2  # melodies made (or uploads read) at once, in this tab's own slots


pretrained = shipped_model(SPEC)

# How the landing header and this tab's own header present it (DIAGRAM: example inputs
# and outputs written on the unrolled network).
TITLE = "Melody"
SHAPE = "one-to-many"
DIAGRAM = (["D4", "", "", ""], ["E4", "hold", "F#4", "G4"])
SUMMARY = "Give it a few notes (or none); it composes a folk melody, 16th note by 16th note."


def read_primer(source: str, typed: str, upload, meter: str):
    """The primer a visitor gave (None for none), notes on what was changed, and its
    tempo (an uploaded MIDI file's first; None for typed notes or none).

    Raises:
        Refusal: with a one-sentence reason (bad notes, unreadable MIDI...).
    """
    if source == "typed notes":
        if not typed or not typed.strip():
            raise Refusal("Type some notes first (e.g. D4 E4 F#4 G4/2), or choose 'none' as the primer.")
        if len(typed) > 20_000:
            raise Refusal("That is a lot of notes: type at most 20,000 characters.")
        try:
            melody = parse_notes(typed, meter)
        except MelodyError as e:
            raise Refusal(str(e)) from None
        if not melody.notes:
            raise Refusal("The primer has only rests: give it at least one note.")
        return melody, [], None
    if source == "MIDI file":
        if upload is None:
            raise Refusal("Upload a MIDI file first (.mid), or choose another primer.")
        path = _path_of(upload)
        if os.path.getsize(path) > MAX_UPLOAD_BYTES:
            raise Refusal(f"That file is over {MAX_UPLOAD_BYTES // 1_000_000} MB: upload a shorter MIDI file "
                           "(the model reads only its first bars).")
        try:
            melody, tempo, notes = read_midi(path, max_steps=MAX_PRIMER_BARS * 16)
        except MelodyError as e:
            raise Refusal(str(e)) from None
        if not melody.notes:
            raise Refusal("The melody track has no notes in its first bars.")
        return melody, notes, tempo
    return None, [], None


def _path_of(upload) -> str:
    """The file path behind an upload (a path, or a file object with a name)."""
    return upload if isinstance(upload, str) else getattr(upload, "name", str(upload))


def upload_tempo(upload, tempo):
    """Handler: on upload, the tempo slider takes the MIDI file's own first tempo
    (within the slider's bounds), so the continuation keeps the piece's pace unless the
    visitor moves it; an unreadable or oversized file leaves the slider as it was (the
    Generate button says what is wrong with the file)."""
    try:
        path = _path_of(upload)
        if os.path.getsize(path) > MAX_UPLOAD_BYTES:
            return tempo
        file_tempo = read_midi(path, max_steps=MAX_PRIMER_BARS * 16).tempo
    except (MelodyError, OSError, TypeError):
        return tempo
    return round(_bounded(file_tempo))


def _bounded(tempo: float) -> float:
    """``tempo`` within the tempo slider's bounds."""
    bounds = MelodyGenerator.generation_options["tempo"]
    return min(max(tempo, bounds.low), bounds.high)


def _tempo(chosen: float, file_tempo: float | None) -> tuple[float, str | None]:
    """The tempo to play at, and a note on it: the slider's, which takes an uploaded
    file's own tempo on upload (rounded to the slider's whole bpm; then the file's
    exact tempo is kept)."""
    if file_tempo is None:
        return chosen, None
    own = _bounded(file_tempo)
    bounded = "" if own == file_tempo else f" ({file_tempo:.4g} bpm, past the slider's bounds)"
    if abs(chosen - own) < 0.5:
        return own, f"Tempo {own:.4g} bpm: the uploaded file's tempo{bounded}."
    return chosen, (f"Tempo {chosen:g} bpm as set; the uploaded file's own tempo is {file_tempo:.4g} bpm "
                    "(the slider takes it on each upload).")


def piano_roll(results: list[Generated]):
    """One row of piano roll a variation: primer notes grey-blue, new notes orange,
    bar lines grey."""
    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(13, 2.2 * n + 0.8), dpi=80, squeeze=False)
    for k, (ax, r) in enumerate(zip(axes[:, 0], results)):
        m = r.melody
        for p, s, e in m.notes:
            colour = ROLL_COLOURS["primer" if s < r.primer_steps else "new"]
            # a sliver short of its end, so a repeated note (D4/2 D4) shows as two bars
            ax.add_patch(plt.Rectangle((s, p - 0.4), max(e - s - 0.15, 0.3), 0.8, color=colour, linewidth=0))
        for line in m.bar_lines():
            ax.axvline(line, color="#cccccc", linewidth=0.6, zorder=0)
        if r.primer_steps:
            ax.axvline(r.primer_steps, color="#333333", linewidth=1.2, linestyle="--")
        pitches = [p for p, _, _ in m.notes] or [60]
        lo, hi = min(pitches) - 2, max(pitches) + 2
        ax.set_xlim(0, max(m.length, 1))
        ax.set_ylim(lo, hi)
        ticks = [p for p in range(lo, hi + 1) if p % 12 in (0, 7)]
        ax.set_yticks(ticks, [note_name(p) for p in ticks], fontsize=8)
        lines = m.bar_lines()
        every = max(1, len(lines) // 16)
        ax.set_xticks(lines[::every], [str(i + 1) for i in range(0, len(lines), every)], fontsize=8)
        ax.set_ylabel(f"variation {k + 1}" if n > 1 else "pitch", fontsize=9)
    axes[-1, 0].set_xlabel("bar", fontsize=9)
    shown = ["primer", "new"] if any(r.primer_steps for r in results) else ["new"]  # no primer: no such key
    handles = [plt.Rectangle((0, 0), 1, 1, color=ROLL_COLOURS[k]) for k in shown]
    axes[0, 0].legend(handles, [{"primer": "primer", "new": "new notes"}[k] for k in shown], loc="lower right",
                      bbox_to_anchor=(1, 1), fontsize=8, ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def generate(source, typed, upload, meter, bars, temperature, tempo, key, scale, variations, seed,
             include_primer, which, retrained=None):
    """Handler: (audio, MIDI files, piano roll, notes) for a primer and settings."""
    gen: MelodyGenerator = pick_model(which, retrained, pretrained)
    settings, notes = gen.generation_settings({"bars": bars, "temperature": temperature, "tempo": tempo,
                                               "variations": variations, "seed": seed, "meter": meter})
    if key not in KEYS:
        notes.append(f"key {key!r} is not one offered; using {KEYS[0]}.")
        key = KEYS[0]
    if scale not in SCALES:
        notes.append(f"scale {scale!r} is not one offered; using none.")
        scale = "none"
    primer, primer_notes, file_tempo = read_primer(source, typed, upload, settings["meter"])
    tempo, tempo_note = _tempo(settings["tempo"], file_tempo)
    primer_notes += [tempo_note] if tempo_note else []
    results, gen_notes = gen.generate(primer, bars=settings["bars"], temperature=settings["temperature"],
                                      meter=settings["meter"], key=key, scale=scale,
                                      variations=settings["variations"], seed=settings["seed"],
                                      include_primer=bool(include_primer))
    folder = new_folder("melody-")
    files, audio = [], []
    gap = np.zeros(int(SAMPLE_RATE * 0.6), dtype=np.float32)
    for k, r in enumerate(results):
        segments = [(0, r.primer_steps, "primer"), (r.primer_steps, r.melody.length, "continuation")] \
            if r.primer_steps else None
        midi = melody_to_midi(r.melody, tempo, segments=segments)
        path = folder / f"melody-{k + 1}.mid"
        midi.write(str(path))
        files.append(str(path))
        audio += [render([n for inst in midi.instruments for n in inst.notes]), gap]
    wave = np.concatenate(audio[:-1])
    first = results[0]
    bar = bar_steps(first.melody.meter_at(max(first.melody.length - 1, 0)))
    summary = (f"{len(results)} variation(s) in **{first.key}**, {first.melody.meter_at(0)}, "
               f"{_bars(first.melody.length, bar)} at {tempo:.4g} bpm"
               + (" (they play one after another)." if len(results) > 1 else "."))
    lines = [summary] + [f"- {n}" for n in notes + primer_notes + gen_notes]
    return (SAMPLE_RATE, to_int16(wave)), files, piano_roll(results), "\n".join(lines)


def _bars(steps: int, bar: int) -> str:
    """A length in bars as a musician says it: "8 bars", "8 bars and 3 beats" (16ths
    beyond the last beat rounded up: a held note ends the tune)."""
    whole, rest = divmod(steps, bar)
    beats = -(-rest // STEPS_PER_QUARTER)
    return f"{whole} bar{'s' * (whole != 1)}" + (f" and {beats} beat{'s' * (beats != 1)}" if beats else "")


def use_example(name: str):
    """Handler: put an example tune in the primer box."""
    notes, meter = EXAMPLES.get(name, ("", "4/4"))
    return notes, meter, "typed notes"


@card_of(pretrained)
def card(gen: MelodyGenerator) -> str:
    """The model card, from the checkpoint's config.json and metrics.json."""
    m = gen.metrics
    nll, base = m.get("nll_per_event"), m.get("baseline", {})
    samples = m.get("samples", {})
    model_s, ngram_s = samples.get("model", {}), samples.get("ngram", {})
    return model_card_md("Pretrained model", [
        ("network", gen.describe()), ("parameters", f"{gen.parameters:,}"),
        ("data", gen.config.get("data", "Nottingham folk tunes")),
        ("held-out nats/event", f"{nll:.3f} ({m.get('nll_ratio_to_baseline', 0):.2f} x the n-gram's)"
         if nll else "not evaluated yet"),
        ("baseline", f"{base['nll_per_event']:.3f} nats/event, {base['name']}" if base else None),
        ("samples in key", f"{model_s['in_key_ratio']:.1%} of notes (n-gram {ngram_s.get('in_key_ratio', 0):.1%}, "
         f"the tunes themselves {samples.get('data_in_key_ratio', 0):.1%})" if model_s else None),
        ("distance to the data's pitches / note lengths",
         f"{model_s['pitch_distance']:.3f} / {model_s['duration_distance']:.3f} (n-gram "
         f"{ngram_s['pitch_distance']:.3f} / {ngram_s['duration_distance']:.3f}; 0 = same, 1 = disjoint)"
         if model_s else None),
    ], note="Figures from `python -m rnn_core evaluate melody` (held-out tunes).")


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "a primer (or nothing) goes in; the network then chooses what happens "
                 "in each 16th note (a new note, hold, or rest), feeds its choice back in, and goes on "
                 "for as many bars as you ask.",
                 *DIAGRAM)
    with gr.Row():
        with gr.Column(scale=3):
            source = gr.Radio(list(PRIMERS), value="typed notes", label="primer")
            example = gr.Dropdown(list(EXAMPLES), value=None, label="example tunes (fill the box below)")
            typed = gr.Textbox(label="notes: name + octave, /2 half, /8 eighth, . dotted, R rest, | bar line",
                               value=EXAMPLES["Soldier's Joy (reel)"][0], lines=3)
            upload = gr.File(label=f"or a MIDI file (its melody track is read; "
                             f"{MAX_UPLOAD_BYTES // 1_000_000} MB at most)",
                             file_types=[".mid", ".midi"], type="filepath")
        with gr.Column(scale=2):
            with gr.Row():
                bars = gr.Slider(1, 64, value=8, step=1, label="length (bars)")
                temperature = gr.Slider(0.05, 3.0, value=1.0, step=0.05, label="temperature")
            with gr.Row():
                tempo = gr.Slider(30, 300, value=120, step=1, label="tempo (bpm; a MIDI file sets its own)")
                meter = gr.Dropdown(list(METERS), value="4/4", label="meter (without a MIDI primer)")
            with gr.Row():
                key = gr.Dropdown(list(KEYS), value=KEYS[0], label="key")
                scale = gr.Radio(list(SCALES), value="none", label="keep notes in scale")
            with gr.Row():
                variations = gr.Slider(1, 4, value=1, step=1, label="variations")
                seed = gr.Number(0, label="seed")  # clamped by the handler, with a note
            with gr.Row():
                include_primer = gr.Checkbox(True, label="play the primer first")
                which = gr.Radio(list(MODEL_CHOICES), value=MODEL_CHOICES[0], label="model")
    go = gr.Button("Generate melody", variant="primary")
    notes = gr.Markdown()
    audio = gr.Audio(label="listen", type="numpy", interactive=False)
    roll = gr.Plot(label="piano roll", format="png", elem_classes=[WIDE_PLOT])
    files = gr.File(label="MIDI", file_count="multiple", interactive=False)
    with gr.Accordion("Model card", open=False):
        gr.Markdown(card())
    retrained = retrain_panel(
        SPEC, pretrained=pretrained,
        budget_note="Trains a fresh melody model on the Nottingham tunes; the defaults take 2 minutes "
        "on 2 CPU cores.")
    example.change(use_example, example, [typed, meter, source], api_visibility="private")
    # an uploaded file is what the visitor wants continued: choose it as the primer
    upload.upload(lambda: "MIDI file", None, source, queue=False, api_visibility="private")
    # ... at its own tempo (reading the file takes a moment: queued, in this tab's slots)
    upload.upload(upload_tempo, [upload, tempo], tempo, api_visibility="private", concurrency_id="melody",
                  concurrency_limit=SLOTS)
    # its own slots, not the other tabs': reading an uploaded MIDI can take a few seconds
    go.click(generate, [source, typed, upload, meter, bars, temperature, tempo, key, scale, variations, seed,
                        include_primer, which, retrained], [audio, files, roll, notes],
             api_name="melody_generate", concurrency_id="melody", concurrency_limit=SLOTS)


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: melody") as demo:
        build()
    demo.launch()
