"""Many visitors at once, batching off and on (``python -m rnn_core bench load``'s
third part, issue 28): the same requests to two fresh ``python app.py`` servers, one
with ``RNN_GALLERY_BATCHING=off``, in one run, so the two compare as ratios.

- sentiment: ``clients`` visitors classifying one sentence after another for
  ``seconds``: requests/s, p50/p95;
- text: ``streams`` visitors each generating 400 characters at the same moment:
  characters/s of each stream (the slowest one is reported).
Figures, not asserts.
"""
from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import numpy as np

from .server import _phase, gradio_client, served_app, tab_request

LENGTH = 400  # characters each text stream generates


def crowd(clients: int = 32, seconds: float = 30, streams: int = 8, seed: int = 0, think: float = 0.0) -> dict:
    """Sentiment at ``clients`` concurrent visitors (pausing ``think`` seconds on
    average between requests: 0 is a stress test) and ``streams`` text streams at
    once, on a server with batching off, then on. Returns {"off": ..., "on": ...}."""
    out = {"clients": clients, "streams": streams, "think": think}
    for setting in ("off", "on"):
        with served_app(log=Path(f"/tmp/rnn-gallery-crowd-{setting}.log"),
                        env={"RNN_GALLERY_BATCHING": setting}) as (proc, url, _):
            out[setting] = _measure(url, proc.pid, clients, seconds, streams, seed, think)
    _print(out)
    return out


def _measure(url: str, pid: int, clients: int, seconds: float, streams: int, seed: int, think: float) -> dict:
    Client = gradio_client().Client
    visitors = [Client(url, verbose=False) for _ in range(max(clients, streams))]
    for tab in ("sentiment", "textgen"):  # loaded and run once before the clock starts
        args, api = tab_request(tab, random.Random(seed))
        visitors[0].predict(*args, api_name=api)
    phase = _phase(visitors[:clients], seconds, seed, pid, think, tabs=("sentiment",))
    return {"sentiment": phase["tabs"]["sentiment"] | {"per_s": phase["served"] / phase["seconds"],
                                                      "server_ms": 1000 * phase["server_cpu_s"] / max(phase["served"], 1)},
            "text_chars_per_s": _streams(visitors[:streams], seed)}


def _streams(visitors: list, seed: int) -> list[float]:
    """Every visitor asks for a 400-character text at the same moment; each stream's
    characters per second (generated characters over the request's time)."""
    rates, start = [0.0] * len(visitors), threading.Barrier(len(visitors))

    def one(i: int, client) -> None:
        rng = random.Random(seed + i)
        args, api = tab_request("textgen", rng)
        args = (args[0], LENGTH) + args[2:]
        start.wait()
        t = time.perf_counter()
        text = client.predict(*args, api_name=api)[0]
        rates[i] = (len(text) - len(args[0])) / (time.perf_counter() - t)
    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(visitors)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return rates


def _print(out: dict) -> None:
    pause = f"pausing ~{out['think']:g} s between requests" if out.get("think") else "without pause"
    print(f"\nbatching off and on, same requests, fresh server each ({os.cpu_count()} cores; sentiment "
          f"visitors {pause}):")
    for setting in ("off", "on"):
        s, text = out[setting]["sentiment"], out[setting]["text_chars_per_s"]
        print(f"  batching {setting:>3}: sentiment at {out['clients']} visitors {s['per_s']:.1f} requests/s, "
              f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, {s['errors']} errors, server "
              f"{s['server_ms']:.0f} CPU-ms a request; "
              f"{out['streams']} text streams at once: slowest {min(text):.0f} characters/s, "
              f"median {np.median(text):.0f}")
    on, off = out["on"], out["off"]
    print(f"  on / off: sentiment requests/s {on['sentiment']['per_s'] / off['sentiment']['per_s']:.2f}x; "
          f"slowest text stream {min(on['text_chars_per_s']) / min(off['text_chars_per_s']):.2f}x")
