"""``python -m rnn_core predict TASK``: one answer per task from the shipped weights
(read back through ``--json``), and bad input as one ``error:`` line with exit status 2."""
import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnn_core.__main__ import main
from rnn_core.tasks import TASK_NAMES

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "speech" / "examples"


@pytest.fixture(autouse=True)
def shipped_assets(monkeypatch):
    monkeypatch.delenv("RNN_GALLERY_ASSETS", raising=False)  # the defaults: assets/<task>
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # predict runs on one thread, as the server does; later tests get theirs back


def predict_json(capsys, *argv) -> dict:
    assert main(["predict", *argv, "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # one line of JSON, nothing else on stdout
    return json.loads(out[0])


def sunspots_csv(folder: Path, rows: int = 200) -> Path:
    """A monthly series under the shipped sunspot model's column name: an 11-year cycle."""
    months = pd.date_range("1900-01-01", periods=rows, freq="MS")
    values = 80 + 70 * np.sin(np.arange(rows) * 2 * np.pi / 132)
    path = folder / "spots.csv"
    pd.DataFrame({"Month": months.strftime("%Y-%m"), "Sunspots": values.round(1)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("task", ["", *TASK_NAMES])
def test_help(task, capsys):
    assert main(["predict", *([task] if task else []), "--help"]) == 0
    out = capsys.readouterr().out
    assert ("--weights" in out) if task else all(name in out for name in TASK_NAMES)


def test_sentiment(capsys):
    r = predict_json(capsys, "sentiment", "--text", "A gorgeous, witty, seductive movie.")
    assert r["label"] == "positive" and 0.5 < r["confidence"] <= 1 and r["guess"] is False
    assert r["second_opinion"]["label"] in ("positive", "negative")  # the bag of words ships beside it


def test_sentiment_text_says_a_guess_and_notes_go_to_stderr(capsys):
    assert main(["predict", "sentiment", "--text", "zorblax quux fnord"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("a guess: ") and "second opinion" in out
    assert err.startswith("note: 3 of 3 words were never seen") and all(
        line.startswith("note: ") for line in err.splitlines())


def test_textgen_same_seed_same_text(capsys):
    argv = ("textgen", "--prime", "ROMEO:\n", "--length", "30", "--seed", "3")
    first, again = predict_json(capsys, *argv), predict_json(capsys, *argv)
    assert len(first["text"]) == 30 and first["text"] == again["text"] and first["prime"] == "ROMEO:\n"
    assert predict_json(capsys, *argv[:-1], "4")["text"] != first["text"]


def test_melody_writes_midi(capsys, tmp_path):
    import pretty_midi

    out = tmp_path / "tune.mid"
    r = predict_json(capsys, "melody", "--bars", "2", "--primer", "D4 E4 F#4 G4", "--out", str(out), "--seed", "1")
    assert r["primer_steps"] == 16 and r["bars"] == 3 and r["meter"] == "4/4"
    primer, more = pretty_midi.PrettyMIDI(str(out)).instruments  # the primer's track, then the new notes'
    assert [n.pitch for n in primer.notes] == [62, 64, 66, 67]  # as typed
    assert len(primer.notes) + len(more.notes) == len(r["notes_played"]) > 4


def test_speech_file_and_stdin(capsys, monkeypatch):
    assert predict_json(capsys, "speech", "--wav", str(EXAMPLES / "four_one_seven.wav"))["digits"] == "417"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((EXAMPLES / "nine.wav").read_bytes())))
    r = predict_json(capsys, "speech", "--wav", "-")
    assert r["digits"] == "9" and 0 < r["confidence"] <= 1 and r["alignment"]


def test_forecast_csv(capsys, tmp_path):
    csv = sunspots_csv(tmp_path)
    r = predict_json(capsys, "forecast", "--csv", str(csv), "--series", "sunspots", "--horizon", "5")
    assert r["model"] == "sunspots" and r["horizon"] == 5 and r["origin"].startswith("1916-08")
    assert r["baselines"]["naive"] == [pd.read_csv(csv)["Sunspots"].iloc[-1]] * 5  # beside it: the last value
    lo, mid, hi = (np.array(r[k]) for k in ("lo", "median", "hi"))
    assert len(mid) == 5 and (lo <= mid).all() and (mid <= hi).all() and (lo < hi).any()


def _bad_files(tmp_path: Path) -> dict[str, str]:
    import soundfile as sf

    sf.write(tmp_path / "silent.wav", np.zeros(8000, dtype=np.float32), 8000)
    (tmp_path / "broken.wav").write_bytes(b"RIFF this is not audio")
    (tmp_path / "empty.csv").write_bytes(b"")
    pd.DataFrame({"Date": pd.date_range("2020-01-01", periods=150).strftime("%Y-%m-%d"),
                  "Close": np.arange(150.0)}).to_csv(tmp_path / "stock.csv", index=False)
    return {name.split(".")[0]: str(tmp_path / name) for name in ("silent.wav", "broken.wav", "empty.csv", "stock.csv")}


BAD = {
    "empty text": (["sentiment", "--text", "   "], "no words"),
    "unknown flag": (["sentiment", "--text", "fine", "--length", "3"], "does not take --length"),
    "unknown task": (["weather", "--text", "x"], "invalid choice"),
    "no checkpoint": (["sentiment", "--text", "fine", "--weights", "{tmp}"], "no config.json"),
    "absurd length": (["textgen", "--length", "100000"], "--length must be between 1 and 2000"),
    "bad note": (["melody", "--primer", "H4", "--out", "{tmp}/x.mid"], "'H4' is not a note"),
    "no --out": (["melody", "--bars", "2"], "required: --out"),
    "unwritable --out": (["melody", "--bars", "1", "--out", "{tmp}/no/such/folder/x.mid"], "cannot write"),
    "missing wav": (["speech", "--wav", "{tmp}/nothing.wav"], "does not exist"),
    "silent wav": (["speech", "--wav", "{silent}"], "silent"),
    "corrupt wav": (["speech", "--wav", "{broken}"], "Could not read broken.wav"),
    "missing csv": (["forecast", "--csv", "{tmp}/nothing.csv"], "cannot read"),
    "empty csv": (["forecast", "--csv", "{empty}"], "empty"),
    "csv without the model's column": (["forecast", "--csv", "{stock}", "--series", "sunspots"],
                                       "no numeric column 'Sunspots'"),
    "absurd horizon": (["forecast", "--csv", "{stock}", "--series", "sunspots", "--target", "Close", "--horizon",
                        "1000"], "--horizon must be between 1 and 24"),
    "any csv, absurd horizon": (["forecast", "--csv", "{stock}", "--horizon", "5000"],
                                "--horizon must be between 1 and 1000"),
    "any csv, horizon too long for it": (["forecast", "--csv", "{stock}", "--horizon", "200"],
                                         "longer than the CSV"),
    "any csv, no training time": (["forecast", "--csv", "{stock}", "--max-minutes", "0"], "--max-minutes"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_error_line(case, tmp_path, capsys):
    argv, says = BAD[case]
    files = {"tmp": str(tmp_path), **_bad_files(tmp_path)}
    assert main(["predict", *(a.format(**files) for a in argv)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and says in err
