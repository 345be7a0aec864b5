"""``python -m rnn_core bench all``: every figure of the gallery in one report,
``docs/benchmarks.md`` with its plots, each figure beside the command that gives it.

Quality comes from each shipped model's ``metrics.json`` (written only by
``python -m rnn_core evaluate TASK --write-metrics``); latency, training throughput,
the gradient lab, start-up, memory and load are measured by this run, on this machine,
and kept in ``benchmarks.json``, which `render` turns into the report.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..checkpoint import assets_dir
from ..gradlab.bench import bench_gradients
from ..jobs import share_cores
from ..tasks import TASK_NAMES, TASKS
from . import describe_machine, server, task_latency, throughput_key, train_throughput
from .plots import latency_plot, quality_plot
from .soak import RSS_BOUND_MB, SERVED_SWEEP_S, shown_samples, soak_plot

DATA = "RNN_GALLERY_DATA=../shared/data"

# More of each model's figures, as (what, path into metrics.json).
EXTRAS = {
    "textgen": [("bits/char", ("val_bits_per_char",))],
    "melody": [("in key (sampled continuations)", ("samples", "model", "in_key_ratio")),
               ("ratio to the n-gram", ("nll_ratio_to_baseline",))],
    "speech": [("connected digit strings: character error rate", ("connected_cer",)),
               ("strings exactly right", ("connected_string_accuracy",))],
    "forecast": [(f"{name} 80% interval coverage", (name, "coverage"))
                 for name in ("temperatures", "sunspots", "pm25")],
    "translation": [("chrF", ("chrf",)), ("without attention: BLEU", ("no_attention", "bleu"))],
}

TEXT_CHARS = 400  # the text tab's default length
# The timed calls of each task's latency figures, as (what, key); forecast has one per
# shipped series (`latency_rows`), textgen a rate (`text_ms`).
TIMED = {
    "sentiment": [("one prediction (40 tokens)", "predict"),
                  ("the tab's answer: + verdict per word + occlusion", "predict_explained")],
    "melody": [("16 bars, one variation", "generate_16_bars"),
               ("16 bars, four variations at once", "generate_16_bars_4_variations"),
               ("16 bars to audio (synthesis)", "synthesis")],
    "speech": [("a 1 s recording", "transcribe_1s_1_threads"), ("a 5 s recording", "transcribe_5s_1_threads")],
    "translation": [("one sentence, greedy", "beam1"), ("one sentence, beam 5 (the tab's default)", "beam5"),
                    ("one sentence, beam 10", "beam10")],
}
# The timed call that is the tab's answer (the latency plot's grey bar).
ANSWER = {"sentiment": "predict_explained", "melody": "generate_16_bars", "speech": "transcribe_5s_1_threads",
          "translation": "beam5"}


def _dig(metrics: dict, path: tuple):
    for key in path:
        metrics = metrics.get(key) if isinstance(metrics, dict) else None
    return metrics


def quality_rows() -> list[dict]:
    """The shipped models' headline figures beside their baselines, from metrics.json."""
    rows = []
    for name in TASK_NAMES:
        m = json.loads((assets_dir(name) / "metrics.json").read_text())
        q = TASKS[name].quality  # the headline figure; the baseline's is under the same key
        extras = [f"{what} {_dig(m, path):.4g}" for what, path in EXTRAS.get(name, ()) if _dig(m, path) is not None]
        rows.append({"task": name, "label": q.label, "key": q.key, "model": m[q.key], "baseline": m["baseline"][q.key],
                     "baseline_name": m["baseline"]["name"], "higher_is_better": q.higher_is_better, "extras": extras,
                     "command": f"{DATA} python -m rnn_core evaluate {name} --split {m['split']} --write-metrics"})
    return rows


