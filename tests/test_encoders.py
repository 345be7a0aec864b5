"""The encoder protocol, over every encoder of the project: each is an `Encoder`
(token encoders a `TokenEncoder`), rebuilds itself exactly from ``to_dict()`` (what a
checkpoint stores), and round-trips what it encodes. An encoder added to ENCODERS
without a case here fails `test_every_encoder_has_a_case`."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnn_core.data.timeseries import read_table
from rnn_core.encoders import Encoder, TokenEncoder
from rnn_core.encoders.audio import CTCAlphabet, LogMelFeatures
from rnn_core.encoders.events import MelodyEncoder
from rnn_core.encoders.melody import Melody
from rnn_core.encoders.bilingual import PairEncoder
from rnn_core.encoders.text import CharEncoder, WordEncoder
from rnn_core.tasks.forecast.features import SeriesEncoder


def _series():
    days = pd.date_range("2020-01-01", periods=120, freq="D")
    rows = "\n".join(f"{d:%Y-%m-%d},{10 + np.sin(i / 5) + i / 50:.4f}" for i, d in enumerate(days))
    return read_table(f"Date,Temp\n{rows}\n".encode())


def _wave():
    t = np.arange(8000) / 8000
    return (0.3 * np.sin(2 * np.pi * 440 * t) * (t < 0.6)).astype(np.float32)


# name -> (an encoder, a raw input, how decode(encode(raw)) should compare with raw)
CASES = {
    "words": lambda: (WordEncoder.build(["a fine film", "not a bad film"]), "Not a FINE film",
                      lambda back, raw: back == ["not", "a", "fine", "film"]),
    "characters": lambda: (CharEncoder.build("hello world\n"), "hello\nworld",
                           lambda back, raw: back == raw),
    "melody events": lambda: (MelodyEncoder(lookback=(1, 2)),
                              Melody([(67, 0, 4), (72, 4, 8), (74, 12, 16)], [(0, "4/4")], 16),
                              lambda back, raw: back == raw),
    "CTC letters": lambda: (CTCAlphabet(), "four  two",
                            lambda back, raw: back == "four two"),
    "log-mel features": lambda: (LogMelFeatures(n_mels=20), _wave(),
                                 lambda times, raw: np.allclose(np.diff(times), 0.01) and times[0] == 0
                                 and abs(times[-1] - len(raw) / 8000) < 0.02),
    "series": lambda: (SeriesEncoder.fit(_series(), window=14, horizon=3), _series(),
                       None),  # decode maps the scaled target back: checked below
    "sentence pairs": lambda: (PairEncoder.build([("I see Tom.", "Je vois Tom."), ("You see it.", "Tu le vois.")],
                                                 min_freq=1),
                               "I see Tom.", None),  # English in; French out: checked below
}
ENCODERS = (WordEncoder, CharEncoder, MelodyEncoder, CTCAlphabet, LogMelFeatures, SeriesEncoder, PairEncoder)


def test_every_encoder_has_a_case():
    made = {type(make()[0]) for make in CASES.values()}
    assert made == set(ENCODERS)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == np.asarray(b).shape and np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoder_protocol_and_round_trip(name):
    enc, raw, compare = CASES[name]()
    assert isinstance(enc, Encoder)
    if hasattr(enc, "vocab_size"):
        assert isinstance(enc, TokenEncoder) and enc.vocab_size > 1
    saved = json.loads(json.dumps(enc.to_dict()))  # what config.json holds
    rebuilt = type(enc).from_dict(saved)
    assert rebuilt.to_dict() == enc.to_dict()
    encoded = enc.encode(raw)
    assert _same(rebuilt.encode(raw), encoded)  # the loaded encoder reads input identically
    if compare is not None:
        assert compare(enc.decode(encoded), raw)
    elif isinstance(enc, PairEncoder):  # decode writes French: the target side round-trips, capitals back
        assert enc.decode(enc.encode_target("Je vois Tom.")) == "Je vois Tom."
    else:  # series: the scaled target decodes to the values
        assert np.allclose(encoded[:, 0], enc.scaled_target(raw.target))
        assert np.allclose(enc.decode(encoded[:, 0]), raw.target)


@pytest.mark.parametrize("name", sorted(CASES))
def test_from_dict_refuses_another_encoders_record(name):
    enc = CASES[name]()[0]
    other = {"type": "something else"}
    with pytest.raises((ValueError, KeyError, TypeError)):
        type(enc).from_dict(other)
