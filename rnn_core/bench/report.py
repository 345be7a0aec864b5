"""``python -m rnn_core bench all``: every figure of the gallery in one report,
``docs/benchmarks.md`` with its plots, each figure beside the command that gives it.

Quality comes from each shipped model's ``metrics.json`` (written only by
``python -m rnn_core evaluate TASK --write-metrics``); speed, start-up, memory and load
are measured by this run, on this machine.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..checkpoint import assets_dir  # noqa: E402
from ..jobs import share_cores  # noqa: E402
from ..tasks import TASK_NAMES, TASKS  # noqa: E402
from . import bench_task, describe_machine, server  # noqa: E402

# More of each model's figures, as (what, path into metrics.json).
EXTRAS = {
    "textgen": [("bits/char", ("val_bits_per_char",))],
    "melody": [("in key (sampled continuations)", ("samples", "model", "in_key_ratio")),
               ("ratio to the n-gram", ("nll_ratio_to_baseline",))],
    "speech": [("connected digit strings: character error rate", ("connected_cer",)),
               ("strings exactly right", ("connected_string_accuracy",))],
    "forecast": [(f"{name} 80% interval coverage", (name, "coverage")) for name in ("temperatures", "sunspots", "pm25")],
}


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
        rows.append({"task": name, "label": q.label, "model": m[q.key], "baseline": m["baseline"][q.key],
                     "baseline_name": m["baseline"]["name"], "higher_is_better": q.higher_is_better, "extras": extras,
                     "command": f"RNN_GALLERY_DATA=../shared/data python -m rnn_core evaluate {name} "
                                f"--split {m['split']} --write-metrics"})
    return rows


def run_all(out_dir: str | Path = "docs", clients: int = 20, seconds: float = 60, retrain: bool = False) -> Path:
    """Measure everything, keep the figures in ``out_dir/benchmarks.json`` and write
    ``out_dir/benchmarks.md`` + plots from them; return the report's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    share_cores()  # measure what the server does: one intra-op thread per request and for training
    results = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": describe_machine(),
               "speed": {}}
    for name in TASK_NAMES:
        print(f"== bench {name}" + (" --retrain" if retrain else ""), flush=True)
        results["speed"][name] = bench_task(TASKS[name], repeats=50, retrain=retrain)
    print("== bench startup", flush=True)
    results["startup"] = server.startup()
    print(f"== bench load --clients {clients} --seconds {seconds:g}", flush=True)
    results["load"] = server.load(clients=clients, seconds=seconds, retrain="sentiment")
    (out_dir / "benchmarks.json").write_text(json.dumps(results, indent=1, default=str))
    path = render(out_dir)
    print(f"wrote {path}")
    return path


def render(out_dir: str | Path = "docs") -> Path:
    """(Re)write benchmarks.md and its plots from the figures in benchmarks.json."""
    out_dir = Path(out_dir)
    results = json.loads((out_dir / "benchmarks.json").read_text())
    quality = quality_rows()  # from metrics.json, the models' own record (not measured here)
    plots = _plots(out_dir, quality, results["speed"], results["load"])
    path = out_dir / "benchmarks.md"
    path.write_text(_markdown(results, quality, plots))
    return path


TEXT_CHARS = 400  # the text tab's default length


def text_ms(speed: dict) -> float:
    """Milliseconds to write the text tab's default length, from the measured rate."""
    return TEXT_CHARS / speed["textgen"]["generate_chars_per_s"] * 1000


