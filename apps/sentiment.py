"""Sentiment tab (many-to-one): a sentence in, positive/negative out, with the
network's running verdict word by word and each word's influence.

Run alone with ``python -m apps.sentiment``.
"""
from __future__ import annotations

import html

import gradio as gr
from gradio.context import Context

from rnn_core.tasks import TASKS
from rnn_core.tasks.sentiment.predictor import model_card

from .layout import INK, NEGATIVE, POSITIVE, model_card_md, shape_header
from .refusal import Refusal
from .retrain import retrain_panel
from .shipped import card_of, shipped_model

SPEC = TASKS["sentiment"]

EXAMPLES = [
    "A gorgeous, witty, seductive movie.",
    "The plot is paper-thin and the jokes never land.",
    "It's not a great film, but the performances are so warm that I didn't mind.",
    "I expected to hate it, and I was wrong: it is a delight from start to finish.",
    "An ambitious, sprawling mess that wastes a terrific cast.",
]

MAX_CHARS = 20_000  # the model reads at most its MAX_WORDS words; this just keeps requests sane


pretrained = shipped_model(SPEC)

# How the landing header and this tab's own header present it (DIAGRAM: example inputs
# and outputs written on the unrolled network).
TITLE = "Sentiment"
SHAPE = "many-to-one"
DIAGRAM = (["the", "film", "is", "great"], ["", "", "", "positive"])
SUMMARY = "Type a sentence; the network reads it word by word and gives one verdict at the end."


def _colour(p: float) -> str:
    """Background for P(positive) = p: red below 0.5, green above, white at 0.5."""
    a = min(1.0, abs(p - 0.5) * 2) * 0.55
    rgb = (46, 125, 50) if p >= 0.5 else (198, 40, 40)
    return f"rgba({rgb[0]},{rgb[1]},{rgb[2]},{a:.2f})"


def running_strip(tokens: list[str], running: list[float]) -> str:
    """Each word coloured by the verdict the network held right after reading it."""
    # the number beside the colour: red and green alone say nothing to a colour-blind visitor
    spans = "".join(f'<span title="P(positive) after this word: {p:.2f}" style="background:{_colour(p)};'
                    f'padding:2px 3px;margin:1px;border-radius:3px;display:inline-block">'
                    f'{html.escape(t)}<sub style="opacity:.6">{p:.2f}</sub></span>' for t, p in zip(tokens, running))
    return f'<div style="line-height:2">{spans}</div>'


def influence_html(tokens: list[str], influence: list[float]) -> str:
    """Each word coloured by its occlusion influence (green: pushed positive)."""
    scale = max(0.2, max((abs(v) for v in influence), default=0))
    spans = "".join(f'<span title="change in log-odds of positive: {v:+.3f}" '
                    f'style="background:{_colour(0.5 + 0.5 * v / scale)};'
                    f'padding:2px 3px;margin:1px;border-radius:3px;display:inline-block">'
                    f'{html.escape(t)}<sub style="opacity:.6">{v:+.1f}</sub></span>'
                    for t, v in zip(tokens, influence))
    return f'<div style="line-height:2.2">{spans}</div>'


