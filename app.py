"""RNN Gallery: recurrent networks by task shape, as live demos.

``python app.py`` serves the gallery on 127.0.0.1:7860; ``--host``/``--port`` (or
Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT) change that.
"""
from __future__ import annotations

import argparse
import collections
import ctypes
import inspect
import os
import random
import threading
import time
import traceback
from pathlib import Path

import gradio as gr

from apps import forecast, gradients, melody, sentiment, speech, textgen, translation
from apps.layout import CSS, MAX_UPLOAD_MB, landing_html, tab_key
from apps.refusal import quiet_gradio_refusals
from rnn_core.jobs import share_cores
from rnn_core.tasks import TASK_NAMES, TASKS

TABS = [sentiment, textgen, melody, speech, forecast, translation, gradients]  # each builds its tab; see apps/
THEME = gr.themes.Soft()
# What launch() is given, here and in the tests. Gradio's /monitoring dashboard (per-
# endpoint traffic) is off: visitors need not see one another's traffic.
# Gradio refuses an upload over MAX_UPLOAD_MB before writing it anywhere (20 s of 48 kHz
# stereo WAV is 4 MB, a long MIDI a few hundred kB).
# Gradio keeps each session's state (a retrained model, the text being looked inside)
# for at most STATE_SESSIONS sessions, the oldest going first (its default is 10,000).
STATE_SESSIONS = 500
LAUNCH = {"theme": THEME, "css": CSS, "max_file_size": f"{MAX_UPLOAD_MB}mb", "enable_monitoring": False,
          "state_session_capacity": STATE_SESSIONS}
# Gradio's cache of uploads and of the files handlers return: every 10 minutes, files
# older than an hour go (a visitor's page keeps working for that hour).
# $RNN_GALLERY_DELETE_CACHE="FREQUENCY,AGE" (seconds) overrides it: the soak test
# (rnn_core/bench/soak.py) sweeps every 30 s so that two hours of sweeps fit in minutes.
DELETE_CACHE = (600, 3600)
CACHE_SWEEP_VARIABLE = "RNN_GALLERY_DELETE_CACHE"


def delete_cache() -> tuple[int, int]:
    """Gradio's cache sweep as (every how many seconds, files older than how many
    seconds): $RNN_GALLERY_DELETE_CACHE ("60,120") if set, else `DELETE_CACHE`. A
    malformed value is a `ValueError` of one line, before anything is served."""
    text = os.environ.get(CACHE_SWEEP_VARIABLE, "").strip()
    if not text:
        return DELETE_CACHE
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"{CACHE_SWEEP_VARIABLE} must be two whole numbers of seconds above 0, "
                         f"FREQUENCY,AGE (e.g. 60,120), not {text!r}")
    return int(parts[0]), int(parts[1])


