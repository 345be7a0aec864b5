"""The shared tokenizer/encoder and the clamping of visitors' settings."""
import math

from rnn_core.encoders.text import WordEncoder, tokenize
from rnn_core.options import Option, clamp_options


def test_tokenize_follows_treebank_style():
    assert tokenize("I didn't like it, but it's OK.") == ["I", "did", "n't", "like", "it", ",", "but",
                                                          "it", "'s", "OK", "."]
    assert tokenize("can't") == ["ca", "n't"]
    assert tokenize("well-made \u2019s") == ["well-made", "'s"]


def test_tokenize_odd_input():
    assert tokenize("") == [] and tokenize("   \n\t ") == []
    assert tokenize("\x00\x01\x02") == []  # control characters are dropped
    assert tokenize("😀 日本語") == ["😀", "日本語"]


def test_encoder_unknown_words_and_round_trip():
    enc = WordEncoder.build(["a good film", "a bad film", "good good"], min_freq=1)
    assert enc.vocab[:2] == ["<pad>", "<unk>"] and enc.vocab[2] == "good"
    ids = enc.encode("A GOOD zebra")
    assert ids[0] == enc.index["a"] and ids[2] == 1
    again = WordEncoder.from_dict(enc.to_dict())
    assert again.vocab == enc.vocab and again.encode("bad film") == enc.encode("bad film")


def test_encoder_min_freq():
    enc = WordEncoder.build(["good good bad"], min_freq=2)
    assert "good" in enc.index and "bad" not in enc.index


SPEC = {"cell": Option("gru", choices=("rnn", "lstm", "gru")), "hidden": Option(64, 8, 256),
        "lr": Option(3e-3, 1e-5, 0.05), "bidirectional": Option(True)}


def test_clamp_keeps_good_values():
    values, notes = clamp_options({"cell": "LSTM", "hidden": 128, "lr": 0.01, "bidirectional": False}, SPEC)
    assert values == {"cell": "lstm", "hidden": 128, "lr": 0.01, "bidirectional": False} and notes == []


def test_clamp_absurd_values_with_notes():
    values, notes = clamp_options({"cell": "transformer", "hidden": 10**9, "lr": -5, "bidirectional": None}, SPEC)
    assert values == {"cell": "gru", "hidden": 256, "lr": 1e-5, "bidirectional": True}
    assert len(notes) == 3 and any("above 256" in n for n in notes)


def test_clamp_non_numbers():
    values, notes = clamp_options({"hidden": "lots", "lr": math.nan}, SPEC)
    assert values["hidden"] == 64 and values["lr"] == 3e-3 and len(notes) == 2
    values, notes = clamp_options({"hidden": math.inf}, SPEC)
    assert values["hidden"] == 64 and notes


def test_subwords_are_stable_hashed_ngrams():
    enc = WordEncoder.build(["a good film"], subword_buckets=1000)
    ids = enc.subwords("Unwatchable")
    assert ids == enc.subwords("unwatchable") and all(1 <= i <= 1000 for i in ids)
    assert len(ids) == 11 + 10 + 9  # 3-, 4- and 5-grams of "<unwatchable>" (13 characters)
    again = WordEncoder.from_dict(enc.to_dict())
    assert again.subwords("unwatchable") == ids  # crc32: the same in every process
    assert WordEncoder.build(["x"]).subwords("good") == []