def running_svg(tokens: list[str], running: list[float]) -> str:
    """P(positive) after each word, drawn as an SVG line: the many-to-one network's
    opinion as it reads. SVG, not a matplotlib PNG: the figure cost 45 ms of the
    tab's 60 ms answer and most of the server's CPU under load (issue 28); the
    browser draws this for free, at any width, with the words in the page's font."""
    n, step, top, h = len(running), 34, 12, 120  # 34 px a word; h: the 0..1 axis
    width = 48 + step * max(n, 2)
    y = [top + h * (1 - p) for p in running]
    x = [48 + step * (i + 0.5) for i in range(n)]
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3"><title>{html.escape(t)}: {p:.2f}</title></circle>'
                   for a, b, t, p in zip(x, y, tokens, running))
    # every word under its point while they fit; past 40 words, a word count
    words = ("".join(f'<text x="{a:.1f}" y="{top + h + 14}" transform="rotate(-50 {a:.1f} {top + h + 14})" '
                     f'text-anchor="end">{html.escape(t[:12])}</text>' for a, t in zip(x, tokens))
             if n <= 40 else f'<text x="{width / 2:.0f}" y="{top + h + 24}" text-anchor="middle">{n} words read</text>')
    return (f'<div style="overflow-x:auto;background:#fff;border-radius:6px">'
            f'<svg role="img" aria-label="P(positive) after each word" width="{width}" height="{top + h + 70}" '
            f'font-size="12" fill="{INK}" style="font-family:inherit">'
            f'<rect x="48" y="{top}" width="{width - 48}" height="{h / 2}" fill="{POSITIVE}" opacity="0.08"/>'
            f'<rect x="48" y="{top + h / 2}" width="{width - 48}" height="{h / 2}" fill="{NEGATIVE}" opacity="0.08"/>'
            f'<line x1="48" x2="{width}" y1="{top + h / 2}" y2="{top + h / 2}" stroke="#999"/>'
            f'<text x="42" y="{top + 4}" text-anchor="end">1</text><text x="42" y="{top + h / 2 + 4}" '
            f'text-anchor="end">0.5</text><text x="42" y="{top + h + 4}" text-anchor="end">0</text>'
            f'<text x="10" y="{top + h / 2}" transform="rotate(-90 10 {top + h / 2})" text-anchor="middle">'
            f'P(positive)</text><polyline points="{points}" fill="none" stroke="{INK}" stroke-width="1.5"/>'
            f'{dots}{words}</svg></div>')


def _label(result: dict) -> dict:
    return {"positive": result["p_positive"], "negative": 1 - result["p_positive"]}


def analyse(text: str, retrained=None):
    """Handler: classify ``text`` with the pretrained model (and the visitor's
    retrained one, if any). Returns the values for the tab's outputs."""
    if text is None or not text.strip():
        raise Refusal("Type a sentence first (or pick an example below).")
    notes = []
    if len(text) > MAX_CHARS:
        notes.append(f"The text was {len(text):,} characters long; only the first {MAX_CHARS:,} were kept.")
        text = text[:MAX_CHARS]
    try:
        r = pretrained().predict(text)
    except ValueError as e:  # e.g. only symbols: nothing the tokenizer calls a word
        raise Refusal(str(e)) from None
    notes += r["notes"]
    n = r["words"]  # punctuation is not a word: the same count as the notes use
    verdict = f"**{r['label']}** with {r['confidence']:.0%} confidence ({n} word{'s' * (n != 1)} read)."
    if r["guess"]:  # a confident-looking number from words the model never learned means nothing
        source = (f"from {n} word{'s' * (n != 1)} of which the model knows almost none" if n
                  else "from punctuation alone, no words")
        verdict = f"**A guess:** {r['label']} with {r['confidence']:.0%} confidence, {source}."
    bow = pretrained().second_opinion(text)
    if bow is not None:  # where order and knowledge matter, the two part ways
        bow_label = "positive" if bow >= 0.5 else "negative"
        verdict += (f" Second opinion, a bag of words (TF-IDF + logistic regression on the same SST-2 phrases, "
                    f"word order thrown away): {bow_label}, {max(bow, 1 - bow):.0%}"
                    f"{'' if bow_label == r['label'] else ', so the two disagree'}.")
    mine = gr.update(visible=False)
    if retrained is not None:
        m = retrained.predict(text, explain=False)
        agree = "agrees" if m["label"] == r["label"] else "disagrees"
        verdict += f" Your retrained model {agree}: **{m['label']}**, {m['confidence']:.0%}."
        mine = gr.update(value=_label(m), visible=True)
    note_md = "\n".join(f"- {n}" for n in notes)
    return (_label(r), mine, verdict + ("\n\n" + note_md if note_md else ""),
            running_svg(r["tokens"], r["running"]), running_strip(r["tokens"], r["running"]),
            influence_html(r["tokens"], r["influence"]))


