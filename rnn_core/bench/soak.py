"""Two hours of a long-running ``python app.py`` compressed into minutes (``python -m
rnn_core bench load --soak-minutes M``, issue 28): one server whose Gradio cache is swept
every 30 s instead of every 10 minutes, new visitors arriving all the time (a new
`gradio_client` session each, a few requests on random tabs, some clicking a tab's
examples, speech's recordings uploaded), now and then one of them retraining a model or
running the gradient lab, and the server's memory, open files, cache and latency sampled
over time. At the end, after the last sweep, every tab and every example is tried once.
Figures and a plot, not asserts.
"""
from __future__ import annotations

import json
import math
import os
import random
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tasks import TASK_NAMES, TASKS
from .server import _strip_tags, folder_size, gradio_client, rss_mb, served_app, tab_request

DEFAULT_PLOT = Path("/tmp/rnn-gallery-soak.png")
SWEEP_VARIABLE = "RNN_GALLERY_DELETE_CACHE"  # read by app.py's delete_cache()
SERVED_SWEEP_S = 600  # the gallery's own sweep (app.DELETE_CACHE): what the soak's sweeps are counted in
RSS_BOUND_MB = 1200  # issue 28: the server's RSS after warm-up stays under this
WARM_SHARE = 0.2  # "after warm-up" is the first sample past this share of the soak
FLAT_SHARE = 0.1  # "flat": the end is within this share of the warm-up figure
EXAMPLE_SHARE = 0.3  # of a visitor's requests, those that click one of the tab's examples first
# Who retrains, in turn: the cheap ones (a minute or so on one core; the gradient lab for
# LAB_SECONDS); every fourth pair is stopped by its visitor (`_plan_retrain`).
RETRAINS = ("forecast", "gradients", "sentiment")
LAB_SECONDS = 15
TABLE_ROWS = 16  # the printed table shows at most this many samples


@dataclass(frozen=True)
class Example:
    """One row of a tab's ``gr.Examples``, as a visitor uses it: the click calls
    ``load_api`` with ``index`` (the page then fetches a file example from Gradio's
    cache), and the value goes to the tab's request at ``position``."""
    task: str
    load_api: str
    index: int
    position: int
    label: str


def examples(url: str) -> list[Example]:
    """Every example of every tab of the gallery served at ``url``, read from its page's
    config (the rows of each ``gr.Examples`` and the endpoint a click calls)."""
    with urllib.request.urlopen(url + "config", timeout=30) as r:
        config = json.load(r)
    parts = {c["id"]: c for c in config["components"]}
    requests = {d.get("api_name"): d for d in config["dependencies"]}
    found = []
    for d in config["dependencies"]:
        if not str(d.get("api_name")).startswith("load_example") or not d.get("targets"):
            continue
        dataset, target = parts[d["targets"][0][0]]["props"], d["outputs"][0]
        for task in TASK_NAMES:
            request = requests.get(TASKS[task].api.api_name.lstrip("/"))
            # the API's arguments are the request's inputs without its session states
            inputs = [i for i in (request or {}).get("inputs", ()) if parts[i]["type"] != "state"]
            if target in inputs:
                labels = dataset.get("sample_labels") or [str(s[0]) for s in dataset["samples"]]
                found += [Example(task, "/" + d["api_name"], k, inputs.index(target),
                                  " ".join(labels[k].split())[:40]) for k in range(len(dataset["samples"]))]
    return found


def example_request(client, example: Example, rng: random.Random, folder: Path) -> tuple[tuple, str]:
    """A visitor clicks ``example`` and sends the tab's request with it: ``(args, api_name)``.
    A file example is fetched from Gradio's cache as the page fetches it (an HTTP error if
    the sweep deleted it), then uploaded from ``folder``."""
    value = client.predict(example.index, api_name=example.load_api)
    value = value.get("value") if isinstance(value, dict) and "__type__" in value else value
    if isinstance(value, dict) and value.get("url"):
        with urllib.request.urlopen(value["url"], timeout=60) as r:
            data = r.read()
        # one copy per visitor thread and example: the folder stays bounded however long the soak
        path = folder / f"{threading.get_ident()}-{value.get('orig_name') or Path(value['path']).name}"
        path.write_bytes(data)
        value = gradio_client().handle_file(str(path))
    args, api = tab_request(example.task, rng)
    return args[:example.position] + (value,) + args[example.position + 1:], api


