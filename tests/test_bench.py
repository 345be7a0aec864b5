"""``python -m rnn_core bench``: each measurement takes only its own flags, the latency
bench prints and returns the figures the report reads, the report writes markdown and
plots from figures (fakes here, not a measured run), and the server bench's pure
helpers. No real server is started."""
from __future__ import annotations

import http.server
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from rnn_core.__main__ import build_parser, load_options, main
from rnn_core.bench import report, server, soak, task_latency, throughput_key, train_throughput
from rnn_core.tasks import TASK_NAMES, TASKS


@pytest.mark.parametrize("argv, expect", [
    (["bench", "latency", "speech", "--weights", "w", "--repeats", "3", "--retrain", "--data", "d"],
     {"task": "speech", "weights": "w", "repeats": 3, "retrain": True, "data": "d"}),
    (["bench", "throughput", "textgen", "--device", "cpu", "--precision", "bf16", "--seconds", "2", "--data", "d"],
     {"task": "textgen", "device": "cpu", "precision": "bf16", "seconds": 2.0, "data": "d"}),
    (["bench", "load", "--clients", "3", "--seconds", "1", "--think", "2", "--retrainer", "none", "--sessions", "0",
      "--uploads", "4", "--flood", "5"], {"clients": 3, "seconds": 1.0, "think": 2.0, "retrainer": "none"}),
    (["bench", "all", "--out", "o", "--repeats", "3", "--retrain", "--clients", "2", "--seconds", "1"],
     {"out": "o", "repeats": 3, "retrain": True, "clients": 2, "retrainer": "sentiment"}),
    (["bench", "startup"], {"measurement": "startup"}),
    (["bench", "gradients"], {"measurement": "gradients"}),
])
def test_each_measurement_takes_its_own_flags(argv, expect):
    args = build_parser().parse_args(argv)
    assert args.measurement == argv[1]
    assert {k: getattr(args, k) for k in expect} == expect


def test_load_flags_become_the_load_benchs_arguments():
    args = build_parser().parse_args(["bench", "load", "--retrainer", "none", "--sessions", "0", "--flood", "7",
                                      "--crowd", "16"])
    assert load_options(args) == {"clients": 20, "seconds": 60.0, "think": 0.0, "sessions": 0, "retrain": None,
                                  "uploads": 100, "flood": 7, "crowd_clients": 16, "streams": 8, "soak_minutes": 0}
    assert load_options(build_parser().parse_args(["bench", "all"]))["retrain"] == "sentiment"
    for verb in ("load", "all"):  # the soak runs only when asked for
        assert load_options(build_parser().parse_args(["bench", verb, "--soak-minutes", "6"]))["soak_minutes"] == 6.0


