"""The speech task on tiny synthetic spoken digits: the CTC model learns them, the
recogniser transcribes any rate or channel layout and refuses bad audio, checkpoints
round-trip, evaluation and the CLI report the figures, retrain settings are clamped."""
import dataclasses
import json

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from rnn_core.checkpoint import save_pretrained
from rnn_core.data.fsdd import list_clips, load_clip
from rnn_core.encoders.audio import DIGIT_WORDS, AudioError
from rnn_core.metrics import cer, edit_distance
from rnn_core.tasks import TASKS
from rnn_core.tasks.speech.data import DEV_TAKES, clip_features, partition, training_batches
from rnn_core.tasks.speech.metrics import transcripts
from rnn_core.tasks.speech.predictor import MAX_SECONDS, SpeechRecognizer
from tests.conftest import FSDD_SPEAKERS, FSDD_TAKES, TINY_SPEECH

speech = TASKS["speech"]


@pytest.fixture(scope="module")
def rec(tiny_speech):
    return SpeechRecognizer.from_pretrained(tiny_speech)


@pytest.fixture(scope="module")
def clips(fsdd_dir):
    return list_clips(fsdd_dir)


def test_task_spec():
    task = TASKS["speech"]
    assert task.name == "speech" and task.data_source == "fsdd" and task.predictor is SpeechRecognizer
    assert {"cell", "hidden", "layers", "lr", "epochs", "max_minutes", "held_out", "half"} <= \
        {f.name for f in dataclasses.fields(task.recipe)}


def test_partition(clips):
    parts = partition(clips)
    assert {c.take for c in parts["test"]} == set(range(5))
    assert {c.take for c in parts["dev"]} == set(DEV_TAKES)
    assert {c.take for c in parts["train"]} == set(range(DEV_TAKES[-1] + 1, FSDD_TAKES))
    held = partition(clips, held_out="theo")
    assert {c.speaker for c in held["test"]} == {"theo"} and len(held["test"]) == 10 * FSDD_TAKES
    assert {c.speaker for c in held["train"] + held["dev"]} == {"jackson"}
    with pytest.raises(ValueError, match="unknown speaker"):
        partition(clips, held_out="nobody")


def test_training_batches_cover_the_clips_and_the_connected_share(clips):
    """Every training clip once per epoch, plus the connected strings; padded batches
    with targets that spell the transcripts; the same (seed, epoch) gives the same epoch."""
    from rnn_core.encoders.audio import CTCAlphabet

    alphabet, train = CTCAlphabet(), partition(clips)["train"]
    r = speech.recipe(**TINY_SPEECH)
    batches = list(training_batches(train, r, 0, alphabet))
    texts = [alphabet.decode(row[:n]) for b in batches for row, n in zip(b["targets"], b["target_lengths"])]
    assert len(texts) == len(train) + round(r.connected_share * len(train))
    assert len(batches) == -(-len(texts) // r.batch_size)
    singles = sorted(t for t in texts if t in DIGIT_WORDS)
    assert len(singles) >= len(train) and set(singles) == set(DIGIT_WORDS)
    b = batches[0]
    assert b["x"].shape[:2] == (len(b["lengths"]), int(b["lengths"].max()))
    again = next(iter(training_batches(train, r, 0, alphabet)))
    torch.testing.assert_close(again["x"], b["x"])


def test_edit_distance_and_cer():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "abc") == 0
    assert cer(["one two", "nine"], ["one two", "five"]) == pytest.approx(2 / 11)


def test_tiny_model_learns_the_training_clips(rec, clips):
    """Greedy transcripts (no lexicon to help) of the training clips are mostly exact."""
    train = partition(clips)["train"]
    feats = [clip_features(c, rec.n_mels) for c in train]
    (hyps,) = transcripts(rec.model, feats, rec.encoder)
    truth = [DIGIT_WORDS[c.digit] for c in train]
    assert np.mean([h == t for h, t in zip(hyps, truth)]) >= 0.8
    assert cer(hyps, truth) < 0.1