def run_all(out_dir: str | Path = "docs", repeats: int = 50, retrain: bool = False, load: dict | None = None) -> Path:
    """Measure everything, keep the figures in ``out_dir/benchmarks.json`` and write
    ``out_dir/benchmarks.md`` + plots from them; return the report's path.

    Args:
        repeats: timed calls of each latency figure.
        retrain: also time every task's retrain with the UI's defaults.
        load: `server.load`'s keyword arguments; its ``seconds`` (60 by default) is
            also how long each task trains for its throughput figure.
    """
    out_dir, load = Path(out_dir), {"seconds": 60, **(load or {})}
    out_dir.mkdir(parents=True, exist_ok=True)
    share_cores()  # measure what the server does: one intra-op thread per request and for training
    results = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": describe_machine(),
               "latency": {}, "throughput": {}}
    for name in TASK_NAMES:
        print(f"== bench latency {name} --repeats {repeats}" + (" --retrain" if retrain else ""), flush=True)
        results["latency"][name] = task_latency(TASKS[name], repeats=repeats, retrain=retrain)
    for name in TASK_NAMES:
        print(f"== bench throughput {name} --device cpu --seconds {load['seconds']:g}", flush=True)
        results["throughput"][name] = train_throughput(TASKS[name], seconds=load["seconds"])
    print("== bench gradients", flush=True)
    results["gradients"] = bench_gradients()
    print("== bench startup", flush=True)
    results["startup"] = server.startup()
    print(f"== bench load ({', '.join(f'{k} {v}' for k, v in load.items())})", flush=True)
    results["load"] = server.load(**load)
    (out_dir / "benchmarks.json").write_text(json.dumps(results, indent=1, default=str))
    path = render(out_dir)
    print(f"wrote {path}")
    return path


def render(out_dir: str | Path = "docs") -> Path:
    """(Re)write benchmarks.md and its plots from the figures in benchmarks.json."""
    out_dir = Path(out_dir)
    results = json.loads((out_dir / "benchmarks.json").read_text())
    quality = quality_rows()  # from metrics.json, the models' own record (not measured here)
    latency, load = results["latency"], results["load"]
    plots = {"quality": quality_plot(out_dir / "quality.png", quality),
             "latency": latency_plot(out_dir / "latency.png", {t: answer_ms(t, latency) for t in latency}, load),
             "soak": soak_plot(out_dir / "soak.png", load["soak"]) if load.get("soak") else None}
    sections = [_header(results), _quality(quality, plots["quality"]), _latency(latency),
                _throughput(results["throughput"]), _retrain(latency), _gradients(results["gradients"]),
                _startup(results["startup"]), _load(load, plots["latency"]), _bounds(load.get("bounds")),
                _crowd(load.get("crowd")), _soak(load.get("soak"), plots["soak"])]
    path = out_dir / "benchmarks.md"
    path.write_text("\n".join(line for section in sections for line in section) + "\n")
    return path


def text_ms(latency: dict) -> float:
    """Milliseconds to write the text tab's default length, from the measured rate."""
    return TEXT_CHARS / latency["textgen"]["generate_chars_per_s"] * 1000


def answer_ms(tab: str, latency: dict) -> float:
    """The p95 of ``tab``'s answer to one visitor (forecast: its slowest series)."""
    if tab == "textgen":
        return text_ms(latency)
    if tab in ANSWER:
        return latency[tab][ANSWER[tab]]["p95_ms"]
    return max(v["p95_ms"] for k, v in latency[tab].items() if k != "retrain")


def latency_rows(latency: dict) -> list[tuple]:
    """(tab, what is timed, p50 ms, p95 ms) for one visitor at a time."""
    rows = []
    for tab, figures in latency.items():
        if tab == "textgen":  # a rate: one timed run of many steps, no percentiles
            rows.append((tab, f"{TEXT_CHARS} characters (the tab's default)", text_ms(latency), None))
            continue
        timed = TIMED.get(tab) or [(f"{k}: a forecast + the baselines from one origin (the first: "
                                    f"{v['first_ms']:.0f} ms)", k) for k, v in figures.items() if k != "retrain"]
        rows += [(tab, what, figures[key]["p50_ms"], figures[key]["p95_ms"]) for what, key in timed]
    return rows


def _ms(v) -> str:
    return "" if v is None else (f"{v:.1f}" if v < 10 else f"{v:.0f}")


def _header(results: dict) -> list[str]:
    return ["# RNN Gallery benchmarks", "",
            f"Written by `python -m rnn_core bench all` on {results.get('started', '?')}; machine: "
            f"{results.get('machine', '?')} (the server's policy: one intra-op thread per request and for "
            "training, `rnn_core/jobs.py`). Every figure below comes from this run except quality, which each "
            "model's `metrics.json` holds (written only by the evaluate command shown).", ""]


