"""Text generation tab (one-to-many): prime a character-level model of Shakespeare,
watch it write, and look inside: how sure it was of each character, its next guesses,
and what single hidden units respond to.

Run alone with ``python -m apps.textgen``.
"""
from __future__ import annotations

import html
import time

import gradio as gr

from rnn_core.options import whole_number
from rnn_core.tasks import TASKS
from rnn_core.tasks.textgen.predictor import MAX_PRIME, TextGenerator, suggest_units

from .layout import INK, model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .shipped import MODEL_CHOICES, card_of, pick_model, shipped_model

SPEC = TASKS["textgen"]

EXAMPLES = ["ROMEO:\n", "First Citizen:\nBefore we proceed any further, hear me speak.\n\n",
            "KING RICHARD III:\nNow is the winter of our discontent\n", "To be, or not to be"]
STREAM_EVERY_S = 0.1  # how often the generated text is sent while it grows
pretrained = shipped_model(SPEC)

# How the landing header and this tab's own header present it (DIAGRAM: example inputs
# and outputs written on the unrolled network).
TITLE = "Text"  # the tab's name: short, so four fit a phone's width
SHAPE = "one-to-many"
DIAGRAM = (["R", "", "", ""], ["O", "M", "E", "O"])
SUMMARY = "Give it a prime; it writes Shakespeare-like text one character at a time."


def _pick(which: str, retrained) -> TextGenerator:
    return pick_model(which, retrained, pretrained)


# Streams generating at once: their steps are batched (`rnn_core.serving.SharedSteps`),
# so eight cost little more than one; more wait in the queue.
STREAMS = 8


def generate(prime, length, temperature, top_k, top_p, seed, which, retrained=None):
    """Handler: stream the prime and the text generated after it; the last update also
    hands the whole text to "look inside"."""
    gen = _pick(which, retrained)
    settings, notes = gen.generation_settings({"length": length, "temperature": temperature,
                                               "top_k": top_k, "top_p": top_p, "seed": seed})
    prime, prime_notes = gen.prepare(prime)
    notes = "\n".join(f"- {n}" for n in notes + prime_notes)
    # the visitor's prime (as the network read it) opens the text: the continuation
    # alone reads as if their words were lost
    text, shown = prime, time.monotonic()
    for step in gen.generate(prime, **settings):
        text += step.char
        # an update every 0.1 s reads as streaming; one per few characters would cost
        # the server a queue message each (50 for the default length) for nothing
        if time.monotonic() - shown > STREAM_EVERY_S:
            shown = time.monotonic()
            yield text, notes, gr.skip()
    yield text, notes, text


# The coloured views keep a light ground and dark text of their own (as the gallery's
# figures do): their pale and translucent backgrounds under the dark theme's white text
# were unreadable.
_TEXT_BOX = ('<div class="rg-text-view" style="font-family:monospace;line-height:1.5;white-space:pre-wrap;'
             'background:#fafcff;color:#1f2937;padding:6px 8px;border-radius:6px">{}</div>')


def _shown(c: str) -> str:
    """A character as HTML inside a pre-wrap box; a newline shows as a visible mark."""
    return "\u21b5\n" if c == "\n" else html.escape(c)


def probability_html(chars: list[str], probs: list[float], mark: int | None = None) -> str:
    """Each character on a background from red (the model found it unlikely) to green;
    the character at ``mark`` (the position chosen below) outlined."""
    spans = []
    for i, (c, p) in enumerate(zip(chars, probs)):
        colour = f"hsl({int(120 * p)}, 70%, 80%)"
        outline = ";outline:2px solid #1f2937;outline-offset:1px" if i == mark else ""
        spans.append(f'<span title="P = {p:.3f}" style="background:{colour};color:{INK}{outline}">{_shown(c)}</span>')
    return _TEXT_BOX.format("".join(spans))


def activation_html(chars: list[str], values) -> str:
    """Each character on a background from blue (unit negative) to orange (positive), both
    light enough for the dark text at full strength (contrast >= 4.5:1)."""
    scale = max(1e-6, float(abs(values).max()))
    spans = []
    for c, v in zip(chars, values):
        a = min(1.0, abs(float(v)) / scale)
        colour = f"rgba(230,120,20,{a:.2f})" if v > 0 else f"rgba(90,150,240,{a:.2f})"
        spans.append(f'<span title="{float(v):+.3f}" style="background:{colour};color:{INK}">{_shown(c)}</span>')
    return _TEXT_BOX.format("".join(spans))


def analyse(text, which, retrained=None):
    """Handler: read ``text`` once; returns the probability view, the analysis state,
    suggested units and the slider bounds for positions and units."""
    if not text or not text.strip():
        raise Refusal("Nothing to look inside: generate some text first, or paste some.")
    gen = _pick(which, retrained)
    clean, dropped = gen.encoder.clean(text[:MAX_PRIME])
    if not clean:
        raise Refusal("None of these characters are known to the model (it read only Shakespeare's alphabet).")
    a = gen.analyse(clean)
    units = suggest_units(a["chars"], a["hidden"])
    choices = [f"unit {u}: {name} (r = {r:+.2f})" for u, name, r in units]
    notes = [f"Only the first {MAX_PRIME:,} of {len(text):,} characters were read."] if len(text) > MAX_PRIME else []
    notes += [f"Dropped {len(dropped)} unknown character(s)."] if dropped else []
    hidden_size = a["hidden"].shape[1]
    first = units[0][0] if units else 0
    # a slider needs maximum > minimum: one character still gets a (0..1) position slider
    a["notes_html"] = "".join(f"<p>{html.escape(n)}</p>" for n in notes)  # kept for the re-drawn view
    return (probability_html(a["chars"], a["probs"], mark=0) + a["notes_html"], a,
            gr.update(choices=choices, value=choices[0] if choices else None),
            gr.update(maximum=max(1, len(a["chars"]) - 1), value=0), gr.update(maximum=hidden_size - 1, value=first),
            *guesses(a, 0)[:2], activation_html(a["chars"], a["hidden"][:, first]))


