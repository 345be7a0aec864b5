"""The melody tab's handlers on a tiny checkpoint: every kind of primer, the outputs a
visitor gets, and bad input (each a message, never a traceback)."""
import gradio as gr
import mido
import numpy as np
import pretty_midi
import pytest

from tests.conftest import PHRASES, write_tune

SETTINGS = dict(meter="4/4", bars=4, temperature=1.0, tempo=120, key="the primer's key", scale="none",
                variations=1, seed=0, include_primer=True, which="pretrained")


@pytest.fixture
def tab(tiny_app):
    from apps import melody
    return melody


def _generate(tab, source, typed="", upload=None, **changes):
    s = {**SETTINGS, **changes}
    return tab.generate(source, typed, upload, s["meter"], s["bars"], s["temperature"], s["tempo"], s["key"],
                        s["scale"], s["variations"], s["seed"], s["include_primer"], s["which"])


@pytest.mark.parametrize("example", ["Greensleeves", "Scarborough Fair", "Twinkle, twinkle (Ah! vous dirai-je, maman)"])
def test_examples_give_audio_midi_and_roll(tab, example):
    typed, meter, source = tab.use_example(example)
    (rate, audio), files, roll, notes = _generate(tab, source, typed, meter=meter, variations=2)
    assert rate == 22050 and audio.dtype == np.int16 and np.abs(audio).max() > 1000
    assert len(files) == 2 and len(roll.axes) == 2
    pm = pretty_midi.PrettyMIDI(files[0])
    assert [i.name for i in pm.instruments] == ["primer", "continuation"]
    assert "2 variation(s)" in notes and meter in notes


def test_no_primer(tab):
    (rate, audio), files, roll, notes = _generate(tab, "none", bars=2, tempo=60, meter="3/4")
    # 2 bars of 3/4 at 60 bpm = 6 s, plus the synthesiser's tail
    assert 6 * rate <= len(audio) <= 8 * rate
    assert mido.MidiFile(files[0]).length == pytest.approx(6.0, abs=0.01)


def _tune_at(path, bpm: float):
    """Two bars of C major quarter notes written at ``bpm``."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    inst = pretty_midi.Instrument(0)
    beat = 60 / bpm
    scale = [60, 62, 64, 65, 67, 65, 64, 62]
    inst.notes = [pretty_midi.Note(90, p, k * beat, (k + 1) * beat) for k, p in enumerate(scale)]
    pm.instruments.append(inst)
    pm.write(str(path))
    return str(path)


def test_midi_upload_keeps_its_tempo(tab, tmp_path):
    """On upload the tempo slider takes the file's own tempo, and the MIDI and audio made
    from it play at that pace (they played at the slider's 120); a tempo the visitor
    sets afterwards wins. The note says whose tempo it is."""
    path = _tune_at(tmp_path / "ninety.mid", 90)
    tempo = tab.upload_tempo(path, 120)
    assert tempo == 90
    (rate, audio), files, _, notes = _generate(tab, "MIDI file", upload=path, tempo=tempo, bars=2)
    midi = mido.MidiFile(files[0])
    tempos = [m.tempo for t in midi.tracks for m in t if m.type == "set_tempo"]
    assert mido.tempo2bpm(tempos[0]) == pytest.approx(90, abs=0.01)  # MIDI keeps whole microseconds
    assert midi.length == pytest.approx(4 * 4 * 60 / 90, abs=0.01)  # 2 bars + 2 new, 4/4 at 90 bpm
    assert len(audio) >= midi.length * rate
    assert "at 90 bpm" in notes and "the uploaded file's tempo" in notes
    *_, notes = _generate(tab, "MIDI file", upload=path, tempo=150, bars=2)
    assert "at 150 bpm" in notes and "file's own tempo is 90 bpm" in notes
    # an unreadable upload leaves the slider alone (Generate says what is wrong with it)
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    assert tab.upload_tempo(str(tmp_path / "bad.mid"), 100) == 100
    assert tab.upload_tempo(_tune_at(tmp_path / "fast.mid", 400), 100) == 300  # the slider's top


def test_long_primer_in_variations_replays_its_last_bars(tab):
    """33 bars typed, 3 variations: each replays the primer's last 8 bars (not all 33,
    4 minutes of audio in all), and its new notes stay near the primer's C4..A4."""
    typed = " | ".join(["C4 C4 G4 G4", "A4 A4 G4/2", "F4 F4 E4 E4", "D4 D4 C4/2"] * 8 + ["C4/1"])
    (rate, audio), files, roll, notes = _generate(tab, "typed notes", typed, variations=3, bars=4,
                                                  temperature=3.0)
    assert len(audio) <= 3 * 26 * rate  # 12 bars of 4/4 at 120 bpm = 24 s a variation
    for f in files:
        pm = pretty_midi.PrettyMIDI(f)
        assert [i.name for i in pm.instruments] == ["primer", "continuation"]
        assert all(55 <= n.pitch <= 74 for n in pm.instruments[1].notes)
    assert "last 8 bars" in notes


