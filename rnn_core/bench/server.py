"""The gallery as a server, measured from outside: start-up time, memory, and many
visitors at once (``python -m rnn_core bench startup|load``).

Everything here talks to a real ``python app.py`` over loopback, the way visitors
do: HTTP for the page, `gradio_client` for the tabs' API (each tab's request is its
task's `TaskSpec.api` example). Figures, not asserts. `gradio_client` is a test
extra, not a dependency of the gallery: it is imported only when a benchmark runs.
"""
from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..tasks import TASK_NAMES, TASKS

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> dict:
    """Resident memory of a process now (``rss_mb``) and at its peak (``peak_mb``)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB -> MB
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def folder_size(folder: Path) -> dict:
    """Files under ``folder`` and their total size in MB."""
    files = [f for f in Path(folder).rglob("*") if f.is_file()] if Path(folder).exists() else []
    return {"files": len(files), "mb": sum(f.stat().st_size for f in files) / 2**20}


@contextmanager
def served_app(log: Path | None = None, scratch: Path | None = None, env: dict[str, str] | None = None):
    """Start ``python app.py`` on a free loopback port; yield ``(process, url, seconds)``
    where ``seconds`` is the time from launch to the first HTTP 200 of the page. The
    server inherits this environment ($RNN_GALLERY_DATA for retraining, say) plus
    ``env``; with ``scratch``, Gradio's cache and the app's temporary files go under it
    (to measure them)."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    if scratch is not None:
        env.update(GRADIO_TEMP_DIR=str(scratch / "gradio"), RNN_GALLERY_SCRATCH=str(scratch / "app"))
    out = open(log, "w") if log else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        seconds = wait_for_page(url, proc, timeout=120) - t0
        yield proc, url, seconds
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