def _quality(quality: list[dict], plot: str) -> list[str]:
    lines = ["## Quality against a baseline", "",
             "| tab | metric | model | baseline | baseline is | more | command |", "|---|---|---|---|---|---|---|"]
    for q in quality:
        better = (q["model"] > q["baseline"]) == q["higher_is_better"]
        verdict = "a tie" if q["model"] == q["baseline"] else f"{'model' if better else 'baseline'} better"
        lines.append(f"| {q['task']} | {q['label']} ({'higher' if q['higher_is_better'] else 'lower'} is better) "
                     f"| **{q['model']:.4f}** | {q['baseline']:.4f} ({verdict}) "
                     f"| {q['baseline_name']} | {'; '.join(q['extras'])} | `{q['command']}` |")
    return lines + ["", f"![quality]({plot})", ""]


def _latency(latency: dict) -> list[str]:
    lines = ["## Latency, one visitor at a time", "",
             "| tab | what | p50 ms | p95 ms | command |", "|---|---|---|---|---|"]
    for tab, what, p50, p95 in latency_rows(latency):
        lines.append(f"| {tab} | {what} | {_ms(p50)} | {_ms(p95) or '(one timed run of many steps)'} "
                     f"| `python -m rnn_core bench latency {tab}` |")
    return lines + [""]


def _throughput(throughput: dict) -> list[str]:
    lines = ["## Training throughput", "",
             "Each task's shipped recipe on its real data, one process on the CPU, validation left out.", "",
             "| tab | throughput | steps | intra-op threads | command |", "|---|---|---|---|---|"]
    for tab, t in throughput.items():
        command = f"{DATA} python -m rnn_core bench throughput {tab} --device cpu --seconds {t['budget_seconds']:g}"
        lines.append(f"| {tab} | {t[throughput_key(TASKS[tab])]:,.0f} {TASKS[tab].items}/s | {t['steps']} | "
                     f"{t['threads']} | `{command}` |")
    return lines + [""]


def _retrain(latency: dict) -> list[str]:
    timed = {tab: dict(figures["retrain"]) for tab, figures in latency.items() if "retrain" in figures}
    if not timed:
        return []
    lines = ["## What a retrain costs (the UI's defaults, one core, as in the server)", "",
             "| tab | wall time (s) | best validation figure | command |", "|---|---|---|---|"]
    for tab, r in timed.items():
        secs = r.pop("seconds")
        figure = ", ".join(f"{k} {v:.3f}" for k, v in r.items() if isinstance(v, float))
        lines.append(f"| {tab} | {secs:.0f} | {figure} | `{DATA} python -m rnn_core bench latency {tab} --retrain` |")
    return lines + [""]


