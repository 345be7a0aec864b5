"""The speech tab's handlers on a tiny checkpoint: recordings of any rate and layout, the
headline and figure a visitor gets, bad audio (each a message, never a traceback), the
model card and the tab's wiring."""
import json

import gradio as gr
import librosa
import numpy as np
import pytest
import soundfile as sf

from rnn_core.checkpoint import assets_dir
from rnn_core.data.fsdd import list_clips, load_clip


@pytest.fixture
def tab(tiny_speech, tmp_path, monkeypatch):
    """apps.speech on the tiny speech checkpoint (an assets folder of our own, so a test
    may add example recordings beside it)."""
    from apps import speech

    folder = tmp_path / "assets" / "speech"
    folder.mkdir(parents=True)
    for f in tiny_speech.iterdir():
        (folder / f.name).symlink_to(f)
    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(folder.parent))
    speech.pretrained.cache_clear()
    yield speech
    speech.pretrained.cache_clear()


@pytest.fixture(scope="module")
def clips(fsdd_dir):
    return list_clips(fsdd_dir)


def _clip(clips, digit, take=0, speaker="jackson"):
    return next(c for c in clips if c.digit == digit and c.take == take and c.speaker == speaker)


def test_transcribe_a_clip(tab, clips):
    md, fig = tab.transcribe(str(_clip(clips, 7).path), "pretrained")
    assert "seven → 7" in md and "confidence" in md and "`seven`" in md
    spectrogram, posteriors = fig.axes
    assert spectrogram.get_xlim() == posteriors.get_xlim()  # one time axis
    labels = [t.get_text() for t in posteriors.get_yticklabels()]
    assert labels[:2] == ["blank", "space"] and {"s", "e", "v", "n"} <= set(labels)
    written = [t.get_text() for t in posteriors.texts]
    assert "".join(written) == "seven"  # the emitted letters, at their frames


def test_connected_digits_and_a_tuple(tab, clips):
    wave = np.concatenate([np.r_[load_clip(_clip(clips, d, take=2)), np.zeros(1200)] for d in (4, 1, 7)])
    md, _ = tab.transcribe((8000, wave.astype(np.float32)), "pretrained")
    assert "four one seven → 417" in md


def test_stereo_44k_int16_wav(tab, clips, tmp_path):
    wave = librosa.resample(np.asarray(load_clip(_clip(clips, 3, take=1))), orig_sr=8000, target_sr=44100)
    path = tmp_path / "stereo.wav"
    sf.write(path, (np.stack([wave, 0.8 * wave], axis=1) * 32767).astype(np.int16), 44100, subtype="PCM_16")
    md, _ = tab.transcribe(str(path), "pretrained")
    assert "three → 3" in md


def test_browser_microphone_48k_with_leading_silence_and_a_click(tab, clips):
    """What a browser's microphone sends: 48 kHz, two channels of int16, room noise before
    the speech, and a click as the recording starts."""
    rng = np.random.default_rng(0)
    wave = librosa.resample(np.asarray(load_clip(_clip(clips, 5, take=1))), orig_sr=8000, target_sr=48000)
    lead = rng.normal(0, 0.002, 24000)
    lead[100:148] += 0.9 * np.hanning(48)  # the click
    recording = np.concatenate([lead, wave, rng.normal(0, 0.002, 12000)])
    pcm = (np.clip(recording, -1, 1) * 32767).astype(np.int16)
    md, _ = tab.transcribe((48000, np.stack([pcm, pcm], axis=1)), "pretrained")
    assert "five → 5" in md


def _wav(tmp_path, seconds, amplitude=0.3):
    path = tmp_path / "clip.wav"
    rng = np.random.default_rng(0)
    sf.write(path, amplitude * rng.normal(0, 1, int(8000 * seconds)).clip(-1, 1), 8000, subtype="PCM_16")
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: None, "No audio given"),
    (lambda tmp: _wav(tmp, 1.0, amplitude=0.0), "silent"),
    (lambda tmp: _wav(tmp, 0.05), "only 0.05 s long"),
    (lambda tmp: (tmp / "x.wav").write_bytes(b"RIFF\x00\x01\x00\x00WAVEfmt garbage" * 3) and str(tmp / "x.wav"),
     "Could not read"),
    (lambda tmp: (tmp / "e.wav").write_bytes(b"") or str(tmp / "e.wav"), "empty"),
    (lambda tmp: str(tmp / "missing.wav"), "did not arrive"),
])
def test_bad_audio_is_a_message(tab, tmp_path, make, message):
    with pytest.raises(gr.Error, match=message):
        tab.transcribe(make(tmp_path), "pretrained")


def test_huge_file_is_refused_before_reading(tab, tmp_path):
    path = tmp_path / "huge.wav"
    with open(path, "wb") as f:
        f.truncate(60_000_000)  # sparse: no 60 MB written, and reading it would fail anyway
    with pytest.raises(gr.Error, match="over 50 MB"):
        tab.transcribe(str(path), "pretrained")


def test_ten_minute_file_is_cut_with_a_note(tab, clips, tmp_path):
    """Only the first 20 s are read (here they end in a pause, not mid-word)."""
    wave = np.concatenate([np.r_[load_clip(_clip(clips, d, take=2)), np.zeros(1200)] for d in (4, 1, 7)])
    path = tmp_path / "long.wav"
    sf.write(path, np.tile(np.r_[wave, np.zeros(8000 * 4 - len(wave))], 150), 8000, subtype="PCM_16")
    md, fig = tab.transcribe(str(path), "pretrained")
    assert "only the first 20 s were used" in md and "20.00 s of audio" in md and "→ 417417417417417" in md
    assert fig.axes[0].get_xlim()[1] == pytest.approx(20, abs=0.05)


