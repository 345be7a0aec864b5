"""Shared fixtures: tiny data sets and tiny checkpoints made on the spot (no real data)."""
from __future__ import annotations

import os
import random
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

# Tests never read the real download cache (a synthetic-voice corpus built there would
# change what training reads): the session, and what it starts, get an empty one.
os.environ["RNN_GALLERY_CACHE"] = tempfile.mkdtemp(prefix="rnn-gallery-test-cache-")

POS = ["great", "wonderful", "moving", "funny", "brilliant", "warm", "sharp", "delightful"]
NEG = ["dull", "awful", "boring", "flat", "tedious", "clumsy", "lifeless", "bland"]
FILLER = ["the", "film", "is", "a", "story", "and", "with", "its", "cast", "plot", ","]


def _sentence(rng: random.Random, label: int) -> str:
    words = rng.choices(FILLER, k=rng.randint(2, 8))
    for _ in range(rng.randint(1, 2)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(POS if label else NEG))
    return " ".join(words)


def write_sst2(folder: Path, n_train: int = 600, n_dev: int = 80, seed: int = 0) -> Path:
    """A tiny SST-2-layout folder whose labels follow obvious sentiment words."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.tsv", n_train), ("dev.tsv", n_dev)):
        rows = ["sentence\tlabel"]
        for i in range(n):
            label = i % 2
            rows.append(f"{_sentence(rng, label)}\t{label}")
        (folder / name).write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="session")
def sst2_dir(tmp_path_factory) -> Path:
    return write_sst2(tmp_path_factory.mktemp("data") / "sst2")


@pytest.fixture(scope="session")
def tiny_sentiment(tmp_path_factory, sst2_dir) -> Path:
    """A small sentiment checkpoint trained for a few seconds on the tiny data."""
    from rnn_core.tasks import TASKS

    sentiment = TASKS["sentiment"]

    out = tmp_path_factory.mktemp("assets") / "sentiment"
    sentiment.train({"cell": "gru", "hidden": 16, "embed": 16, "epochs": 8, "lr": 1e-2,
                     "batch_size": 32, "dropout": 0.1, "word_dropout": 0.0},
                    data_dir=str(sst2_dir), out_dir=out)
    return out


SPEAKERS = ["ROMEO", "JULIET", "FIRST CITIZEN"]
LINES = ["What light through yonder window breaks?", "Before we proceed any further, hear me speak.",
         "O, be some other name!", "Speak, speak.", "You are all resolved rather to die than to famish?"]


def write_shakespeare(folder: Path, n_speeches: int = 120, seed: int = 0) -> Path:
    """A tiny input.txt in Tiny Shakespeare's shape (speaker lines and verse)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    speeches = [f"{rng.choice(SPEAKERS)}:\n" + "\n".join(rng.choices(LINES, k=rng.randint(1, 3)))
                for _ in range(n_speeches)]
    (folder / "input.txt").write_text("\n\n".join(speeches) + "\n")
    return folder


@pytest.fixture(scope="session")
def shakespeare_dir(tmp_path_factory) -> Path:
    return write_shakespeare(tmp_path_factory.mktemp("data") / "tinyshakespeare")


@pytest.fixture(scope="session")
def tiny_textgen(tmp_path_factory, shakespeare_dir) -> Path:
    """A small character model trained for a few seconds on the tiny text."""
    from rnn_core.tasks import TASKS

    textgen = TASKS["textgen"]

    out = tmp_path_factory.mktemp("assets") / "textgen"
    textgen.train({"hidden": 32, "layers": 1, "embed": 16, "epochs": 15, "batch_size": 8, "seq_len": 32,
                   "dropout": 0.0, "lr": 1e-2, "max_minutes": None}, data_dir=str(shakespeare_dir), out_dir=out)
    return out


# Two-bar phrases in C major (pitch, 16th-note steps) for tiny folk tunes.
PHRASES = [[(60, 2), (62, 2), (64, 4), (67, 4), (64, 4)], [(67, 4), (65, 2), (64, 2), (62, 4), (60, 4)],
           [(72, 2), (71, 2), (69, 2), (67, 2), (65, 4), (64, 4)], [(64, 2), (64, 2), (65, 4), (67, 8)]]


