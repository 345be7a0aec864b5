"""RNN Gallery: recurrent networks by task shape, as live demos.

``python app.py`` serves the gallery on 127.0.0.1:7860; ``--host``/``--port`` (or
Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT) change that.
"""
from __future__ import annotations

import argparse
import os

import gradio as gr

from apps import melody, sentiment, speech, textgen

TABS = [("Sentiment (many-to-one)", sentiment), ("Text generation (one-to-many)", textgen),
        ("Melody (one-to-many)", melody), ("Speech (many-to-many)", speech)]

INTRO = """# RNN Gallery
Recurrent networks read and write sequences one step at a time, carrying a hidden state
along. Each tab shows one *task shape* with a small network trained here from scratch:
try it, look inside it, and retrain it yourself (your retrained model lasts only for your
browser session)."""


def build_demo() -> gr.Blocks:
    """Assemble every tab into one Blocks app."""
    with gr.Blocks(title="RNN Gallery") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for title, module in TABS:
                with gr.Tab(title):
                    module.build()
    # Predictions stay responsive while a visitor retrains: each event has its own
    # concurrency group (see apps/widgets.py), and the queue bounds waiting requests.
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    args = p.parse_args(argv)
    build_demo().launch(server_name=args.host, server_port=args.port, theme=gr.themes.Soft())


if __name__ == "__main__":
    main()