def _gradients(rows: list[dict]) -> list[str]:
    lines = ["## The gradient lab", "",
             "Every preset trained live on one thread (`python -m rnn_core bench gradients`); the ratio is "
             "‖dL/dh₁‖/‖dL/dh_T‖ on the last weights.", "",
             "| preset | time s | steps | best / final accuracy | chance | ratio | max ‖g‖ | claim | met |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "n/a" if r["ratio_h1_hT"] is None else f"{r['ratio_h1_hT']:.1e}"
        lines.append(f"| {r['preset']} | {r['seconds']:.1f} | {r['steps']} | {r['accuracy']:.2f} / "
                     f"{r['final_accuracy']:.2f} | {r['chance']:.2f} | {ratio} | {r['max_grad_norm']:.2g} | "
                     f"{r['claim'].replace('|', '&#124;')} | {'yes' if r['claim_met'] else '**no**'} |")
    return lines + [""]


def _startup(start: dict) -> list[str]:
    return ["## Start-up and memory", "", "| figure | value | command |", "|---|---|---|",
            f"| `python app.py` to its first HTTP 200 | {start['first_200_s']:.1f} s "
            "| `python -m rnn_core bench startup` |",
            f"| RSS with the models loaded | {start['rss_at_first_200_mb']:.0f} MB | same |",
            f"| RSS after one request to every tab | {start['rss_after_every_tab_mb']:.0f} MB "
            f"(peak {start['peak_rss_mb']:.0f} MB) | same |", ""]


def _load(load: dict, plot: str) -> list[str]:
    clients, seconds, retrain, think = load["clients"], load["seconds"], load.get("retrain"), load.get("think", 0)
    alone, busy, r = load["alone"], load.get("retraining"), load.get("retrained") or {}
    pause = f"pausing about {think:g} s between requests" if think else "no pause"
    lines = [f"## Many visitors: {clients} at once for {seconds:g} s" + (", alone and while one more retrains"
                                                                        if busy else ""), "",
             f"Command: `python -m rnn_core bench load --clients {clients} --seconds {seconds:g}"
             f"{f' --think {think:g}' if think else ''}{'' if retrain else ' --retrainer none'}`: one "
             "`python app.py`; each visitor is a `gradio_client` on loopback sending one tab's request after "
             f"another (tabs in random order, {pause})"
             + (f"; first nobody retrains, then the same visitors ask again while one more retrains {retrain} "
                "with the UI's defaults." if busy else "."), ""]
    for name, phase in (("nobody retraining", alone), ("while one more visitor retrains", busy)):
        if phase:
            lines.append(f"- {name}: **{phase['served']}** requests served "
                         f"({phase['served'] / phase['seconds']:.1f}/s), **{phase['errors']}** errors; "
                         f"the server used {phase['server_cpu_s']:.0f} CPU-seconds "
                         f"({phase['server_cpu_s'] / max(phase['served'], 1) * 1000:.0f} ms a request), the load "
                         f"generator {phase['load_generator_cpu_s']:.0f}, on the same cores")
    if busy:
        lines.append(f"- the retrain {'finished' if r.get('finished') else 'did NOT finish'} in "
                     f"{r.get('seconds', 0):.0f} s; server peak RSS {load['peak_rss_mb']:.0f} MB")
    if not think:
        lines += ["", f"The visitors never pause, so each request waits behind the others: latency here is about "
                  f"{clients} / throughput, a stress figure rather than what one visitor feels (that is the "
                  "latency table above)." + (" The ratio column is the point: what one visitor's retrain costs "
                                             "everyone else." if busy else "")]
    return lines + ["", *_load_table(alone, busy), "", f"![latency]({plot})", ""]


def _load_table(alone: dict, busy: dict | None) -> list[str]:
    if not busy:
        return ["| tab | served / errors | p50 ms | p95 ms |", "|---|---|---|---|",
                *[f"| {tab} | {a['served']} / {a['errors']} | {_ms(a['p50_ms'])} | {_ms(a['p95_ms'])} |"
                  for tab, a in alone["tabs"].items()]]
    lines = ["| tab | alone: served / errors | p50 ms | p95 ms | retraining: served / errors | p50 ms "
             "| p95 ms | p95 ratio |", "|---|---|---|---|---|---|---|---|"]
    for tab, a in alone["tabs"].items():
        b = busy["tabs"].get(tab)
        ratio = f"{b['p95_ms'] / a['p95_ms']:.2f}" if b and b["p95_ms"] and a["p95_ms"] else ""
        lines.append(f"| {tab} | {a['served']} / {a['errors']} | {_ms(a['p50_ms'])} | {_ms(a['p95_ms'])} | "
                     + (f"{b['served']} / {b['errors']} | {_ms(b['p50_ms'])} | {_ms(b['p95_ms'])} | {ratio} |"
                        if b else "| | | |"))
    return lines


def _bounds(bounds: dict | None) -> list[str]:
    if not bounds:
        return []
    lines = ["## What a long-running server keeps", "",
             f"Command: the same `bench load`, on a fresh server (`--sessions {bounds['sessions']} --uploads "
             f"{bounds['uploads']} --flood {bounds['flood']}`): new visitors (one sentiment request each), then "
             "new speech recordings uploaded (one session), then a sentiment request timed while retrain "
             "requests from as many sessions are left pending.", "",
             "| after | RSS MB | Gradio cache | app files |", "|---|---|---|---|"]
    for when in [k for k in bounds if k == "before" or k.startswith("after")]:
        m = bounds[when]
        lines.append(f"| {'start, one request per tab' if when == 'before' else when} | {m['rss_mb']:.0f} | "
                     f"{m['gradio_cache']['files']} files, {m['gradio_cache']['mb']:.1f} MB | "
                     f"{m['app_files']['files']} files, {m['app_files']['mb']:.1f} MB |")
    idle, flooded = bounds["predict_idle_p95_ms"], bounds["predict_flooded_p95_ms"]
    lines += ["", f"A sentiment request's p95: {idle:.0f} ms idle, {flooded:.0f} ms with {bounds['flood']} retrain "
              f"requests pending (x{flooded / idle:.2f}); {bounds['retrains_refused_at_once']} of them refused at "
              "once (queue full).", ""]
    return lines


def _crowd(crowd: dict | None) -> list[str]:
    if not crowd:
        return []
    lines = ["## Batching many visitors: off and on", "",
             f"Command: the same `bench load` (`--crowd {crowd['clients']} --streams {crowd['streams']}`), on two "
             "fresh servers, `RNN_GALLERY_BATCHING=off` then on: sentiment visitors classifying "
             + (f"(pausing about {crowd['think']:g} s between requests), " if crowd.get("think") else "without pause, ")
             + "then text streams all asking at the same moment for 400 characters.", "",
             "| batching | sentiment requests/s | p50 ms | p95 ms | server ms a request | slowest text stream "
             "chars/s | median |", "|---|---|---|---|---|---|---|"]
    for setting in ("off", "on"):
        s, text = crowd[setting]["sentiment"], sorted(crowd[setting]["text_chars_per_s"])
        lines.append(f"| {setting} | {s['per_s']:.1f} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])} | "
                     f"{s['server_ms']:.0f} | {text[0]:.0f} | {text[len(text) // 2]:.0f} |")
    return lines + [""]


def _soak(soak: dict | None, plot: str | None) -> list[str]:
    if not soak:
        return []
    (every, age), v, final = soak["sweep"], soak["verdict"], soak["final"]
    lines = ["## Two hours compressed: a soak test", "",
             f"Command: the same `bench load` (`--soak-minutes {soak['minutes']:g}`), on a fresh server whose "
             f"Gradio cache is swept every {every} s (files older than {age} s; "
             f"`RNN_GALLERY_DELETE_CACHE={every},{age}`): {soak['clients']} streams of new visitors (a new session "
             "every few requests, tabs at random, some clicking a tab's examples, speech recordings uploaded), a "
             "retrain or gradient-lab run every so often, some stopped by their visitor; then the visitors stop, "
             "the sweep clears what they left, and every tab and every example is tried once. "
             f"{soak['sweeps']} sweeps: as many as {soak['sweeps'] * SERVED_SWEEP_S / 3600:.1f} h of the gallery's "
             f"own (every {SERVED_SWEEP_S / 60:g} minutes).", "",
             "| minute | phase | RSS MB | open files | Gradio cache | app files | requests / errors | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for s in shown_samples(soak["samples"]):
        lines.append(f"| {s['t_s'] / 60:.1f} | {s['phase']} | {s['rss_mb']:.0f} | {s['open_files']} | "
                     f"{s['cache_files']} files, {s['cache_mb']:.1f} MB | {s['app_files']} files, {s['app_mb']:.1f} MB "
                     f"| {s['requests']} / {s['errors']} | {_ms(s['p95_ms'])} |")
    stopped = sum(1 for r in soak["retrains"] if r["asked_to_stop"])
    lines += ["", f"- RSS after warm-up ({v['warm_t_s'] / 60:.1f} min) **{v['warm_rss_mb']:.0f} MB**, at the end "
              f"**{v['end_rss_mb']:.0f} MB**, max {v['max_rss_mb']:.0f} MB: "
              + (f"flat (within 10%, under {RSS_BOUND_MB} MB)" if v["flat"] else "**not flat**"),
              f"- open files at most {v['max_open_files']} (end {v['end_open_files']}); Gradio's cache at most "
              f"{v['max_cache_mb']:.1f} MB (end {v['end_cache_mb']:.1f}); the app's files at most "
              f"{v['max_app_mb']:.1f} MB (end {v['end_app_mb']:.1f})",
              f"- {soak['requests']} requests, **{soak['errors']}** errors; {len(soak['retrains'])} retrains "
              f"({stopped} stopped by their visitor), {sum(1 for r in soak['retrains'] if not r['ok'])} failed",
              f"- after the last sweep, every tab and every example ({final['tried']} tries): "
              f"**{len(final['failed'])}** failed", *[f"  - {f}" for f in final["failed"]],
              "", f"![soak]({plot})", ""]
    return lines