def write_tune(path: Path, notes: list[tuple[int, int]], meter=(4, 4), shift: int = 0, pickup: int = 0,
               key: int | None = 0) -> Path:
    """A melody-only MIDI file like Nottingham's (120 bpm, 16th = 0.125 s)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*meter, 0))
    if key is not None:
        pm.key_signature_changes.append(pretty_midi.KeySignature((key + shift) % 12, 0))
    inst = pretty_midi.Instrument(0)
    t = pickup
    for pitch, steps in notes:
        if pitch:
            inst.notes.append(pretty_midi.Note(90, pitch + shift, t * 0.125, (t + steps) * 0.125))
        t += steps
    pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


def write_nottingham(folder: Path, n_tunes: int = 60, seed: int = 0) -> Path:
    """A tiny Nottingham-layout folder (MIDI/melody/*.mid) of phrase-built tunes in
    several keys, with repeats, as the real tunes have."""
    rng = random.Random(seed)
    for i in range(n_tunes):
        a, b = rng.sample(range(len(PHRASES)), 2)
        notes = (PHRASES[a] + PHRASES[b]) * 4  # AB AB AB AB, eight bars
        write_tune(folder / "MIDI" / "melody" / f"tune{i}.mid", notes, shift=rng.choice([0, 2, 7, -3]))
    write_tune(folder / "MIDI" / "ashover10.mid", PHRASES[0])
    return folder


@pytest.fixture(scope="session")
def nottingham_dir(tmp_path_factory) -> Path:
    return write_nottingham(tmp_path_factory.mktemp("data") / "nottingham")


@pytest.fixture(scope="session")
def tiny_melody(tmp_path_factory, nottingham_dir) -> Path:
    """A small melody checkpoint trained for a few seconds on the tiny tunes."""
    from rnn_core.tasks import TASKS

    melody = TASKS["melody"]

    out = tmp_path_factory.mktemp("assets") / "melody"
    melody.train({"hidden": 32, "layers": 1, "embed": 16, "epochs": 6, "batch_size": 8, "seq_len": 64,
                  "dropout": 0.0, "lr": 1e-2, "max_minutes": None}, data_dir=str(nottingham_dir), out_dir=out)
    return out


# Tiny English-French: subject-verb-object sentences, "you" with two translations (tu /
# vous) so that some English sentences have several references, as in Tatoeba.
SUBJECTS = [("I", ["je"], 0), ("you", ["tu", "vous"], 1), ("we", ["nous"], 3), ("they", ["ils"], 5),
            ("Tom", ["Tom"], 2)]
VERBS = [("see", ["vois", "vois", "voit", "voyons", "voyez", "voient"]),
         ("like", ["aime", "aimes", "aime", "aimons", "aimez", "aiment"]),
         ("want", ["veux", "veux", "veut", "voulons", "voulez", "veulent"])]
OBJECTS = [("the cat", "le chat"), ("the dog", "le chien"), ("the house", "la maison"), ("the car", "la voiture"),
           ("the book", "le livre"), ("the red apple", "la pomme rouge"), ("the big tree", "le grand arbre")]
_FORM = {"tu": 1, "vous": 4}


def _french(subject: str, person: int, verb: list[str]) -> str:
    return f"{subject} {verb[_FORM.get(subject, person)]}"


def write_tatoeba(folder: Path) -> Path:
    """A tiny eng-fra.txt in Tatoeba's layout (English<TAB>French, one line per
    translation), some sentences joined by "and" so that a few are 10+ words long."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for en_s, fr_ss, person in SUBJECTS:
        for en_v, fr_v in VERBS:
            for en_o, fr_o in OBJECTS:
                en = f"{en_s} {en_v}{'s' if en_s == 'Tom' else ''} {en_o}"
                for fr_s in fr_ss:
                    fr = f"{_french(fr_s, person, fr_v)} {fr_o}"
                    lines.append(f"{en}.\t{fr[0].upper() + fr[1:]}.")
                    lines.append(f"{en} and {en_o} too.\t{fr[0].upper() + fr[1:]} et {fr_o} aussi.")
    (folder / "eng-fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tatoeba_dir(tmp_path_factory) -> Path:
    return write_tatoeba(tmp_path_factory.mktemp("data") / "tatoeba")


@pytest.fixture(scope="session")
def tiny_translation(tmp_path_factory, tatoeba_dir) -> Path:
    """A small translator (and one without attention beside it, as shipped) trained
    for a few seconds on the tiny pairs."""
    from rnn_core.tasks import TASKS
    from rnn_core.tasks.translation.metrics import PLAIN

    out = tmp_path_factory.mktemp("assets") / "translation"
    tiny = {"embed": 24, "hidden": 24, "epochs": 12, "batch_size": 16, "dropout": 0.0, "lr": 1e-2, "min_freq": 1,
            "max_minutes": None, "half": False, "int8_embeddings": False}
    TASKS["translation"].train(tiny, data_dir=str(tatoeba_dir), out_dir=out)
    TASKS["translation"].train({**tiny, "attention": "none", "epochs": 2}, data_dir=str(tatoeba_dir),
                               out_dir=out / PLAIN)
    return out


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory, tiny_sentiment, tiny_textgen, tiny_melody, tiny_speech, tiny_forecast,
                tiny_translation):
    """One assets folder holding every tiny checkpoint, as assets/ holds the real ones."""
    root = tmp_path_factory.mktemp("tiny_assets")
    for ckpt in (tiny_sentiment, tiny_textgen, tiny_melody, tiny_speech, tiny_forecast, tiny_translation):
        (root / ckpt.name).symlink_to(ckpt)
    return root


def link_data(root: Path, folders) -> Path:
    """A data root in the ../shared/data/<set>/ layout, made of links to ``folders``."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        (root / folder.name).symlink_to(folder)
    return root


@pytest.fixture
def tiny_data(tmp_path, sst2_dir, shakespeare_dir, nottingham_dir, fsdd_dir, timeseries_dir, tatoeba_dir):
    return link_data(tmp_path / "data", (sst2_dir, shakespeare_dir, nottingham_dir, fsdd_dir, timeseries_dir,
                                         tatoeba_dir))


def shipped_loaders():
    """Every tab's shipped-model loader (they cache: clear them when the assets move)."""
    from apps import forecast, melody, sentiment, speech, textgen, translation

    # forecasting also keeps its built-in series, read from the data folder; translation
    # its model without attention
    return ([tab.pretrained for tab in (sentiment, textgen, melody, speech, forecast, translation)]
            + [forecast.built_in_series, translation.no_attention])


@pytest.fixture
def tiny_app(tiny_assets, tiny_data, monkeypatch):
    """The apps use the tiny checkpoints and the tiny data sets."""
    from apps import sentiment as tab

    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(tiny_assets))
    monkeypatch.setenv("RNN_GALLERY_DATA", str(tiny_data))
    for loader in shipped_loaders():
        loader.cache_clear()
    yield tab
    for loader in shipped_loaders():
        loader.cache_clear()


@contextmanager
def launched_gallery(assets: Path | None = None, data: Path | None = None):
    """The whole app (`app.build_demo`, with its theme) served on a free loopback port;
    yields its URL. ``assets``: the checkpoints' folder (None: the shipped ones in
    assets/); ``data``: a data root (None: leave $RNN_GALLERY_DATA as it is)."""
    import app
    from rnn_core.bench.server import free_port

    with pytest.MonkeyPatch.context() as mp:
        if assets is None:
            mp.delenv("RNN_GALLERY_ASSETS", raising=False)
        else:
            mp.setenv("RNN_GALLERY_ASSETS", str(assets))
        if data is not None:
            mp.setenv("RNN_GALLERY_DATA", str(data))
        for loader in shipped_loaders():  # another test may have loaded other checkpoints
            loader.cache_clear()
        demo = app.build_demo()
        port = free_port()  # free, so a gallery already running is no clash
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    **app.LAUNCH)
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            demo.close()
            for loader in shipped_loaders():
                loader.cache_clear()


def real_data(name: str) -> Path:
    """The offline copy of a real data set ($RNN_GALLERY_DATA, or ../shared/data beside
    the repository, as CI has it); the test is skipped where there is none."""
    import os

    for root in (os.environ.get("RNN_GALLERY_DATA"), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if root and (Path(root) / name).is_dir():
            return Path(root) / name
    pytest.skip(f"no offline copy of {name} (set RNN_GALLERY_DATA)")


# Tiny spoken digits: each letter of a digit word is a short tone of its own pitch, so a
# word is a sequence of letter tones ("one" = o, n, e) with short gaps between them. A
# tiny CTC network learns to spell these in seconds; the real FSDD needs minutes.
FSDD_SPEAKERS = ("jackson", "theo")  # the data source requires recordings/0_jackson_0.wav
FSDD_TAKES = 12                      # 0-4 test, 5-7 dev, 8-11 train
_LETTERS = sorted(set("zeroonetwothreefourfivesixseveneightnine"))


def _spoken_word(word: str, rng, sr: int = 8000, shift: float = 1.0):
    import numpy as np

    parts = []
    for ch in word:
        freq = 300 * 1.18 ** _LETTERS.index(ch) * shift * rng.uniform(0.98, 1.02)
        t = np.arange(int(sr * rng.uniform(0.07, 0.09))) / sr
        parts += [rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * freq * t) * np.hanning(len(t)),
                  np.zeros(int(sr * 0.015))]
    return np.concatenate(parts)


def write_fsdd(folder: Path, speakers=FSDD_SPEAKERS, takes: int = FSDD_TAKES, seed: int = 0) -> Path:
    """A tiny FSDD-layout folder (recordings/{digit}_{speaker}_{take}.wav, 8 kHz) of
    synthetic words (`_spoken_word`) between short stretches of faint noise; each
    speaker's voice is a small pitch shift."""
    import numpy as np
    import soundfile as sf

    from rnn_core.encoders.audio import DIGIT_WORDS

    rng = np.random.default_rng(seed)
    rec = folder / "recordings"
    rec.mkdir(parents=True, exist_ok=True)
    for s, speaker in enumerate(speakers):
        for digit, word in enumerate(DIGIT_WORDS):
            for take in range(takes):
                pad = [rng.normal(0, 1e-3, int(8000 * rng.uniform(0.05, 0.15))) for _ in range(2)]
                wave = np.concatenate([pad[0], _spoken_word(word, rng, shift=1 + 0.03 * s), pad[1]])
                sf.write(rec / f"{digit}_{speaker}_{take}.wav", wave, 8000, subtype="PCM_16")
    return folder


@pytest.fixture(scope="session")
def fsdd_dir(tmp_path_factory) -> Path:
    return write_fsdd(tmp_path_factory.mktemp("data") / "fsdd")


TINY_SPEECH = {"cell": "gru", "hidden": 64, "layers": 1, "conv_channels": 32, "dropout": 0.0, "epochs": 25,
               "lr": 1e-2, "batch_size": 16, "max_minutes": None, "connected_share": 1.0, "max_digits": 3,
               "augment": False, "dev_connected": 20, "patience": None, "half": False,
               "fluent_share": 0.0, "negative_share": 0.0, "voices_share": 0.0}


@pytest.fixture(scope="session")
def tiny_speech(tmp_path_factory, fsdd_dir) -> Path:
    """A small CTC recogniser trained for a few seconds on the tiny spoken digits."""
    from rnn_core.tasks import TASKS

    speech = TASKS["speech"]

    out = tmp_path_factory.mktemp("assets") / "speech"
    speech.train(TINY_SPEECH, data_dir=str(fsdd_dir), out_dir=out)
    return out


def write_timeseries(folder: Path, seed: int = 0) -> Path:
    """A tiny timeseries/ folder: the four built-in files' layouts, a few hundred rows
    each (a seasonal temperature, an 11-year-like cycle, hourly PM2.5 with NA gaps, a
    random-walk stock on trading days)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    days = pd.date_range("1981-01-01", periods=500, freq="D")
    temp = 11 + 4 * np.sin(2 * np.pi * np.arange(500) / 365) + rng.normal(0, 1, 500)
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Temp": temp.round(1)}).to_csv(
        folder / "daily-min-temperatures.csv", index=False, quoting=1)
    months = pd.date_range("1749-01-01", periods=400, freq="MS")
    spots = np.maximum(0, 60 + 55 * np.sin(2 * np.pi * np.arange(400) / 132) + rng.normal(0, 8, 400))
    pd.DataFrame({"Month": months.strftime("%Y-%m"), "Sunspots": spots.round(1)}).to_csv(
        folder / "monthly-sunspots.csv", index=False, quoting=1)
    hours = pd.date_range("2010-01-01", periods=720, freq="h")
    pm = np.abs(80 + 40 * np.sin(2 * np.pi * np.arange(720) / 24) + rng.normal(0, 15, 720))
    table = pd.DataFrame({"No": np.arange(1, 721), "year": hours.year, "month": hours.month, "day": hours.day,
                          "hour": hours.hour, "pm2.5": pm.round(0), "DEWP": rng.integers(-20, 10, 720),
                          "TEMP": rng.integers(-10, 20, 720), "PRES": rng.integers(1000, 1040, 720),
                          "cbwd": rng.choice(["NW", "NE", "SE", "cv"], 720), "Iws": rng.random(720).round(2) * 10,
                          "Is": 0, "Ir": 0})
    table.loc[:23, "pm2.5"] = np.nan  # the real file starts with a day of NA, and has gaps
    table.loc[300:305, "pm2.5"] = np.nan
    table.to_csv(folder / "pollution.csv", index=False, na_rep="NA")
    trading = pd.bdate_range("2018-03-27", periods=400)
    close = 50 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, 400)))
    pd.DataFrame({"Date": trading.strftime("%Y-%m-%d"), "Open": close.round(4), "High": (close * 1.01).round(4),
                  "Low": (close * 0.99).round(4), "Close": close.round(4), "Adj Close": close.round(4),
                  "Volume": rng.integers(10**7, 10**8, 400)}).to_csv(folder / "google-stock.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def timeseries_dir(tmp_path_factory) -> Path:
    return write_timeseries(tmp_path_factory.mktemp("data") / "timeseries")


TINY_FORECAST = {"hidden": 8, "epochs": 2, "max_minutes": None, "lr": 1e-2}


@pytest.fixture(scope="session")
def tiny_forecast(tmp_path_factory, timeseries_dir) -> Path:
    """assets/forecast in its shipped layout: a tiny checkpoint per built-in series."""
    from rnn_core.data.timeseries import BUILT_IN
    from rnn_core.tasks import TASKS

    out = tmp_path_factory.mktemp("assets") / "forecast"
    for name in BUILT_IN:
        TASKS["forecast"].train({"series": name, **TINY_FORECAST}, data_dir=str(timeseries_dir), out_dir=out / name)
    return out