@pytest.mark.parametrize("argv, says", [
    (["bench", "latency", "sentiment", "--clients", "3"], "bench latency sentiment does not take --clients 3"),
    (["bench", "latency", "melody", "--device", "cpu"], "bench latency melody does not take --device cpu"),
    (["bench", "throughput", "textgen", "--repeats", "3"], "bench throughput textgen does not take --repeats"),
    (["bench", "startup", "--seconds", "3"], "bench startup does not take --seconds 3"),
    (["bench", "load", "--retrain"], "bench load does not take --retrain"),  # not an abbreviation of --retrainer
    (["bench", "load", "--weights", "w"], "bench load does not take --weights w"),
    (["bench", "gradients", "--clients", "2"], "bench gradients does not take --clients 2"),
    (["bench", "all", "--device", "cpu"], "bench all does not take --device cpu"),
    (["bench", "sentiment"], "invalid choice: 'sentiment'"),  # the old spelling
    (["bench", "latency", "gradients"], "invalid choice: 'gradients'"),
])
def test_another_measurements_flag_is_one_error_line(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and says in err and err.count("\n") == 1, err


def test_latency_bench_prints_and_returns_what_the_report_reads(capsys):
    # the shipped model (read only): loading it is quicker than training a tiny one
    threads = torch.get_num_threads()
    try:
        assert main(["bench", "latency", "sentiment", "--repeats", "3"]) == 0
    finally:  # the bench takes the server's one thread; later tests get the default back
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "one prediction" in out and "p95" in out and "(n=3)" in out
    figures = task_latency(TASKS["sentiment"], repeats=3)
    assert figures["predict"]["n"] == 3 and "retrain" not in figures
    assert "the network alone" in out and figures["network_forward"]["n"] == 3  # on its example_batch()
    rows = report.latency_rows({"sentiment": figures})  # the keys the report reads are there
    assert [r[2] for r in rows] == [figures[key]["p50_ms"] for _, key in report.TIMED["sentiment"]]
    assert report.answer_ms("sentiment", {"sentiment": figures}) == figures["predict_explained"]["p95_ms"]


def test_train_throughput_counts_items_per_training_second(capsys):
    calls = []

    def train(options, data_dir=None, runtime=None):
        calls.append(options)
        return None, SimpleNamespace(elapsed=5.0, eval_seconds=1.0, tokens=1000, steps=7)

    spec = SimpleNamespace(name="fake", items="widgets", train=train)
    out = train_throughput(spec, seconds=30)
    assert calls == [{"max_minutes": 0.5}]
    assert throughput_key(spec) == "train_widgets_per_s" and out["train_widgets_per_s"] == 250.0
    assert out["seconds"] == 4.0 and out["budget_seconds"] == 30 and out["device"] == "cpu"
    assert "250 widgets/s over 7 steps" in capsys.readouterr().out


def _phase(served: int, p95: float) -> dict:
    tabs = {t: {"served": served, "errors": 0, "p50_ms": p95 / 2, "p95_ms": p95, "first_errors": []}
            for t in TASK_NAMES}
    return {"seconds": 2.0, "tabs": tabs, "served": served * len(tabs), "errors": 0, "server_cpu_s": 1.5,
            "load_generator_cpu_s": 0.5}


def _fake_latency(name: str) -> dict:
    ms = {"p50_ms": 11.0, "p95_ms": 13.0, "mean_ms": 12.0, "n": 3}
    return {"sentiment": {"predict": ms, "predict_explained": ms},
            "textgen": {"generate_chars_per_s": 2000.0},
            "melody": {"generate_16_bars": ms, "generate_16_bars_4_variations": ms, "synthesis": ms},
            "speech": {f"transcribe_{s}s_{k}_threads": ms for s in (1, 5) for k in (1, 2)},
            "forecast": {s: {**ms, "first_ms": 321.0} for s in ("temperatures", "sunspots", "pm25")},
            "translation": {f"beam{k}": ms for k in (1, 5, 10)}}[name]


def _fake_load(retrain: str | None, clients: int, seconds: float, sessions: int, **more) -> dict:
    out = {"clients": clients, "seconds": seconds, "retrain": retrain, "think": 0.0, "alone": _phase(9, 400.0),
           "peak_rss_mb": 900.0}
    if retrain:
        out.update(retraining=_phase(6, 600.0), retrained={"seconds": 80.0, "finished": True, "status": "Done"})
    if sessions:
        size = {"files": 2, "mb": 0.5}
        out["bounds"] = {"sessions": sessions, "uploads": 1, "flood": 2, "before": {
            "rss_mb": 700.0, "gradio_cache": size, "app_files": size}, f"after {sessions} sessions": {
            "rss_mb": 750.0, "gradio_cache": size, "app_files": size}, "predict_idle_p95_ms": 200.0,
            "predict_flooded_p95_ms": 250.0, "retrains_refused_at_once": 1}
    if more.get("crowd_clients"):
        sentiment = {"served": 90, "errors": 0, "p50_ms": 900.0, "p95_ms": 1500.0, "per_s": 20.0, "server_ms": 80.0}
        out["crowd"] = {"clients": more["crowd_clients"], "streams": 2, **{
            k: {"sentiment": sentiment, "text_chars_per_s": [100.0, 120.0]} for k in ("off", "on")}}
    if more.get("soak_minutes"):
        out["soak"] = _fake_soak(more["soak_minutes"])
    return out


def _sample(t_s: float, rss: float, phase: str = "load", p95: float | None = 900.0) -> dict:
    return {"t_s": t_s, "phase": phase, "rss_mb": rss, "open_files": 40, "cache_files": 12, "cache_mb": 3.5,
            "app_files": 2, "app_mb": 0.25, "requests": 30, "errors": 0, "p95_ms": p95, "first_errors": []}


def _fake_soak(minutes: float) -> dict:
    samples = [_sample(0, 600.0, "start", None), *[_sample(60 * m, 800.0 + m) for m in range(1, 4)],
               _sample(200, 810.0, "idle", None), _sample(230, 812.0, "checked", None)]
    return {"minutes": minutes, "clients": 8, "sweep": [30, 60], "sample_s": 15.0, "think": 2.0, "samples": samples,
            "load_end_s": 180.0, "retrains": [{"at_s": 45.0, "task": "forecast", "seconds": 60.0,
                                               "asked_to_stop": False, "ok": True, "status": "Done"}],
            "final": {"tried": 30, "failed": []}, "examples": 23, "sweeps": 7, "requests": 90, "errors": 0,
            "log_tracebacks": 0, "verdict": soak.verdict(samples, minutes * 60), "plot": "/tmp/x.png"}


@pytest.fixture
def fake_measurements(monkeypatch):
    """run_all's measurements replaced by fakes shaped as the real ones; records their calls."""
    calls = []
    monkeypatch.setattr(report, "share_cores", lambda: None)
    monkeypatch.setattr(report, "task_latency", lambda spec, repeats, retrain: calls.append(("latency", repeats))
                        or {**_fake_latency(spec.name), **({"retrain": {"seconds": 60.0, "accuracy": 0.8}}
                                                         if retrain else {})})
    monkeypatch.setattr(report, "train_throughput", lambda spec, seconds: calls.append(("throughput", seconds))
                        or {"steps": 12, "threads": 1, "budget_seconds": seconds, "seconds": seconds - 0.5,
                            throughput_key(spec): 1234.5})
    monkeypatch.setattr(report, "bench_gradients", lambda: [
        {"preset": "plain RNN, T=100", "seconds": 45.2, "steps": 900, "accuracy": 0.29, "final_accuracy": 0.27,
         "chance": 0.25, "ratio_h1_hT": 2.1e-20, "max_grad_norm": 0.47, "claim": "||dL/dh_1|| < 1e-3",
         "claim_met": True},
        {"preset": "LSTM, T=100", "seconds": 1.3, "steps": 40, "accuracy": 1.0, "final_accuracy": 1.0,
         "chance": 0.25, "ratio_h1_hT": None, "max_grad_norm": 31.0, "claim": ">= 95%", "claim_met": False}])
    monkeypatch.setattr(report.server, "startup", lambda: {"first_200_s": 6.1, "rss_at_first_200_mb": 418.0,
                                                           "rss_after_every_tab_mb": 656.0, "peak_rss_mb": 678.0})
    monkeypatch.setattr(report.server, "load", _fake_load)
    return calls


def test_report_writes_every_section_from_the_figures_it_keeps(fake_measurements, tmp_path):
    path = report.run_all(tmp_path, repeats=3, retrain=True,
                          load={"clients": 2, "seconds": 2, "retrain": "sentiment", "sessions": 3, "crowd_clients": 4,
                                "soak_minutes": 3})
    assert ("latency", 3) in fake_measurements and ("throughput", 2) in fake_measurements
    kept = json.loads((tmp_path / "benchmarks.json").read_text())
    assert set(kept["latency"]) == set(kept["throughput"]) == set(TASK_NAMES)
    md = path.read_text()
    for task in TASK_NAMES:  # every tab, the forecasting tab included, in every per-task table
        assert f"| {task} | " in md and f"`python -m rnn_core bench latency {task}`" in md
        assert f"bench throughput {task} --device cpu --seconds 2`" in md
        assert f"bench latency {task} --retrain`" in md
    assert f"1,234 {TASKS['speech'].items}/s" in md
    assert "| forecast | sunspots: a forecast + the baselines from one origin (the first: 321 ms) | 11 | 13 |" in md
    assert "| textgen | 400 characters (the tab's default) | 200 |" in md
    assert "| plain RNN, T=100 | 45.2 | 900 | 0.29 / 0.27 | 0.25 | 2.1e-20 |" in md
    assert "| LSTM, T=100 |" in md and "| **no** |" in md
    assert "x1.25); 1 of them refused" in md and "| after 3 sessions | 750 |" in md
    assert "| sentiment | 9 / 0 | 200 | 400 | 6 / 0 | 300 | 600 | 1.50 |" in md  # p95 retraining / alone
    assert "`--crowd 4 --streams 2`" in md and "| on | 20.0 | 900 | 1500 | 80 | 100 | 120 |" in md
    assert "`--soak-minutes 3`" in md and "`RNN_GALLERY_DELETE_CACHE=30,60`" in md and "1.2 h of the gallery's" in md
    assert "| 3.0 | load | 803 | 40 | 12 files, 3.5 MB | 2 files, 0.2 MB | 30 / 0 | 900 |" in md
    assert "RSS after warm-up (1.0 min) **801 MB**, at the end **812 MB**" in md and "flat (within 10%" in md
    assert "(30 tries): **0** failed" in md and "![soak](soak.png)" in md
    for plot in ("quality.png", "latency.png", "soak.png"):
        assert (tmp_path / plot).stat().st_size > 0
    _tables_are_rectangular(md)
    report.render(tmp_path)  # the report reads the file it wrote
    assert path.read_text() == md


def test_report_without_a_retrainer_or_bounds(fake_measurements, tmp_path):
    md = report.run_all(tmp_path, repeats=3, load={"clients": 2, "seconds": 2, "retrain": None,
                                                   "sessions": 0}).read_text()
    assert "--retrainer none" in md and "while one more visitor retrains" not in md
    assert "What a retrain costs" not in md and "long-running server" not in md and "Batching" not in md
    assert "soak" not in md and not (tmp_path / "soak.png").exists()
    _tables_are_rectangular(md)


def _tables_are_rectangular(md: str) -> None:
    """Every row of a markdown table has as many cells as its header (a stray ``|``
    in a cell would shift the columns)."""
    header = None
    for line in md.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        header = header or line.count("|")
        assert line.count("|") == header, line


def test_server_helpers_measure_this_process(tmp_path):
    port = server.free_port()
    assert 1024 <= port <= 65535
    mem = server.rss_mb(os.getpid())
    assert 10 < mem["rss_mb"] <= mem["peak_mb"]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bin").write_bytes(b"x" * 2**20)
    (tmp_path / "b.txt").write_text("hi")
    size = server.folder_size(tmp_path)
    assert size["files"] == 2 and abs(size["mb"] - (2**20 + 2) / 2**20) < 1e-9
    assert server.folder_size(tmp_path / "missing") == {"files": 0, "mb": 0}
    before = server.cpu_seconds(os.getpid())
    t = time.process_time()
    while time.process_time() - t < 0.2:  # busy: CPU time must show it
        pass
    assert server.cpu_seconds(os.getpid()) - before >= 0.1
    assert server._strip_tags("<b>Done</b> &middot; best 0.84") == "Done  · best 0.84"


def test_wait_for_page_sees_the_page_or_the_exit(tmp_path):
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        t = time.perf_counter()
        assert server.wait_for_page(f"http://127.0.0.1:{httpd.server_port}/", alive, timeout=10) >= t
    finally:
        alive.kill()
        httpd.shutdown()
    gone = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    gone.wait()
    with pytest.raises(RuntimeError, match="exited with code 3"):
        server.wait_for_page(f"http://127.0.0.1:{server.free_port()}/", gone, timeout=10)


def test_gradio_client_missing_is_one_sentence(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio_client", None)  # import fails as if not installed
    with pytest.raises(ValueError, match="pip install"):
        server.gradio_client()


def test_a_load_phase_counts_answers_and_errors_per_tab():
    failing = TASKS["sentiment"].api.api_name

    class Visitor:
        def predict(self, *args, api_name):
            time.sleep(0.005)
            if api_name == failing:
                raise RuntimeError("boom")

    phase = server._phase([Visitor(), Visitor()], seconds=0.4, seed=0, server_pid=os.getpid())
    tabs = phase["tabs"]
    assert tabs["sentiment"]["served"] == 0 and tabs["sentiment"]["errors"] >= 1
    assert tabs["sentiment"]["first_errors"][0] == "RuntimeError: boom" and tabs["sentiment"]["p95_ms"] is None
    others = [t for name, t in tabs.items() if name != "sentiment"]
    assert others and all(t["errors"] == 0 and t["p50_ms"] >= 5 for t in others)
    assert phase["served"] == sum(t["served"] for t in others) and phase["errors"] == tabs["sentiment"]["errors"]


def test_the_soak_verdict_compares_the_end_with_the_rss_after_warm_up():
    samples = [_sample(0, 400.0, "start"), _sample(60, 700.0), _sample(120, 720.0), _sample(300, 760.0)]
    v = soak.verdict(samples, seconds=300)  # warm-up: the first sample at or past 20% (60 s)
    assert (v["warm_t_s"], v["warm_rss_mb"], v["end_rss_mb"], v["max_rss_mb"]) == (60, 700.0, 760.0, 760.0)
    assert v["flat"] and v["max_open_files"] == 40 and v["max_cache_mb"] == 3.5
    assert not soak.verdict([*samples, _sample(360, 780.0)], seconds=300)["flat"]  # 11% above the warm-up figure
    big = [_sample(60, 1150.0), _sample(300, 1210.0)]
    assert not soak.verdict(big, seconds=300)["flat"]  # within 10%, but over 1200 MB
    many = [_sample(t, 500.0) for t in range(100)]
    shown = soak.shown_samples(many, rows=16)
    assert len(shown) <= 17 and shown[0] is many[0] and shown[-1] is many[-1]
    assert soak.shown_samples(many[:5]) == many[:5]


def test_a_soak_window_counts_what_finished_in_it():
    log = soak._Log()
    t = time.perf_counter()
    for ms in range(1, 21):
        log.add("sentiment", ms / 1000)
    log.add("speech", 5.0, "AppError: boom")
    window = log.window(t, time.perf_counter() + 1)
    assert window["requests"] == 21 and window["errors"] == 1 and abs(window["p95_ms"] - 19.05) < 1e-6
    assert window["first_errors"] == ["speech: AppError: boom"]
    assert log.window(time.perf_counter() + 1, time.perf_counter() + 2) == {
        "requests": 0, "errors": 0, "p95_ms": None, "first_errors": []}
    assert [soak._plan_retrain(i)[1] is not None for i in range(4)] == [False, True, True, False]
    assert {soak._plan_retrain(i)[0] for i in range(3)} == set(soak.RETRAINS)


def _served(folder) -> tuple:
    """A static HTTP server on loopback for ``folder``; (url, its server)."""
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: quiet(*a, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_port}/", httpd


def test_examples_come_from_the_page_and_go_where_the_tab_reads_them(tmp_path):
    speech, textgen = TASKS["speech"].api.api_name.lstrip("/"), TASKS["textgen"].api.api_name.lstrip("/")
    config = {"components": [
        {"id": 1, "type": "audio", "props": {}}, {"id": 2, "type": "radio", "props": {}},
        {"id": 3, "type": "state", "props": {}}, {"id": 4, "type": "dataset", "props": {
            "samples": [["a.wav"], ["b.wav"]], "sample_labels": ["four one", "nine"]}},
        {"id": 5, "type": "textbox", "props": {}}, {"id": 6, "type": "dataset", "props": {"samples": [["ROMEO:\n"]]}}],
        "dependencies": [{"api_name": speech, "inputs": [3, 1, 2], "targets": [[7, "click"]]},
                         {"api_name": textgen, "inputs": [5], "targets": [[8, "click"]]},
                         {"api_name": "load_example", "inputs": [4], "outputs": [1], "targets": [[4, "click"]]},
                         {"api_name": "load_example_1", "inputs": [6], "outputs": [5], "targets": [[6, "click"]]}]}
    (tmp_path / "config").write_text(json.dumps(config))
    (tmp_path / "b.wav").write_bytes(b"RIFF")
    url, httpd = _served(tmp_path)
    try:
        found = soak.examples(url)
        assert found == [soak.Example("speech", "/load_example", 0, 0, "four one"),
                         soak.Example("speech", "/load_example", 1, 0, "nine"),
                         soak.Example("textgen", "/load_example_1", 0, 0, "ROMEO:")]

        class Visitor:  # a click answers as Gradio does: an update holding the value
            def predict(self, index, api_name):
                value = {"path": "/cache/b.wav", "url": url + "b.wav", "orig_name": "b.wav"} \
                    if api_name == "/load_example" else "KING:\n"
                return {"__type__": "update", "value": value}

        (tmp_path / "up").mkdir()
        args, api = soak.example_request(Visitor(), found[1], random.Random(0), tmp_path / "up")
        assert api == TASKS["speech"].api.api_name and len(args) == 2 and args[1] == "pretrained"
        assert Path(args[0]["path"]).parent == tmp_path / "up" and Path(args[0]["path"]).read_bytes() == b"RIFF"
        args, api = soak.example_request(Visitor(), found[2], random.Random(0), tmp_path / "up")
        assert args[0] == "KING:\n" and args[1:] == server.tab_request("textgen", random.Random(0))[0][1:]
        (tmp_path / "b.wav").unlink()
        with pytest.raises(OSError):  # a file the sweep deleted: the page could not fetch it either
            soak.example_request(Visitor(), found[1], random.Random(0), tmp_path / "up")
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("value, expect", [(None, (1, 1)), ("", (1, 1)), ("60,120", (60, 120)),
                                           (" 30 , 60 ", (30, 60))])
def test_the_cache_sweep_can_be_set_from_the_environment(monkeypatch, value, expect):
    import app

    monkeypatch.setattr(app, "DELETE_CACHE", (1, 1))  # as the browser test does: honoured without the variable
    if value is None:
        monkeypatch.delenv("RNN_GALLERY_DELETE_CACHE", raising=False)
    else:
        monkeypatch.setenv("RNN_GALLERY_DELETE_CACHE", value)
    assert app.delete_cache() == expect


@pytest.mark.parametrize("value", ["60", "60,", "a,b", "0,60", "60,120,5", "-1,5", "1.5,3"])
def test_a_malformed_cache_sweep_is_one_error_line(monkeypatch, capsys, value):
    import app

    monkeypatch.setenv("RNN_GALLERY_DELETE_CACHE", value)
    with pytest.raises(ValueError, match="RNN_GALLERY_DELETE_CACHE must be two whole numbers"):
        app.delete_cache()
    with pytest.raises(SystemExit) as info:  # `python app.py` says so before building anything
        app.main(["--port", "0"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.startswith("error: RNN_GALLERY_DELETE_CACHE") and err.count("\n") == 1