class _Log:
    """Requests as they finish: (moment, tab, seconds, error or None), thread-safe."""

    def __init__(self):
        self.entries, self.lock = [], threading.Lock()

    def add(self, tab: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.entries.append((time.perf_counter(), tab, seconds, error))

    def window(self, since: float, until: float) -> dict:
        with self.lock:
            done = [e for e in self.entries if since <= e[0] < until]
        ms = [1000 * e[2] for e in done if e[3] is None]
        return {"requests": len(done), "errors": len(done) - len(ms),
                "p95_ms": float(np.percentile(ms, 95)) if ms else None,
                "first_errors": [f"{e[1]}: {e[3]}" for e in done if e[3]][:2]}


def soak(minutes: float, clients: int = 8, seed: int = 0, sweep: tuple[int, int] = (30, 60),
         sample_s: float = 15.0, think: float = 2.0, retrain_every: float = 90.0,
         plot: str | Path = DEFAULT_PLOT) -> dict:
    """One fresh server for ``minutes``, its cache swept every ``sweep[0]`` s (files older
    than ``sweep[1]`` s): ``clients`` visitor streams, each a new session after a few
    requests (pausing ``think`` s on average between them), a retrain (`RETRAINS` in
    turn) every ``retrain_every`` s; sampled every ``sample_s`` s. Then an idle wait for
    the sweep to clear what visitors left, and every tab and example tried once.

    Returns the samples (time, RSS, open files, Gradio cache, the app's files, requests,
    errors and p95 in the window), the retrains, the final check and the verdict; writes
    the plot to ``plot`` and prints a table."""
    out = {"minutes": minutes, "clients": clients, "sweep": list(sweep), "sample_s": sample_s, "think": think}
    with tempfile.TemporaryDirectory() as tmp, \
            served_app(log=Path("/tmp/rnn-gallery-soak.log"), scratch=Path(tmp),
                       env={SWEEP_VARIABLE: f"{sweep[0]},{sweep[1]}"}) as (proc, url, _):
        out.update(_run(proc.pid, url, Path(tmp), minutes * 60, clients, seed, sweep, sample_s, think,
                        retrain_every))
    out["log_tracebacks"] = Path("/tmp/rnn-gallery-soak.log").read_text(errors="replace").count("Traceback")
    out["verdict"] = verdict(out["samples"], minutes * 60)
    out["plot"] = str(Path(plot).resolve())
    soak_plot(Path(plot), out)
    _print(out)
    return out


def _run(pid: int, url: str, tmp: Path, seconds: float, clients: int, seed: int, sweep: tuple[int, int],
         sample_s: float, think: float, retrain_every: float) -> dict:
    """The soak itself on a served app: load, idle while the sweep runs, final check."""
    for folder in ("visitors", "final"):
        (tmp / folder).mkdir()
    log, found, retrains = _Log(), examples(url), []
    t0 = time.perf_counter()
    stop_at = t0 + seconds
    threads = [threading.Thread(target=_visitors, args=(url, random.Random(seed * 1000 + i), stop_at, think, found,
                                                        log, tmp / "visitors"), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=_retrainer, args=(url, t0, stop_at, retrain_every, retrains), daemon=True))
    samples = [_sample(pid, tmp, log, t0, t0, "start")]
    for th in threads:
        th.start()
    _sample_while(lambda: any(th.is_alive() for th in threads), samples, pid, tmp, log, t0, sample_s, "load")
    load_end = time.perf_counter() - t0
    # every file a visitor left is older than the sweep's age and a sweep has run since
    idle_until = time.perf_counter() + sweep[0] + sweep[1] + 2
    _sample_while(lambda: time.perf_counter() < idle_until, samples, pid, tmp, log, t0, sample_s, "idle")
    final = final_check(url, found, random.Random(seed), tmp / "final")
    samples.append(_sample(pid, tmp, log, t0, t0 + samples[-1]["t_s"], "checked"))
    return {"samples": samples, "load_end_s": load_end, "retrains": retrains, "final": final,
            "examples": len(found), "sweeps": int(samples[-1]["t_s"] // sweep[0]),
            "requests": len(log.entries), "errors": sum(1 for e in log.entries if e[3])}


def _sample(pid: int, tmp: Path, log: _Log, t0: float, since: float, phase: str) -> dict:
    """The server now: RSS, open files, Gradio's cache and the app's files, and the
    requests that finished since ``since``."""
    now = time.perf_counter()
    cache, app = folder_size(tmp / "gradio"), folder_size(tmp / "app")
    return {"t_s": now - t0, "phase": phase, "rss_mb": rss_mb(pid)["rss_mb"],
            "open_files": len(os.listdir(f"/proc/{pid}/fd")), "cache_files": cache["files"],
            "cache_mb": cache["mb"], "app_files": app["files"], "app_mb": app["mb"], **log.window(since, now)}


def _sample_while(going, samples: list, pid: int, tmp: Path, log: _Log, t0: float, sample_s: float,
                  phase: str) -> None:
    """A sample every ``sample_s`` seconds while ``going()``, and one when it stops."""
    last = time.perf_counter()
    while going():
        time.sleep(0.25)
        if time.perf_counter() - last >= sample_s:
            samples.append(_sample(pid, tmp, log, t0, last, phase))
            last = t0 + samples[-1]["t_s"]
    if time.perf_counter() - last >= 1:  # the moment it stopped, unless a sample was just taken
        samples.append(_sample(pid, tmp, log, t0, last, phase))


def _visitors(url: str, rng: random.Random, stop_at: float, think: float, found: list[Example], log: _Log,
              folder: Path) -> None:
    """One stream of new visitors until ``stop_at``: each opens a new session, sends a
    few requests to random tabs (some through an example) and leaves."""
    Client = gradio_client().Client
    time.sleep(rng.uniform(0, 2 * think))  # visitors arrive spread out, not in step
    while time.perf_counter() < stop_at:
        t = time.perf_counter()
        try:
            client = Client(url, verbose=False, download_files=False)  # the page, loaded by a new visitor
        except Exception as e:  # counted like any failed request
            log.add("page", time.perf_counter() - t, f"{type(e).__name__}: {e}"[:200])
            time.sleep(1)
            continue
        try:
            for _ in range(rng.randint(2, 5)):
                if time.perf_counter() >= stop_at:
                    break
                _one_request(client, rng, found, log, folder)
                time.sleep(rng.uniform(0.5, 1.5) * think)  # reading the answer
        finally:
            client.close()


def _one_request(client, rng: random.Random, found: list[Example], log: _Log, folder: Path) -> None:
    tab = rng.choice(TASK_NAMES)
    mine = [e for e in found if e.task == tab]
    t = time.perf_counter()
    try:
        if mine and rng.random() < EXAMPLE_SHARE:  # the click is part of what the visitor waits for
            args, api = example_request(client, rng.choice(mine), rng, folder)
        else:
            args, api = tab_request(tab, rng)
        client.predict(*args, api_name=api)
        log.add(tab, time.perf_counter() - t)
    except Exception as e:  # every failure is counted and its message kept
        log.add(tab, time.perf_counter() - t, f"{type(e).__name__}: {e}"[:200])


def _retrainer(url: str, t0: float, stop_at: float, every: float, done: list) -> None:
    """Every ``every`` seconds (the first after half of it), one more visitor retrains
    a model of `RETRAINS` in turn, until ``stop_at``; their records go to ``done``."""
    Client = gradio_client().Client
    for i in range(10**6):
        start = t0 + every / 2 + i * every
        if start >= stop_at:
            return
        time.sleep(max(0.0, start - time.perf_counter()))  # a retrain that ran over delays the next
        task, stop_after = _plan_retrain(i)
        at = time.perf_counter() - t0
        done.append({"at_s": at, **_retrain(Client(url, verbose=False, download_files=False), task, stop_after,
                                             stop_at)})


def _plan_retrain(i: int) -> tuple[str, float | None]:
    """The ``i``-th retrain: its task, and after how many seconds its visitor presses
    Stop (None: it runs to its end, unless the soak ends first)."""
    return RETRAINS[i % len(RETRAINS)], (20.0 if i % 4 in (1, 2) else None)


def _retrain(client, task: str, stop_after: float | None, stop_at: float) -> dict:
    """One retrain (the gradient lab for ``gradients``) with the UI's defaults, stopped
    after ``stop_after`` seconds or when the soak ends; its record."""
    api, kwargs = ("/gradients_train", {"seconds": LAB_SECONDS}) if task == "gradients" else (f"/{task}_retrain", {})
    t, stopped, error = time.perf_counter(), False, False
    try:
        job = client.submit(api_name=api, **kwargs)
        while not job.done():
            late = stop_after is not None and time.perf_counter() - t >= stop_after
            if not stopped and (late or time.perf_counter() >= stop_at):
                client.predict(api_name=f"/{task}_stop")
                stopped = True
            time.sleep(0.5)
        status = _strip_tags(job.result()[0])
    except Exception as e:  # kept in the record: the soak goes on
        status, error = f"{type(e).__name__}: {e}", True
    finally:
        client.close()
    ok = not error and "training failed" not in status.lower()
    return {"task": task, "seconds": time.perf_counter() - t, "asked_to_stop": stopped, "ok": ok,
            "status": status[:200]}


def final_check(url: str, found: list[Example], rng: random.Random, folder: Path) -> dict:
    """Once the sweep has run: one request to every tab, every example of every tab
    (clicked, its file fetched, the tab's request sent) and a short gradient-lab run, by
    a new visitor. Returns how many were tried and what failed."""
    client = gradio_client().Client(url, verbose=False, download_files=False)
    tries = [(f"the {t} tab", lambda t=t: tab_request(t, rng)) for t in TASK_NAMES]
    tries += [(f"{e.task} example '{e.label}'", lambda e=e: example_request(client, e, rng, folder)) for e in found]
    tries.append(("the gradient lab (5 s)", lambda: ((), "/gradients_train")))
    failed = []
    try:
        for what, request in tries:
            try:
                args, api = request()
                answer = client.predict(*args, api_name=api, **({"seconds": 5} if api == "/gradients_train" else {}))
                if api == "/gradients_train" and "failed" in _strip_tags(answer[0]).lower():
                    failed.append(f"{what}: {_strip_tags(answer[0])[:160]}")
            except Exception as e:
                failed.append(f"{what}: {type(e).__name__}: {e}"[:240])
    finally:
        client.close()
    return {"tried": len(tries), "failed": failed}


def verdict(samples: list[dict], seconds: float) -> dict:
    """RSS after warm-up (the first sample past `WARM_SHARE` of ``seconds``) against the
    last sample's, the maxima; ``flat``: the end within `FLAT_SHARE` of the warm-up
    figure and under `RSS_BOUND_MB`."""
    warm = next((s for s in samples if s["t_s"] >= WARM_SHARE * seconds), samples[-1])
    end = samples[-1]
    flat = abs(end["rss_mb"] - warm["rss_mb"]) <= FLAT_SHARE * warm["rss_mb"] and end["rss_mb"] <= RSS_BOUND_MB
    return {"warm_t_s": warm["t_s"], "warm_rss_mb": warm["rss_mb"], "end_rss_mb": end["rss_mb"],
            "max_rss_mb": max(s["rss_mb"] for s in samples), "max_open_files": max(s["open_files"] for s in samples),
            "end_open_files": end["open_files"], "max_cache_mb": max(s["cache_mb"] for s in samples),
            "end_cache_mb": end["cache_mb"], "max_app_mb": max(s["app_mb"] for s in samples),
            "end_app_mb": end["app_mb"], "flat": flat}


def shown_samples(samples: list[dict], rows: int = TABLE_ROWS) -> list[dict]:
    """At most about ``rows`` of ``samples``, evenly spread, the last always among them."""
    step = max(1, math.ceil(len(samples) / rows))
    return samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])