def latency_rows(speed: dict) -> list[tuple]:
    """(tab, what is timed, p50 ms, p95 ms, command) for one visitor at a time."""
    s, m, sp = speed["sentiment"], speed["melody"], speed["speech"]
    return [
        ("sentiment", "one prediction (40 tokens)", s["predict"]["p50_ms"], s["predict"]["p95_ms"]),
        ("sentiment", "the tab's answer: + verdict per word + occlusion", s["predict_explained"]["p50_ms"],
         s["predict_explained"]["p95_ms"]),
        ("textgen", f"{TEXT_CHARS} characters (the tab's default)", text_ms(speed), None),
        ("melody", "16 bars, one variation", m["generate_16_bars"]["p50_ms"], m["generate_16_bars"]["p95_ms"]),
        ("melody", "16 bars to audio (synthesis)", m["synthesis"]["p50_ms"], m["synthesis"]["p95_ms"]),
        ("speech", "a 1 s recording", sp["transcribe_1s_1_threads"]["p50_ms"], sp["transcribe_1s_1_threads"]["p95_ms"]),
        ("speech", "a 5 s recording", sp["transcribe_5s_1_threads"]["p50_ms"], sp["transcribe_5s_1_threads"]["p95_ms"]),
    ]


THROUGHPUT = {"sentiment": ("train_tokens_per_s", "tokens/s"), "textgen": ("train_chars_per_s", "characters/s"),
              "melody": ("train_events_per_s", "events/s"), "speech": ("train_utterances_per_s", "1 s utterances/s")}


def _ms(v) -> str:
    return "" if v is None else (f"{v:.1f}" if v < 10 else f"{v:.0f}")


def _markdown(results: dict, quality: list[dict], plots: dict) -> str:
    speed, start, load = results["speed"], results["startup"], results["load"]
    started, machine = results.get("started", "?"), results.get("machine", "?")
    retrain, clients, seconds = "retrain" in speed["sentiment"], load["clients"], load["seconds"]
    lines = ["# RNN Gallery benchmarks", "",
             f"Written by `python -m rnn_core bench all` on {started}; machine: {machine} "
             "(the server's policy: one intra-op thread per request and for training, "
             "`rnn_core/jobs.py`). "
             "Every figure below comes from this run except quality, which each model's "
             "`metrics.json` holds (written only by the evaluate command shown).", "",
             "## Quality against a baseline", "",
             "| tab | metric | model | baseline | baseline is | more | command |", "|---|---|---|---|---|---|---|"]
    for q in quality:
        better = (q["model"] > q["baseline"]) == q["higher_is_better"]
        lines.append(f"| {q['task']} | {q['label']} ({'higher' if q['higher_is_better'] else 'lower'} is better) "
                     f"| **{q['model']:.4f}** | {q['baseline']:.4f} {'(model better)' if better else '(baseline better)'}"
                     f" | {q['baseline_name']} | {'; '.join(q.get('extras', []))} | `{q['command']}` |")
    lines += ["", f"![quality]({plots['quality']})", "",
              "## Latency, one visitor at a time", "",
              "| tab | what | p50 ms | p95 ms | command |", "|---|---|---|---|---|"]
    for tab, what, p50, p95 in latency_rows(speed):
        lines.append(f"| {tab} | {what} | {_ms(p50)} | {_ms(p95) or '(one timed run of many steps)'} "
                     f"| `python -m rnn_core bench {tab}` |")
    lines += ["", "## Training throughput", "", "| tab | throughput | command |", "|---|---|---|"]
    for tab, (key, unit) in THROUGHPUT.items():
        lines.append(f"| {tab} | {speed[tab][key]:,.0f} {unit} | `python -m rnn_core bench {tab}` |")
    if retrain:
        lines += ["", "## What a retrain costs (the UI's defaults, one core, as in the server)", "",
                  "| tab | wall time (s) | best validation figure | command |", "|---|---|---|---|"]
        for tab in TASK_NAMES:
            r = dict(speed[tab]["retrain"])
            secs = r.pop("seconds")
            figure = ", ".join(f"{k} {v:.3f}" for k, v in r.items() if isinstance(v, float))
            lines.append(f"| {tab} | {secs:.0f} | {figure} | `RNN_GALLERY_DATA=../shared/data python -m rnn_core bench {tab} --retrain` |")
    lines += ["", "## Start-up and memory", "", "| figure | value | command |", "|---|---|---|",
              f"| `python app.py` to its first HTTP 200 | {start['first_200_s']:.1f} s | `python -m rnn_core bench startup` |",
              f"| RSS with the four models loaded | {start['rss_at_first_200_mb']:.0f} MB | same |",
              f"| RSS after one request to every tab | {start['rss_after_every_tab_mb']:.0f} MB "
              f"(peak {start['peak_rss_mb']:.0f} MB) | same |"]
    r, alone, busy = load.get("retrained") or {}, load["alone"], load.get("retraining")
    lines += ["", f"## Many visitors: {clients} at once for {seconds:g} s, alone and while one more retrains", "",
              f"Command: `python -m rnn_core bench load --clients {clients} --seconds {seconds:g}`: one "
              "`python app.py`; each visitor is a `gradio_client` on loopback sending one tab's request "
              "after another (tabs in random order, no pause); first nobody retrains, then the same "
              "visitors ask again while one more retrains sentiment with the UI's defaults.", ""]
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
    lines += ["", f"The visitors never pause, so each request waits behind the others: latency here is about "
              f"{clients} / throughput, a stress figure rather than what one visitor feels (that is the table "
              "above). The ratio column is the point: what one visitor's retrain costs everyone else.",
              "", "| tab | alone: served / errors | p50 ms | p95 ms | retraining: served / errors | p50 ms "
              "| p95 ms | p95 ratio |", "|---|---|---|---|---|---|---|---|"]
    for tab, a in alone["tabs"].items():
        b = (busy or {"tabs": {}})["tabs"].get(tab)
        ratio = f"{b['p95_ms'] / a['p95_ms']:.2f}" if b and b["p95_ms"] and a["p95_ms"] else ""
        lines.append(f"| {tab} | {a['served']} / {a['errors']} | {_ms(a['p50_ms'])} | {_ms(a['p95_ms'])} | "
                     + (f"{b['served']} / {b['errors']} | {_ms(b['p50_ms'])} | {_ms(b['p95_ms'])} | {ratio} |"
                        if b else "| | | |"))
    lines += ["", f"![latency]({plots['latency']})", ""]
    return "\n".join(lines)