def test_overfull_bar_is_refused(tab):
    from apps.refusal import Refusal

    with pytest.raises(Refusal, match="Bar 2 holds 5 quarter notes but a bar of 3/4 has 3"):
        _generate(tab, "typed notes", "D4 E4 F#4 | G4 A4 B4 C5 D5 | E4", meter="3/4")


def test_midi_upload_primer(tab, tmp_path):
    path = write_tune(tmp_path / "tune.mid", PHRASES[0] + PHRASES[1], shift=7)  # G major
    _, files, _, notes = _generate(tab, "MIDI file", upload=str(path))
    assert "G major" in notes


@pytest.mark.parametrize("source, typed, message", [
    ("typed notes", "", "Type some notes"),
    ("typed notes", "   ", "Type some notes"),
    ("typed notes", "C4 D4 Q9", "'Q9' is not a note"),
    ("typed notes", "R R/2", "only rests"),
    ("typed notes", "C4 " * 10_000, "at most 20,000"),
    ("MIDI file", "", "Upload a MIDI file"),
])
def test_bad_primers(tab, source, typed, message):
    with pytest.raises(gr.Error, match=message):
        _generate(tab, source, typed)


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01 definitely not midi", "not a MIDI file"),
    (b"", "not a MIDI file"),
])
def test_bad_uploads(tab, tmp_path, content, message):
    path = tmp_path / "upload.mid"
    path.write_bytes(content)
    with pytest.raises(gr.Error, match=message):
        _generate(tab, "MIDI file", upload=str(path))


def test_drum_only_upload(tab, tmp_path):
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes = [pretty_midi.Note(100, 36, i * 0.5, i * 0.5 + 0.1) for i in range(8)]
    pm.instruments.append(drums)
    pm.write(str(tmp_path / "drums.mid"))
    with pytest.raises(gr.Error, match="only drums"):
        _generate(tab, "MIDI file", upload=str(tmp_path / "drums.mid"))


def test_huge_upload_is_refused(tab, tmp_path):
    path = tmp_path / "huge.mid"
    path.write_bytes(b"MThd" + b"\x00" * 6_000_000)
    with pytest.raises(gr.Error, match="over 2 MB"):
        _generate(tab, "MIDI file", upload=str(path))


def test_absurd_settings_are_clamped(tab):
    _, files, _, notes = _generate(tab, "none", bars=10**6, temperature=-4, tempo=1e9, variations=99,
                                   seed=-1, meter="13/7", key="H minor", scale="atonal")
    for word in ("bars", "temperature", "tempo", "variations", "seed", "meter", "key", "scale"):
        assert word in notes
    assert len(files) == 4


def test_retrained_model_missing(tab):
    with pytest.raises(gr.Error, match="no retrained model"):
        _generate(tab, "none", which="my retrained model")


def test_card(tab):
    assert "LSTM" in tab.card() and "parameters" in tab.card()


def test_two_hour_midi_is_cut_to_its_first_bars(tab, tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 60 + i % 8, i * 0.25, i * 0.25 + 0.25) for i in range(28_800)]
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "long.mid"))
    _, files, _, notes = _generate(tab, "MIDI file", upload=str(tmp_path / "long.mid"), include_primer=False)
    assert "first 64 bars" in notes and "4 bars" in notes
