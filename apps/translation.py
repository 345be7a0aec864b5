"""Translation tab (many-to-many, encoder-decoder): English in, French out, with the
attention map (which English words each French word looked at), the beam's
alternatives, and the same sentence through the model without attention.

Run alone with ``python -m apps.translation``.
"""
from __future__ import annotations

import functools
import time

import gradio as gr
import matplotlib.pyplot as plt

from rnn_core.checkpoint import CheckpointError, assets_dir
from rnn_core.tasks import TASKS
from rnn_core.tasks.translation.metrics import PLAIN
from rnn_core.tasks.translation.predictor import MAX_CHARS, TranslationInputError, Translator

from .layout import model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .shipped import MODEL_CHOICES, card_of, pick_model, shipped_model

SPEC = TASKS["translation"]

EXAMPLES = ["I'm very happy to see you again.", "Where is the nearest train station?",
            "Tom doesn't want to go to school tomorrow.", "We should leave before it starts raining.",
            "She has been learning French for three years because she wants to live in Paris."]
WORD_EVERY_S = 0.03  # the chosen translation is shown a word at a time, as the decoder wrote it

pretrained = shipped_model(SPEC)

TITLE = "Translation"
SHAPE = "encoder-decoder"
DIAGRAM = (["I", "am", "", ""], ["", "", "je", "suis"])
SUMMARY = "Type English; an encoder reads it all, a decoder writes French, attending to the English as it goes."
CREDIT = ("Trained on English-French pairs from [Tatoeba](https://tatoeba.org) and its contributors "
          "(CC BY 2.0 FR), as published by manythings.org.")


@functools.lru_cache(maxsize=1)
def no_attention():
    """The shipped model without attention (loaded once), or None when it is not there."""
    try:
        return Translator.from_pretrained(assets_dir(SPEC.name) / PLAIN)
    except CheckpointError:
        return None


def attention_plot(t):
    """Source words across, French words down; darker: looked at more."""
    if t.attention is None:
        return None
    rows = t.words + ["</s>"]
    fig, ax = plt.subplots(figsize=(max(3.5, min(12, 0.45 * len(t.source) + 1.5)),
                                    max(2.5, min(12, 0.32 * len(rows) + 1.2))), dpi=90)
    ax.imshow(t.attention[:len(rows)].numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(t.source)), t.source, rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xlabel("English (read by the encoder)")
    ax.set_ylabel("French (written by the decoder)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def translate(text, beam, which, retrained=None):
    """Handler: stream the best translation word by word, then its attention map, the
    beam's alternatives, the notes and the model without attention's answer."""
    if text is None or not text.strip():
        raise Refusal("Type an English sentence first (or pick an example below).")
    model = pick_model(which, retrained, pretrained)
    try:
        t = model.translate(text, beam=beam)
    except TranslationInputError as e:
        raise Refusal(str(e)) from None
    shown = []
    for word in t.words[:-1]:
        shown.append(word)
        yield " ".join(shown), gr.skip(), gr.skip(), gr.skip()
        time.sleep(WORD_EVERY_S)
    summary = f"Confidence {t.confidence:.0%} (the geometric mean of its words' probabilities)."
    if t.notes:
        summary += "\n\n" + "\n".join(f"- {n}" for n in t.notes)
    plain = no_attention()
    if plain is not None:
        p = plain.translate(text, beam=beam)
        summary += f"\n\n**Without attention** (the 2014 fixed-vector encoder-decoder, same data): {p.text}"
    rows = [[a, s, c] for a, s, c in t.alternatives]
    yield t.text, summary, attention_plot(t), rows


@card_of(pretrained)
def card(model: Translator) -> str:
    """The model card, from the checkpoint's config.json and metrics.json."""
    m = model.metrics
    base, plain = m.get("baseline", {}), m.get("no_attention", {})
    rows = [("network", model.describe()), ("parameters", f"{model.parameters:,}"),
            ("data", model.config.get("data", "Tatoeba")),
            ("test BLEU / chrF", f"{m['bleu']} / {m['chrf']} ({m['examples']:,} English sentences, every French "
                                 f"translation a reference, beam {m['beam']})" if "bleu" in m else "not evaluated yet"),
            ("baseline", f"{base['bleu']} / {base['chrf']}, {base['name']}" if base else None),
            ("without attention", f"{plain['bleu']} / {plain['chrf']}" if plain else None)]
    return model_card_md("Pretrained model", rows, note="Figures from `python -m rnn_core evaluate translation`. "
                         + CREDIT)


@card_of(pretrained, summary=False)
def length_table(model: Translator) -> str:
    """BLEU by English sentence length: attention, no attention, retrieval."""
    rows = model.metrics.get("by_length")
    if not rows:
        return ""
    out = ["| English words | sentences | with attention | without attention | retrieval baseline |",
           "|---|---|---|---|---|"]
    out += [f"| {r['words']} | {r['sentences']} | {r.get('attention')} | {r.get('no_attention', '-')} | "
            f"{r.get('baseline')} |" for r in rows]
    return ("**BLEU by sentence length** on the test sentences: one fixed vector has to carry the whole "
            "sentence, so the model without attention falls behind as sentences grow.\n\n" + "\n".join(out))


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "one network (the encoder) reads the whole English sentence; a second (the "
                 "decoder) then writes French one word at a time, feeding each word back in, for as "
                 "many words as French needs. At each word, attention looks back over the English.",
                 *DIAGRAM)
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(EXAMPLES[0], label="English", lines=1, max_lines=6, max_length=MAX_CHARS * 2,
                              placeholder="Type an English sentence...")
            go = gr.Button("Translate", variant="primary")
            gr.Examples([[e] for e in EXAMPLES], text)
        with gr.Column(scale=2):
            beam = gr.Slider(1, 10, value=5, step=1, label="beam width (1: greedy)")
            which = gr.Radio(list(MODEL_CHOICES), value=MODEL_CHOICES[0], label="model")
    french = gr.Textbox(label="French", lines=2, interactive=False)
    summary = gr.Markdown()
    gr.Markdown("**Attention**: which English words each French word looked at (darker: more)")
    plot = gr.Plot(label="attention map", show_label=False, format="png")  # label: its alt text
    alternatives = gr.Dataframe(headers=["the beam's translations", "score", "confidence"],
                                label="The beam's alternatives (score: log-probability / length penalty)",
                                interactive=False, wrap=True, column_widths=["60%", "20%", "20%"])
    gr.Markdown(length_table())
    with gr.Accordion("Model card", open=False):
        gr.Markdown(card())
    retrained = retrain_panel(SPEC, pretrained=pretrained, labels={"attention": "attention"},
                              budget_note="Trains a small translator on 60,000 of Tatoeba's pairs; the defaults "
                              "take 3 minutes on 2 CPU cores (expect rough French: the shipped one trained for "
                              "over an hour).")
    outputs = [french, summary, plot, alternatives]
    gr.on([go.click, text.submit], translate, [text, beam, which, retrained], outputs,
          api_name="translation_translate", concurrency_id="predict")


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: translation") as demo:
        build()
    demo.launch()