def wait_for_page(url: str, proc: subprocess.Popen, timeout: float) -> float:
    """Poll ``url`` until it answers 200; return the moment it did (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no HTTP 200 from {url} within {timeout:.0f} s")


def gradio_client():
    """The `gradio_client` module, or a `ValueError` saying how to install it."""
    try:
        import gradio_client as module
    except ImportError:
        raise ValueError("the server benchmarks talk to the app through gradio_client, which is not "
                         "installed: pip install -e '.[test]' (or pip install gradio_client)") from None
    return module


def tab_request(task: str, rng: random.Random) -> tuple[tuple, str]:
    """The request a visitor of ``task``'s tab makes (its `TaskSpec.api` example),
    files wrapped for upload: ``(args, api_name)``."""
    api = TASKS[task].api
    args = tuple(gradio_client().handle_file(str(a)) if isinstance(a, Path) else a for a in api.args(rng))
    return args, api.api_name


def startup() -> dict:
    """Time to the first HTTP 200 of ``python app.py`` and its memory with every tab's
    model loaded (the tabs load their models while the page is built), then after
    one request to every tab (buffers the first inference allocates)."""
    Client = gradio_client().Client

    with served_app() as (proc, url, seconds):
        first = rss_mb(proc.pid)
        client = Client(url, verbose=False)
        rng = random.Random(0)
        for tab in TASK_NAMES:
            args, api = tab_request(tab, rng)
            client.predict(*args, api_name=api)
        used = rss_mb(proc.pid)
    out = {"first_200_s": seconds, "rss_at_first_200_mb": first["rss_mb"],
           "rss_after_every_tab_mb": used["rss_mb"], "peak_rss_mb": used["peak_mb"]}
    print(f"python app.py: first HTTP 200 after {seconds:.1f} s; RSS with the models loaded "
          f"{first['rss_mb']:.0f} MB, after one request to every tab {used['rss_mb']:.0f} MB "
          f"(peak {used['peak_mb']:.0f} MB)")
    return out


def load(clients: int = 20, seconds: float = 60, retrain: str | None = "sentiment",
         seed: int = 0, think: float = 0.0, sessions: int = 300, uploads: int = 100, flood: int = 60,
         crowd_clients: int = 32, streams: int = 8, soak_minutes: float = 0) -> dict:
    """Many visitors on one ``python app.py``: ``clients`` at once, each sending one
    tab's request after another (tabs in random order, pausing ``think`` seconds on
    average between them: 0 is a stress test, a few seconds is closer to people), for
    ``seconds``; first alone, then while one more visitor retrains ``retrain``'s model
    with the UI's defaults (``None``: only the first phase). Same server, same clients,
    so the two phases compare as ratios.

    Returns ``{"alone": phase, "retraining": phase, ...}``; a phase has requests
    served, errors and p50/p95 latency per tab. Then, on a fresh server, `bounds`
    (``sessions`` 0: skipped), under ``"bounds"``; then `crowd.crowd` (sentiment at
    ``crowd_clients`` visitors and ``streams`` text streams, batching off and on;
    ``crowd_clients`` 0: skipped), under ``"crowd"``; last `soak.soak` (two hours of a
    long-running server compressed into ``soak_minutes``, its plot in
    /tmp/rnn-gallery-soak.png; 0: skipped), under ``"soak"``.
    """
    Client = gradio_client().Client

    out = {"clients": clients, "seconds": seconds, "retrain": retrain, "think": think}
    with served_app(log=Path("/tmp/rnn-gallery-load.log")) as (proc, url, _):
        visitors = [Client(url, verbose=False) for _ in range(clients)]
        out["alone"] = _phase(visitors, seconds, seed, proc.pid, think)
        pause = f", pausing ~{think:g} s between requests" if think else ", without pause"
        _print_phase(f"{clients} visitors for {seconds:g} s{pause}, nobody retraining", out["alone"])
        if retrain:
            retrained = {}
            trainer = threading.Thread(target=_retrain, args=(Client(url, verbose=False), retrain, retrained))
            trainer.start()
            time.sleep(5)  # past data loading: the phase measures visitors beside training itself
            out["retraining"] = _phase(visitors, seconds, seed + 1, proc.pid, think)
            trainer.join()
            out["retrained"] = retrained
            _print_phase(f"the same while one more visitor retrains {retrain}", out["retraining"])
            print(f"  retrain ({retrain}, UI defaults): {'finished' if retrained['finished'] else 'did NOT finish'}"
                  f" after {retrained['seconds']:.0f} s: {retrained['status'][-160:]}")
            for tab, t in out["retraining"]["tabs"].items():
                alone = out["alone"]["tabs"].get(tab, {})
                if t["p95_ms"] and alone.get("p95_ms"):
                    print(f"  {tab:>9}: p95 while retraining / alone = {t['p95_ms'] / alone['p95_ms']:.2f}")
        out["peak_rss_mb"] = rss_mb(proc.pid)["peak_mb"]
    print(f"server peak RSS {out['peak_rss_mb']:.0f} MB")
    if sessions:
        from .bounds import bounds  # built on this module's helpers: imported when it runs
        out["bounds"] = bounds(sessions, uploads, flood, seed=seed)
    if crowd_clients:
        from .crowd import crowd
        out["crowd"] = crowd(crowd_clients, seconds, streams, seed=seed, think=think)
    if soak_minutes:
        from .soak import soak
        out["soak"] = soak(soak_minutes, seed=seed)
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _phase(visitors: list, seconds: float, seed: int, server_pid: int, think: float = 0.0,
           tabs: tuple[str, ...] = TASK_NAMES) -> dict:
    """Every client asks, one request after another (to one of ``tabs``), for
    ``seconds``; their figures, and the CPU time the server and this load generator
    used meanwhile (both share the machine's cores)."""
    latencies, errors = defaultdict(list), defaultdict(list)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def visitor(i: int, client):
        rng = random.Random(seed * 1000 + i)
        time.sleep(rng.uniform(0, think))  # visitors arrive spread out, not in step
        while time.perf_counter() < stop_at:
            tab = rng.choice(tabs)
            args, api = tab_request(tab, rng)
            t = time.perf_counter()
            try:
                client.predict(*args, api_name=api)
                with lock:
                    latencies[tab].append(time.perf_counter() - t)
            except Exception as e:  # every failure is counted and its message kept
                with lock:
                    errors[tab].append(f"{type(e).__name__}: {e}"[:200])
            time.sleep(rng.uniform(0.5, 1.5) * think)  # reading the answer

    t0, server_cpu, own_cpu = time.perf_counter(), cpu_seconds(server_pid), time.process_time()
    threads = [threading.Thread(target=visitor, args=(i, c), daemon=True) for i, c in enumerate(visitors)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0  # the last requests end after `seconds`
    cpu = {"server_cpu_s": cpu_seconds(server_pid) - server_cpu, "load_generator_cpu_s": time.process_time() - own_cpu}
    tabs = {}
    for tab in sorted(set(latencies) | set(errors)):
        ms = np.array(latencies[tab]) * 1000
        tabs[tab] = {"served": len(ms), "errors": len(errors[tab]),
                     "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
                     "p95_ms": float(np.percentile(ms, 95)) if len(ms) else None,
                     "first_errors": errors[tab][:3]}
    return {"seconds": elapsed, "tabs": tabs, "served": sum(t["served"] for t in tabs.values()),
            "errors": sum(t["errors"] for t in tabs.values()), **cpu}


def _print_phase(title: str, phase: dict) -> None:
    print(f"{title}: {phase['served']} requests served ({phase['served'] / phase['seconds']:.1f}/s), "
          f"{phase['errors']} errors; CPU used: server {phase['server_cpu_s']:.0f} s, "
          f"load generator {phase['load_generator_cpu_s']:.0f} s, in {phase['seconds']:.0f} s on "
          f"{os.cpu_count()} cores")
    for tab, t in phase["tabs"].items():
        lat = f"p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms" if t["served"] else "no answers"
        print(f"  {tab:>9}: {t['served']:4d} served, {t['errors']} errors, {lat}")
        for e in t["first_errors"]:
            print(f"             error: {e}")


def _retrain(client, task: str, result: dict) -> None:
    """Retrain ``task`` with the UI's defaults through ``client``; fill ``result``."""
    t = time.perf_counter()
    try:
        status, *_ = client.predict(api_name=f"/{task}_retrain")
        result.update(seconds=time.perf_counter() - t, finished="Done" in status, status=_strip_tags(status))
    except Exception as e:
        result.update(seconds=time.perf_counter() - t, finished=False, status=str(e))


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", text or "").replace("&middot;", "·").strip()