def test_transcribe_gives_text_posteriors_and_alignment(rec, clips):
    clip = next(c for c in clips if c.take == 0 and c.digit == 7)
    out = rec.transcribe(str(clip.path))
    assert out["text"] == "seven" and out["digits"] == "7" and out["greedy"] == "seven"
    assert 0.5 < out["confidence"] <= 1.0
    assert out["features"].shape[1] == rec.n_mels
    frames = len(out["posteriors"])
    assert frames == -(-len(out["features"]) // rec.model.stride)
    np.testing.assert_allclose(out["posteriors"].sum(1), 1.0, atol=1e-4)
    assert out["posteriors"].shape[1] == len(out["labels"]) == 28 and out["labels"][0] == "<blank>"
    assert "".join(letter for letter, _, _ in out["alignment"]) == out["text"]
    assert [f for _, f, _ in out["alignment"]] == sorted({f for _, f, _ in out["alignment"]})
    assert all(s == pytest.approx(f * rec.frame_seconds, abs=1e-3) for _, f, s in out["alignment"])
    assert out["notes"] == [] and out["duration"] == pytest.approx(len(load_clip(clip)) / 8000)


def test_transcribe_any_rate_and_stereo(rec, clips):
    """The same recording at 16 and 44.1 kHz, as int16 stereo or a float file, reads the same."""
    clip = next(c for c in clips if c.take == 1 and c.digit == 3)
    wave = np.asarray(load_clip(clip))
    assert rec.transcribe((8000, wave))["text"] == "three"
    for sr in (16000, 44100):
        up = librosa.resample(wave, orig_sr=8000, target_sr=sr)
        stereo = (np.stack([up, 0.8 * up], axis=1) * 32767).astype(np.int16)
        assert rec.transcribe((sr, stereo))["text"] == "three"


def test_transcribe_connected_digits_and_long_input(rec, clips, tmp_path):
    """Words of one speaker strung together come out as a digit string; a recording
    longer than the limit is cut, with a note."""
    picks = [next(c for c in clips if c.speaker == "jackson" and c.take == 2 and c.digit == d) for d in (4, 1, 7)]
    gap = np.zeros(1200, dtype=np.float32)
    wave = np.concatenate([np.r_[load_clip(c), gap] for c in picks])
    out = rec.transcribe((8000, wave))
    assert out["digits"] == "417" and out["text"] == "four one seven"
    long = np.resize(wave, int((MAX_SECONDS + 2) * 8000))
    path = tmp_path / "long.wav"
    sf.write(path, long, 8000)
    out = rec.transcribe(str(path))
    assert any("longer than" in n for n in out["notes"]) and out["duration"] == pytest.approx(MAX_SECONDS)


@pytest.mark.parametrize("source, match", [
    ((8000, np.zeros(8000)), "silent"),
    ((8000, np.random.default_rng(0).normal(0, 0.1, 400)), "0.05 s"),
    ("corrupt", "Could not read"),
])
def test_bad_audio_raises_audio_error(rec, tmp_path, source, match):
    if source == "corrupt":
        source = tmp_path / "broken.wav"
        source.write_bytes(b"RIFF\x00\x01\x00\x00WAVEfmt garbage" * 3)
    with pytest.raises(AudioError, match=match):
        rec.transcribe(source)


def test_checkpoint_round_trip(rec, clips, tmp_path):
    """Saved and loaded: the same posteriors (float32 exactly, float16 storage closely)."""
    clip = clips[0]
    before = rec.transcribe(str(clip.path))["posteriors"]
    again = SpeechRecognizer.from_pretrained(rec.save(tmp_path / "copy"))
    np.testing.assert_allclose(again.transcribe(str(clip.path))["posteriors"], before, atol=1e-6)
    assert again.describe() == rec.describe() and "bidirectional GRU" in rec.describe()
    save_pretrained(rec.model, tmp_path / "half", "speech", rec.encoder.to_dict(), half=True)
    half = SpeechRecognizer.from_pretrained(tmp_path / "half")
    np.testing.assert_allclose(half.transcribe(str(clip.path))["posteriors"], before, atol=0.02)


def test_retrain_options_clamp_absurd_values():
    options, notes = speech.retrain_options({"hidden": 10**6, "lr": -1, "cell": "transformer",
                                             "epochs": "many", "max_minutes": 1e9, "layers": 0})
    assert options["hidden"] == 256 and options["lr"] == 1e-5 and options["cell"] == "gru"
    assert options["epochs"] == speech.retrain_bounds["epochs"].default
    assert options["max_minutes"] == 10.0 and options["layers"] == 1 and len(notes) == 6
    assert options["half"] is False
    defaults, none = speech.retrain_options({})
    assert none == [] and set(speech.retrain_bounds) <= set(defaults)


def test_two_step_smoke_of_the_preset(fsdd_dir):
    """Two optimiser steps of the real preset (full size, augmentation on) on tiny data."""
    seen = []
    n_train = len(partition(list_clips(fsdd_dir))["train"])
    batch = n_train  # (1 + connected_share + negative_share) * n_train items -> two batches
    _, result = speech.train({"epochs": 1, "batch_size": batch, "dev_connected": 10}, data_dir=str(fsdd_dir),
                             on_progress=seen.append)
    recipe = speech.recipe
    assert result.steps == 2 and result.tokens == n_train + round(recipe.connected_share * n_train) \
        + round(recipe.negative_share * n_train)
    assert 0 <= result.best["val_cer"] and 0 <= result.best["val_digit_accuracy"] <= 1
    assert seen[-1].message == "completed"


def test_evaluate_reports_model_and_baseline(tiny_speech, fsdd_dir):
    m = speech.evaluate(tiny_speech, data_dir=str(fsdd_dir), split="test", connected=30)
    assert m["clips"] == len(FSDD_SPEAKERS) * 10 * 5 and m["connected_strings"] == 30
    assert 0.8 <= m["digit_accuracy"] <= 1 and 0 <= m["connected_cer"] < 0.2
    assert 0 <= m["greedy"]["digit_accuracy"] <= 1 and m["greedy"]["connected_cer"] >= 0
    assert 0.5 <= m["baseline"]["digit_accuracy"] <= 1 and "SVM" in m["baseline"]["name"]
    assert m["parameters"] > 0 and "GRU" in m["cell"]
    with pytest.raises(ValueError, match="split"):
        speech.evaluate(tiny_speech, data_dir=str(fsdd_dir), split="train")


def test_evaluate_all_scores_every_clip_given(tiny_speech, fsdd_dir, tmp_path, monkeypatch):
    """``all`` scores every clip in the folder (voices nobody trained on, in real use),
    the baseline fitted on the standard data's training part ($RNN_GALLERY_DATA)."""
    (tmp_path / "fsdd").symlink_to(fsdd_dir)
    monkeypatch.setenv("RNN_GALLERY_DATA", str(tmp_path))
    m = speech.evaluate(tiny_speech, data_dir=str(fsdd_dir), split="all", connected=10)
    assert m["clips"] == len(FSDD_SPEAKERS) * 10 * FSDD_TAKES and m["connected_strings"] == 10
    n_fit = len(FSDD_SPEAKERS) * 10 * (FSDD_TAKES - 5)
    assert m["baseline"]["fitted_on"] == f"{n_fit} clips"


def test_held_out_checkpoint_is_tested_on_its_speaker(rec, fsdd_dir, tmp_path):
    """A checkpoint trained with ``held_out`` remembers it: ``test`` is that speaker's
    every clip, and the baseline is fitted on the other speakers only."""
    save_pretrained(rec.model, tmp_path, "speech", rec.encoder.to_dict(), {"options": {"held_out": "theo"}})
    m = speech.evaluate(tmp_path, data_dir=str(fsdd_dir), split="test", connected=5)
    assert m["held_out"] == "theo" and m["speakers"] == ["theo"] and m["clips"] == 10 * FSDD_TAKES
    assert m["baseline"]["fitted_on"] == f"{10 * FSDD_TAKES} clips"


def test_speaker_rotation_scores_each_fold_on_its_speaker(rec, fsdd_dir, tmp_path):
    """``--split speakers``: one checkpoint per held-out speaker, each scored on its
    speaker, and the mean over speakers."""
    for name in FSDD_SPEAKERS[:2]:
        save_pretrained(rec.model, tmp_path / name, "speech", rec.encoder.to_dict(), {"options": {"held_out": name}})
    m = speech.evaluate(tmp_path, data_dir=str(fsdd_dir), split="speakers", connected=5)
    assert set(m["speakers"]) == set(FSDD_SPEAKERS[:2])
    for name in ("single", "gapless", "pauses", "noisy"):
        exact = {s: v[name]["exact"] for s, v in m["speakers"].items()}
        assert m["conditions"][name]["mean"] == pytest.approx(np.mean(list(exact.values())), abs=1e-4)
        assert m["conditions"][name]["worst"] == min(exact.values())
        assert exact[m["conditions"][name]["worst_speaker"]] == min(exact.values())
    assert [m["speakers"][s]["gapless"]["items"] for s in FSDD_SPEAKERS[:2]] == [5, 5]
    table = speech.suites["speakers"](m)
    assert table.count("| **mean** |") == 4 and "gapless: strings of 3-6 digits joined with no pause" in table
    save_pretrained(rec.model, tmp_path / "everyone", "speech", rec.encoder.to_dict(), {"options": {}})
    with pytest.raises(ValueError, match="held_out"):
        speech.evaluate(tmp_path, data_dir=str(fsdd_dir), split="speakers", connected=5)


def test_cli_evaluate_json(tiny_speech, fsdd_dir, capsys):
    from rnn_core.__main__ import main

    assert main(["evaluate", "speech", "--weights", str(tiny_speech), "--data", str(fsdd_dir),
                 "--split", "test", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"digit_accuracy", "connected_cer", "baseline", "conditions"} <= set(out) and out["connected_strings"] == 200
    assert set(out["conditions"]) == {"single", "gapless", "pauses", "noisy"}
    assert {"name", "digit_accuracy"} <= set(out["baseline"])


def test_bench_prints_latency(tiny_speech, fsdd_dir, capsys):
    out = speech.bench(tiny_speech, repeats=2, data_dir=str(fsdd_dir))
    assert out["transcribe_1s_1_threads"]["p50_ms"] > 0 and out["transcribe_5s_1_threads"]["n"] == 2
    assert "transcribe a 5 s recording" in capsys.readouterr().out


def test_training_can_go_on_from_a_checkpoint(rec, tiny_speech, fsdd_dir):
    """``init``: a run starts from a saved network (a longer run in stages); with a
    vanishing learning rate the weights stay those of the checkpoint."""
    again, _ = speech.train({**TINY_SPEECH, "epochs": 1, "lr": 1e-12, "init": str(tiny_speech)},
                            data_dir=str(fsdd_dir))
    for (name, a), b in zip(rec.model.state_dict().items(), again.model.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6, msg=name)