def _plots(out_dir: Path, quality, speed, load) -> dict:
    names = {}
    fig, axes = plt.subplots(1, len(quality), figsize=(12, 3), dpi=90)
    for ax, q in zip(axes, quality):
        ax.bar(["model", "baseline"], [q["model"], q["baseline"]], color=["#3b6fc4", "#9aa5b1"])
        ax.set_title(f"{q['task']}\n{'higher' if q['higher_is_better'] else 'lower'} is better", fontsize=10)
        ax.set_ylabel(q["label"].split()[-1] if not q["higher_is_better"] else "accuracy", fontsize=9)
    fig.tight_layout()
    names["quality"] = _save(fig, out_dir / "quality.png")
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=90)
    tabs = list(load["alone"]["tabs"])
    one = {"sentiment": speed["sentiment"]["predict_explained"]["p95_ms"],
           "textgen": text_ms(speed),
           "melody": speed["melody"]["generate_16_bars"]["p95_ms"],
           "speech": speed["speech"]["transcribe_5s_1_threads"]["p95_ms"]}
    x = range(len(tabs))
    bars = [("one request at a time, in-process (bench TASK)", [one.get(t, 0) for t in tabs], "#9aa5b1"),
            (f"{load['clients']} visitors through the server", _p95s(load["alone"], tabs), "#7fa6e0"),
            (f"{load['clients']} visitors + a retrain", _p95s(load.get("retraining"), tabs), "#3b6fc4")]
    for k, (label, values, colour) in enumerate(bars):
        ax.bar([i + (k - 1) * 0.27 for i in x], values, 0.27, label=label, color=colour)
    ax.set_xticks(list(x), tabs)
    ax.set_yscale("log")
    ax.set_ylabel("p95 latency (ms, log)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    names["latency"] = _save(fig, out_dir / "latency.png")
    return names


def _p95s(phase: dict | None, tabs: list[str]) -> list[float]:
    return [((phase or {"tabs": {}})["tabs"].get(t) or {}).get("p95_ms") or 0 for t in tabs]


def _save(fig, path: Path) -> str:
    fig.savefig(path)
    plt.close(fig)
    return path.name