@card_of(pretrained, summary=False)
def limits(predictor) -> str:
    """The "what this model cannot do" line: a sentence of the behavioural suite's
    weakest category that the shipped model still gets wrong (from metrics.json)."""
    m = predictor.metrics
    scores, failures = m.get("behaviour") or {}, m.get("suite_failures") or []
    if not failures:
        return ""
    worst = min((f["category"] for f in failures), key=lambda c: scores.get(c, 1.0))
    case = next(f for f in failures if f["category"] == worst)
    return (f"**What this model cannot do:** it reads *{html.escape(case['text'])}* as "
            f"{'positive' if case['expected'] == 'negative' else 'negative'}. Its weakest kind of sentence "
            f"is {worst} ({scores.get(worst, 0):.0%} right in the behavioural suite, "
            "`python -m rnn_core evaluate sentiment --suite behaviour`).")


def _suite_row(metrics: dict) -> str | None:
    """The model card's line on the behavioural suite: each category's accuracy."""
    suite = {k: v for k, v in (metrics.get("behaviour") or {}).items() if not k.startswith("dev:")}
    return "; ".join(f"{k} {v:.0%}" for k, v in suite.items()) or None


@card_of(pretrained)
def card(predictor) -> str:
    """The model card, from the checkpoint's config.json and metrics.json."""
    c = model_card(predictor)
    acc = f"{c['dev_accuracy']:.3f}" if c["dev_accuracy"] is not None else "not evaluated yet"
    base = f"{c['baseline_accuracy']:.3f} ({c['baseline']})" if c["baseline_accuracy"] else None
    return model_card_md("Pretrained model", [
        ("network", c["model"]), ("parameters", f"{c['parameters']:,}"), ("data", c["data"]),
        ("SST-2 dev accuracy", acc), ("baseline on the same split", base),
        ("behavioural suite (negation, but, filler, intensifiers)", _suite_row(predictor.metrics)),
        ("word influence", "occlusion: how the log-odds of positive change when the word is replaced by an unknown one"),
    ], note="Figures from `python -m rnn_core evaluate sentiment`.")


def build() -> None:
    """Build the tab's UI inside the current Blocks context."""
    shape_header(SHAPE, "the network reads the sentence one word at a time, updating its "
                 "hidden state; only the state after the last word decides the verdict. The curve "
                 "below shows what it would answer if the sentence stopped at each word.",
                 *DIAGRAM)
    with gr.Row():
        with gr.Column(scale=3):
            # one line to start (it grows): Enter classifies, as in a search box
            text = gr.Textbox(EXAMPLES[0], label="Sentence", lines=1, max_lines=6, max_length=MAX_CHARS * 5,
                              placeholder="Type a movie-review sentence...")
            go = gr.Button("Classify", variant="primary")
            gr.Examples(EXAMPLES, text)
            gr.Markdown(limits())
        with gr.Column(scale=2):
            label = gr.Label(label="Pretrained model", num_top_classes=2)
            mine = gr.Label(label="Your retrained model", num_top_classes=2, visible=False)
            verdict = gr.Markdown()
    gr.Markdown("**The verdict after every word** (many-to-one networks only answer at the end; "
                "here we ask after each prefix)")
    strip = gr.HTML()
    plot = gr.HTML()  # the curve (`running_svg`)
    gr.Markdown("**Which words mattered** (occlusion: how the log-odds of positive drop without the word; "
                "green words pushed towards positive, red towards negative)")
    influence = gr.HTML()
    with gr.Accordion("Model card", open=False):
        gr.Markdown(card())
    retrained = retrain_panel(SPEC, pretrained=pretrained,
                              budget_note="Trains a fresh model on SST-2's 67k training phrases and 20k made "
                              "from them for negation and \"but\"; the default settings finish in about 90 "
                              "seconds on 2 CPU cores.")
    outputs = [label, mine, verdict, plot, strip, influence]
    # the first visitor's view is an answer, not 650 px of empty boxes: the first example,
    # classified when the page loads (20 ms of network, 0.1 s of plot)
    Context.root_block.load(analyse, [text, retrained], outputs, concurrency_id="predict", show_progress="hidden",
                            api_visibility="private")
    gr.on([go.click, text.submit], analyse, [text, retrained], outputs,
          api_name="sentiment_classify", concurrency_id="predict")


if __name__ == "__main__":
    with gr.Blocks(title="RNN Gallery: sentiment") as demo:
        build()
    demo.launch()