@pytest.mark.parametrize("heard, confidence, greedy, duration, words", [
    ("", 0.0, "", 1.0, "heard no digit word"),
    ("", 0.97, "hello", 2.0, "97% sure no digit word (zero to nine, in English) was said"),
    ("", 0.0, "fourone sev", 1.0, "does not spell whole digit words"),
    ("", 0.0, "fourone sev", 20.0, "the cut may have split the last word"),
    ("five two", 0.41, "five two", 2.0, "heard \"five two\" at only 41% confidence, under the 60%"),
])
def test_refused_clips_say_why(tab, heard, confidence, greedy, duration, words):
    rec = tab.pretrained()
    rec.config.setdefault("refusal", {})["threshold"] = 0.6
    try:
        why = rec.refusal_reason(heard, confidence, greedy, np.zeros(8000, np.float32))
    finally:
        del rec.config["refusal"]["threshold"]
    r = {"text": "", "greedy": greedy, "why": why, "clipped": False, "duration": duration, "notes": []}
    md = tab.headline(r)
    assert md.startswith("## No digits heard\n\nWhy: ") and words in md and (greedy or "nothing") in md


@pytest.fixture
def shipped(monkeypatch):
    """apps.speech on the shipped checkpoint (assets/speech): what a visitor gets."""
    from apps import speech

    monkeypatch.delenv("RNN_GALLERY_ASSETS", raising=False)
    speech.pretrained.cache_clear()
    yield speech
    speech.pretrained.cache_clear()


def test_music_and_a_chord_are_refused_and_said_to_be_tones(shipped, tmp_path):
    """The browser's failure of round two: a sine chord was heard as "2222" at 100%."""
    from rnn_core.data import scenes

    rng = np.random.default_rng(5)
    for name, wave in (("chord", scenes.chord(2.0, rng)), ("tune", scenes.melody(2.5, rng))):
        path = tmp_path / f"{name}.wav"
        sf.write(path, 0.5 * wave / np.abs(wave).max(), 8000, subtype="PCM_16")
        md, _ = shipped.transcribe(str(path), "pretrained")
        assert md.startswith("## No digits heard") and "steady pitches, like music or a beep" in md, (name, md)


def test_digits_inside_a_sentence_are_written_alone_with_a_note(shipped):
    """The browser's failure of round two, "my pin is four four one two" (heard as "512"):
    the digits only, and a note that other words were heard; a string read alone gets
    no such note."""
    examples = assets_dir("speech") / "examples"
    md, _ = shipped.transcribe(str(examples / "my_pin_is_four_four_one_two.wav"), "pretrained")
    assert "→ 4412" in md and "Other words were heard around the digits" in md, md
    md, _ = shipped.transcribe(str(examples / "four_eight_three_nine.wav"), "pretrained")
    assert "→ 4839" in md and "Other words" not in md, md


def test_retrained_model(tab, tiny_speech, clips):
    from rnn_core.tasks.speech.predictor import SpeechRecognizer

    with pytest.raises(gr.Error, match="no retrained model"):
        tab.transcribe(str(_clip(clips, 7).path), "my retrained model")
    mine = SpeechRecognizer.from_pretrained(tiny_speech)
    md, _ = tab.transcribe(str(_clip(clips, 7).path), "my retrained model", mine)
    assert "seven" in md


def test_card(tab, monkeypatch, tmp_path):
    assert "GRU" in tab.card() and "parameters" in tab.card() and "not evaluated yet" in tab.card()
    tab.pretrained().metrics = {"digit_accuracy": 0.97, "baseline": {"name": "SVM"}, "connected_cer": 0.05,
                                "speakers": ["theo"], "held_out": "theo"}
    card = tab.card()
    assert "97.0%" in card and "0.050" in card and "never heard" in card and "speaker never heard" not in card
    # the held-out-speaker rotation, when shipped beside the weights (speakers.json)
    rotation = {"speakers": {"a": {}, "b": {}},
                "conditions": {"gapless": {"mean": 0.9, "worst": 0.85, "worst_speaker": "b", "mean_cer": 0.02}}}
    (assets_dir("speech") / "speakers.json").write_text(json.dumps(rotation))
    assert ("| a speaker never heard (2 runs, one per FSDD speaker): strings of 3-6 digits joined with no pause | "
            "90% exactly right on average, worst b 85% |") in tab.card()
    monkeypatch.setenv("RNN_GALLERY_ASSETS", str(tmp_path / "nowhere"))
    tab.pretrained.cache_clear()
    assert "missing" in tab.card()


def test_tab_builds_with_and_without_examples(tab, clips):
    assert tab.example_files() == []
    with gr.Blocks() as demo:
        tab.build()
    assert "speech_transcribe" in {fn.api_name for fn in demo.fns.values()}
    examples = assets_dir("speech") / "examples"
    examples.mkdir()
    sf.write(examples / "four_one_seven.wav", load_clip(_clip(clips, 4)), 8000)
    assert [p.rsplit("/", 1)[1] for p in tab.example_files()] == ["four_one_seven.wav"]
    with gr.Blocks():
        tab.build()