def soak_plot(path: Path, out: dict) -> str:
    """Four small panels over the soak's time: RSS (with the 1200 MB line), the server's
    open files, Gradio's cache and the app's files, p95 latency; retrains shaded. Returns
    the file's name."""
    import matplotlib
    matplotlib.use("Agg")  # no display: the figure goes to a file
    import matplotlib.pyplot as plt

    samples, v = out["samples"], out["verdict"]
    t = [s["t_s"] / 60 for s in samples]
    fig, axes = plt.subplots(2, 2, figsize=(10, 5.6), dpi=90, sharex=True)
    (rss, files), (cache, p95) = axes
    rss.plot(t, [s["rss_mb"] for s in samples], color="#3b6fc4")
    rss.axhline(RSS_BOUND_MB, color="#c0392b", ls="--", lw=1, label=f"{RSS_BOUND_MB} MB")
    rss.axvline(v["warm_t_s"] / 60, color="#9aa5b1", ls=":", lw=1, label="after warm-up")
    rss.set_ylim(0, max(RSS_BOUND_MB, v["max_rss_mb"]) * 1.1)
    files.plot(t, [s["open_files"] for s in samples], color="#3b6fc4")
    cache.plot(t, [s["cache_mb"] for s in samples], color="#3b6fc4", label="Gradio's cache")
    cache.plot(t, [s["app_mb"] for s in samples], color="#e07b1a", label="the app's files")
    p95.plot(t, [np.nan if s["p95_ms"] is None else s["p95_ms"] for s in samples], "o-", ms=3, color="#3b6fc4")
    for title, ax in (("server RSS (MB)", rss), ("open files of the server", files),
                        ("temporary files (MB)", cache), ("p95 latency of the window (ms)", p95)):
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.axvline(out["load_end_s"] / 60, color="#555", lw=0.8)  # visitors stop; the sweep clears up
        for r in out["retrains"]:
            ax.axvspan(r["at_s"] / 60, (r["at_s"] + r["seconds"]) / 60, color="#f3d9b1", alpha=0.4, lw=0)
    rss.legend(fontsize=8, loc="lower right")
    cache.legend(fontsize=8)
    for ax in (cache, p95):
        ax.set_xlabel("minutes (shaded: a retrain running; line: the visitors stop)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _print(out: dict) -> None:
    sweep, v = out["sweep"], out["verdict"]
    hours = out["sweeps"] * SERVED_SWEEP_S / 3600
    print(f"\nsoak: {out['minutes']:g} min of {out['clients']} visitor streams (a new session every few requests, "
          f"{out['examples']} examples among them), Gradio's cache swept every {sweep[0]} s (files older than "
          f"{sweep[1]} s): {out['sweeps']} sweeps, as many as {hours:.1f} h of the gallery's own")
    print(f"{'min':>5} {'phase':>7} {'RSS MB':>7} {'files':>6} {'cache':>14} {'app files':>14} {'requests':>9} "
          f"{'errors':>7} {'p95 ms':>7}")
    for s in shown_samples(out["samples"]):
        p95 = "" if s["p95_ms"] is None else f"{s['p95_ms']:.0f}"
        print(f"{s['t_s'] / 60:5.1f} {s['phase']:>7} {s['rss_mb']:7.0f} {s['open_files']:6d} "
              f"{s['cache_files']:5d} {s['cache_mb']:5.1f} MB {s['app_files']:5d} {s['app_mb']:5.1f} MB "
              f"{s['requests']:9d} {s['errors']:7d} {p95:>7}")
        for e in s["first_errors"]:
            print(f"{'':14}error: {e}")
    for r in out["retrains"]:
        print(f"  retrain at {r['at_s'] / 60:.1f} min: {r['task']}{', stopped' if r['asked_to_stop'] else ''}, "
              f"{r['seconds']:.0f} s: {r['status'][:120]}")
    final = out["final"]
    print(f"after the last sweep, every tab and example: {final['tried']} tried, {len(final['failed'])} failed")
    for f in final["failed"]:
        print(f"  failed: {f}")
    print(f"verdict: RSS after warm-up ({v['warm_t_s'] / 60:.1f} min) {v['warm_rss_mb']:.0f} MB, at the end "
          f"{v['end_rss_mb']:.0f} MB ({(v['end_rss_mb'] / v['warm_rss_mb'] - 1) * 100:+.1f}%), max "
          f"{v['max_rss_mb']:.0f} MB; open files max {v['max_open_files']} (end {v['end_open_files']}); Gradio cache "
          f"max {v['max_cache_mb']:.1f} MB (end {v['end_cache_mb']:.1f}); app files max {v['max_app_mb']:.1f} MB "
          f"(end {v['end_app_mb']:.1f}); {out['requests']} requests, {out['errors']} errors, "
          f"{out['log_tracebacks']} tracebacks in the server log: "
          + ("RSS flat" if v["flat"] else "RSS NOT flat"))
    print(f"plot: {out['plot']}")