def compact_memory(arenas: int = 2, trim_every_s: float = 60.0) -> bool:
    """Keep the server's memory close to what it uses (glibc only; elsewhere a no-op
    returning False). glibc gives a thread that allocates while another holds the heap
    an arena of its own, up to 8 per core, and seldom hands their freed pages back: the
    soak test's RSS climbed 65 MB a minute with Gradio's worker threads and settled
    far lower with 2 arenas. So: at most ``arenas`` arenas (set before the server's
    threads start; $MALLOC_ARENA_MAX, if set, wins), and every ``trim_every_s`` the
    freed pages go back to the system (malloc_trim, a few milliseconds)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 -- both present, or not glibc
    except (OSError, AttributeError):
        return False
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(-8, arenas)  # -8: M_ARENA_MAX

    def trim() -> None:
        while True:
            time.sleep(trim_every_s)
            libc.malloc_trim(0)
    threading.Thread(target=trim, name="malloc-trim", daemon=True).start()
    return True


def build_demo() -> gr.Blocks:
    """Assemble every tab into one Blocks app."""
    quiet_gradio_refusals()
    with gr.Blocks(title="RNN Gallery", delete_cache=delete_cache()) as demo:
        gr.Markdown("# RNN Gallery")
        gr.HTML(landing_html(TABS))
        # on a phone seven tab names need two rows: they wrap rather than hide in a "more" menu
        with gr.Tabs(overflow_behavior="wrap") as tabs:
            for module in TABS:
                # short names (the shapes are in the headers); the id is what ?tab= names
                with gr.Tab(module.TITLE, id=tab_key(module)):
                    module.build()
        # a link can open one tab: ?tab=speech (the landing cards are such links)
        demo.load(open_linked_tab, None, tabs, show_progress="hidden", api_visibility="private")
    keep_built_files(demo)
    # Every tab's prediction is in one concurrency group ("predict"): four run at once,
    # the rest wait in the queue (64 at most) instead of piling threads onto the cores.
    # Text streams have a group of their own (eight at once: their steps are shared,
    # rnn_core/serving.py), as melodies do (apps/melody.py's SLOTS).
    # Retrain panels poll in their own group; training itself runs one at a time, in a
    # low-priority child process (rnn_core/jobs.py), so it cannot starve predictions.
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


def keep_built_files(demo: gr.Blocks) -> int:
    """Exempt from the cache sweep (`DELETE_CACHE`) every file the gallery put in
    Gradio's cache while it was built: the examples' files. Gradio means to keep them
    (`keep_in_cache`) but does not for the copies an example click fetches, so an hour
    after start every speech example answered 403. Returns how many files are kept."""
    kept = 0
    for block in demo.blocks.values():
        files = set(getattr(block, "temp_files", ()))
        if files:
            block.keep_in_cache |= files
            kept += len(files)
    return kept


def open_linked_tab(request: gr.Request):
    """The tab a link's ``?tab=NAME`` asks for (unknown names: the first tab)."""
    wanted = (request.query_params.get("tab") or "").strip().lower() if request else ""
    return gr.Tabs(selected=wanted) if wanted in {tab_key(m) for m in TABS} else gr.skip()


def warm_up(demo: gr.Blocks) -> dict[str, str]:
    """Answer one typical request per tab, in this process: its task's API example
    (`TaskSpec.api`, the request the load test sends) given to the tab's own handler.
    The first visitor of a tab then doesn't pay for lazy imports (3 s for the speech
    tab's audio features). A tab module's ``warm()``, if it has one, runs too. Returns {task: "ok" or what went wrong}; a failure is
    printed, never raised (a missing model: its tab already says so)."""
    handlers = {fn.api_name: fn.fn for fn in demo.fns.values()}
    done = {}
    for name in TASK_NAMES:
        api = TASKS[name].api
        try:
            # files go to a handler as paths; the retrained-model state is left at None
            args = [str(a) if isinstance(a, Path) else a for a in api.args(random.Random(0))]
            answer = handlers[api.api_name.lstrip("/")](*args)
            if inspect.isgenerator(answer):  # a streaming handler: read it to the end
                collections.deque(answer, maxlen=0)
            done[name] = "ok"
        except Exception as e:
            traceback.print_exc()
            done[name] = f"{type(e).__name__}: {e}"
    for module in TABS:  # what a tab warms beyond its example (forecasting: every series)
        if hasattr(module, "warm"):
            try:
                module.warm()
            except Exception:  # e.g. no data on this server: the tab says so when asked
                traceback.print_exc()
    return done


def warm_up_in_background(demo: gr.Blocks) -> threading.Thread:
    """`warm_up` in a background thread, so the page is served meanwhile."""
    thread = threading.Thread(target=warm_up, args=(demo,), name="warm-up", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    """Serve the gallery (``python app.py --host --port``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    args = p.parse_args(argv)
    try:
        delete_cache()  # a malformed $RNN_GALLERY_DELETE_CACHE: one line, not a traceback
    except ValueError as e:
        p.exit(2, f"error: {e}\n")
    compact_memory()  # first: before any thread of the server's allocates
    share_cores()
    demo = build_demo()
    demo.launch(server_name=args.host, server_port=args.port, prevent_thread_lock=True, **LAUNCH)
    warm_up_in_background(demo)  # after the server is up, so the first page isn't delayed
    demo.block_thread()


if __name__ == "__main__":
    main()
