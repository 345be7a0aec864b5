"""Layout pieces every tab shares: the task-shape diagrams, the gallery's landing
header, model cards and colours. HTML and Markdown only: no torch here."""
from __future__ import annotations

import html

import gradio as gr

POSITIVE, NEGATIVE = "#2e7d32", "#c62828"
INK = "#1f2937"  # text on the light grounds the views keep in the dark theme too (set on every span:
# the theme's prose rules colour spans themselves)

# The largest upload the server accepts (`app.LAUNCH`), said beside every upload box.
MAX_UPLOAD_MB = 25

# The three task shapes, drawn as unrolled networks: inputs (bottom), the recurrent
# state (middle, with arrows carrying it along time) and outputs (top).
_SHAPES = {
    "many-to-one": ([1, 1, 1, 1], [0, 0, 0, 1]),
    "one-to-many": ([1, 0, 0, 0], [1, 1, 1, 1]),
    "many-to-many": ([1, 1, 1, 1], [1, 1, 1, 1]),
    "encoder-decoder": ([1, 1, 0, 0], [0, 0, 1, 1]),
}


def diagram_svg(shape: str, inputs: list[str] | None = None, outputs: list[str] | None = None,
                width: int = 300) -> str:
    """A small SVG of an unrolled RNN of the given task shape, ``width`` pixels wide."""
    ins, outs = _SHAPES[shape]
    inputs = inputs or ["x1", "x2", "x3", "x4"]
    outputs = outputs or ["y1", "y2", "y3", "y4"]
    parts = [f'<svg viewBox="0 0 300 150" width="{width}" height="{width // 2}" role="img" '
             f'aria-label="{shape} recurrent network" style="font:12px sans-serif;background:#fafcff;'
             'border-radius:6px">',  # its own light ground: black labels stay legible in the dark theme
             '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
             'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>']
    for i in range(4):
        x = 30 + i * 70
        parts.append(f'<rect x="{x}" y="55" width="44" height="32" rx="6" fill="#e3ecfa" stroke="#3b6fc4"/>'
                     f'<text x="{x + 22}" y="75" text-anchor="middle">h{i + 1}</text>')
        if i < 3:
            parts.append(f'<line x1="{x + 44}" y1="71" x2="{x + 68}" y2="71" stroke="#555" marker-end="url(#a)"/>')
        if ins[i]:
            parts.append(f'<line x1="{x + 22}" y1="118" x2="{x + 22}" y2="89" stroke="#555" marker-end="url(#a)"/>'
                         f'<text x="{x + 22}" y="135" text-anchor="middle">{html.escape(inputs[i])}</text>')
        if outs[i]:
            parts.append(f'<line x1="{x + 22}" y1="55" x2="{x + 22}" y2="28" stroke="#555" marker-end="url(#a)"/>'
                         f'<text x="{x + 22}" y="20" text-anchor="middle" fill="#b5480b">{html.escape(outputs[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


GRADIENT = "#c2185b"  # the backward pass in the BPTT diagram: distinct from the forward arrows


def bptt_svg(width: int = 300, steps: int = 5) -> str:
    """An SVG of backpropagation through time: the network unrolled over ``steps``
    steps, forward arrows carrying the state (grey), and the gradient flowing back
    from the loss at the last step (magenta), fading at each step to show how a
    plain RNN's gradient vanishes on its way to the first step."""
    gap = 260 / steps
    box = min(40, gap - 14)
    parts = [f'<svg viewBox="0 0 300 150" width="{width}" height="{width // 2}" role="img" '
             'aria-label="backpropagation through time: the gradient flows back through the unrolled steps, '
             'fading" style="font:12px sans-serif;background:#fafcff;border-radius:6px">',
             '<defs><marker id="bf" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker>'
             f'<marker id="bb" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
             f'orient="auto"><path d="M0,0L10,5L0,10z" fill="{GRADIENT}"/></marker></defs>']
    for i in range(steps):
        x = 20 + i * gap
        label = "h1" if i == 0 else ("hT" if i == steps - 1 else "...")
        parts.append(f'<rect x="{x:.0f}" y="50" width="{box:.0f}" height="30" rx="6" fill="#e3ecfa" stroke="#3b6fc4"/>'
                     f'<text x="{x + box / 2:.0f}" y="69" text-anchor="middle">{label}</text>'
                     f'<line x1="{x + box / 2:.0f}" y1="112" x2="{x + box / 2:.0f}" y2="82" stroke="#555" '
                     'marker-end="url(#bf)"/>')
        if i < steps - 1:
            parts.append(f'<line x1="{x + box:.0f}" y1="58" x2="{x + gap - 2:.0f}" y2="58" stroke="#555" '
                         'marker-end="url(#bf)"/>')
            # the gradient from step i+1 back to step i: fainter the further from the loss
            fade = 0.25 + 0.75 * (i + 1) / steps
            parts.append(f'<line x1="{x + gap - 2:.0f}" y1="74" x2="{x + box + 2:.0f}" y2="74" stroke="{GRADIENT}" '
                         f'stroke-width="{1 + 2 * fade:.1f}" opacity="{fade:.2f}" marker-end="url(#bb)"/>')
    last = 20 + (steps - 1) * gap + box / 2
    parts.append(f'<text x="20" y="130" fill="#1f2937">x1 (the symbol)</text>'
                 f'<line x1="{last:.0f}" y1="48" x2="{last:.0f}" y2="26" stroke="#555" marker-end="url(#bf)"/>'
                 f'<text x="{last:.0f}" y="18" text-anchor="middle" fill="#b5480b">loss</text>'
                 f'<text x="150" y="104" text-anchor="middle" fill="{GRADIENT}">dL/dh_t flows back</text>'
                 "</svg>")
    return "".join(parts)


def shape_header(shape: str, sentence: str, inputs=None, outputs=None) -> gr.HTML:
    """The tab's header: the diagram beside one sentence on what the shape means."""
    return gr.HTML(f'<div style="display:flex;gap:1.5em;align-items:center;flex-wrap:wrap">'
                   f'{diagram_svg(shape, inputs, outputs)}<div style="max-width:46em">'
                   f'<b>{shape}</b>: {sentence}</div></div>')


SHAPE_MEANINGS = {
    "many-to-one": "a whole sequence in, one answer out",
    "one-to-many": "one input (or a short prime) in, a sequence out, each output fed back in",
    "many-to-many": "a sequence in, an answer at every step",
    "encoder-decoder": "a whole sequence read first, then another written, of its own length",
}


def tab_key(module) -> str:
    """A tab's name in links (``?tab=NAME``): its module's, e.g. ``speech``."""
    return module.__name__.rsplit(".", 1)[-1]


def landing_html(tabs) -> str:
    """The gallery's header: what the task shapes are, one card per tab with its
    diagram (the same drawing as the tab's own header), and how retraining works.

    Args:
        tabs: tab modules, each with ``TITLE``, ``SHAPE``, ``DIAGRAM`` (inputs,
            outputs) and ``SUMMARY``; a tab with ``CARD_SVG`` (a function of the
            width) draws its own card picture instead of the shape diagram.
    """
    def picture(t) -> str:
        return t.CARD_SVG(210) if hasattr(t, "CARD_SVG") else diagram_svg(t.SHAPE, *t.DIAGRAM, width=210)

    cards = "".join(  # each card is a link that opens its tab (?tab=NAME)
        f'<a class="rg-card" href="?tab={tab_key(t)}" style="flex:1 1 210px;max-width:300px;border:1px solid #d5dcea;'
        'border-radius:8px;padding:8px 10px;background:#fafcff;color:#1f2937;text-decoration:none;display:block;text-align:left">'
        f'<div style="font-weight:600;color:#1f2937">{html.escape(t.TITLE)} '
        f'<span style="color:#b5480b;font-weight:400">&middot; {t.SHAPE}</span></div>'
        f'<div class="rg-detail">{picture(t)}'
        f'<div style="font-size:0.92em;color:#1f2937">{html.escape(t.SUMMARY)}</div></div></a>' for t in tabs)
    shapes = " ".join(f"<b>{s}</b>: {m}." for s, m in SHAPE_MEANINGS.items())
    return ('<div style="margin-bottom:6px">'
            '<p style="margin:0 0 6px 0">A recurrent network reads and writes sequences one step at a '
            'time, carrying a hidden state (the blue boxes) from step to step. What goes in and what '
            f'comes out gives its <i>task shape</i>. <span class="rg-detail">{shapes} </span>Each tab below '
            'is one shape, with a small network trained here from scratch: try it, look inside it, '
            'retrain it.</p>'
            f'<div class="rg-cards" style="display:flex;gap:10px;flex-wrap:wrap">{cards}</div>'
            '<p role="note" class="rg-detail" style="margin:8px 0 0 0;padding:6px 10px;border-left:4px solid #3b6fc4;'
            'background:#eef3fb;color:#1f2937">&#8635; <b style="color:#1f2937">Retrain</b> (at the bottom of '
            'every tab with a pretrained model; the gradient lab trains live) trains a fresh model just for you, on this server\'s CPU. It lasts only for this '
            'browser session: reloading or closing the page forgets it, and download it if you want to keep '
            'it. Everyone else keeps using the pretrained models, which a retrain never changes.</p></div>')


# On a phone the landing header would push the tabs a screen and a half down: there it
# keeps only the sentence and the cards' titles (each tab's own header has its diagram).
# Wide figures (piano roll, spectrogram: `WIDE_PLOT`) keep a readable size there and
# scroll sideways instead of shrinking to a thumbnail.
WIDE_PLOT = "rg-wide-plot"
REFUSED_BADGE = "Not answered: see the message at the top of the screen"
# A refused request (`apps.refusal.Refusal`) marks its outputs with Gradio's badge, a
# bare "Error": it says instead where the reason is (the message stays until closed).
CSS = f"""
[data-testid="status-tracker"] span.error {{ font-size: 0 !important; }}
[data-testid="status-tracker"] span.error::after {{ content: "{REFUSED_BADGE}"; font-size: var(--text-md); }}
@media (max-width: 640px) {{
  .rg-detail {{ display: none; }}
  .rg-cards {{ gap: 6px !important; }}
  .rg-card {{ flex: 1 1 40% !important; padding: 4px 8px !important; font-size: 0.9em; }}
  .{WIDE_PLOT} {{ overflow-x: auto !important; }}
  .{WIDE_PLOT} .matplotlib {{ justify-content: flex-start !important; align-items: flex-start !important; }}
  .{WIDE_PLOT} img {{ width: 820px !important; max-width: none !important; }}
  /* a phone hides scrollbars until touched: this one shows that the figure goes on */
  .{WIDE_PLOT}::-webkit-scrollbar {{ height: 10px; }}
  .{WIDE_PLOT}::-webkit-scrollbar-thumb {{ background: #8a94a6; border-radius: 5px; }}
  /* tables break between words, not inside them, and scroll sideways when too wide */
  .prose table {{ display: block; overflow-x: auto; }}
  .prose th, .prose td {{ word-break: normal !important; overflow-wrap: normal !important; }}
  .prose table::-webkit-scrollbar {{ height: 10px; }}
  .prose table::-webkit-scrollbar-thumb {{ background: #8a94a6; border-radius: 5px; }}
}}
/* a plot's label badge sits above the figure, not over its top */
.block:has(> label.float[data-testid="block-label"]):has([data-testid="matplotlib"] img) {{ padding-top: 38px !important; }}
"""


def model_card_md(title: str, rows: list[tuple[str, object]], note: str = "") -> str:
    """A model card as a Markdown table (rows whose value is None are left out)."""
    lines = [f"**{title}**", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows if v is not None]
    if note:
        lines += ["", note]
    return "\n".join(lines)