def guesses(analysis, position):
    """Handler: the top-5 next-character guesses after ``position``, and the text with
    that position outlined."""
    if not analysis:
        return {}, "", gr.skip()
    pos = max(0, min(whole_number(position), len(analysis["chars"]) - 1))
    label = {("\\n" if c == "\n" else repr(c)[1:-1] or c): p for c, p in analysis["guesses"][pos]}
    context = "".join(analysis["chars"][max(0, pos - 30):pos + 1]).replace("\n", "\u21b5")
    view = probability_html(analysis["chars"], analysis["probs"], mark=pos) + analysis.get("notes_html", "")
    return label, f"after `...{context}`", view


def unit_view(analysis, unit):
    """Handler: the text coloured by one hidden unit's activation."""
    if not analysis:
        return ""
    unit = max(0, min(whole_number(unit), analysis["hidden"].shape[1] - 1))
    return activation_html(analysis["chars"], analysis["hidden"][:, unit])


@card_of(pretrained)
def card(gen: TextGenerator) -> str:
    """The model card, from the checkpoint's config.json and metrics.json."""
    m = gen.metrics
    nats = m.get("val_nats_per_char")
    base = m.get("baseline", {})
    return model_card_md("Pretrained model", [
        ("network", gen.describe()), ("parameters", f"{gen.parameters:,}"),
        ("data", gen.config.get("data", "Tiny Shakespeare")),
        ("validation nats/char", f"{nats:.3f} ({m.get('val_bits_per_char', 0):.3f} bits)" if nats else "not evaluated yet"),
        ("baseline", f"{base['val_nats_per_char']:.3f} nats/char, {base['name']}" if base else None),
    ], note="Figures from `python -m rnn_core evaluate textgen`.")


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "one prime goes in; the network then writes a character, feeds it "
                 "back in as its next input, and goes on: one input, a whole sequence out.",
                 *DIAGRAM)
    analysis = gr.State(None, time_to_live=1800)  # hidden states of up to 2,000 characters: MBs a session
    with gr.Row():
        with gr.Column(scale=3):
            prime = gr.Textbox(label="Prime (the text the network reads first)", lines=4, value=EXAMPLES[0])
            gr.Examples([[e] for e in EXAMPLES], prime)
        with gr.Column(scale=2):
            length = gr.Slider(1, 2000, value=400, step=1, label="length (characters)")
            temperature = gr.Slider(0.05, 3.0, value=0.8, step=0.05, label="temperature")
            with gr.Row():
                # no bounds here: the handler clamps out-of-range values and says so in its notes
                top_k = gr.Number(0, label="top-k (0 = off)")
                top_p = gr.Number(1.0, label="top-p (1 = off)")
                seed = gr.Number(0, label="seed")
            which = gr.Radio(list(MODEL_CHOICES), value=MODEL_CHOICES[0], label="model")
    with gr.Row():
        go = gr.Button("Generate", variant="primary")
        stop = gr.Button("Stop generating", variant="stop")
    output = gr.Textbox(label="Generated text", lines=12, max_lines=30)
    notes = gr.Markdown()
    with gr.Accordion("Inside the network", open=True):
        gr.Markdown("Paste text here or generate some; **Look inside** reads it once and shows how "
                    "likely the network found each character (green: expected, red: surprised).")
        inspect_text = gr.Textbox(label="Text to look inside", lines=4)
        inspect = gr.Button("Look inside")
        probs_view = gr.HTML()
        with gr.Row():
            with gr.Column():
                position = gr.Slider(0, 1, value=0, step=1, label="position")
                context = gr.Markdown()
                top5 = gr.Label(label="top-5 guesses for the next character", num_top_classes=5)
            with gr.Column():
                suggestions = gr.Dropdown([], label="suggested units (most tied to a feature of the text)")
                unit = gr.Slider(0, 1, value=0, step=1, label="hidden unit (top layer)")
                units_view = gr.HTML()
    with gr.Accordion("Model card", open=False):
        gr.Markdown(card())
    retrained = retrain_panel(
        SPEC, pretrained=pretrained,
        budget_note="Trains a fresh character model on Tiny Shakespeare; the defaults take 3 minutes "
        "on 2 CPU cores and show a sample at every validation.")
    gen_event = go.click(generate, [prime, length, temperature, top_k, top_p, seed, which, retrained],
                         [output, notes, inspect_text], api_name="textgen_generate", concurrency_id="textgen",
                         concurrency_limit=STREAMS)
    stop.click(None, cancels=[gen_event])
    inspect.click(analyse, [inspect_text, which, retrained],
                  [probs_view, analysis, suggestions, position, unit, top5, context, units_view],
                  api_name="textgen_inspect", concurrency_id="predict")
    position.change(guesses, [analysis, position], [top5, context, probs_view], api_visibility="private")
    unit.change(unit_view, [analysis, unit], units_view, api_visibility="private")
    suggestions.change(lambda s: int(s.split()[1].rstrip(":")) if s else gr.skip(), suggestions, unit,
                       api_visibility="private")


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: text generation") as demo:
        build()
    demo.launch()
