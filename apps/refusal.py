"""A visitor's mistake, said once and plainly: `Refusal`, the one way a tab says no.

Gradio's own `gr.Error` prints a traceback to the server log for every refusal, and
its toast fades after 10 s while the outputs keep a bare "Error" badge. A `Refusal`
is a `gr.Error` whose toast stays until the visitor closes it, and whose log entry is
one warning line (a mistake of a visitor is not a fault of the server). The badge
itself is re-worded by `apps.layout.CSS`.
"""
from __future__ import annotations

import inspect
import logging

import gradio as gr

log = logging.getLogger("rnn_gallery")


class Refusal(gr.Error):
    """A request the tab cannot answer, with one sentence that says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message, duration=None, print_exception=False)
        log.warning("refused: %s", message)


def quiet_gradio_refusals() -> None:
    """Gradio refuses some requests itself, before a handler runs (a slider's value
    outside its range, a choice not in a dropdown: only a script sends those), with a
    `gr.Error` that prints a traceback. Its ``print_exception`` now defaults to False:
    the script gets the message, the log stays free of tracebacks that are no fault
    of the server. Errors that are not `gr.Error` still print theirs."""
    init = gr.Error.__init__
    params = [p for p in inspect.signature(init).parameters.values() if p.default is not p.empty]
    init.__defaults__ = tuple(False if p.name == "print_exception" else p.default for p in params)
