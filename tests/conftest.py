"""Shared fixtures: tiny data sets and tiny checkpoints made on the spot (no real data)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

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
    from rnn_core.tasks import sentiment

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
    from rnn_core.tasks import textgen

    out = tmp_path_factory.mktemp("assets") / "textgen"
    textgen.train({"hidden": 32, "layers": 1, "embed": 16, "epochs": 15, "batch_size": 8, "seq_len": 32,
                   "dropout": 0.0, "lr": 1e-2, "max_minutes": None}, data_dir=str(shakespeare_dir), out_dir=out)
    return out


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory, tiny_sentiment, tiny_textgen):
    """One assets folder holding every tiny checkpoint, as assets/ holds the real ones."""
    root = tmp_path_factory.mktemp("tiny_assets")
    for ckpt in (tiny_sentiment, tiny_textgen):
        (root / ckpt.name).symlink_to(ckpt)
    return root


@pytest.fixture
def tiny_data(tmp_path, sst2_dir, shakespeare_dir):
    root = tmp_path / "data"
    root.mkdir()
    for folder in (sst2_dir, shakespeare_dir):
        (root / folder.name).symlink_to(folder)
    return root


@pytest.fixture
def tiny_app(tiny_assets, tiny_data, monkeypatch):
    """The apps use the tiny checkpoints and the tiny data sets."""
    from apps import sentiment as tab
    from apps import textgen

    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(tiny_assets))
    monkeypatch.setenv("RNN_GALLERY_DATA", str(tiny_data))
    tab.pretrained.cache_clear()
    textgen.pretrained.cache_clear()
    yield tab
    tab.pretrained.cache_clear()
    textgen.pretrained.cache_clear()
