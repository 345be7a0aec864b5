"""What a long-running ``python app.py`` keeps, and whether a flood of retrains
starves anyone (``python -m rnn_core bench load``'s second part, issue 15): memory and
temporary files as new visitors and uploads arrive, and one visitor's latency while
many retrain requests are left pending. Figures, not asserts."""
from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..tasks import TASK_NAMES
from .server import folder_size, gradio_client, rss_mb, served_app, tab_request


def bounds(sessions: int = 300, uploads: int = 100, flood: int = 60, probes: int = 40, seed: int = 0) -> dict:
    """On a fresh server:

    1. RSS and the size of Gradio's cache and the app's temporary files, before and
       after ``sessions`` new visitors (one sentiment request each) and ``uploads``
       speech recordings (each a new file, in one session);
    2. a sentiment request's latency (``probes`` in a row) idle, then while ``flood``
       retrain requests from as many sessions are pending (posted, never read), the
       way the attack in issue 15 did; the ratio of the two p95s.
    """
    Client = gradio_client().Client
    out = {"sessions": sessions, "uploads": uploads, "flood": flood}
    with tempfile.TemporaryDirectory() as tmp, \
            served_app(log=Path(tmp) / "server.log", scratch=Path(tmp)) as (proc, url, _):
        tmp = Path(tmp)

        def measure(when: str) -> None:
            out[when] = {"rss_mb": rss_mb(proc.pid)["rss_mb"], "gradio_cache": folder_size(tmp / "gradio"),
                         "app_files": folder_size(tmp / "app")}

        first, rng = Client(url, verbose=False), random.Random(seed)
        for tab in TASK_NAMES:  # every model loaded and run once: what is measured is what visitors add
            args, api = tab_request(tab, rng)
            first.predict(*args, api_name=api)
        measure("before")
        _new_sessions(Client, url, sessions, measure)
        _uploads(first, tmp, uploads, seed, measure)
        idle = _latencies(first, probes)
        # the attackers in a process of their own: 60 clients' threads in this one would
        # slow the timed visitor's client, not the server
        flooder = subprocess.Popen([sys.executable, "-c", _FLOOD, url, str(flood)], stdout=subprocess.PIPE,
                                   text=True)
        try:
            out["retrains_refused_at_once"] = int(flooder.stdout.readline() or 0)  # once every request is in
            busy = _latencies(first, probes)
        finally:
            flooder.kill()
        out["predict_idle_p95_ms"] = float(np.percentile(idle, 95))
        out["predict_flooded_p95_ms"] = float(np.percentile(busy, 95))
    _print(out)
    return out


def _new_sessions(Client, url: str, sessions: int, measure) -> None:
    """``sessions`` new visitors, one sentiment request each; measured at thirds."""
    for i in range(sessions):
        c = Client(url, verbose=False)
        c.predict(f"visitor {i} found it warm", api_name="/sentiment_classify")
        c.close()
        if (i + 1) % max(1, sessions // 3) == 0 or i + 1 == sessions:  # a curve, not one point
            measure(f"after {i + 1} sessions")


def _uploads(client, tmp: Path, uploads: int, seed: int, measure) -> None:
    """``uploads`` new recordings of noise (1-5 s, assorted rates) to the speech tab."""
    import soundfile as sf

    handle_file = gradio_client().handle_file
    rng = np.random.default_rng(seed)
    for i in range(uploads):
        path = tmp / f"upload-{i}.wav"
        sr = int(rng.choice([8000, 16000, 44100, 48000]))
        sf.write(path, rng.normal(0, 0.1, int(sr * rng.uniform(1, 5))).astype(np.float32), sr)
        try:
            client.predict(handle_file(str(path)), "pretrained", api_name="/speech_transcribe")
        except Exception:  # noise may be refused ("no digits"): the upload still happened
            pass
        path.unlink()
        if (i + 1) % max(1, uploads // 3) == 0 or i + 1 == uploads:
            measure(f"after {i + 1} uploads")


def _latencies(client, probes: int) -> np.ndarray:
    """Milliseconds of ``probes`` sentiment requests in a row."""
    times = []
    for i in range(probes):
        t = time.perf_counter()
        client.predict(f"a fine film, number {i}", api_name="/sentiment_classify")
        times.append(time.perf_counter() - t)
    return np.array(times) * 1000


def _print(out: dict) -> None:
    sessions, uploads, flood = out["sessions"], out["uploads"], out["flood"]
    for when in [k for k in out if k == "before" or k.startswith("after")]:
        m = out[when]
        print(f"{when:>20}: RSS {m['rss_mb']:.0f} MB; Gradio cache {m['gradio_cache']['files']} files, "
              f"{m['gradio_cache']['mb']:.1f} MB; app files {m['app_files']['files']}, {m['app_files']['mb']:.1f} MB")
    if sessions and uploads:
        grow_s = (out[f"after {sessions} sessions"]["rss_mb"] - out["before"]["rss_mb"]) / sessions
        grow_u = (out[f"after {uploads} uploads"]["rss_mb"] - out[f"after {sessions} sessions"]["rss_mb"]) / uploads
        print(f"  RSS per new session {grow_s * 1024:.0f} kB, per new upload {grow_u * 1024:.0f} kB (averages)")
    idle, flooded = out["predict_idle_p95_ms"], out["predict_flooded_p95_ms"]
    print(f"sentiment request p95: idle {idle:.0f} ms, with {flood} retrain requests pending {flooded:.0f} ms "
          f"(x{flooded / idle:.2f}); {out['retrains_refused_at_once']} of them refused at once (queue full)")


# Run as `python -c _FLOOD URL N`: N visitors each ask for a retrain and never read the
# answer; prints how many were refused at once, then waits to be killed.
_FLOOD = """
import sys, time
from gradio_client import Client
url, n = sys.argv[1], int(sys.argv[2])
jobs = [Client(url, verbose=False).submit(api_name="/sentiment_retrain") for _ in range(n)]
time.sleep(2)
print(sum(1 for j in jobs if j.done() and j.exception() is not None), flush=True)
time.sleep(3600)
"""
